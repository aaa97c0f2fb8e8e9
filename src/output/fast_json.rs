//! A direct writer of compact JSON verdict records (schema `ketascreen.verdict/v1`), for the
//! batch loop's NDJSON and JSON output. It writes exactly the bytes serde_json writes for
//! `json::to_value` — same fields, same order, same escaping (strings and numbers are handed to
//! serde_json itself) — but without building a `serde_json::Value` per record: the parts that
//! depend only on the ruleset (rule ids, severities, sources, question keys, option ids) are
//! rendered once, up front. It is not a general JSON serializer and decides nothing.

use std::io::{self, Write};

use super::SCHEMA;
use crate::answers::{InputError, Value};
use crate::engine::{Seen, Verdict};
use crate::ruleset::{Kind, Ruleset};

/// The ruleset's fixed JSON fragments, rendered once per run.
#[derive(Debug, Clone)]
pub struct RecordWriter {
    /// `"rule":…,"severity":…,"urgent":…,"message":` for each rule, with its `{`.
    reason_head: Vec<Vec<u8>>,
    /// `,"source":"…"}` for each rule.
    reason_tail: Vec<Vec<u8>>,
    /// `{"rule":"…","questions":[` for each rule.
    missing_head: Vec<Vec<u8>>,
    /// `"question_id"` for each question (a key, or a value in `questions`).
    question: Vec<Vec<u8>>,
    /// `"option_id"` for each option of each choice question (empty for other kinds).
    options: Vec<Vec<Vec<u8>>>,
    /// `,"ruleset":{…}}` closing every record.
    tail: Vec<u8>,
}

fn quoted(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    // Writing a string into a Vec cannot fail.
    let _ = string(&mut out, s);
    out
}

/// A JSON string exactly as serde_json escapes it.
fn string<W: Write + ?Sized>(out: &mut W, s: &str) -> io::Result<()> {
    serde_json::to_writer(out, s).map_err(io::Error::from)
}

impl RecordWriter {
    pub fn new(ruleset: &Ruleset) -> Self {
        let mut reason_head = Vec::new();
        let mut reason_tail = Vec::new();
        let mut missing_head = Vec::new();
        for rule in &ruleset.rules {
            let mut head = b"{\"rule\":".to_vec();
            head.extend(quoted(&rule.id));
            head.extend(b",\"severity\":");
            head.extend(quoted(rule.severity.as_str()));
            head.extend(if rule.urgent {
                &b",\"urgent\":true"[..]
            } else {
                &b",\"urgent\":false"[..]
            });
            head.extend(b",\"message\":");
            reason_head.push(head);
            let mut tail = b",\"source\":".to_vec();
            tail.extend(quoted(&rule.source));
            tail.push(b'}');
            reason_tail.push(tail);
            let mut missing = b"{\"rule\":".to_vec();
            missing.extend(quoted(&rule.id));
            missing.extend(b",\"questions\":[");
            missing_head.push(missing);
        }
        let question = ruleset.questions.iter().map(|q| quoted(&q.id)).collect();
        let options = ruleset
            .questions
            .iter()
            .map(|q| match &q.kind {
                Kind::Choice(options) => options.iter().map(|o| quoted(&o.id)).collect(),
                _ => Vec::new(),
            })
            .collect();
        let mut tail = b",\"ruleset\":{\"id\":".to_vec();
        tail.extend(quoted(&ruleset.id));
        tail.extend(b",\"version\":");
        tail.extend(quoted(&ruleset.version));
        tail.extend(b",\"sha256\":");
        tail.extend(quoted(&ruleset.sha256));
        tail.extend(b"}}");
        RecordWriter {
            reason_head,
            reason_tail,
            missing_head,
            question,
            options,
            tail,
        }
    }

    /// Writes one record as compact JSON, without a trailing newline. `rule` and question
    /// indices in `verdict` must come from the ruleset this writer was made for.
    pub fn write<W: Write + ?Sized>(
        &self,
        out: &mut W,
        row: Option<u64>,
        id: Option<&str>,
        verdict: &Verdict,
        errors: &[InputError],
    ) -> io::Result<()> {
        out.write_all(b"{\"schema\":")?;
        string(out, SCHEMA)?;
        if let Some(row) = row {
            out.write_all(b",\"row\":")?;
            serde_json::to_writer(&mut *out, &row).map_err(io::Error::from)?;
        }
        out.write_all(b",\"id\":")?;
        match id {
            Some(id) => string(out, id)?,
            None => out.write_all(b"null")?,
        }
        out.write_all(b",\"verdict\":\"")?;
        out.write_all(verdict.status.as_str().as_bytes())?;
        out.write_all(if verdict.urgent {
            b"\",\"urgent\":true,\"reasons\":["
        } else {
            b"\",\"urgent\":false,\"reasons\":["
        })?;
        for (i, reason) in verdict.reasons.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(&self.reason_head[reason.rule])?;
            string(out, &reason.message)?;
            out.write_all(b",\"answers\":{")?;
            for (j, (slot, seen)) in reason.answers.iter().enumerate() {
                if j > 0 {
                    out.write_all(b",")?;
                }
                out.write_all(&self.question[*slot])?;
                out.write_all(b":")?;
                self.seen(out, *slot, seen)?;
            }
            out.write_all(b"}")?;
            out.write_all(&self.reason_tail[reason.rule])?;
        }
        out.write_all(b"],\"missing\":[")?;
        for (i, missing) in verdict.missing.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(&self.missing_head[missing.rule])?;
            for (j, slot) in missing.questions.iter().enumerate() {
                if j > 0 {
                    out.write_all(b",")?;
                }
                out.write_all(&self.question[*slot])?;
            }
            out.write_all(b"]}")?;
        }
        out.write_all(b"],\"errors\":[")?;
        for (i, e) in errors.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(b"{\"question\":")?;
            if e.question.is_empty() {
                out.write_all(b"null")?;
            } else {
                string(out, &e.question)?;
            }
            if let Some(form) = &e.form {
                out.write_all(b",\"form\":")?;
                string(out, form)?;
            }
            out.write_all(b",\"value\":")?;
            string(out, &e.value)?;
            out.write_all(b",\"message\":")?;
            string(out, &e.message)?;
            out.write_all(b"}")?;
        }
        out.write_all(b"]")?;
        out.write_all(&self.tail)
    }

    /// What a rule saw, as `json::seen_json` renders it.
    fn seen<W: Write + ?Sized>(&self, out: &mut W, slot: usize, seen: &Seen) -> io::Result<()> {
        match seen {
            Seen::Unanswered => out.write_all(b"null"),
            Seen::Skipped => out.write_all(b"\"skipped\""),
            Seen::Answered(Value::YesNo(true)) => out.write_all(b"\"yes\""),
            Seen::Answered(Value::YesNo(false)) => out.write_all(b"\"no\""),
            Seen::Answered(Value::Integer(n)) => {
                serde_json::to_writer(out, n).map_err(io::Error::from)
            }
            Seen::Answered(Value::Number(x)) if x.is_finite() => {
                serde_json::to_writer(out, x).map_err(io::Error::from)
            }
            Seen::Answered(Value::Number(_)) => out.write_all(b"null"),
            Seen::Answered(Value::Choice(i)) => match self.options[slot].get(*i) {
                Some(option) => out.write_all(option),
                None => out.write_all(b"\"?\""),
            },
            Seen::Answered(Value::Text(t)) => string(out, t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::{parse_text, Answers};
    use crate::engine::evaluate;
    use crate::output::{json, Record};
    use crate::ruleset::{builtin, load_str};

    fn same_as_serde(ruleset: &Ruleset, record: &Record) {
        let writer = RecordWriter::new(ruleset);
        let mut fast = Vec::new();
        writer
            .write(
                &mut fast,
                record.row,
                record.id.as_deref(),
                &record.verdict,
                &record.errors,
            )
            .expect("writes to a Vec");
        let slow =
            serde_json::to_string(&json::to_value(ruleset, record, None)).expect("serializes");
        assert_eq!(String::from_utf8(fast).expect("UTF-8"), slow);
    }

    /// A tiny deterministic generator, so the test covers many answer combinations.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) % n as u64) as usize
        }
    }

    #[test]
    fn default_ruleset_records_match_serde_json_byte_for_byte() {
        let rs = builtin().expect("built-in ruleset loads");
        let mut rng = Lcg(7);
        let tricky = [
            "P-1",
            "quote \" and backslash \\",
            "tab\tnewline\ncontrol\u{1}\u{7f}",
            "naïve 日本 \u{2028}",
            "",
        ];
        for n in 0..2000u64 {
            let mut answers = Answers::new(&rs);
            for (slot, q) in rs.questions.iter().enumerate() {
                let raw = match &q.kind {
                    _ if rng.next(8) == 0 => "".to_string(),
                    Kind::YesNo => ["yes", "no", "no", "no"][rng.next(4)].to_string(),
                    Kind::Integer { min, max } => {
                        let lo = min.unwrap_or(0);
                        let hi = max.unwrap_or(100);
                        (lo + rng.next((hi - lo + 1) as usize) as i64).to_string()
                    }
                    Kind::Number { .. } => format!("{}.5", rng.next(50)),
                    Kind::Choice(options) => options[rng.next(options.len())].id.clone(),
                    Kind::Text => tricky[rng.next(tricky.len())].to_string(),
                };
                answers.set(slot, parse_text(q, &raw).expect("valid"));
            }
            let errors = (0..rng.next(3))
                .map(|i| InputError {
                    form: None,
                    question: tricky[(i + n as usize) % tricky.len()].to_string(),
                    value: tricky[rng.next(tricky.len())].to_string(),
                    message: "expected yes or no (y/n, true/false, 1/0)".to_string(),
                })
                .collect();
            let record = Record {
                profile: None,
                id: [None, Some(tricky[rng.next(tricky.len())].to_string())][rng.next(2)].clone(),
                row: [None, Some(n + 1)][rng.next(2)],
                verdict: evaluate(&rs, &answers),
                errors,
            };
            same_as_serde(&rs, &record);
        }
    }

    #[test]
    fn numbers_text_and_skipped_answers_match_serde_json() {
        let rs = load_str(
            r#"
ruleset: {id: "t\"q", version: "1", title: T, sources: {s: "S \\ 1"}}
questions:
  - {id: weight, section: S, text: W, type: number, min: 0, max: 1000}
  - {id: note, section: S, text: N, type: text}
  - {id: a, section: S, text: A, type: yes_no}
  - {id: b, section: S, text: B, type: yes_no, ask_if: a == no}
rules:
  - {id: heavy, severity: review, when: weight > 100.25, message: "W {weight} {note}", source: s}
  - {id: bee, severity: note, when: not b, message: "b {b}", source: s}
"#,
            "t.yaml",
        )
        .expect("loads");
        for (weight, note, a) in [
            ("100.5", "he said \"hi\"\n", "yes"),
            ("1e2", "", "no"),
            ("999.999999", "é", "yes"),
            ("", "x", ""),
        ] {
            let mut answers = Answers::new(&rs);
            for (slot, raw) in [weight, note, a].into_iter().enumerate() {
                answers.set(slot, parse_text(&rs.questions[slot], raw).expect("valid"));
            }
            let record = Record {
                profile: None,
                id: Some("P\u{0}".into()),
                row: Some(3),
                verdict: evaluate(&rs, &answers),
                errors: vec![],
            };
            same_as_serde(&rs, &record);
        }
    }
}
