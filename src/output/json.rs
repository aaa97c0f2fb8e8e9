//! The JSON verdict record, schema `ketascreen.verdict/v1`, field order as in the contract.

use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::{Record, SCHEMA};
use crate::answers::{Answers, InputError};
use crate::engine::Seen;
use crate::ruleset::Ruleset;

#[derive(Serialize)]
struct JsonRecord<'a> {
    schema: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    row: Option<u64>,
    id: Option<&'a str>,
    verdict: &'static str,
    urgent: bool,
    reasons: Vec<JsonReason<'a>>,
    missing: Vec<JsonMissing<'a>>,
    errors: &'a [InputError],
    ruleset: JsonRuleset<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<&'a super::ProfileId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    answers: Option<Map<String, Json>>,
}

#[derive(Serialize)]
struct JsonReason<'a> {
    rule: &'a str,
    severity: &'static str,
    urgent: bool,
    message: &'a str,
    answers: Map<String, Json>,
    source: &'a str,
}

#[derive(Serialize)]
struct JsonMissing<'a> {
    rule: &'a str,
    questions: Vec<&'a str>,
}

#[derive(Serialize)]
struct JsonRuleset<'a> {
    id: &'a str,
    version: &'a str,
    sha256: &'a str,
}

/// What a rule saw, as JSON: the value, `null` when unanswered, `"skipped"` when not applicable.
pub fn seen_json(ruleset: &Ruleset, slot: usize, seen: &Seen) -> Json {
    match seen {
        Seen::Answered(v) => v.to_json(&ruleset.questions[slot]),
        Seen::Unanswered => Json::Null,
        Seen::Skipped => Json::String("skipped".into()),
    }
}

/// Every answer as JSON keyed by question id (unanswered as `null`), for saved interviews.
pub fn answers_json(ruleset: &Ruleset, answers: &Answers) -> Map<String, Json> {
    ruleset
        .questions
        .iter()
        .enumerate()
        .map(|(slot, q)| {
            (
                q.id.clone(),
                answers
                    .get(slot)
                    .map(|v| v.to_json(q))
                    .unwrap_or(Json::Null),
            )
        })
        .collect()
}

/// The record as a JSON value; `answers`, when given, is added as an `answers` object.
pub fn to_value(ruleset: &Ruleset, record: &Record, answers: Option<&Answers>) -> Json {
    let verdict = &record.verdict;
    let doc = JsonRecord {
        schema: SCHEMA,
        row: record.row,
        id: record.id.as_deref(),
        verdict: verdict.status.as_str(),
        urgent: verdict.urgent,
        reasons: verdict
            .reasons
            .iter()
            .map(|r| {
                let rule = &ruleset.rules[r.rule];
                JsonReason {
                    rule: &rule.id,
                    severity: r.severity.as_str(),
                    urgent: r.urgent,
                    message: &r.message,
                    answers: r
                        .answers
                        .iter()
                        .map(|(slot, seen)| {
                            (
                                ruleset.questions[*slot].id.clone(),
                                seen_json(ruleset, *slot, seen),
                            )
                        })
                        .collect(),
                    source: &rule.source,
                }
            })
            .collect(),
        missing: verdict
            .missing
            .iter()
            .map(|m| JsonMissing {
                rule: &ruleset.rules[m.rule].id,
                questions: m
                    .questions
                    .iter()
                    .map(|&s| ruleset.questions[s].id.as_str())
                    .collect(),
            })
            .collect(),
        errors: &record.errors,
        ruleset: JsonRuleset {
            id: &ruleset.id,
            version: &ruleset.version,
            sha256: &ruleset.sha256,
        },
        profile: record.profile.as_ref(),
        answers: answers.map(|a| answers_json(ruleset, a)),
    };
    serde_json::to_value(doc).unwrap_or(Json::Null)
}

/// Writes the record as pretty JSON (`pretty`) or as one compact line, newline-terminated.
pub fn write(
    out: &mut dyn std::io::Write,
    ruleset: &Ruleset,
    record: &Record,
    pretty: bool,
) -> std::io::Result<()> {
    let value = to_value(ruleset, record, None);
    if pretty {
        serde_json::to_writer_pretty(&mut *out, &value)?;
    } else {
        serde_json::to_writer(&mut *out, &value)?;
    }
    out.write_all(b"\n")
}
