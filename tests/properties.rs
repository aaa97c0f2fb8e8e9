//! Properties of the engine over random answers, on the default and the example clinic
//! rulesets: Kleene laws, determinism, monotonicity (answering can only settle unknowns, never
//! overturn a decided rule), no `eligible` while an exclude/review rule is undecided, and every
//! reason traceable to a rule of the ruleset.

use ketascreen::answers::{Answers, Value};
use ketascreen::engine::{evaluate, seen as fields, Status, Verdict};
use ketascreen::expr::{Cond, Truth};
use ketascreen::ruleset::{self, Kind, Ruleset, Severity};
use proptest::prelude::*;

use crate::support::path;

fn rulesets() -> &'static [Ruleset] {
    static LOADED: std::sync::OnceLock<Vec<Ruleset>> = std::sync::OnceLock::new();
    LOADED.get_or_init(|| {
        vec![
            ruleset::builtin().expect("built-in loads"),
            ketascreen::front::load_ruleset(Some(&path("examples/clinic-ruleset.yaml")))
                .expect("example loads"),
        ]
    })
}

/// A value for a question from a random seed, biased towards the edges of its bounds and the
/// thresholds where rules change their minds.
fn value_for(kind: &Kind, seed: u64) -> Option<Value> {
    match kind {
        Kind::YesNo => Some(Value::YesNo(seed.is_multiple_of(2))),
        Kind::Integer { min, max } => {
            let lo = min.unwrap_or(-1000);
            let hi = max.unwrap_or(1000);
            let interesting = [
                lo, hi, 2, 9, 10, 17, 18, 64, 65, 90, 91, 99, 100, 109, 110, 140, 141, 159, 160,
                179, 180,
            ];
            let pick = if seed.is_multiple_of(3) {
                interesting[(seed / 3) as usize % interesting.len()]
            } else {
                lo + (seed / 3 % ((hi - lo + 1) as u64)) as i64
            };
            Some(Value::Integer(pick.clamp(lo, hi)))
        }
        Kind::Number { min, max } => {
            let lo = min.unwrap_or(-1000.0);
            let hi = max.unwrap_or(1000.0);
            Some(Value::Number(
                lo + (hi - lo) * ((seed % 1001) as f64 / 1000.0),
            ))
        }
        Kind::Choice(options) => Some(Value::Choice(seed as usize % options.len().max(1))),
        Kind::Text => Some(Value::Text(format!("note {seed}"))),
    }
}

/// Answers from one seed per question; a seed divisible by 4 leaves the question unanswered.
fn answers_from(rs: &Ruleset, seeds: &[u64]) -> Answers {
    let mut answers = Answers::new(rs);
    for (slot, q) in rs.questions.iter().enumerate() {
        let seed = seeds.get(slot).copied().unwrap_or(0);
        if seed % 4 != 0 {
            answers.set(slot, value_for(&q.kind, seed / 4));
        }
    }
    answers
}

fn rank(status: Status) -> u8 {
    match status {
        Status::Eligible => 0,
        Status::Review => 1,
        Status::Incomplete => 2,
        Status::Ineligible => 3,
    }
}

fn rule_results(rs: &Ruleset, answers: &Answers) -> Vec<Truth> {
    let f = fields(rs, answers);
    rs.rules.iter().map(|r| r.when.eval(&f)).collect()
}

fn check_invariants(rs: &Ruleset, v: &Verdict) -> Result<(), TestCaseError> {
    let undecided = v
        .missing
        .iter()
        .any(|m| rs.rules[m.rule].severity != Severity::Note);
    if undecided {
        prop_assert!(
            !matches!(v.status, Status::Eligible | Status::Review),
            "{:?} with undecided rules",
            v.status
        );
    }
    for reason in &v.reasons {
        let rule = rs.rules.get(reason.rule);
        prop_assert!(rule.is_some(), "reason names no rule");
        if let Some(rule) = rule {
            prop_assert_eq!(reason.severity, rule.severity);
            let read: Vec<usize> = reason.answers.iter().map(|(s, _)| *s).collect();
            prop_assert_eq!(&read, &rule.reads);
        }
    }
    for m in &v.missing {
        prop_assert!(
            rs.rules[m.rule].severity != Severity::Note,
            "a note is never missing"
        );
        prop_assert!(
            !m.questions.is_empty(),
            "an undecided rule names what would decide it"
        );
    }
    prop_assert_eq!(v.urgent, v.reasons.iter().any(|r| r.urgent));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn evaluation_is_deterministic_and_consistent(which in 0usize..2, seeds in prop::collection::vec(any::<u64>(), 40)) {
        let rs = &rulesets()[which];
        let answers = answers_from(rs, &seeds);
        let first = evaluate(rs, &answers);
        prop_assert_eq!(&first, &evaluate(rs, &answers));
        check_invariants(rs, &first)?;
    }

    #[test]
    fn answering_a_question_never_overturns_a_decided_rule(
        which in 0usize..2,
        seeds in prop::collection::vec(any::<u64>(), 40),
        pick in any::<usize>(),
        value_seed in any::<u64>(),
    ) {
        let rs = &rulesets()[which];
        let before = answers_from(rs, &seeds);
        let unanswered: Vec<usize> = (0..rs.questions.len()).filter(|&s| before.get(s).is_none()).collect();
        prop_assume!(!unanswered.is_empty());
        let slot = unanswered[pick % unanswered.len()];
        let mut after = before.clone();
        after.set(slot, value_for(&rs.questions[slot].kind, value_seed));

        for (i, (b, a)) in rule_results(rs, &before).into_iter().zip(rule_results(rs, &after)).enumerate() {
            if b != Truth::Unknown {
                prop_assert_eq!(b, a, "rule {} changed after answering {}", rs.rules[i].id, rs.questions[slot].id);
            }
        }
        let (vb, va) = (evaluate(rs, &before), evaluate(rs, &after));
        if vb.status == Status::Ineligible {
            prop_assert_eq!(va.status, Status::Ineligible);
        }
        check_invariants(rs, &va)?;
    }

    #[test]
    fn yes_to_an_exclusion_question_never_improves_the_verdict(
        which in 0usize..2,
        seeds in prop::collection::vec(any::<u64>(), 40),
        pick in any::<usize>(),
    ) {
        let rs = &rulesets()[which];
        // yes/no questions read by an exclude rule that fires on `yes`.
        let exclusion_questions: Vec<usize> = rs
            .rules
            .iter()
            .filter(|r| r.severity == Severity::Exclude)
            .flat_map(|r| r.reads.iter().copied())
            .filter(|&s| rs.questions[s].kind == Kind::YesNo)
            .filter(|&s| rs.questions[s].id != "consent_capacity")
            .collect();
        prop_assume!(!exclusion_questions.is_empty());
        let slot = exclusion_questions[pick % exclusion_questions.len()];
        let before = answers_from(rs, &seeds);
        let mut after = before.clone();
        after.set(slot, Some(Value::YesNo(true)));
        let (vb, va) = (evaluate(rs, &before), evaluate(rs, &after));
        prop_assert!(rank(va.status) >= rank(vb.status), "{:?} -> {:?} after {} = yes", vb.status, va.status, rs.questions[slot].id);
    }

    #[test]
    fn kleene_laws_hold_on_compiled_conditions(seeds in prop::collection::vec(any::<u64>(), 40), a in 0usize..38, b in 0usize..38) {
        let rs = &rulesets()[0];
        let answers = answers_from(rs, &seeds);
        let f = fields(rs, &answers);
        let x = &rs.rules[a % rs.rules.len()].when;
        let y = &rs.rules[b % rs.rules.len()].when;
        let (vx, vy) = (x.eval(&f), y.eval(&f));
        let not = |c: &Cond| Cond::Not(Box::new(c.clone()));
        let all = |p: Cond, q: Cond| Cond::All(vec![p, q]);
        let any_ = |p: Cond, q: Cond| Cond::Any(vec![p, q]);
        prop_assert_eq!(not(&not(x)).eval(&f), vx);
        prop_assert_eq!(all(x.clone(), y.clone()).eval(&f), all(y.clone(), x.clone()).eval(&f));
        prop_assert_eq!(any_(x.clone(), y.clone()).eval(&f), any_(y.clone(), x.clone()).eval(&f));
        prop_assert_eq!(not(&all(x.clone(), y.clone())).eval(&f), any_(not(x), not(y)).eval(&f));
        prop_assert_eq!(not(&any_(x.clone(), y.clone())).eval(&f), all(not(x), not(y)).eval(&f));
        prop_assert_eq!(all(x.clone(), y.clone()).eval(&f), vx.and(vy));
        prop_assert_eq!(any_(x.clone(), y.clone()).eval(&f), vx.or(vy));
    }
}
