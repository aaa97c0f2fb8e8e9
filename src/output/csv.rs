//! The CSV verdict: one line per patient with the verdict, urgency, fired rule ids, missing
//! question ids, input errors, whether urgency is not known, and the ids of the questions whose
//! answers were ignored (they do not apply). No answers are echoed, so no identifying column
//! leaks through. Columns are only ever added, at the end, so a spreadsheet or script that
//! reads them by position keeps working.

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
        id.unwrap_or_default().to_string(),
        v.status.as_str().to_string(),
        v.urgent.to_string(),
        reasons.join(";"),
        missing.join(";"),
        errors.join("; "),
        format!("{}@{}", ruleset.id, ruleset.version),
        v.urgent_undecided.to_string(),
        ignored.join(";"),
    ]
}
