//! Boundary coverage: outcome counts say a rule fired and did not fire, not that the cases
//! stand where the threshold is. For every numeric comparison of a rule (`systolic_bp > 140`)
//! this finds its two sides — the nearest allowed answers on either side of the threshold
//! (140 and 141) — and whether a passing case stands on each side *deciding the rule*: the rule
//! is decided there, and the same case with the answer moved to the other side gives the rule
//! the other result. For every `ask_if`, whether a passing case has the question asked and one
//! has it skipped. It also drafts the missing cases (`rules cases --boundaries`): an existing
//! passing case with the one answer moved onto the uncovered side, with the verdict the ruleset
//! gives today, for a clinician to confirm. Pure: decides through the one engine, prints nothing.

use serde_json::{Map, Value as Json};

use super::conditions;
use super::testing::FileReport;
use crate::answers::{Answers, Value};
use crate::cases;
use crate::engine;
use crate::expr::{CmpOp, Truth};
use crate::patient;
use crate::ruleset::{Kind, Ruleset, Slot};

/// One side of one numeric comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct SidePoint {
    /// Index into `Ruleset::rules`.
    pub rule: usize,
    /// The comparison, canonically written (`systolic_bp > 140`).
    pub comparison: String,
    pub question: Slot,
    /// The answer on this side, and the answer just across the threshold.
    pub value: Value,
    pub across: Value,
    /// Whether the comparison is true on this side.
    pub holds: bool,
    /// Passing cases standing here and deciding the rule; the first one's name.
    pub cases: usize,
    pub first_case: Option<String>,
}

/// One skip condition and how often passing cases asked and skipped its question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AskIfPoint {
    pub question: Slot,
    pub asked: usize,
    pub skipped: usize,
}

/// Boundary and skip-condition coverage.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Boundaries {
    pub sides: Vec<SidePoint>,
    pub ask_if: Vec<AskIfPoint>,
}

impl Boundaries {
    /// (sides covered, all sides), (skip outcomes seen, all skip outcomes).
    pub fn seen(&self) -> ((usize, usize), (usize, usize)) {
        let sides = self.sides.iter().filter(|s| s.cases > 0).count();
        let asks = self
            .ask_if
            .iter()
            .map(|a| usize::from(a.asked > 0) + usize::from(a.skipped > 0))
            .sum();
        ((sides, self.sides.len()), (asks, self.ask_if.len() * 2))
    }
}

/// The grid a numeric question's answers are compared on: whole numbers for an integer
/// question; for a decimal question, tenths, or the finest decimal its comparisons write.
fn scale_for(kind: &Kind, literal: f64) -> Option<f64> {
    match kind {
        Kind::Integer { .. } => Some(1.0),
        Kind::Number { .. } => {
            let text = conditions::number(literal);
            let decimals = text.split_once('.').map_or(0, |(_, d)| d.len()).max(1);
            Some(10f64.powi(i32::try_from(decimals).unwrap_or(1)))
        }
        _ => None,
    }
}

fn in_bounds(kind: &Kind, v: f64) -> bool {
    let (lo, hi) = match kind {
        Kind::Integer { min, max } => (min.map(|m| m as f64), max.map(|m| m as f64)),
        Kind::Number { min, max } => (*min, *max),
        _ => return false,
    };
    lo.is_none_or(|lo| lo <= v) && hi.is_none_or(|hi| v <= hi)
}

fn value_of(kind: &Kind, scaled: f64, scale: f64) -> Value {
    match kind {
        Kind::Integer { .. } => Value::Integer(scaled as i64),
        _ => Value::Number(scaled / scale),
    }
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Integer(n) => *n as f64,
        Value::Number(x) => *x,
        _ => f64::NAN,
    }
}

/// The two sides of `q op t` on the question's grid: (value where it holds, where it does not).
/// `None` for a comparison that cannot split the grid (an equality off the grid).
fn sides_of(op: CmpOp, t: f64, scale: f64) -> Option<(f64, f64)> {
    let ts = t * scale;
    // Literals are written with at most the grid's decimals; round away float noise.
    let ts = if (ts - ts.round()).abs() < 1e-6 {
        ts.round()
    } else {
        ts
    };
    let (fl, ce) = (ts.floor(), ts.ceil());
    Some(match op {
        CmpOp::Gt => (fl + 1.0, fl),
        CmpOp::Ge => (ce, ce - 1.0),
        CmpOp::Lt => (ce - 1.0, ce),
        CmpOp::Le => (fl, fl + 1.0),
        CmpOp::Eq if fl == ce => (ts, ts + 1.0),
        CmpOp::Ne if fl == ce => (ts + 1.0, ts),
        _ => return None,
    })
}

/// Every side of every numeric comparison in the rules, uncounted, in ruleset order.
fn all_sides(ruleset: &Ruleset) -> Vec<SidePoint> {
    let mut out = Vec::new();
    for (index, rule) in ruleset.rules.iter().enumerate() {
        for c in conditions::comparisons(&rule.when_text) {
            let (Some((op, t)), Some(slot)) = (c.threshold, ruleset.resolve_name(&c.question))
            else {
                continue;
            };
            let kind = &ruleset.questions[slot].kind;
            let Some(scale) = scale_for(kind, t) else {
                continue;
            };
            let Some((yes, no)) = sides_of(op, t, scale) else {
                continue;
            };
            for (here, there, holds) in [(yes, no, true), (no, yes, false)] {
                let (v, a) = (value_of(kind, here, scale), value_of(kind, there, scale));
                // A side no allowed answer reaches is not a gap (lint warns about those).
                if !in_bounds(kind, as_f64(&v)) || !in_bounds(kind, as_f64(&a)) {
                    continue;
                }
                let point = SidePoint {
                    rule: index,
                    comparison: c.text.clone(),
                    question: slot,
                    value: v,
                    across: a,
                    holds,
                    cases: 0,
                    first_case: None,
                };
                if !out.contains(&point) {
                    out.push(point);
                }
            }
        }
    }
    out
}

/// What one rule's condition comes to for these answers, skip logic applied.
fn rule_truth(ruleset: &Ruleset, answers: &Answers, rule: usize) -> Truth {
    ruleset.rules[rule]
        .when
        .eval(&engine::seen(ruleset, answers))
}

/// Whether a question's `ask_if` holds for these answers (`None` without one).
fn ask_if_truth(ruleset: &Ruleset, answers: &Answers, slot: Slot) -> Option<Truth> {
    let cond = ruleset.questions[slot].ask_if.as_ref()?;
    Some(cond.eval(&engine::seen(ruleset, answers)))
}

/// Whether `answers` stand on `side` and decide its rule: the answer is there and applies, the
/// rule is decided, and moving the answer across the threshold gives the rule the other result.
fn decides(ruleset: &Ruleset, answers: &Answers, side: &SidePoint) -> bool {
    if answers.get(side.question) != Some(&side.value) {
        return false;
    }
    let here = rule_truth(ruleset, answers, side.rule);
    if here == Truth::Unknown {
        return false;
    }
    let mut moved = answers.clone();
    moved.set(side.question, Some(side.across.clone()));
    let there = rule_truth(ruleset, &moved, side.rule);
    there != Truth::Unknown && there != here
}

/// Boundary and skip coverage by the passing, confirmed cases of some case files.
pub fn coverage(ruleset: &Ruleset, reports: &[FileReport]) -> Boundaries {
    let mut sides = all_sides(ruleset);
    let mut ask_if: Vec<AskIfPoint> = ruleset
        .questions
        .iter()
        .enumerate()
        .filter(|(_, q)| q.ask_if.is_some())
        .map(|(question, _)| AskIfPoint {
            question,
            asked: 0,
            skipped: 0,
        })
        .collect();
    for report in reports {
        for (case, outcome) in report.file.cases.iter().zip(&report.outcomes) {
            if !outcome.passed() || !case.is_confirmed() {
                continue;
            }
            for side in &mut sides {
                if decides(ruleset, &outcome.answers, side) {
                    side.cases += 1;
                    if side.first_case.is_none() {
                        side.first_case = Some(outcome.name.clone());
                    }
                }
            }
            for a in &mut ask_if {
                match ask_if_truth(ruleset, &outcome.answers, a.question) {
                    Some(Truth::True) => a.asked += 1,
                    Some(Truth::False) => a.skipped += 1,
                    _ => {}
                }
            }
        }
    }
    Boundaries { sides, ask_if }
}

/// A drafted case: answers (over the file's defaults) and what the ruleset says today.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub name: String,
    /// Answers that differ from the defaults (`null` removes a default).
    pub answers: Map<String, Json>,
    pub verdict: String,
    pub fired: Vec<String>,
    pub urgent: bool,
    pub missing: Vec<String>,
}

/// What drafting found: the cases, and the gaps no existing case could be moved onto.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Drafts {
    pub defaults: Map<String, Json>,
    pub cases: Vec<Draft>,
    pub unfilled: Vec<String>,
}

fn json_of(v: &Value) -> Json {
    match v {
        Value::Integer(n) => Json::from(*n),
        Value::Number(x) => serde_json::Number::from_f64(*x).map_or(Json::Null, Json::Number),
        _ => Json::Null,
    }
}

fn shown(v: &Value) -> String {
    match v {
        Value::Integer(n) => n.to_string(),
        Value::Number(x) => conditions::number(*x),
        _ => String::new(),
    }
}

/// The answers map with question `slot` set to `value`, whatever key the base used for it.
fn with_answer(
    ruleset: &Ruleset,
    base: &Map<String, Json>,
    slot: Slot,
    value: Json,
) -> Map<String, Json> {
    let mut map: Map<String, Json> = base
        .iter()
        .filter(|(k, _)| ruleset.resolve_name(k) != Some(slot))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    map.insert(ruleset.questions[slot].id.clone(), value);
    map
}

fn answers_of(ruleset: &Ruleset, map: &Map<String, Json>) -> Option<Answers> {
    let p = patient::from_document(ruleset, &Json::Object(map.clone())).ok()?;
    (p.errors.is_empty() && p.unknown_keys.is_empty()).then_some(p.answers)
}

/// The difference of `map` from `defaults`, as a case's `answers`.
fn over_defaults(defaults: &Map<String, Json>, map: &Map<String, Json>) -> Map<String, Json> {
    let mut out = Map::new();
    for (k, v) in map {
        if defaults.get(k) != Some(v) {
            out.insert(k.clone(), v.clone());
        }
    }
    for k in defaults.keys() {
        if !map.contains_key(k) {
            out.insert(k.clone(), Json::Null);
        }
    }
    out
}

fn draft_of(
    ruleset: &Ruleset,
    defaults: &Map<String, Json>,
    name: String,
    map: &Map<String, Json>,
    answers: &Answers,
) -> Draft {
    let verdict = engine::evaluate(ruleset, answers);
    Draft {
        name,
        answers: over_defaults(defaults, map),
        verdict: verdict.status.as_str().to_string(),
        fired: verdict
            .reasons
            .iter()
            .map(|r| ruleset.rules[r.rule].id.clone())
            .collect(),
        urgent: verdict.urgent,
        missing: verdict
            .missing_questions()
            .into_iter()
            .map(|s| ruleset.questions[s].id.clone())
            .collect(),
    }
}

/// Drafts a case for every uncovered side and skip outcome: each passing, confirmed case in
/// turn with the one answer moved there, the first that decides the rule (or skips/asks the
/// question). Answers are written over the first file's defaults.
pub fn drafts(ruleset: &Ruleset, reports: &[FileReport], cov: &Boundaries) -> Drafts {
    let defaults = reports
        .first()
        .map(|r| r.file.defaults.clone())
        .unwrap_or_default();
    let mut bases: Vec<Map<String, Json>> = reports
        .iter()
        .flat_map(|r| {
            r.file
                .cases
                .iter()
                .zip(&r.outcomes)
                .filter(|(c, o)| o.passed() && c.is_confirmed())
                .map(|(c, _)| cases::merged_answers(&r.file, c))
        })
        .collect();
    let mut out = Drafts {
        defaults: defaults.clone(),
        ..Drafts::default()
    };
    let sides: Vec<&SidePoint> = cov.sides.iter().filter(|s| s.cases == 0).collect();
    // Rounds: a drafted case is a base for the next round, so a comparison that decides only
    // once another has been moved (`sbp > 140 and not (age >= 80)`: age decides only at a high
    // sbp) is reached too.
    let mut found: Vec<Option<Draft>> = vec![None; sides.len()];
    loop {
        let mut progress = false;
        for (k, side) in sides.iter().enumerate() {
            if found[k].is_some() {
                continue;
            }
            let hit = bases.iter().find_map(|base| {
                let map = with_answer(ruleset, base, side.question, json_of(&side.value));
                let answers = answers_of(ruleset, &map)?;
                decides(ruleset, &answers, side).then_some((map, answers))
            });
            if let Some((map, answers)) = hit {
                found[k] = Some(draft_of(
                    ruleset,
                    &defaults,
                    side_name(ruleset, side),
                    &map,
                    &answers,
                ));
                bases.push(map);
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
    for (side, draft) in sides.iter().zip(found) {
        match draft {
            Some(d) => out.cases.push(d),
            None => out.unfilled.push(side_name(ruleset, side)),
        }
    }
    for a in &cov.ask_if {
        let q = &ruleset.questions[a.question];
        for (seen, want, what) in [
            (a.asked, Truth::True, "asked"),
            (a.skipped, Truth::False, "skipped"),
        ] {
            if seen > 0 {
                continue;
            }
            let name = format!(
                "{} {what} (ask_if {})",
                q.id,
                q.ask_if_text
                    .as_deref()
                    .map(conditions::canonical)
                    .unwrap_or_default()
            );
            let found = bases.iter().find_map(|base| {
                ask_if_variants(ruleset, base, a.question)
                    .into_iter()
                    .find_map(|map| {
                        let answers = answers_of(ruleset, &map)?;
                        (ask_if_truth(ruleset, &answers, a.question) == Some(want))
                            .then_some((map, answers))
                    })
            });
            match found {
                Some((map, answers)) => out
                    .cases
                    .push(draft_of(ruleset, &defaults, name, &map, &answers)),
                None => out.unfilled.push(name),
            }
        }
    }
    out
}

fn side_name(ruleset: &Ruleset, side: &SidePoint) -> String {
    format!(
        "{} at {} = {} ({} is {})",
        ruleset.rules[side.rule].id,
        ruleset.questions[side.question].id,
        shown(&side.value),
        side.comparison,
        if side.holds { "true" } else { "false" }
    )
}

/// The base answers with one question the `ask_if` of `slot` reads set to each answer worth
/// trying: yes and no, every option, both sides of every threshold the ruleset writes on it.
fn ask_if_variants(
    ruleset: &Ruleset,
    base: &Map<String, Json>,
    slot: Slot,
) -> Vec<Map<String, Json>> {
    let mut reads = Vec::new();
    if let Some(cond) = &ruleset.questions[slot].ask_if {
        cond.reads(&mut reads);
    }
    let sides = all_sides(ruleset);
    let mut out = Vec::new();
    for r in reads {
        let candidates: Vec<Json> = match &ruleset.questions[r].kind {
            Kind::YesNo => vec![Json::from("yes"), Json::from("no")],
            Kind::Choice(options) => options.iter().map(|o| Json::from(o.id.clone())).collect(),
            Kind::Integer { .. } | Kind::Number { .. } => sides
                .iter()
                .filter(|s| s.question == r)
                .map(|s| json_of(&s.value))
                .collect(),
            Kind::Text => Vec::new(),
        };
        for v in candidates {
            out.push(with_answer(ruleset, base, r, v));
        }
    }
    out
}

/// The drafted cases as a case file for a clinician to confirm.
pub fn render_drafts(ruleset: &Ruleset, d: &Drafts) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Boundary cases drafted by `ketascreen rules cases --boundaries` for ruleset {} {}\n# (sha256 {}).",
        ruleset.id, ruleset.version, ruleset.sha256
    );
    out.push_str(
        "# Each case stands on one side of a threshold (or skip condition) that no passing case covered.\n\
         # The verdict, fired rules and missing questions are what the ruleset gives TODAY, not what is\n\
         # right: check each case against the criteria, correct the expectation where it is wrong, and\n\
         # change `status: unconfirmed` to `status: confirmed`. Unconfirmed cases run, but do not count\n\
         # towards coverage.\n",
    );
    for name in &d.unfilled {
        let _ = writeln!(
            out,
            "# No passing case could be moved onto: {}. Write this case by hand.",
            yaml_comment(name)
        );
    }
    let doc = serde_json::json!({
        "defaults": d.defaults,
        "cases": d.cases.iter().map(|c| serde_json::json!({
            "name": c.name,
            "status": "unconfirmed",
            "answers": c.answers,
            "verdict": c.verdict,
            "fired": c.fired,
            "urgent": c.urgent,
            "missing": c.missing,
        })).collect::<Vec<_>>(),
    });
    out.push_str(&serde_yaml::to_string(&yaml_of(&doc)).unwrap_or_default());
    out
}

fn yaml_comment(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The JSON document as YAML values: numbers written as numbers (serde_json keeps them as
/// written, `arbitrary_precision`, which YAML would otherwise show as a map).
fn yaml_of(json: &Json) -> serde_yaml::Value {
    use serde_yaml::Value as Yaml;
    match json {
        Json::Null => Yaml::Null,
        Json::Bool(b) => Yaml::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Yaml::Number(i.into()),
            (None, Some(x)) => Yaml::Number(x.into()),
            (None, None) => Yaml::String(n.to_string()),
        },
        Json::String(s) => Yaml::String(s.clone()),
        Json::Array(items) => Yaml::Sequence(items.iter().map(yaml_of).collect()),
        Json::Object(map) => Yaml::Mapping(
            map.iter()
                .map(|(k, v)| (Yaml::String(k.clone()), yaml_of(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_are_the_nearest_answers_either_side_of_the_threshold() {
        assert_eq!(sides_of(CmpOp::Gt, 140.0, 1.0), Some((141.0, 140.0)));
        assert_eq!(sides_of(CmpOp::Ge, 180.0, 1.0), Some((180.0, 179.0)));
        assert_eq!(sides_of(CmpOp::Lt, 18.0, 1.0), Some((17.0, 18.0)));
        assert_eq!(sides_of(CmpOp::Le, 9.0, 1.0), Some((9.0, 10.0)));
        assert_eq!(sides_of(CmpOp::Gt, 140.5, 1.0), Some((141.0, 140.0)));
        assert_eq!(sides_of(CmpOp::Eq, 3.0, 1.0), Some((3.0, 4.0)));
        assert_eq!(sides_of(CmpOp::Eq, 3.5, 1.0), None);
        // Decimal questions: tenths, or the literal's own precision.
        assert_eq!(sides_of(CmpOp::Gt, 38.0, 10.0), Some((381.0, 380.0)));
        assert_eq!(sides_of(CmpOp::Lt, 1.25, 100.0), Some((124.0, 125.0)));
    }
}
