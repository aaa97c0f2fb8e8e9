//! The JSON verdict record, schema `ketascreen.verdict/v1`, field order as in the contract:
//! `#[derive(Serialize)]` records borrowing from the verdict, for `check`, the interview and
//! every batch row alike.

use serde::{Serialize, Serializer};
use serde_json::Value as Json;

use super::{Record, SCHEMA};
use crate::answers::{Answers, InputError, Seen, Value};
use crate::engine::{Ignored, Missing, Reason, Verdict};
use crate::ruleset::{Kind, Question, Ruleset, Slot};

/// One verdict record, borrowed from the verdict: the schema is defined by these types.
#[derive(Serialize)]
struct JsonRecord<'a> {
    schema: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    row: Option<u64>,
    id: Option<&'a str>,
    verdict: &'static str,
    urgent: bool,
    urgent_undecided: bool,
    reasons: Reasons<'a>,
    missing: Missings<'a>,
    ignored: Ignoreds<'a>,
    errors: &'a [InputError],
    ruleset: JsonRuleset<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<&'a super::ProfileId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    answers: Option<AllAnswers<'a>>,
}

#[derive(Serialize)]
struct JsonReason<'a> {
    rule: &'a str,
    severity: &'static str,
    urgent: bool,
    message: &'a str,
    answers: ReadAnswers<'a>,
    source: &'a str,
}

#[derive(Serialize)]
struct JsonMissing<'a> {
    rule: &'a str,
    severity: &'static str,
    urgent: bool,
    questions: Questions<'a>,
}

#[derive(Serialize)]
struct JsonIgnored<'a> {
    question: &'a str,
    value: SeenJson<'a>,
    because: &'a str,
}

#[derive(Serialize)]
struct JsonRuleset<'a> {
    id: &'a str,
    version: &'a str,
    sha256: &'a str,
}

/// The fired rules, serialized straight from the verdict.
struct Reasons<'a>(&'a Ruleset, &'a [Reason]);

impl Serialize for Reasons<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Reasons(ruleset, reasons) = *self;
        s.collect_seq(reasons.iter().map(|r| {
            let rule = &ruleset.rules[r.rule];
            JsonReason {
                rule: &rule.id,
                severity: r.severity.as_str(),
                urgent: r.urgent,
                message: &r.message,
                answers: ReadAnswers(ruleset, &r.answers),
                source: &rule.source,
            }
        }))
    }
}

struct Missings<'a>(&'a Ruleset, &'a [Missing]);

impl Serialize for Missings<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Missings(ruleset, missing) = *self;
        s.collect_seq(missing.iter().map(|m| {
            let rule = &ruleset.rules[m.rule];
            JsonMissing {
                rule: &rule.id,
                severity: rule.severity.as_str(),
                urgent: rule.urgent,
                questions: Questions(ruleset, &m.questions),
            }
        }))
    }
}

/// Answers to questions that do not apply, with why.
struct Ignoreds<'a>(&'a Ruleset, &'a [Ignored]);

impl Serialize for Ignoreds<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Ignoreds(ruleset, ignored) = *self;
        s.collect_seq(ignored.iter().map(|i| {
            let q = &ruleset.questions[i.question];
            JsonIgnored {
                question: &q.id,
                value: SeenJson(q, Seen::Answered(&i.value)),
                because: &i.because,
            }
        }))
    }
}

/// Question ids.
struct Questions<'a>(&'a Ruleset, &'a [Slot]);

impl Serialize for Questions<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.1.iter().map(|&q| self.0.questions[q].id.as_str()))
    }
}

/// What a rule read, keyed by question id.
struct ReadAnswers<'a>(&'a Ruleset, &'a [(Slot, Seen<Value>)]);

impl Serialize for ReadAnswers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ReadAnswers(ruleset, read) = *self;
        s.collect_map(read.iter().map(|(slot, seen)| {
            let q = &ruleset.questions[*slot];
            (q.id.as_str(), SeenJson(q, seen.as_ref()))
        }))
    }
}

/// Every answer keyed by question id (unanswered as `null`), for saved interviews.
struct AllAnswers<'a>(&'a Ruleset, &'a Answers);

impl Serialize for AllAnswers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let AllAnswers(ruleset, answers) = *self;
        s.collect_map(ruleset.questions.iter().enumerate().map(|(slot, q)| {
            let seen = answers.get(slot).map_or(Seen::Unanswered, Seen::Answered);
            (q.id.as_str(), SeenJson(q, seen))
        }))
    }
}

/// What a rule saw, as JSON: the value, `null` when unanswered, `"skipped"` when not
/// applicable. A value: numbers as numbers, yes/no and choices as their words.
pub struct SeenJson<'a>(pub &'a Question, pub Seen<&'a Value>);

impl Serialize for SeenJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.1 {
            Seen::Unanswered => s.serialize_none(),
            Seen::Skipped => s.serialize_str("skipped"),
            Seen::Answered(Value::Integer(n)) => s.serialize_i64(*n),
            Seen::Answered(Value::Number(x)) if x.is_finite() => s.serialize_f64(*x),
            Seen::Answered(Value::Number(_)) => s.serialize_none(),
            Seen::Answered(Value::Text(t)) => s.serialize_str(t),
            Seen::Answered(Value::YesNo(b)) => s.serialize_str(if *b { "yes" } else { "no" }),
            Seen::Answered(Value::Choice(i)) => s.serialize_str(match &self.0.kind {
                Kind::Choice(options) => options.get(*i).map_or("?", |o| o.id.as_str()),
                _ => "?",
            }),
        }
    }
}

/// What a rule saw, as a JSON value (for the table's and the explanation's text).
pub fn seen_json(ruleset: &Ruleset, slot: usize, seen: &Seen<Value>) -> Json {
    serde_json::to_value(SeenJson(&ruleset.questions[slot], seen.as_ref())).unwrap_or(Json::Null)
}

/// Every answer as JSON keyed by question id (unanswered as `null`), for saved interviews.
pub fn answers_json(ruleset: &Ruleset, answers: &Answers) -> Json {
    serde_json::to_value(AllAnswers(ruleset, answers)).unwrap_or(Json::Null)
}

fn record<'a>(
    ruleset: &'a Ruleset,
    row: Option<u64>,
    id: Option<&'a str>,
    verdict: &'a Verdict,
    errors: &'a [InputError],
    profile: Option<&'a super::ProfileId>,
    answers: Option<&'a Answers>,
) -> JsonRecord<'a> {
    JsonRecord {
        schema: SCHEMA,
        row,
        id,
        verdict: verdict.status.as_str(),
        urgent: verdict.urgent,
        urgent_undecided: verdict.urgent_undecided,
        reasons: Reasons(ruleset, &verdict.reasons),
        missing: Missings(ruleset, &verdict.missing),
        ignored: Ignoreds(ruleset, &verdict.ignored),
        errors,
        ruleset: JsonRuleset {
            id: &ruleset.id,
            version: &ruleset.version,
            sha256: &ruleset.sha256,
        },
        profile,
        answers: answers.map(|a| AllAnswers(ruleset, a)),
    }
}

/// The record as a JSON value; `answers`, when given, is added as an `answers` object.
pub fn to_value(ruleset: &Ruleset, record: &Record, answers: Option<&Answers>) -> Json {
    let doc = self::record(
        ruleset,
        record.row,
        record.id.as_deref(),
        &record.verdict,
        &record.errors,
        record.profile.as_ref(),
        answers,
    );
    serde_json::to_value(doc).unwrap_or(Json::Null)
}

/// Writes one compact record (no newline) into `out`, straight from the verdict (the batch
/// writes every record this way into a reused buffer).
pub fn write_compact(
    out: &mut Vec<u8>,
    ruleset: &Ruleset,
    row: Option<u64>,
    id: Option<&str>,
    verdict: &Verdict,
    errors: &[InputError],
    profile: Option<&super::ProfileId>,
) {
    super::compact_json::write(
        out,
        &record(ruleset, row, id, verdict, errors, profile, None),
    );
}

/// Writes the record as pretty JSON (`pretty`) or as one compact line, newline-terminated.
pub fn write(
    out: &mut dyn std::io::Write,
    ruleset: &Ruleset,
    record: &Record,
    pretty: bool,
) -> std::io::Result<()> {
    let doc = self::record(
        ruleset,
        record.row,
        record.id.as_deref(),
        &record.verdict,
        &record.errors,
        record.profile.as_ref(),
        None,
    );
    if pretty {
        serde_json::to_writer_pretty(&mut *out, &doc)?;
    } else {
        serde_json::to_writer(&mut *out, &doc)?;
    }
    out.write_all(b"\n")
}
