//! Reading past intakes for `rules impact` through the batch's own reader: the same input
//! opening (`front::Input`, `-` for stdin), the same csv reader, the header resolved against
//! each ruleset as `batch` resolves it (`--map`, `--id-column`, aliases), and every record read
//! for each ruleset by a `batch::RowReader` — the very cell parsing and row errors of a batch
//! screener. One pass: each record is read once from the input and handed to both readers.

use std::io::Read;

use anyhow::{Context, Result};

use crate::batch::columns::{self, Columns, HeaderError, Mapping};
use crate::batch::command::{csv_reader, read_header};
use crate::batch::RowReader;
use crate::front::{Input, Terminal, UsageError};
use crate::ruleset::Ruleset;

/// What to read, as plain values.
pub struct Source<'a> {
    /// A file, or `-` for stdin.
    pub file: &'a str,
    pub delimiter: u8,
    /// `--map` and `--id-column`, resolved against each ruleset (old, new).
    pub mappings: [&'a Mapping; 2],
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

/// What reading found besides the rows.
pub struct Done {
    /// The input's name for messages (`<stdin>` for `-`).
    pub name: String,
    /// Each ruleset's questions that no column answers (old, new).
    pub unasked: [Vec<crate::ruleset::Slot>; 2],
}

/// Reads every row for both rulesets and calls `each(row, old, new)` with the row's number
/// (1-based, header not counted) and each ruleset's reading of it. `header_seen` hears each
/// ruleset's resolved columns once, before the first row.
pub fn for_each_row(
    source: &Source<'_>,
    rulesets: [&Ruleset; 2],
    term: Terminal,
    header_seen: impl FnOnce(&Ruleset, &Columns, &Ruleset, &Columns),
    mut each: impl FnMut(u64, &RowReader<'_>, &RowReader<'_>) -> Result<()>,
) -> Result<Done> {
    let input = Input::open(
        source.file,
        term,
        "no intakes given: name a CSV file, or pipe one into stdin (e.g. 'ketascreen rules impact OLD NEW - < intake.csv')",
    )?;
    let name = input.name();
    let reader: Box<dyn Read> = match input {
        Input::File { file, .. } => Box::new(file),
        Input::Stdin => Box::new(std::io::stdin()),
    };
    let mut reader = csv_reader(reader, source.delimiter);
    let header = read_header(&mut reader).with_context(|| format!("cannot read {name}"))?;
    let old_columns = resolve(rulesets[0], &header, source.mappings[0], &name)?;
    let new_columns = resolve(rulesets[1], &header, source.mappings[1], &name)?;
    header_seen(rulesets[0], &old_columns, rulesets[1], &new_columns);
    let mut old = RowReader::new(rulesets[0], &old_columns);
    let mut new = RowReader::new(rulesets[1], &new_columns);
    let mut record = csv::ByteRecord::new();
    let mut row = 0u64;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(anyhow::Error::new(e)
                    .context(format!("cannot read {name} at data row {}", row + 1)))
            }
        }
        row += 1;
        let line = || record.position().map_or(0, csv::Position::line);
        old.read(&record, line);
        new.read(&record, line);
        each(row, &old, &new)?;
    }
    Ok(Done {
        name,
        unasked: [old_columns.unasked.clone(), new_columns.unasked.clone()],
    })
}
