//! `check --explain` (and failing rule cases): why each rule fired, did not fire, or stayed
//! undecided, shown as its condition with every comparison's actual value and result, and why
//! skipped questions did not count. It renders the `engine::Explanation` recorded by the very
//! evaluation that decided the verdict; it evaluates nothing and decides nothing.

use serde_json::{json, Map, Value as Json};

use super::{Format, Record};
use crate::answers::{Seen, Value};
use crate::engine::{Explanation, RuleTrace};
use crate::expr::trace::{test_text, Step, Trace};
use crate::expr::Truth;
use crate::ruleset::{Ruleset, Severity, Slot};

/// A rule's outcome for one patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleResult {
    Fired,
    NotFired,
    Undecided,
}

impl RuleResult {
    pub fn of(truth: Truth) -> RuleResult {
        match truth {
            Truth::True => RuleResult::Fired,
            Truth::False => RuleResult::NotFired,
            Truth::Unknown => RuleResult::Undecided,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RuleResult::Fired => "fired",
            RuleResult::NotFired => "not fired",
            RuleResult::Undecided => "undecided",
        }
    }

    fn json(self) -> &'static str {
        match self {
            RuleResult::Fired => "fired",
            RuleResult::NotFired => "not_fired",
            RuleResult::Undecided => "undecided",
        }
    }
}

/// What one question was for this patient, as shown: `146`, `unanswered`, `skipped`.
pub fn shown(ex: &Explanation<'_>, ruleset: &Ruleset, slot: Slot) -> String {
    field_text(
        ruleset,
        slot,
        ex.seen.get(slot).copied().unwrap_or(Seen::Unanswered),
    )
}

/// A rule's outcome, from its trace.
pub fn result(rt: &RuleTrace<'_>) -> RuleResult {
    RuleResult::of(rt.trace.truth)
}

fn field_text(ruleset: &Ruleset, slot: Slot, field: Seen<&Value>) -> String {
    match field {
        Seen::Answered(v) => v.display(&ruleset.questions[slot]).to_string(),
        Seen::Unanswered => "unanswered".to_string(),
        Seen::Skipped => "skipped".to_string(),
    }
}

/// Writes a trace as an indented tree, one comparison per line:
/// `systolic_bp (146) > 140 → true`.
pub fn trace_lines(ruleset: &Ruleset, trace: &Trace<'_>, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    let truth = trace.truth.as_str();
    match &trace.step {
        Step::Any(items) | Step::All(items) => {
            let op = if matches!(trace.step, Step::Any(_)) {
                "or"
            } else {
                "and"
            };
            out.push_str(&format!("{pad}{op} → {truth}\n"));
            for item in items {
                trace_lines(ruleset, item, indent + 2, out);
            }
        }
        Step::Not(inner) => {
            out.push_str(&format!("{pad}not → {truth}\n"));
            trace_lines(ruleset, inner, indent + 2, out);
        }
        Step::Test {
            slot,
            test,
            seen: field,
        } => {
            let q = &ruleset.questions[*slot];
            out.push_str(&format!(
                "{pad}{} ({}) {} → {truth}\n",
                q.id,
                field_text(ruleset, *slot, *field),
                test_text(test, q)
            ));
        }
    }
}

fn ids(ruleset: &Ruleset, slots: &[Slot]) -> String {
    slots
        .iter()
        .map(|&s| ruleset.questions[s].id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The headline of one rule's explanation: `severe_hypertension (exclude): undecided, needs diastolic_bp`.
pub fn rule_headline(ruleset: &Ruleset, rt: &RuleTrace<'_>) -> String {
    let rule = &ruleset.rules[rt.rule];
    let urgent = if rule.urgent { ", urgent" } else { "" };
    let mut line = format!(
        "{} ({}{urgent}): {}",
        rule.id,
        rule.severity,
        result(rt).as_str()
    );
    if result(rt) == RuleResult::Undecided {
        if rule.severity == Severity::Note {
            line.push_str(" (a note: never makes the verdict incomplete)");
        } else if !rt.needs.is_empty() {
            line.push_str(&format!(", needs {}", ids(ruleset, &rt.needs)));
        }
    }
    line
}

/// The lines explaining one rule (headline, condition tree, why skipped questions did not
/// count), each indented by `indent`.
pub fn rule_lines(
    ruleset: &Ruleset,
    ex: &Explanation<'_>,
    rt: &RuleTrace<'_>,
    indent: usize,
    out: &mut String,
) {
    let pad = " ".repeat(indent);
    out.push_str(&format!("{pad}{}\n", rule_headline(ruleset, rt)));
    trace_lines(ruleset, &rt.trace, indent + 2, out);
    let mut read = Vec::new();
    rt.trace.slots(&mut read);
    let skipped: Vec<Slot> = read
        .into_iter()
        .filter(|&s| ex.seen.get(s) == Some(&Seen::Skipped))
        .collect();
    for slot in skipped {
        let q = &ruleset.questions[slot];
        let why = q
            .ask_if_text
            .as_deref()
            .map(|t| format!(" (asked only if {t}, which is false)"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{pad}  {} was skipped{why}: a skipped question is not applicable, equals no value, and never counts as unanswered\n",
            q.id
        ));
    }
}

/// The whole explanation as text, for the table format.
pub fn render_text(ruleset: &Ruleset, ex: &Explanation<'_>) -> String {
    let mut out = String::from("\nExplanation: every rule, in ruleset order\n");
    for rt in &ex.rules {
        out.push('\n');
        rule_lines(ruleset, ex, rt, 0, &mut out);
    }
    if !ex.ask_if.is_empty() {
        out.push_str("\nSkip logic: questions asked only if a condition holds\n");
        for a in &ex.ask_if {
            let q = &ruleset.questions[a.slot];
            let state = match a.trace.truth {
                Truth::False => {
                    "skipped: not applicable; it equals no value and never counts as unanswered"
                }
                Truth::True => "asked",
                Truth::Unknown => {
                    "asked: the condition is undecided, so the question counts as applicable"
                }
            };
            out.push_str(&format!(
                "\n{} (asked only if {}): {state}\n",
                q.id,
                q.ask_if_text.as_deref().unwrap_or("")
            ));
            trace_lines(ruleset, &a.trace, 2, &mut out);
        }
    }
    out
}

fn trace_json(ruleset: &Ruleset, trace: &Trace<'_>) -> Json {
    let result = trace.truth.as_str();
    match &trace.step {
        Step::Any(items) | Step::All(items) => {
            let op = if matches!(trace.step, Step::Any(_)) {
                "or"
            } else {
                "and"
            };
            let items: Vec<Json> = items.iter().map(|i| trace_json(ruleset, i)).collect();
            json!({"op": op, "result": result, "items": items})
        }
        Step::Not(inner) => {
            json!({"op": "not", "result": result, "item": trace_json(ruleset, inner)})
        }
        Step::Test {
            slot,
            test,
            seen: field,
        } => {
            let q = &ruleset.questions[*slot];
            let (state, value) = match field {
                Seen::Answered(v) => (
                    "answered",
                    serde_json::to_value(super::json::SeenJson(q, Seen::Answered(v)))
                        .unwrap_or(Json::Null),
                ),
                Seen::Unanswered => ("unanswered", Json::Null),
                Seen::Skipped => ("skipped", Json::Null),
            };
            json!({
                "question": q.id,
                "state": state,
                "value": value,
                "test": test_text(test, q),
                "result": result,
            })
        }
    }
}

/// The explanation as JSON (the `explain` field `check --explain --format json` adds).
pub fn to_json(ruleset: &Ruleset, ex: &Explanation<'_>) -> Json {
    let rules: Vec<Json> = ex
        .rules
        .iter()
        .map(|rt| {
            let rule = &ruleset.rules[rt.rule];
            let mut m = Map::new();
            m.insert("rule".into(), json!(rule.id));
            m.insert("severity".into(), json!(rule.severity.as_str()));
            m.insert("urgent".into(), json!(rule.urgent));
            m.insert("when".into(), json!(rule.when_text));
            m.insert("result".into(), json!(result(rt).json()));
            let needs: Vec<&str> = rt
                .needs
                .iter()
                .map(|&s| ruleset.questions[s].id.as_str())
                .collect();
            m.insert("needs".into(), json!(needs));
            m.insert("trace".into(), trace_json(ruleset, &rt.trace));
            Json::Object(m)
        })
        .collect();
    let ask_if: Vec<Json> = ex
        .ask_if
        .iter()
        .map(|a| {
            let q = &ruleset.questions[a.slot];
            let state = match a.trace.truth {
                Truth::False => "skipped",
                Truth::True => "asked",
                Truth::Unknown => "asked_undecided",
            };
            json!({
                "question": q.id,
                "ask_if": q.ask_if_text,
                "state": state,
                "trace": trace_json(ruleset, &a.trace),
            })
        })
        .collect();
    json!({"rules": rules, "ask_if": ask_if})
}

/// Writes a verdict record followed by its explanation: for the table format the explanation
/// text after the verdict; for JSON and NDJSON the record (schema v1, unchanged) with an added
/// `explain` field. CSV has no place for it: the caller refuses `--explain` with CSV.
pub fn write(
    out: &mut dyn std::io::Write,
    ruleset: &Ruleset,
    ex: &Explanation<'_>,
    record: &Record,
    format: Format,
    color: bool,
) -> std::io::Result<()> {
    match format {
        Format::Csv => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "an explanation has no CSV form",
        )),
        Format::Table => {
            out.write_all(super::table::render(ruleset, record, color).as_bytes())?;
            out.write_all(render_text(ruleset, ex).as_bytes())
        }
        Format::Json | Format::Ndjson => {
            let mut value = super::json::to_value(ruleset, record, None);
            if let Json::Object(map) = &mut value {
                map.insert("explain".into(), to_json(ruleset, ex));
            }
            if format == Format::Json {
                serde_json::to_writer_pretty(&mut *out, &value)?;
            } else {
                serde_json::to_writer(&mut *out, &value)?;
            }
            out.write_all(b"\n")
        }
    }
}
