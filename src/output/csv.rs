//! The CSV verdict: one line per patient with the verdict, urgency, fired rule ids, missing
//! question ids and input errors. No answers are echoed, so no identifying column leaks through.

use super::Record;
use crate::ruleset::Ruleset;

/// The header row of CSV output.
pub const HEADER: [&str; 8] = [
    "row", "id", "verdict", "urgent", "reasons", "missing", "errors", "ruleset",
];

/// The fields of one record, in `HEADER` order. Lists are joined with `;`.
pub fn fields(ruleset: &Ruleset, record: &Record) -> [String; 8] {
    let v = &record.verdict;
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
    let errors: Vec<String> = record
        .errors
        .iter()
        .map(|e| format!("{}: {}", e.question, e.message))
        .collect();
    [
        record.row.map(|r| r.to_string()).unwrap_or_default(),
        record.id.clone().unwrap_or_default(),
        v.status.as_str().to_string(),
        v.urgent.to_string(),
        reasons.join(";"),
        missing.join(";"),
        errors.join("; "),
        format!("{}@{}", ruleset.id, ruleset.version),
    ]
}
