//! Threshold analysis for lint: two exclude/review rules that compare the same numeric question
//! either **overlap** — some patient makes both fire while that question's answer decides each
//! of them, and their severities differ — or leave a **gap** — under the same other answers,
//! one rule fires up to a threshold, the other from a threshold, the answers in between fire
//! neither, and the two thresholds are written at most one unit apart (179 and 180, or 179
//! twice), so they evidently meant to meet. The precise definitions are in docs/rules.md.
//!
//! It works by trying answers, not by algebra: for the question compared, every threshold the
//! two rules write and the answers just either side of it (whole numbers for an integer
//! question; one digit finer than the finest threshold for a decimal one), within the
//! question's bounds; for every other question the two rules read, each of its answers (yes and
//! no, each option, the same threshold points). Conditions are decided by the one evaluator;
//! skip conditions are not applied (each combination is a hypothetical patient). A pair whose
//! combinations exceed `MAX_COMBINATIONS` is not analysed. Pure: returns findings, places
//! them nowhere (`warn` locates them).

use crate::answers::Seen;
use crate::answers::Value;
use crate::expr::{CmpOp, Lit, Test, Truth};

use super::model::{Kind, Ruleset, Severity, Slot};

/// Most combinations of other answers tried for one pair of rules.
pub const MAX_COMBINATIONS: usize = 20_000;

/// One comparison with a number: which rule, which comparison of it (index into that rule's
/// leaves), the question and the threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    pub rule: usize,
    pub leaf: usize,
    pub slot: Slot,
    pub op: CmpOp,
    pub value: f64,
    /// Not under a `not`: the comparison bounds where the rule fires (its range), rather than
    /// an exception carved out of it.
    pub positive: bool,
}

/// What the analysis found for a pair of rules on one question.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// Both fire for the answers `from..=to` (with different severities).
    Overlap {
        a: Threshold,
        b: Threshold,
        from: f64,
        to: f64,
    },
    /// `lower` fires up to `below`, `upper` from `above`; the answers strictly between fire
    /// neither (`first..=last` of them, for an integer question).
    Gap {
        lower: Threshold,
        upper: Threshold,
        below: f64,
        above: f64,
        whole: Option<(i64, i64)>,
    },
}

/// The thresholds of every rule: `leaves[rule]` lists each comparison's slot and test in the
/// order `warn` locates them.
pub fn findings(ruleset: &Ruleset, leaves: &[Vec<(Slot, &Test, bool)>]) -> Vec<Finding> {
    let mut thresholds: Vec<Threshold> = Vec::new();
    for (rule, ls) in leaves.iter().enumerate() {
        if ruleset.rules[rule].severity == Severity::Note {
            continue;
        }
        for (leaf, (slot, test, negated)) in ls.iter().enumerate() {
            if let Test::Cmp(op, Lit::Number(value)) = test {
                if matches!(
                    ruleset.questions[*slot].kind,
                    Kind::Integer { .. } | Kind::Number { .. }
                ) {
                    thresholds.push(Threshold {
                        rule,
                        leaf,
                        slot: *slot,
                        op: *op,
                        value: *value,
                        positive: !negated,
                    });
                }
            }
        }
    }
    let mut out = Vec::new();
    let rules = ruleset.rules.len();
    for a in 0..rules {
        for b in a + 1..rules {
            // Both rules have a range on the question: a comparison with it not under `not`.
            let mut slots: Vec<Slot> = thresholds
                .iter()
                .filter(|t| t.rule == a && t.positive)
                .map(|t| t.slot)
                .filter(|s| {
                    thresholds
                        .iter()
                        .any(|t| t.rule == b && t.slot == *s && t.positive)
                })
                .collect();
            slots.dedup();
            for slot in slots {
                out.extend(pair(ruleset, leaves, &thresholds, a, b, slot));
            }
        }
    }
    out
}

/// The unit a question's thresholds are written in and the step tried either side of one:
/// 1 for an integer question; for a decimal one, one unit of the finest threshold's last
/// decimal, tried a tenth of that away.
fn units(kind: &Kind, values: &[f64]) -> (f64, f64) {
    if matches!(kind, Kind::Integer { .. }) {
        return (1.0, 1.0);
    }
    let decimals = values
        .iter()
        .map(|v| {
            format!("{v}")
                .split_once('.')
                .map_or(0, |(_, d)| d.len() as i32)
        })
        .max()
        .unwrap_or(0);
    let unit = 10f64.powi(-decimals);
    (unit, unit / 10.0)
}

fn bounds(kind: &Kind) -> (Option<f64>, Option<f64>) {
    match kind {
        Kind::Integer { min, max } => (min.map(|v| v as f64), max.map(|v| v as f64)),
        Kind::Number { min, max } => (*min, *max),
        _ => (None, None),
    }
}

/// The answers worth trying for a numeric question: each threshold and a step either side,
/// and the bounds, within the bounds, sorted.
fn points(kind: &Kind, values: &[f64]) -> Vec<f64> {
    let (_, step) = units(kind, values);
    let (lo, hi) = bounds(kind);
    let whole = matches!(kind, Kind::Integer { .. });
    let mut out: Vec<f64> = Vec::new();
    for &v in values {
        let near = if whole {
            vec![v.floor() - 1.0, v.floor(), v.ceil(), v.ceil() + 1.0]
        } else {
            vec![v - step, v, v + step]
        };
        out.extend(near);
    }
    out.extend(lo);
    out.extend(hi);
    out.retain(|v| lo.is_none_or(|lo| *v >= lo) && hi.is_none_or(|hi| *v <= hi));
    out.sort_by(f64::total_cmp);
    out.dedup_by(|x, y| (*x - *y).abs() < 1e-9);
    out
}

fn value(kind: &Kind, v: f64) -> Value {
    match kind {
        Kind::Integer { .. } => Value::Integer(v.round() as i64),
        _ => Value::Number(v),
    }
}

/// The answers worth trying for a question the pair reads but does not compare here.
fn candidates(
    ruleset: &Ruleset,
    thresholds: &[Threshold],
    rules: [usize; 2],
    slot: Slot,
) -> Vec<Value> {
    let kind = &ruleset.questions[slot].kind;
    match kind {
        Kind::YesNo => vec![Value::YesNo(true), Value::YesNo(false)],
        Kind::Choice(options) => (0..options.len()).map(Value::Choice).collect(),
        Kind::Integer { .. } | Kind::Number { .. } => {
            let values: Vec<f64> = thresholds
                .iter()
                .filter(|t| t.slot == slot && rules.contains(&t.rule))
                .map(|t| t.value)
                .collect();
            points(kind, &values)
                .into_iter()
                .map(|v| value(kind, v))
                .collect()
        }
        Kind::Text => Vec::new(),
    }
}

fn fires(ruleset: &Ruleset, rule: usize, fields: &[Seen<&Value>]) -> bool {
    ruleset.rules[rule].when.eval(fields) == Truth::True
}

fn pair(
    ruleset: &Ruleset,
    leaves: &[Vec<(Slot, &Test, bool)>],
    thresholds: &[Threshold],
    a: usize,
    b: usize,
    slot: Slot,
) -> Vec<Finding> {
    let kind = &ruleset.questions[slot].kind;
    let on_q: Vec<&Threshold> = thresholds
        .iter()
        .filter(|t| t.slot == slot && (t.rule == a || t.rule == b))
        .collect();
    let values: Vec<f64> = on_q.iter().map(|t| t.value).collect();
    let (unit, _) = units(kind, &values);
    let xs = points(kind, &values);
    let xs_values: Vec<Value> = xs.iter().map(|&x| value(kind, x)).collect();

    let mut others: Vec<Slot> = Vec::new();
    for r in [a, b] {
        for (s, _, _) in &leaves[r] {
            if *s != slot && !others.contains(s) {
                others.push(*s);
            }
        }
    }
    let choices: Vec<Vec<Value>> = others
        .iter()
        .map(|&s| candidates(ruleset, thresholds, [a, b], s))
        .collect();
    let total = choices
        .iter()
        .try_fold(1usize, |acc, c| acc.checked_mul(c.len().max(1)));
    if total.is_none_or(|n| n > MAX_COMBINATIONS) {
        return Vec::new();
    }
    let different = ruleset.rules[a].severity != ruleset.rules[b].severity;
    let first = |r: usize| on_q.iter().find(|t| t.rule == r && t.positive).map(|t| **t);
    let (Some(ta), Some(tb)) = (first(a), first(b)) else {
        return Vec::new();
    };

    let mut overlap: Option<Finding> = None;
    let mut gap: Option<Finding> = None;
    let mut index = vec![0usize; others.len()];
    loop {
        let mut fields = vec![Seen::Unanswered; ruleset.questions.len()];
        for (k, &s) in others.iter().enumerate() {
            if let Some(v) = choices[k].get(index[k]) {
                fields[s] = Seen::Answered(v);
            }
        }
        let mut fa = Vec::with_capacity(xs.len());
        let mut fb = Vec::with_capacity(xs.len());
        for v in &xs_values {
            fields[slot] = Seen::Answered(v);
            fa.push(fires(ruleset, a, &fields));
            fb.push(fires(ruleset, b, &fields));
        }
        if overlap.is_none() && different && fa.contains(&false) && fb.contains(&false) {
            if let Some(i) = (0..xs.len()).find(|&i| fa[i] && fb[i]) {
                let mut j = i;
                while j + 1 < xs.len() && fa[j + 1] && fb[j + 1] {
                    j += 1;
                }
                overlap = Some(Finding::Overlap {
                    a: ta,
                    b: tb,
                    from: xs[i],
                    to: xs[j],
                });
            }
        }
        if gap.is_none() {
            gap = find_gap(kind, unit, &xs, &fa, &fb, &on_q, a, b);
        }
        if overlap.is_some() && gap.is_some() {
            break;
        }
        // Next combination of the other answers.
        let mut k = 0;
        loop {
            if k == others.len() {
                return overlap.into_iter().chain(gap).collect();
            }
            index[k] += 1;
            if index[k] < choices[k].len() {
                break;
            }
            index[k] = 0;
            k += 1;
        }
    }
    overlap.into_iter().chain(gap).collect()
}

/// A run of answers firing neither rule, between one where only one fires and one where only
/// the other does, bounded by thresholds of the two written at most one unit apart.
#[allow(clippy::too_many_arguments)]
fn find_gap(
    kind: &Kind,
    unit: f64,
    xs: &[f64],
    fa: &[bool],
    fb: &[bool],
    on_q: &[&Threshold],
    a: usize,
    b: usize,
) -> Option<Finding> {
    let only = |i: usize, r: usize| {
        if r == a {
            fa[i] && !fb[i]
        } else {
            fb[i] && !fa[i]
        }
    };
    let neither = |i: usize| !fa[i] && !fb[i];
    let mut i = 0;
    while i + 1 < xs.len() {
        let (lower_rule, upper_rule) = if only(i, a) {
            (a, b)
        } else if only(i, b) {
            (b, a)
        } else {
            i += 1;
            continue;
        };
        let mut j = i + 1;
        while j < xs.len() && neither(j) {
            j += 1;
        }
        if j > i + 1 && j < xs.len() && only(j, upper_rule) {
            let (below, above) = (xs[i], xs[j]);
            // The thresholds where each rule stops and starts.
            let lower = on_q
                .iter()
                .filter(|t| {
                    t.rule == lower_rule && t.value >= below - 1e-9 && t.value <= xs[i + 1] + 1e-9
                })
                .min_by(|x, y| x.value.total_cmp(&y.value));
            let upper = on_q
                .iter()
                .filter(|t| {
                    t.rule == upper_rule && t.value >= xs[j - 1] - 1e-9 && t.value <= above + 1e-9
                })
                .max_by(|x, y| x.value.total_cmp(&y.value));
            if let (Some(lower), Some(upper)) = (lower, upper) {
                if (upper.value - lower.value).abs() <= unit + 1e-9 {
                    let whole = matches!(kind, Kind::Integer { .. })
                        .then(|| (below as i64 + 1, above as i64 - 1));
                    return Some(Finding::Gap {
                        lower: **lower,
                        upper: **upper,
                        below,
                        above,
                        whole,
                    });
                }
            }
        }
        i = j.max(i + 1);
    }
    None
}
