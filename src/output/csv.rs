//! The CSV verdict: one line per patient with the verdict, urgency, fired rule ids, missing
//! question ids, input errors, whether urgency is not known, and the ids of the questions whose
//! answers were ignored (they do not apply). No answers are echoed, so no identifying column
//! leaks through. Columns are only ever added, at the end, so a spreadsheet or script that
//! reads them by position keeps working.
//! A cell a spreadsheet would run as a formula (an id such as `=HYPERLINK(...)`, `+cmd|...`,
//! `@SUM(1)`) is written with a leading `'`, the usual defence (OWASP "CSV injection").

use super::Record;
use crate::answers::InputError;
use crate::engine::Verdict;
use crate::ruleset::Ruleset;

/// The header row of CSV output.
pub const HEADER: [&str; 10] = [
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
];

/// The first characters with which a spreadsheet (Excel, LibreOffice, Google Sheets) reads a
/// cell as a formula.
const FORMULA_STARTS: [u8; 6] = [b'=', b'+', b'-', b'@', b'\t', b'\r'];

/// Whether a cell would be read as a formula by a spreadsheet.
pub fn is_formula(cell: &[u8]) -> bool {
    cell.first().is_some_and(|b| FORMULA_STARTS.contains(b))
}

/// The cell as written to CSV: with a leading `'` when a spreadsheet would run it.
pub fn defused(cell: String) -> String {
    if is_formula(cell.as_bytes()) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// The fields of one record, in `HEADER` order. Lists are joined with `;`.
pub fn fields(ruleset: &Ruleset, record: &Record) -> [String; 10] {
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
) -> [String; 10] {
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
    let errors: Vec<String> = errors
        .iter()
        .map(|e| format!("{}: {}", e.subject(), e.message))
        .collect();
    [
        row.map(|r| r.to_string()).unwrap_or_default(),
        defused(id.unwrap_or_default().to_string()),
        v.status.as_str().to_string(),
        v.urgent.to_string(),
        defused(reasons.join(";")),
        defused(missing.join(";")),
        defused(errors.join("; ")),
        defused(format!("{}@{}", ruleset.id, ruleset.version)),
        v.urgent_undecided.to_string(),
        defused(ignored.join(";")),
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
            ("-12", "'-12"),
            ("@SUM(1)", "'@SUM(1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("P-1", "P-1"),
            ("", ""),
            (" =x", " =x"),
        ] {
            assert_eq!(defused(cell.to_string()), written, "{cell:?}");
        }
    }
}
