//! Reading past intakes for `rules impact` through the batch's own readers, once for two
//! rulesets. The input is opened as `batch` opens it (`front::Input`, `-` for stdin) and its
//! layout chosen the same way (`--input-format`, else the file's extension, else its first
//! bytes). CSV, xlsx, ods: opened by `input::open` (encoding, delimiter, workbooks) and read by
//! the batch's one CSV reader (`batch::reader`: stray quotes, empty rows); the header resolved against each ruleset as `batch`
//! resolves it (`--map`, `--id-column`, aliases); every record read for each ruleset by a
//! `batch::RowReader`, the very cell parsing and row errors of a batch screener. NDJSON, JSON
//! arrays and FHIR Bundles: `json_input`, each document read as one patient for each ruleset
//! (`json_input::patient_of`). One pass: each row is read once from the input and handed to
//! both rulesets.

use std::io::{BufRead, Read};

use anyhow::{Context, Result};

use crate::answers::Answers;
use crate::batch::columns::{self, Columns, HeaderError, Mapping};
use crate::batch::RowReader;
use crate::front::{Input, Terminal, UsageError};
use crate::json_input::{self, Document, Layout};
use crate::ruleset::{Ruleset, Slot};

/// What to read, as plain values.
pub struct Source<'a> {
    /// A file, or `-` for stdin.
    pub file: &'a str,
    /// As asked (`--input-format`); `None` decides as `batch` does.
    pub layout: Option<Layout>,
    /// `--delimiter`; `None` (`auto`) detects it as `batch` does.
    pub delimiter: Option<u8>,
    /// `--map` and `--id-column`, resolved against each ruleset (old, new); CSV only.
    pub mappings: [&'a Mapping; 2],
    /// Whether `--map`, `--id-column` or `--delimiter` were given (refused for JSON input).
    pub csv_options: bool,
    /// `--id-column`, for a profile's plan.
    pub id_column: Option<&'a str>,
    /// An intake profile, loaded against each ruleset (old, new).
    pub profiles: [Option<&'a crate::profile::Profile>; 2],
}

/// One ruleset's reading of one row.
pub struct Reading<'a> {
    pub answers: &'a Answers,
    /// Whether the row had input errors for this ruleset (a bad answer counts as unanswered).
    pub errors: bool,
    pub id: Option<&'a str>,
}

/// What reading found besides the rows.
pub struct Done {
    /// The input's name for messages (`<stdin>` for `-`).
    pub name: String,
    /// Each ruleset's questions that no column answers (old, new); empty for JSON input.
    pub unasked: [Vec<Slot>; 2],
}

fn resolve(
    ruleset: &Ruleset,
    header: &csv::ByteRecord,
    mapping: &Mapping,
    name: &str,
) -> Result<Columns> {
    columns::resolve_record(ruleset, header, mapping).map_err(|e| {
        let message = format!("{name}: {e} (ruleset {} {})", ruleset.id, ruleset.version);
        if e.is_usage() {
            anyhow::Error::from(UsageError(message))
        } else if e == HeaderError::Empty {
            anyhow::anyhow!("{name}: no header row: the input is empty")
        } else {
            anyhow::anyhow!(message)
        }
    })
}

/// Reads every row for both rulesets and calls `each(row, old, new)` with the row's number
/// (1-based: data row of a CSV, patient document of JSON) and each ruleset's reading of it.
/// `header_seen` hears each ruleset's resolved CSV columns once, before the first row.
pub fn for_each_row(
    source: &Source<'_>,
    rulesets: [&Ruleset; 2],
    term: Terminal,
    header_seen: impl FnOnce(&Ruleset, &Columns, &Ruleset, &Columns),
    mut each: impl FnMut(u64, Reading<'_>, Reading<'_>) -> Result<()>,
) -> Result<Done> {
    let input = Input::open(
        source.file,
        term,
        "no intakes given: name a file, or pipe one into stdin (e.g. 'ketascreen rules impact OLD NEW - < intake.csv')",
    )?;
    let name = input.name();
    let path = match &input {
        Input::File { path, .. } => Some(path.clone()),
        Input::Stdin => None,
    };
    let reader: Box<dyn Read + Send> = match input {
        Input::File { file, .. } => Box::new(file),
        Input::Stdin => Box::new(std::io::stdin()),
    };
    let mut reader = std::io::BufReader::with_capacity(1 << 16, reader);
    let layout = match source.layout {
        Some(layout) => layout,
        None => match json_input::layout_of_name(source.file) {
            Some(layout) => layout,
            None => json_input::layout_of_content(
                reader
                    .fill_buf()
                    .with_context(|| format!("cannot read {name}"))?,
            ),
        },
    };
    if layout != Layout::Csv {
        if source.profiles[0].is_some() {
            return Err(UsageError(
                "--profile reads tabular exports (CSV, xlsx, ods); JSON answers are keyed by \
                 question id (or alias): leave the profile out"
                    .into(),
            )
            .into());
        }
        if source.csv_options {
            return Err(UsageError(
                "--map, --id-column and --delimiter apply to CSV input; JSON answers are keyed \
                 by question id (or alias) and carry their id in `id` or `patient_id`"
                    .into(),
            )
            .into());
        }
        json_rows(reader, layout, &name, rulesets, &mut each)?;
        return Ok(Done {
            name,
            unasked: [Vec::new(), Vec::new()],
        });
    }

    // The file as `batch` opens it (encoding, delimiter, workbooks), read by the batch's one
    // CSV reader (stray quotes and empty rows told apart).
    let mut options = crate::input::InputOptions {
        delimiter: source.delimiter,
        ..Default::default()
    };
    // The profile's `input:` settings, where the command line gives none (as in `batch`).
    if let Some(p) = source.profiles[0] {
        options.delimiter = options.delimiter.or(p.input.delimiter);
        options.encoding = crate::batch::command::profile_encoding(p.input.encoding);
        options.sheet.clone_from(&p.input.sheet);
    }
    let maps = |names: &[String]| {
        rulesets
            .iter()
            .zip(source.mappings)
            .map(|(rs, mapping)| {
                columns::resolve(rs, names.iter().map(|n| n.as_bytes()), mapping)
                    .map_or(0, |c| c.questions.len())
            })
            .max()
            .unwrap_or(0)
    };
    let opened =
        crate::input::open(Box::new(reader), path.as_deref(), &options, &maps).map_err(|e| {
            let message = format!("cannot read {name}: {e}");
            if e.is_usage() {
                anyhow::Error::from(UsageError(message))
            } else {
                anyhow::anyhow!(message)
            }
        })?;
    for note in &opened.notes {
        eprintln!("ketascreen: note: {name}: {note}");
    }
    let mut reader = crate::batch::reader::RowReader::new(opened.reader, opened.delimiter);
    let mut header = csv::ByteRecord::new();
    reader
        .read_header(&mut header)
        .map_err(|e| anyhow::anyhow!("cannot read {name}: {e}"))?;
    // With a profile: its plan for each ruleset, compiled against the header, as in `batch`.
    let plan = |k: usize| -> Result<Option<crate::profile::Plan>> {
        source.profiles[k]
            .map(|p| {
                crate::batch::command::profile_plan(
                    p,
                    rulesets[k],
                    &header,
                    source.id_column,
                    &name,
                )
            })
            .transpose()
    };
    let plans = [plan(0)?, plan(1)?];
    let columns = |k: usize| -> Result<Columns> {
        match &plans[k] {
            Some(plan) => Ok(crate::batch::command::columns_of(plan)),
            None => resolve(rulesets[k], &header, source.mappings[k], &name),
        }
    };
    let (old_columns, new_columns) = (columns(0)?, columns(1)?);
    header_seen(rulesets[0], &old_columns, rulesets[1], &new_columns);
    let mut old = RowReader::new(rulesets[0], &old_columns).with_profile(plans[0].as_ref());
    let mut new = RowReader::new(rulesets[1], &new_columns).with_profile(plans[1].as_ref());
    let patients = plans[0]
        .as_ref()
        .and_then(|p| p.rows_column().map(|c| (p, c)));
    let mut record = csv::ByteRecord::new();
    let mut row = 0u64;
    loop {
        let info = match reader.read_row(&mut record) {
            Ok(Some(info)) => info,
            Ok(None) => break,
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("cannot read {name} at data row {}", row + 1)))
            }
        };
        row += 1;
        // Rows the profile's `input.rows` leaves out are no patients (their numbers are kept).
        if let Some((plan, column)) = patients {
            if !plan.is_patient(record.get(column).unwrap_or_default()) {
                continue;
            }
        }
        let line = || info.line;
        // A malformed row (a stray quote) has none of its answers read, for either ruleset.
        old.read(&record, line, info.message());
        new.read(&record, line, info.message());
        each(
            row,
            Reading {
                answers: old.answers(),
                errors: !old.errors().is_empty(),
                id: old.id(),
            },
            Reading {
                answers: new.answers(),
                errors: !new.errors().is_empty(),
                id: new.id(),
            },
        )?;
    }
    if let Some(note) = reader.empty_rows().note() {
        eprintln!("ketascreen: note: {note}");
    }
    Ok(Done {
        name,
        unasked: [old_columns.unasked.clone(), new_columns.unasked.clone()],
    })
}

/// NDJSON (streamed line by line), a JSON array or a FHIR Bundle: each document read as one
/// patient under each ruleset, as `batch` reads it.
fn json_rows<R: BufRead>(
    reader: R,
    layout: Layout,
    name: &str,
    rulesets: [&Ruleset; 2],
    each: &mut impl FnMut(u64, Reading<'_>, Reading<'_>) -> Result<()>,
) -> Result<()> {
    let empty = [Answers::new(rulesets[0]), Answers::new(rulesets[1])];
    let mut one = |row: u64, doc: Result<serde_json::Value, String>| -> Result<()> {
        let read = |k: usize| {
            doc.as_ref()
                .map_err(String::clone)
                .and_then(|d| json_input::patient_of(rulesets[k], d))
        };
        let (old, new) = (read(0), read(1));
        fn reading<'p>(
            p: &'p Result<crate::patient::Patient, String>,
            empty: &'p Answers,
        ) -> (&'p Answers, bool) {
            match p {
                // Keys that name no question are ignored, as `batch` ignores them.
                Ok(p) => (&p.answers, !p.errors.is_empty()),
                Err(_) => (empty, true),
            }
        }
        let id = old
            .as_ref()
            .ok()
            .and_then(|p| p.id.as_deref())
            .or_else(|| new.as_ref().ok().and_then(|p| p.id.as_deref()));
        let (oa, oe) = reading(&old, &empty[0]);
        let (na, ne) = reading(&new, &empty[1]);
        each(
            row,
            Reading {
                answers: oa,
                errors: oe,
                id,
            },
            Reading {
                answers: na,
                errors: ne,
                id,
            },
        )
    };
    match layout {
        Layout::Ndjson | Layout::Csv => {
            json_input::ndjson(reader, |item| one(item.row, item.doc))
                .map_err(|e: anyhow::Error| e.context(format!("cannot read {name}")))?;
        }
        Layout::Json => {
            let docs = match json_input::document(reader)
                .map_err(|m| anyhow::anyhow!("cannot read {name}: {m}"))?
            {
                Document::Array(items) => items,
                Document::Bundle { responses, .. } => responses,
                Document::One(doc) => vec![doc],
            };
            for (i, doc) in docs.into_iter().enumerate() {
                one(i as u64 + 1, Ok(doc))?;
            }
        }
    }
    Ok(())
}
