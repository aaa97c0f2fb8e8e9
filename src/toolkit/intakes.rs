//! Reading past intakes for `rules impact`, once, for two rulesets at a time: the header is
//! resolved against each ruleset (`batch::columns`, as `batch` resolves it), and each row is
//! read into one `Answers` per ruleset with that row's input errors, then handed on.
//! INTERIM: to be replaced by the batch reader once "one engine" lands.

use std::io::Read;

use anyhow::{Context, Result};

use crate::answers::{self, Answers};
use crate::batch::columns::{self, Columns, Mapping};
use crate::ruleset::Ruleset;

/// One ruleset's side of the reading: its columns and the row as read for it.
pub struct Side<'r> {
    pub ruleset: &'r Ruleset,
    pub columns: Columns,
    pub answers: Answers,
    pub errors: usize,
}

impl<'r> Side<'r> {
    fn new(
        ruleset: &'r Ruleset,
        header: &csv::ByteRecord,
        mapping: &Mapping,
        name: &str,
    ) -> Result<Self> {
        let columns = columns::resolve_record(ruleset, header, mapping).map_err(|e| {
            anyhow::anyhow!("{name}: {e} (ruleset {} {})", ruleset.id, ruleset.version)
        })?;
        Ok(Side {
            ruleset,
            columns,
            answers: Answers::new(ruleset),
            errors: 0,
        })
    }

    fn read(&mut self, record: &csv::ByteRecord) {
        self.answers.clear();
        self.errors = 0;
        if record.len() != self.columns.len() {
            self.errors += 1;
            return;
        }
        for &(column, slot) in &self.columns.questions {
            let cell = record.get(column).unwrap_or(b"");
            let Ok(text) = std::str::from_utf8(cell) else {
                self.errors += 1;
                continue;
            };
            match answers::parse_text(&self.ruleset.questions[slot], text) {
                Ok(v) => self.answers.set(slot, v),
                Err(_) => self.errors += 1,
            }
        }
    }
}

/// Reads every row of `input` for both rulesets and calls `each(row, id, old, new)`.
pub fn for_each_row(
    input: impl Read,
    name: &str,
    delimiter: u8,
    mappings: [&Mapping; 2],
    rulesets: [&Ruleset; 2],
    mut each: impl FnMut(u64, Option<&str>, &Side<'_>, &Side<'_>) -> Result<()>,
) -> Result<u64> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(input);
    let mut header = csv::ByteRecord::new();
    if !reader
        .read_byte_record(&mut header)
        .with_context(|| format!("cannot read {name}"))?
    {
        anyhow::bail!("{name}: no header row: the input is empty");
    }
    let mut old = Side::new(rulesets[0], &header, mappings[0], name)?;
    let mut new = Side::new(rulesets[1], &header, mappings[1], name)?;
    let mut record = csv::ByteRecord::new();
    let mut row = 0u64;
    let mut id = String::new();
    while reader
        .read_byte_record(&mut record)
        .with_context(|| format!("cannot read {name} at data row {}", row + 1))?
    {
        row += 1;
        old.read(&record);
        new.read(&record);
        id.clear();
        if let Some(c) = old.columns.id {
            id.push_str(&String::from_utf8_lossy(
                record.get(c).unwrap_or(b"").trim_ascii(),
            ));
        }
        each(row, (!id.is_empty()).then_some(id.as_str()), &old, &new)?;
    }
    Ok(row)
}
