//! The JSON verdict record, schema `ketascreen.verdict/v1`, field order as in the contract:
//! `#[derive(Serialize)]` records borrowing from the verdict, for `check`, the interview and
//! every batch row alike.

use std::cell::RefCell;

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};
use serde_json::Value as Json;

use super::compact_json::{self, Raw};

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
    ruleset: RulesetJson<'a>,
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

/// The fired rules, serialized straight from the verdict — or, for the batch, each as
/// `Remembered` has it.
struct Reasons<'a>(&'a Ruleset, &'a [Reason], Option<&'a RefCell<Remembered>>);

fn json_reason<'a>(ruleset: &'a Ruleset, r: &'a Reason) -> JsonReason<'a> {
    let rule = &ruleset.rules[r.rule];
    JsonReason {
        rule: &rule.id,
        severity: r.severity.as_str(),
        urgent: r.urgent,
        message: &r.message,
        answers: ReadAnswers(ruleset, &r.answers),
        source: &rule.source,
    }
}

impl Serialize for Reasons<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Reasons(ruleset, reasons, remembered) = *self;
        match remembered {
            None => s.collect_seq(reasons.iter().map(|r| json_reason(ruleset, r))),
            Some(remembered) => {
                let mut remembered = remembered.borrow_mut();
                let mut seq = s.serialize_seq(Some(reasons.len()))?;
                for r in reasons {
                    seq.serialize_element(&Raw(remembered.reason(ruleset, r)))?;
                }
                seq.end()
            }
        }
    }
}

struct Missings<'a>(&'a Ruleset, &'a [Missing], Option<&'a RefCell<Remembered>>);

fn json_missing<'a>(ruleset: &'a Ruleset, m: &'a Missing) -> JsonMissing<'a> {
    let rule = &ruleset.rules[m.rule];
    JsonMissing {
        rule: &rule.id,
        severity: rule.severity.as_str(),
        urgent: rule.urgent,
        questions: Questions(ruleset, &m.questions),
    }
}

impl Serialize for Missings<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Missings(ruleset, missing, remembered) = *self;
        match remembered {
            None => s.collect_seq(missing.iter().map(|m| json_missing(ruleset, m))),
            Some(remembered) => {
                let mut remembered = remembered.borrow_mut();
                let mut seq = s.serialize_seq(Some(missing.len()))?;
                for m in missing {
                    seq.serialize_element(&Raw(remembered.missing(ruleset, m)))?;
                }
                seq.end()
            }
        }
    }
}

/// The ruleset a record was decided by: written out, or as `Remembered` wrote it once.
struct RulesetJson<'a>(&'a Ruleset, Option<&'a RefCell<Remembered>>);

impl Serialize for RulesetJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.1 {
            None => json_ruleset(self.0).serialize(s),
            Some(remembered) => Raw(&remembered.borrow().ruleset).serialize(s),
        }
    }
}

fn json_ruleset(ruleset: &Ruleset) -> JsonRuleset<'_> {
    JsonRuleset {
        id: &ruleset.id,
        version: &ruleset.version,
        sha256: &ruleset.sha256,
    }
}

/// The parts of batch records that come out the same row after row, as `compact_json` wrote
/// them: the ruleset object, and for each rule the last few reasons it gave (`WAYS`) and the
/// missing entry it gave last, with what each was written from (a reason's message and the
/// answers it read; a missing entry's questions). A part is written anew whenever what it is
/// written from is not remembered, so every byte still comes from the serde types above. One
/// per screening thread.
///
/// Kept because it pays (issue 12's with/without run: `batch --format ndjson`, 20k rows of the
/// benchmark file, one thread, callgrind): 723.5M instructions without, 633.0M with (-12.5%);
/// on ruleset 1.0.0's file 595.4M -> 521.1M (-12.5%).
pub struct Remembered {
    ruleset: Vec<u8>,
    /// Per rule: up to `WAYS` reasons with their JSON, and which to replace next.
    reasons: Vec<(Vec<Written<Reason>>, usize)>,
    missing: Vec<Option<Written<Vec<Slot>>>>,
}

/// What a part of a record was written from, and the JSON written.
type Written<T> = (T, Vec<u8>);

/// Reasons remembered per rule. A rule's message often holds a number (an age, a score), so
/// one is not enough: four instead of one, `--format ndjson` on ruleset 1.0.0's 20k rows,
/// 526.1M -> 514.3M instructions (-2.2%; of its 43,011 reasons, 18,151 were written anew with
/// one per rule).
const WAYS: usize = 4;

impl Remembered {
    pub fn new(ruleset: &Ruleset) -> Self {
        let mut json = Vec::new();
        compact_json::write(&mut json, &json_ruleset(ruleset));
        Remembered {
            ruleset: json,
            reasons: vec![(Vec::new(), 0); ruleset.rules.len()],
            missing: vec![None; ruleset.rules.len()],
        }
    }

    /// The reason as JSON: remembered when its rule gave the very same reason lately.
    fn reason(&mut self, ruleset: &Ruleset, r: &Reason) -> &[u8] {
        let Some((entries, next)) = self.reasons.get_mut(r.rule) else {
            return &[];
        };
        let at = match entries.iter().position(|(seen, _)| same_reason(seen, r)) {
            Some(at) => at,
            None if entries.len() < WAYS => {
                entries.push((r.clone(), Vec::new()));
                write_reason(ruleset, r, entries.len() - 1, entries)
            }
            None => {
                let at = *next;
                *next = (at + 1) % WAYS;
                write_reason(ruleset, r, at, entries)
            }
        };
        entries.get(at).map_or(&[], |(_, json)| json)
    }

    /// The missing entry as JSON: remembered when its rule last missed the same questions.
    fn missing(&mut self, ruleset: &Ruleset, m: &Missing) -> &[u8] {
        let Some(entry) = self.missing.get_mut(m.rule) else {
            return &[];
        };
        if !matches!(entry, Some((questions, _)) if *questions == m.questions) {
            let (questions, json) = entry.get_or_insert_with(Default::default);
            questions.clone_from(&m.questions);
            json.clear();
            compact_json::write(json, &json_missing(ruleset, m));
        }
        entry.as_ref().map_or(&[], |(_, json)| json)
    }
}

/// Remembers `r` and its JSON in `entries[at]` (reusing that entry's buffers); returns `at`.
fn write_reason(
    ruleset: &Ruleset,
    r: &Reason,
    at: usize,
    entries: &mut [Written<Reason>],
) -> usize {
    if let Some((seen, json)) = entries.get_mut(at) {
        seen.rule = r.rule;
        seen.severity = r.severity;
        seen.urgent = r.urgent;
        seen.message.clone_from(&r.message);
        seen.answers.clone_from(&r.answers);
        json.clear();
        compact_json::write(json, &json_reason(ruleset, r));
    }
    at
}

/// Whether two reasons of the same rule are written the same: numbers are compared bit for
/// bit, as `-0.0` and `0.0` are equal but written differently.
fn same_reason(a: &Reason, b: &Reason) -> bool {
    a.rule == b.rule
        && a.severity == b.severity
        && a.urgent == b.urgent
        && a.message == b.message
        && a.answers.len() == b.answers.len()
        && a.answers
            .iter()
            .zip(&b.answers)
            .all(|((slot_a, a), (slot_b, b))| slot_a == slot_b && same_seen(a, b))
}

fn same_seen(a: &Seen<Value>, b: &Seen<Value>) -> bool {
    match (a, b) {
        (Seen::Answered(Value::Number(x)), Seen::Answered(Value::Number(y))) => {
            x.to_bits() == y.to_bits()
        }
        _ => a == b,
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
        reasons: Reasons(ruleset, &verdict.reasons, None),
        missing: Missings(ruleset, &verdict.missing, None),
        ignored: Ignoreds(ruleset, &verdict.ignored),
        errors,
        ruleset: RulesetJson(ruleset, None),
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

/// Writes one compact record (no newline) into `out`, straight from the verdict, with the
/// parts `remembered` has from earlier rows (the batch writes every record this way into a
/// reused buffer). The same bytes as `serde_json::to_writer` of the record.
#[allow(clippy::too_many_arguments)]
pub fn write_compact(
    out: &mut Vec<u8>,
    ruleset: &Ruleset,
    row: Option<u64>,
    id: Option<&str>,
    verdict: &Verdict,
    errors: &[InputError],
    profile: Option<&super::ProfileId>,
    remembered: &RefCell<Remembered>,
) {
    let mut doc = record(ruleset, row, id, verdict, errors, profile, None);
    doc.reasons.2 = Some(remembered);
    doc.missing.2 = Some(remembered);
    doc.ruleset.1 = Some(remembered);
    compact_json::write(out, &doc);
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
