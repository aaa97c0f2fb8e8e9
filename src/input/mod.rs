//! Reading the files clinics really have: CSV in any of `, ; \t |`, UTF-8 (with or without a
//! byte-order mark), UTF-16 with one, Windows-1252 / ISO-8859-1 when told, and spreadsheets
//! (`.xlsx`, `.ods`, ...). Whatever comes in, what goes out is one shape: UTF-8 CSV text
//! without a BOM, with the delimiter it uses, as a stream (`Opened`), so the batch reader has
//! one path. Plain UTF-8 passes through untouched (only the first 64 KiB are looked at).
//! Options come as a plain struct (`InputOptions`) that the command line or a profile's
//! `input:` fills. Not for parsing rows or cells into answers: `cells` has the cell habits
//! (`="00123"`, decimal commas, all-empty rows) for the reader to apply.

pub mod cells;
pub mod sheet;
pub mod sniff;

use std::io::{self, Cursor, Read, Seek};
use std::path::Path;
use std::sync::Arc;

use encoding_rs::Encoding;

pub use cells::{decimal_point, excel_text, excel_text_str};

/// How much of the start of a file is looked at to tell its encoding and delimiter.
const HEAD: usize = 64 << 10;

/// How to read an input: what the command line (`--delimiter`, `--encoding`, `--sheet`,
/// `--decimal`) or a profile's `input:` says. `None` is `auto`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputOptions {
    pub delimiter: Option<u8>,
    pub encoding: Option<&'static Encoding>,
    /// The sheet of a workbook (default: the first).
    pub sheet: Option<String>,
    /// Numbers are written with a decimal comma (`36,6`).
    pub decimal_comma: bool,
}

/// `auto`, or one ASCII character such as `,` `;` `|`, or `tab` / `\t`.
pub fn parse_delimiter(arg: &str) -> Result<Option<u8>, String> {
    match arg {
        "auto" => Ok(None),
        "tab" | "\\t" | "\t" => Ok(Some(b'\t')),
        _ => match arg.as_bytes() {
            [b] if b.is_ascii() && !matches!(b, b'"' | b'\n' | b'\r') => Ok(Some(*b)),
            _ => Err(format!(
                "delimiter '{arg}': expected 'auto' or one ASCII character such as ',' or ';' (or 'tab'), not a quote or line break"
            )),
        },
    }
}

/// `auto`, or an encoding name: `utf-8`, `windows-1252` (`cp1252`), `iso-8859-1` (`latin1`),
/// `utf-16le`, `utf-16be`, or any other WHATWG label. ISO-8859-1 is read as Windows-1252, its
/// superset, as every browser does.
pub fn parse_encoding(arg: &str) -> Result<Option<&'static Encoding>, String> {
    let label = arg.trim();
    if label.eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    Encoding::for_label_no_replacement(label.as_bytes())
        .map(Some)
        .ok_or_else(|| {
            format!(
                "encoding '{arg}': expected auto, utf-8, windows-1252, iso-8859-1, utf-16le or utf-16be"
            )
        })
}

/// `.` or `,`: the decimal mark numbers are written with.
pub fn parse_decimal(arg: &str) -> Result<bool, String> {
    match arg.trim() {
        "." => Ok(false),
        "," => Ok(true),
        _ => Err(format!("decimal '{arg}': expected '.' or ','")),
    }
}

/// Why an input cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("not UTF-8 text (byte 0x{byte:02X} on line {line}): if Excel or another Windows program saved it, give --encoding windows-1252 (or save it as \"CSV UTF-8\")")]
    NotUtf8 { byte: u8, line: u64 },
    #[error("looks like {name} text without a byte-order mark: give --encoding {label}")]
    Utf16 {
        name: &'static str,
        label: &'static str,
    },
    #[error("the header names no question when split at {given}, but {maps} columns when split at {found}: give --delimiter {found} (or leave --delimiter out to detect it)")]
    WrongDelimiter {
        given: String,
        found: String,
        maps: usize,
    },
    #[error("cannot read it as a spreadsheet: {0}")]
    Workbook(String),
    #[error("{}", if wanted.is_empty() { "the workbook has no sheet".to_string() } else { format!("no sheet '{wanted}' in the workbook (its sheets: {sheets})") })]
    NoSheet { wanted: String, sheets: String },
}

impl InputError {
    /// Whether the fix is on the command line (exit status 2) rather than in the file.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            InputError::WrongDelimiter { .. } | InputError::NoSheet { .. }
        )
    }
}

/// What an input was found to be.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// A workbook, its sheet already turned into CSV text.
    Sheet(Arc<[u8]>),
    /// A text file: how many BOM bytes it starts with, and its encoding when not UTF-8.
    Text {
        bom: usize,
        decode: Option<&'static Encoding>,
    },
}

/// An input ready to be read as UTF-8 CSV text.
pub struct Opened {
    /// The text, from the first byte after any BOM.
    pub reader: Box<dyn Read + Send>,
    pub delimiter: u8,
    /// What was found out that the user did not say (the delimiter detected, a byte-order
    /// mark, which sheet), one line each, for stderr.
    pub notes: Vec<String>,
    shape: Shape,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("delimiter", &self.delimiter)
            .field("notes", &self.notes)
            .field("shape", &self.shape)
            .finish_non_exhaustive()
    }
}

impl Opened {
    /// Whether the reader gives the file's own bytes (but a UTF-8 BOM): false for a
    /// spreadsheet or a transcoded file.
    pub fn is_verbatim(&self) -> bool {
        matches!(self.shape, Shape::Text { decode: None, .. })
    }

    /// How to read the same text again (for a second pass over a file, such as the
    /// duplicate-id pre-scan, which may run on two threads).
    pub fn again(&self) -> Again {
        Again {
            shape: self.shape.clone(),
        }
    }
}

/// How to read an opened input's text again, from `path` anew.
#[derive(Debug, Clone)]
pub struct Again {
    shape: Shape,
}

impl Again {
    /// The same text again from byte `offset` of it, reading `path` anew (for a second pass
    /// over a file, such as the duplicate-id pre-scan). Only a file read as it is can be read
    /// from anywhere but its start (`verbatim_len`).
    pub fn reopen(&self, path: &Path, offset: u64) -> io::Result<Box<dyn Read + Send>> {
        match &self.shape {
            Shape::Text { bom, decode: None } => {
                let mut file = std::fs::File::open(path)?;
                file.seek(io::SeekFrom::Start(*bom as u64 + offset))?;
                Ok(Box::new(file))
            }
            _ if offset > 0 => Err(io::Error::other(
                "a decoded text or a workbook is read from its start only",
            )),
            Shape::Sheet(csv) => Ok(Box::new(Cursor::new(Arc::clone(csv)))),
            Shape::Text { bom, decode } => {
                let mut file = std::fs::File::open(path)?;
                io::copy(&mut (&mut file).take(*bom as u64), &mut io::sink())?;
                Ok(decoded(Box::new(file), *decode))
            }
        }
    }

    /// For a file read as it is: the length of its text (after a byte-order mark), which
    /// `reopen` can start anywhere in.
    pub fn verbatim_len(&self, path: &Path) -> Option<u64> {
        match &self.shape {
            Shape::Text { bom, decode: None } => std::fs::metadata(path)
                .ok()
                .map(|m| m.len().saturating_sub(*bom as u64)),
            _ => None,
        }
    }
}

/// Reads the start of `source` into `buf`: up to `limit` bytes, or less when the source (a
/// pipe) has given a whole line and has no more to give yet — a batch fed row by row must not
/// wait for 64 KiB before its first record. Returns whether the end came.
fn fill(source: &mut dyn Read, buf: &mut Vec<u8>, limit: usize) -> io::Result<bool> {
    let mut chunk = [0u8; 8 << 10];
    while buf.len() < limit {
        let want = (limit - buf.len()).min(chunk.len());
        let n = match source.read(&mut chunk[..want]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(true);
        }
        buf.extend_from_slice(&chunk[..n]);
        if n < want && memchr::memchr(b'\n', buf).is_some() {
            break;
        }
    }
    Ok(false)
}

fn decoded(raw: Box<dyn Read + Send>, decode: Option<&'static Encoding>) -> Box<dyn Read + Send> {
    match decode {
        None => raw,
        Some(encoding) => Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding))
                .bom_sniffing(false)
                .build(raw),
        ),
    }
}

/// The encoding a byte-order mark announces, and its length.
fn bom(head: &[u8]) -> Option<(&'static Encoding, usize)> {
    Encoding::for_bom(head)
}

/// UTF-16 without a BOM shows as NUL bytes in every other position of ASCII text.
fn utf16_without_bom(head: &[u8]) -> Option<InputError> {
    let sample = &head[..head.len().min(1024) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = sample.len() / 2;
    let zeros = |odd: usize| {
        sample
            .iter()
            .skip(odd)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    if zeros(1) * 2 > pairs {
        Some(InputError::Utf16 {
            name: "UTF-16LE",
            label: "utf-16le",
        })
    } else if zeros(0) * 2 > pairs {
        Some(InputError::Utf16 {
            name: "UTF-16BE",
            label: "utf-16be",
        })
    } else {
        None
    }
}

/// The first bytes that are not UTF-8, if any (a sequence cut off at the end of an
/// incomplete head is not counted).
fn not_utf8(head: &[u8], complete: bool) -> Option<InputError> {
    match std::str::from_utf8(head) {
        Ok(_) => None,
        Err(e) if e.error_len().is_none() && !complete => None,
        Err(e) => Some(InputError::NotUtf8 {
            byte: head[e.valid_up_to()],
            line: 1 + memchr::memchr_iter(b'\n', &head[..e.valid_up_to()]).count() as u64,
        }),
    }
}

/// Opens `source` (named `path` when it is a file: its extension is a hint) as UTF-8 CSV
/// text. `maps` counts how many of a candidate header's columns name a question or the id; it
/// decides the delimiter when none is given, and refuses a given one that maps nothing when
/// another would.
pub fn open(
    mut source: Box<dyn Read + Send>,
    path: Option<&Path>,
    options: &InputOptions,
    maps: &dyn Fn(&[String]) -> usize,
) -> Result<Opened, InputError> {
    let mut head = Vec::with_capacity(HEAD);
    let complete = fill(&mut source, &mut head, HEAD)?;
    let mut notes = Vec::new();

    let spreadsheet_name = path
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .is_some_and(|e| {
            ["xlsx", "xlsm", "xlsb", "xls", "ods"]
                .iter()
                .any(|x| e.eq_ignore_ascii_case(x))
        });
    if spreadsheet_name || sheet::is_workbook(&head) {
        source.read_to_end(&mut head)?;
        let (csv, note) = sheet::to_csv(head, options.sheet.as_deref())?;
        notes.extend(note);
        let csv: Arc<[u8]> = Arc::from(csv);
        return Ok(Opened {
            reader: Box::new(Cursor::new(Arc::clone(&csv))),
            delimiter: b',',
            notes,
            shape: Shape::Sheet(csv),
        });
    }

    let (bom_len, decode) = match (bom(&head), options.encoding) {
        (Some((found, len)), asked) => {
            if asked.is_some_and(|a| a != found) {
                notes.push(format!(
                    "read as {} (it starts with that byte-order mark), not as {}",
                    found.name(),
                    asked.map_or("", |a| a.name())
                ));
            } else if found != encoding_rs::UTF_8 && asked.is_none() {
                notes.push(format!("read as {} (byte-order mark)", found.name()));
            }
            (len, (found != encoding_rs::UTF_8).then_some(found))
        }
        (None, Some(asked)) => (0, (asked != encoding_rs::UTF_8).then_some(asked)),
        (None, None) => {
            if let Some(e) = utf16_without_bom(&head).or_else(|| not_utf8(&head, complete)) {
                return Err(e);
            }
            (0, None)
        }
    };
    let raw: Box<dyn Read + Send> = Box::new(Cursor::new(head).chain(source));
    let mut raw = raw;
    io::copy(&mut (&mut raw).take(bom_len as u64), &mut io::sink())?;
    let mut reader = decoded(raw, decode);
    // The decoded start, for the delimiter: the bytes read are put back in front.
    let mut text = Vec::with_capacity(HEAD);
    let complete = fill(&mut reader, &mut text, HEAD)?;
    let (delimiter, detected) = sniff::choose(&text, complete, options.delimiter, maps)?;
    if detected && delimiter != b',' {
        notes.push(format!(
            "columns separated by {} (detected; --delimiter to choose another)",
            sniff::name(delimiter)
        ));
    }
    Ok(Opened {
        reader: Box::new(Cursor::new(text).chain(reader)),
        delimiter,
        notes,
        shape: Shape::Text {
            bom: bom_len,
            decode,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maps(header: &[String]) -> usize {
        header
            .iter()
            .filter(|h| matches!(h.trim(), "id" | "âge" | "age"))
            .count()
    }

    fn read(bytes: &[u8], options: &InputOptions) -> Result<(String, u8, Vec<String>), InputError> {
        let mut opened = open(Box::new(Cursor::new(bytes.to_vec())), None, options, &maps)?;
        let mut text = String::new();
        opened.reader.read_to_string(&mut text)?;
        Ok((text, opened.delimiter, opened.notes))
    }

    #[test]
    fn utf8_passes_through_and_loses_its_bom() {
        let (text, d, notes) =
            read(b"\xEF\xBB\xBFid,age\nA,40\n", &InputOptions::default()).expect("read");
        assert_eq!((text.as_str(), d), ("id,age\nA,40\n", b','));
        assert!(notes.is_empty());
    }

    #[test]
    fn utf16_with_a_bom_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "id;âge\nA;40\n".encode_utf16() {
            bytes.extend(unit.to_le_bytes());
        }
        let (text, d, notes) = read(&bytes, &InputOptions::default()).expect("read");
        assert_eq!((text.as_str(), d), ("id;âge\nA;40\n", b';'));
        assert_eq!(
            notes,
            [
                "read as UTF-16LE (byte-order mark)",
                "columns separated by ';' (detected; --delimiter to choose another)"
            ]
        );
        let mut be = vec![0xFE, 0xFF];
        for unit in "id,age\n".encode_utf16() {
            be.extend(unit.to_be_bytes());
        }
        assert_eq!(
            read(&be, &InputOptions::default()).expect("read").0,
            "id,age\n"
        );
    }

    #[test]
    fn utf16_without_a_bom_is_named() {
        let bytes: Vec<u8> = "id,age\nA,40\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let err = read(&bytes, &InputOptions::default()).expect_err("refused");
        assert_eq!(
            err.to_string(),
            "looks like UTF-16LE text without a byte-order mark: give --encoding utf-16le"
        );
        let options = InputOptions {
            encoding: parse_encoding("utf-16le").expect("label"),
            ..InputOptions::default()
        };
        assert_eq!(read(&bytes, &options).expect("read").0, "id,age\nA,40\n");
    }

    #[test]
    fn windows_1252_only_when_told() {
        let bytes = b"id;\xE2ge\nA;40\n";
        let err = read(bytes, &InputOptions::default()).expect_err("refused");
        assert_eq!(
            err.to_string(),
            "not UTF-8 text (byte 0xE2 on line 1): if Excel or another Windows program saved it, give --encoding windows-1252 (or save it as \"CSV UTF-8\")"
        );
        for label in ["windows-1252", "cp1252", "iso-8859-1", "latin1"] {
            let options = InputOptions {
                encoding: parse_encoding(label).expect("label"),
                ..InputOptions::default()
            };
            let (text, d, _) = read(bytes, &options).expect("read");
            assert_eq!((text.as_str(), d), ("id;âge\nA;40\n", b';'), "{label}");
        }
    }

    #[test]
    fn a_bom_outranks_the_encoding_asked_for() {
        let options = InputOptions {
            encoding: parse_encoding("windows-1252").expect("label"),
            ..InputOptions::default()
        };
        let (text, _, notes) = read("\u{FEFF}id,âge\n".as_bytes(), &options).expect("read");
        assert_eq!(text, "id,âge\n");
        assert_eq!(
            notes,
            ["read as UTF-8 (it starts with that byte-order mark), not as windows-1252"]
        );
    }

    #[test]
    fn a_long_file_streams_past_the_head() {
        let mut bytes = b"id;age\n".to_vec();
        for i in 0..20_000 {
            bytes.extend(format!("P{i};{}\n", i % 100).as_bytes());
        }
        let (text, d, _) = read(&bytes, &InputOptions::default()).expect("read");
        assert_eq!(d, b';');
        assert_eq!(text.as_bytes(), &bytes[..]);
        let options = InputOptions {
            encoding: parse_encoding("windows-1252").expect("label"),
            ..InputOptions::default()
        };
        assert_eq!(
            read(&bytes, &options).expect("read").0.as_bytes(),
            &bytes[..]
        );
    }

    #[test]
    fn option_parsing() {
        assert_eq!(parse_delimiter("auto"), Ok(None));
        assert_eq!(parse_delimiter("tab"), Ok(Some(b'\t')));
        assert_eq!(parse_delimiter(";"), Ok(Some(b';')));
        assert!(parse_delimiter("\"").is_err());
        assert_eq!(parse_encoding("AUTO"), Ok(None));
        assert_eq!(parse_encoding("utf-16be"), Ok(Some(encoding_rs::UTF_16BE)));
        assert_eq!(
            parse_encoding("klingon"),
            Err("encoding 'klingon': expected auto, utf-8, windows-1252, iso-8859-1, utf-16le or utf-16be".to_string())
        );
        assert_eq!(parse_decimal(","), Ok(true));
        assert_eq!(parse_decimal("."), Ok(false));
        assert!(parse_decimal(";").is_err());
    }

    proptest::proptest! {
        /// Whatever the bytes, opening never panics, and UTF-8 text without a BOM comes out
        /// byte for byte (only the delimiter is chosen).
        #[test]
        fn any_bytes_open_and_utf8_passes_through(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = read(&bytes, &InputOptions::default());
            let text = String::from_utf8_lossy(&bytes).replace('\u{FEFF}', "");
            if !text.starts_with("PK") && !text.contains('\0') {
                let (out, _, _) = read(text.as_bytes(), &InputOptions::default()).expect("UTF-8 text opens");
                proptest::prop_assert_eq!(out, text);
            }
        }
    }
}
