//! The CSV verdict: one line per patient with the verdict, urgency, fired rule ids, missing
//! question ids and input errors. No answers are echoed, so no identifying column leaks through.

use super::Record;
use crate::answers::InputError;
use crate::engine::Verdict;
use crate::ruleset::Ruleset;

/// The header row of CSV output.
pub const HEADER: [&str; 8] = [
    "row", "id", "verdict", "urgent", "reasons", "missing", "errors", "ruleset",
];

/// The fields of one record, in `HEADER` order. Lists are joined with `;`.
pub fn fields(ruleset: &Ruleset, record: &Record) -> [String; 8] {
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
) -> [String; 8] {
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
    let errors: Vec<String> = errors
        .iter()
        .map(|e| format!("{}: {}", e.question, e.message))
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
    ]
}
