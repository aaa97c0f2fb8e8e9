//! The CSV verdict: one line per patient with the verdict, urgency, fired rule ids, missing
//! question ids, input errors, whether urgency is not known, and the ids of the questions whose
//! answers were ignored (they do not apply), then the fired rule ids by severity (exclude,
//! review, note: a column each, so a spreadsheet filters on them) and the number of input
//! errors. No answers are echoed, so no identifying column leaks through; text that came from
//! the input is made safe to open in a spreadsheet (`spreadsheet::formula_safe`). Columns are
//! only ever added, at the end, so a spreadsheet or script that reads them by position keeps
//! working. `CsvStyle` says how it is written: commas, or for Excel a byte-order mark and
//! commas or semicolons.
//! A cell a spreadsheet would run as a formula (an id such as `=HYPERLINK(...)`, `+cmd|...`,
//! `@SUM(1)`) is written with a leading `'`, the usual defence (OWASP "CSV injection").

use super::spreadsheet::formula_safe;
use super::Record;
use crate::answers::InputError;
use crate::engine::Verdict;
use crate::ruleset::{Ruleset, Severity};

/// The header row of CSV output.
pub const HEADER: [&str; 14] = [
    "row",
    "id",
    "verdict",
    "urgent",
    "reasons",
    "missing",
    "errors",
    "ruleset",
    "urgent_undecided",
    "ignored",
    "exclude",
    "review",
    "note",
    "error_count",
];

/// How CSV output is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvStyle {
    pub delimiter: u8,
    /// Start with a UTF-8 byte-order mark, so that Excel reads the text as UTF-8.
    pub bom: bool,
}

impl CsvStyle {
    /// Plain CSV: commas, no BOM.
    pub const PLAIN: CsvStyle = CsvStyle {
        delimiter: b',',
        bom: false,
    };

    /// For Excel: a BOM and the given separator (`;` where the locale writes decimal commas).
    pub fn excel(delimiter: u8) -> CsvStyle {
        CsvStyle {
            delimiter,
            bom: true,
        }
    }
}

impl Default for CsvStyle {
    fn default() -> Self {
        CsvStyle::PLAIN
    }
}

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The fields of one record, in `HEADER` order. Lists are joined with `;`.
pub fn fields(ruleset: &Ruleset, record: &Record) -> [String; 14] {
    fields_of(
        ruleset,
        record.row,
        record.id.as_deref(),
        &record.verdict,
        &record.errors,
    )
}

/// `fields`, from the parts of a record.
pub fn fields_of(
    ruleset: &Ruleset,
    row: Option<u64>,
    id: Option<&str>,
    v: &Verdict,
    errors: &[InputError],
) -> [String; 14] {
    let fired = |severity: Severity| {
        v.reasons
            .iter()
            .filter(|r| r.severity == severity)
            .map(|r| ruleset.rules[r.rule].id.as_str())
            .collect::<Vec<_>>()
            .join(";")
    };
    let reasons: Vec<&str> = v
        .reasons
        .iter()
        .map(|r| ruleset.rules[r.rule].id.as_str())
        .collect();
    let missing: Vec<&str> = v
        .missing_questions()
        .into_iter()
        .map(|s| ruleset.questions[s].id.as_str())
        .collect();
    let ignored: Vec<&str> = v
        .ignored
        .iter()
        .map(|i| ruleset.questions[i.question].id.as_str())
        .collect();
    let error_text: Vec<String> = errors
        .iter()
        .map(|e| format!("{}: {}", e.subject(), e.message))
        .collect();
    [
        row.map(|r| r.to_string()).unwrap_or_default(),
        formula_safe(id.unwrap_or_default()).into_owned(),
        v.status.as_str().to_string(),
        v.urgent.to_string(),
        reasons.join(";"),
        missing.join(";"),
        formula_safe(&error_text.join("; ")).into_owned(),
        format!("{}@{}", ruleset.id, ruleset.version),
        v.urgent_undecided.to_string(),
        ignored.join(";"),
        fired(Severity::Exclude),
        fired(Severity::Review),
        fired(Severity::Note),
        errors.len().to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_everything_else_is_left_alone() {
        for (cell, written) in [
            ("=1+1", "'=1+1"),
            ("+cmd", "'+cmd"),
            ("-12", "-12"),
            ("-2+3", "'-2+3"),
            ("@SUM(1)", "'@SUM(1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("P-1", "P-1"),
            ("", ""),
            (" =x", " =x"),
        ] {
            assert_eq!(formula_safe(cell), written, "{cell:?}");
        }
    }
}
