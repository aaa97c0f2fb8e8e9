//! `--format xlsx`: the verdicts as an Excel workbook for data staff — a sheet of verdicts
//! (one row per patient, the verdict cell coloured), one of reasons (one row per fired rule,
//! with its message and source), and one summing up the run (counts, the ruleset's and the
//! profile's ids and sha256). It is fed the NDJSON verdict records (`ketascreen.verdict/v1`,
//! one per line) through `Write`, so it sits behind the same screening pipeline as every other
//! format and reads the schema, not the engine's types; `finish` writes the workbook out.
//! Cells are written as typed strings, numbers and booleans: a spreadsheet never runs a
//! string cell as a formula, so ids like `=HYPERLINK(...)` stay text without a leading quote.
//! Sheets are written row by row (rust_xlsxwriter's constant-memory mode): memory does not
//! grow with the rows, but Excel's limit of 1,048,576 rows a sheet applies.

use std::io::{self, Write};

use rust_xlsxwriter::{Color, Format, Workbook, Worksheet, XlsxError};
use serde::Deserialize;

/// The header of the verdicts sheet.
pub const VERDICT_COLUMNS: [&str; 12] = [
    "row",
    "id",
    "verdict",
    "urgent",
    "urgent_undecided",
    "exclude",
    "review",
    "note",
    "missing",
    "error_count",
    "errors",
    "ruleset",
];

/// The header of the reasons sheet.
pub const REASON_COLUMNS: [&str; 7] = [
    "row", "id", "rule", "severity", "urgent", "message", "source",
];

/// Excel's longest cell text.
const CELL_CHARS: usize = 32_767;

/// What the summary sheet says about the run besides the counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunInfo {
    /// The input file's name as given.
    pub input: String,
    /// id, version, sha256.
    pub ruleset: (String, String, String),
    /// id, sha256, when screened with a profile.
    pub profile: Option<(String, String)>,
}

#[derive(Debug, Deserialize)]
struct Record {
    row: Option<u64>,
    id: Option<String>,
    verdict: String,
    urgent: bool,
    #[serde(default)]
    urgent_undecided: Option<bool>,
    #[serde(default)]
    reasons: Vec<Reason>,
    #[serde(default)]
    missing: Vec<Missing>,
    #[serde(default)]
    errors: Vec<ErrorEntry>,
    ruleset: RulesetRef,
}

#[derive(Debug, Deserialize)]
struct Reason {
    rule: String,
    severity: String,
    urgent: bool,
    message: String,
    #[serde(default)]
    source: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Missing {
    questions: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ErrorEntry {
    question: Option<String>,
    #[serde(default)]
    form: Option<String>,
    message: String,
}

#[derive(Debug, Deserialize)]
struct RulesetRef {
    id: String,
    version: String,
}

/// The verdicts in the order of `engine::Status::ALL`, with their cell colours (fill, text):
/// Excel's own "bad", amber, orange and "good" styles.
const VERDICTS: [(&str, u32, u32); 4] = [
    ("ineligible", 0xFFC7CE, 0x9C0006),
    ("incomplete", 0xFFEB9C, 0x9C5700),
    ("review", 0xFCE4D6, 0x833C0B),
    ("eligible", 0xC6EFCE, 0x006100),
];

/// A workbook being filled from NDJSON records; `finish` writes it to `out`.
pub struct XlsxWriter<W: Write> {
    out: W,
    book: Workbook,
    info: RunInfo,
    /// Bytes of a record not yet ended by a line feed.
    pending: Vec<u8>,
    verdict_rows: u32,
    reason_rows: u32,
    counts: [u64; 4],
    urgent: u64,
    urgent_undecided: u64,
    with_errors: u64,
    header: Format,
    verdict_formats: Vec<Format>,
    urgent_format: Format,
}

fn xlsx_error(e: XlsxError) -> io::Error {
    match e {
        XlsxError::RowColumnLimitError => io::Error::other(
            "a workbook sheet holds at most 1,048,575 rows under its header: use --format csv for an input this large",
        ),
        e => io::Error::other(format!("cannot build the workbook: {e}")),
    }
}

fn header_row(sheet: &mut Worksheet, names: &[&str], format: &Format) -> Result<(), XlsxError> {
    for (col, name) in names.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *name, format)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Text for a cell, within Excel's limit.
fn cell(text: &str) -> &str {
    match text.char_indices().nth(CELL_CHARS) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

impl<W: Write> XlsxWriter<W> {
    pub fn new(out: W, info: RunInfo) -> io::Result<Self> {
        let mut book = Workbook::new();
        let header = Format::new().set_bold();
        let widths: [(&str, &[f64]); 2] = [
            (
                "Verdicts",
                &[
                    6.0, 14.0, 11.0, 8.0, 16.0, 30.0, 30.0, 30.0, 40.0, 11.0, 60.0, 24.0,
                ],
            ),
            ("Reasons", &[6.0, 14.0, 32.0, 10.0, 8.0, 90.0, 18.0]),
        ];
        let columns: [&[&str]; 2] = [&VERDICT_COLUMNS, &REASON_COLUMNS];
        for ((name, widths), columns) in widths.into_iter().zip(columns) {
            let sheet = book
                .add_worksheet_with_constant_memory()
                .map_err(xlsx_error)?;
            sheet.set_name(name).map_err(xlsx_error)?;
            for (col, width) in widths.iter().enumerate() {
                sheet
                    .set_column_width(col as u16, *width)
                    .map_err(xlsx_error)?;
            }
            header_row(sheet, columns, &header).map_err(xlsx_error)?;
        }
        let verdict_formats = VERDICTS
            .iter()
            .map(|&(_, fill, text)| {
                Format::new()
                    .set_background_color(Color::RGB(fill))
                    .set_font_color(Color::RGB(text))
                    .set_bold()
            })
            .collect();
        Ok(XlsxWriter {
            out,
            book,
            info,
            pending: Vec::new(),
            verdict_rows: 0,
            reason_rows: 0,
            counts: [0; 4],
            urgent: 0,
            urgent_undecided: 0,
            with_errors: 0,
            header,
            verdict_formats,
            urgent_format: Format::new()
                .set_bold()
                .set_font_color(Color::RGB(0xC00000)),
        })
    }

    fn add(&mut self, line: &[u8]) -> io::Result<()> {
        let record: Record = serde_json::from_slice(line).map_err(|e| {
            io::Error::other(format!(
                "internal error: a verdict record the workbook cannot read: {e}"
            ))
        })?;
        self.add_record(&record).map_err(xlsx_error)
    }

    fn add_record(&mut self, r: &Record) -> Result<(), XlsxError> {
        let id = r.id.as_deref().unwrap_or("");
        let ids = |severity: &str| {
            r.reasons
                .iter()
                .filter(|x| x.severity == severity)
                .map(|x| x.rule.as_str())
                .collect::<Vec<_>>()
                .join(";")
        };
        let mut missing: Vec<&str> = r
            .missing
            .iter()
            .flat_map(|m| m.questions.iter().map(String::as_str))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        let errors: Vec<String> = r
            .errors
            .iter()
            .map(|e| match (&e.question, &e.form) {
                (Some(q), _) => format!("{q}: {}", e.message),
                (None, Some(f)) => format!("form {f}: {}", e.message),
                (None, None) => e.message.clone(),
            })
            .collect();

        let status = VERDICTS.iter().position(|v| v.0 == r.verdict);
        if let Some(i) = status {
            self.counts[i] += 1;
        }
        self.urgent += u64::from(r.urgent);
        self.urgent_undecided += u64::from(r.urgent_undecided == Some(true));
        self.with_errors += u64::from(!r.errors.is_empty());

        self.verdict_rows += 1;
        let n = self.verdict_rows;
        let urgent_format = self.urgent_format.clone();
        let verdict_format = status.map(|i| self.verdict_formats[i].clone());
        let sheet = self.book.worksheet_from_index(0)?;
        if let Some(row) = r.row {
            sheet.write_number(n, 0, row as f64)?;
        }
        sheet.write_string(n, 1, cell(id))?;
        match &verdict_format {
            Some(f) => sheet.write_string_with_format(n, 2, &r.verdict, f)?,
            None => sheet.write_string(n, 2, &r.verdict)?,
        };
        if r.urgent {
            sheet.write_boolean_with_format(n, 3, true, &urgent_format)?;
        } else {
            sheet.write_boolean(n, 3, false)?;
        }
        match r.urgent_undecided {
            Some(true) => sheet.write_boolean_with_format(n, 4, true, &urgent_format)?,
            Some(false) => sheet.write_boolean(n, 4, false)?,
            None => sheet,
        };
        sheet.write_string(n, 5, cell(&ids("exclude")))?;
        sheet.write_string(n, 6, cell(&ids("review")))?;
        sheet.write_string(n, 7, cell(&ids("note")))?;
        sheet.write_string(n, 8, cell(&missing.join(";")))?;
        sheet.write_number(n, 9, r.errors.len() as f64)?;
        sheet.write_string(n, 10, cell(&errors.join("; ")))?;
        sheet.write_string(n, 11, format!("{}@{}", r.ruleset.id, r.ruleset.version))?;

        let sheet = self.book.worksheet_from_index(1)?;
        for reason in &r.reasons {
            self.reason_rows += 1;
            let m = self.reason_rows;
            if let Some(row) = r.row {
                sheet.write_number(m, 0, row as f64)?;
            }
            sheet.write_string(m, 1, cell(id))?;
            sheet.write_string(m, 2, &reason.rule)?;
            sheet.write_string(m, 3, &reason.severity)?;
            if reason.urgent {
                sheet.write_boolean_with_format(m, 4, true, &urgent_format)?;
            } else {
                sheet.write_boolean(m, 4, false)?;
            }
            sheet.write_string(m, 5, cell(&reason.message))?;
            sheet.write_string(m, 6, reason.source.as_deref().unwrap_or(""))?;
        }
        Ok(())
    }

    /// Writes the summary sheet (with `extra` lines from the caller, such as rows not
    /// screened) and the workbook; returns the destination.
    pub fn finish(mut self, extra: &[(String, String)]) -> io::Result<W> {
        if !self.pending.iter().all(u8::is_ascii_whitespace) {
            let line = std::mem::take(&mut self.pending);
            self.add(&line)?;
        }
        let bytes = self.summary(extra).map_err(xlsx_error)?;
        self.out.write_all(&bytes)?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn summary(&mut self, extra: &[(String, String)]) -> Result<Vec<u8>, XlsxError> {
        let info = &self.info;
        let mut lines: Vec<(String, String)> = vec![
            ("input".into(), info.input.clone()),
            ("ketascreen".into(), env!("CARGO_PKG_VERSION").into()),
            ("ruleset".into(), info.ruleset.0.clone()),
            ("ruleset version".into(), info.ruleset.1.clone()),
            ("ruleset sha256".into(), info.ruleset.2.clone()),
        ];
        match &info.profile {
            Some((id, sha)) => {
                lines.push(("profile".into(), id.clone()));
                lines.push(("profile sha256".into(), sha.clone()));
            }
            None => lines.push(("profile".into(), "(none)".into())),
        }
        let rows: u64 = self.counts.iter().sum();
        lines.push(("rows screened".into(), rows.to_string()));
        for (i, (name, _, _)) in VERDICTS.iter().enumerate() {
            lines.push(((*name).into(), self.counts[i].to_string()));
        }
        lines.push(("urgent".into(), self.urgent.to_string()));
        lines.push(("urgent undecided".into(), self.urgent_undecided.to_string()));
        lines.push((
            "rows with input errors".into(),
            self.with_errors.to_string(),
        ));
        lines.extend(extra.iter().cloned());

        let header = self.header.clone();
        let verdict_formats = self.verdict_formats.clone();
        let sheet = self.book.add_worksheet();
        sheet.set_name("Summary")?;
        sheet.set_column_width(0, 24)?;
        sheet.set_column_width(1, 66)?;
        header_row(sheet, &["", ""], &header)?;
        sheet.write_string_with_format(0, 0, "run", &header)?;
        for (i, (key, value)) in lines.iter().enumerate() {
            let row = i as u32 + 1;
            sheet.write_string_with_format(row, 0, key, &header)?;
            let verdict = VERDICTS.iter().position(|v| v.0 == key);
            match (value.parse::<u64>(), key.as_str()) {
                (Ok(n), k) if k != "ruleset version" && k != "input" => {
                    match verdict {
                        Some(v) => {
                            sheet.write_number_with_format(row, 1, n as f64, &verdict_formats[v])?
                        }
                        None => sheet.write_number(row, 1, n as f64)?,
                    };
                }
                _ => {
                    sheet.write_string(row, 1, cell(value))?;
                }
            }
        }
        let last_verdict = self.verdict_rows;
        let last_reason = self.reason_rows;
        self.book.worksheet_from_index(0)?.autofilter(
            0,
            0,
            last_verdict,
            VERDICT_COLUMNS.len() as u16 - 1,
        )?;
        self.book.worksheet_from_index(1)?.autofilter(
            0,
            0,
            last_reason,
            REASON_COLUMNS.len() as u16 - 1,
        )?;
        self.book.save_to_buffer()
    }
}

impl<W: Write> Write for XlsxWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while let Some(end) = memchr::memchr(b'\n', buf) {
            let line = &buf[..end];
            if self.pending.is_empty() {
                if !line.trim_ascii().is_empty() {
                    self.add(line)?;
                }
            } else {
                let mut whole = std::mem::take(&mut self.pending);
                whole.extend_from_slice(line);
                if !whole.trim_ascii().is_empty() {
                    self.add(&whole)?;
                }
            }
            buf = &buf[end + 1..];
        }
        self.pending.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::Reader;

    fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<String>> {
        let mut book = calamine::open_workbook_auto_from_rs(io::Cursor::new(bytes.to_vec()))
            .expect("a workbook");
        let range = book.worksheet_range(name).expect("the sheet");
        range
            .rows()
            .map(|r| r.iter().map(crate::input::sheet::cell_text).collect())
            .collect()
    }

    const RECORD: &str = r#"{"schema":"ketascreen.verdict/v1","row":2,"id":"=HYPERLINK(\"x\")","verdict":"ineligible","urgent":true,"reasons":[{"rule":"current_mania","severity":"exclude","urgent":true,"message":"Mania.","answers":{},"source":"apa"},{"rule":"older_adult","severity":"note","urgent":false,"message":"Old.","answers":{}}],"missing":[{"rule":"r","questions":["b","a"]},{"rule":"s","questions":["a"]}],"errors":[{"question":"age_years","value":"x","message":"bad"}],"ruleset":{"id":"k","version":"1.0.0","sha256":"abc"}}"#;

    #[test]
    fn records_become_three_sheets() {
        let info = RunInfo {
            input: "in.csv".into(),
            ruleset: ("k".into(), "1.0.0".into(), "abc".into()),
            profile: None,
        };
        let mut w = XlsxWriter::new(Vec::new(), info).expect("writer");
        // A record split across writes, as jobs may split them.
        let (a, b) = RECORD.split_at(100);
        w.write_all(a.as_bytes()).expect("write");
        w.write_all(b.as_bytes()).expect("write");
        w.write_all(b"\n").expect("write");
        let bytes = w
            .finish(&[("empty rows not screened".into(), "1".into())])
            .expect("finish");
        assert_eq!(
            sheet(&bytes, "Verdicts"),
            [
                VERDICT_COLUMNS.map(String::from).to_vec(),
                [
                    "2",
                    "=HYPERLINK(\"x\")",
                    "ineligible",
                    "true",
                    "",
                    "current_mania",
                    "",
                    "older_adult",
                    "a;b",
                    "1",
                    "age_years: bad",
                    "k@1.0.0"
                ]
                .map(String::from)
                .to_vec()
            ]
        );
        assert_eq!(
            sheet(&bytes, "Reasons")[1..],
            [
                [
                    "2",
                    "=HYPERLINK(\"x\")",
                    "current_mania",
                    "exclude",
                    "true",
                    "Mania.",
                    "apa"
                ]
                .map(String::from)
                .to_vec(),
                [
                    "2",
                    "=HYPERLINK(\"x\")",
                    "older_adult",
                    "note",
                    "false",
                    "Old.",
                    ""
                ]
                .map(String::from)
                .to_vec()
            ]
        );
        let summary: Vec<String> = sheet(&bytes, "Summary")
            .iter()
            .map(|r| r.join("="))
            .collect();
        assert_eq!(
            summary,
            [
                "run=".to_string(),
                "input=in.csv".into(),
                format!("ketascreen={}", env!("CARGO_PKG_VERSION")),
                "ruleset=k".into(),
                "ruleset version=1.0.0".into(),
                "ruleset sha256=abc".into(),
                "profile=(none)".into(),
                "rows screened=1".into(),
                "ineligible=1".into(),
                "incomplete=0".into(),
                "review=0".into(),
                "eligible=0".into(),
                "urgent=1".into(),
                "urgent undecided=0".into(),
                "rows with input errors=1".into(),
                "empty rows not screened=1".into(),
            ]
        );
    }
}
