//! The trace of an evaluation, for `check --explain` and failing rule cases: `Recorder` is a
//! `Watch` that keeps every step of the one evaluation (`Cond::walk`) — each comparison with
//! what its question was for this patient and its result, each `and`/`or`/`not` with its
//! result. It decides nothing new and renders nothing: `output::explain` turns a trace into
//! text or JSON. Also here: a condition's parts written back as text (`test_text`).

use super::eval::{Truth, Watch};
use super::{Cond, Lit, Test};
use crate::answers::{Seen, Value};
use crate::ruleset::{Kind, Question, Slot};

/// One evaluated node of a condition, with its result.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace<'a> {
    pub truth: Truth,
    pub step: Step<'a>,
}

/// What was evaluated at a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Step<'a> {
    /// `or`: true when any item is true.
    Any(Vec<Trace<'a>>),
    /// `and`: false when any item is false.
    All(Vec<Trace<'a>>),
    Not(Box<Trace<'a>>),
    /// One comparison and what the question was for this patient.
    Test {
        slot: Slot,
        test: &'a Test,
        seen: Seen<&'a Value>,
    },
}

/// A `Watch` that keeps every step: the nodes evaluated so far, one list per open `and`/`or`/
/// `not`.
#[derive(Debug)]
pub struct Recorder<'a> {
    open: Vec<Vec<Trace<'a>>>,
}

impl Default for Recorder<'_> {
    fn default() -> Self {
        Recorder {
            open: vec![Vec::new()],
        }
    }
}

impl<'a> Watch<'a> for Recorder<'a> {
    const EVERY_BRANCH: bool = true;

    fn open(&mut self) {
        self.open.push(Vec::new());
    }

    fn test(&mut self, slot: Slot, test: &'a Test, seen: Seen<&'a Value>, truth: Truth) {
        self.push(Trace {
            truth,
            step: Step::Test { slot, test, seen },
        });
    }

    fn close(&mut self, cond: &'a Cond, truth: Truth) {
        let mut items = self.open.pop().unwrap_or_default();
        let step = match cond {
            Cond::Any(_) => Step::Any(items),
            Cond::All(_) => Step::All(items),
            _ => match items.pop() {
                Some(inner) => Step::Not(Box::new(inner)),
                // `walk` always closes a `not` after its one item.
                None => Step::Any(Vec::new()),
            },
        };
        self.push(Trace { truth, step });
    }
}

impl<'a> Recorder<'a> {
    fn push(&mut self, trace: Trace<'a>) {
        match self.open.last_mut() {
            Some(top) => top.push(trace),
            None => self.open.push(vec![trace]),
        }
    }

    /// The trace of the last condition walked.
    pub fn finish(mut self) -> Option<Trace<'a>> {
        self.open.pop().and_then(|mut top| top.pop())
    }
}

/// Evaluates `cond` over `seen` (indexed by slot), keeping every step.
pub fn trace<'a>(cond: &'a Cond, seen: &[Seen<&'a Value>]) -> Trace<'a> {
    let mut recorder = Recorder::default();
    let truth = cond.walk(seen, &mut recorder);
    recorder.finish().unwrap_or(Trace {
        truth,
        step: Step::Any(Vec::new()),
    })
}

impl Trace<'_> {
    /// Every question slot the traced condition reads, once, in order of first appearance.
    pub fn slots(&self, out: &mut Vec<Slot>) {
        match &self.step {
            Step::Any(items) | Step::All(items) => items.iter().for_each(|i| i.slots(out)),
            Step::Not(inner) => inner.slots(out),
            Step::Test { slot, .. } => {
                if !out.contains(slot) {
                    out.push(*slot);
                }
            }
        }
    }
}

/// A literal as written in conditions: `140`, `yes`, `not_pregnant`.
pub fn lit_text(lit: &Lit, question: &Question) -> String {
    match lit {
        Lit::YesNo(true) => "yes".to_string(),
        Lit::YesNo(false) => "no".to_string(),
        Lit::Number(n) => n.to_string(),
        Lit::Choice(i) => match &question.kind {
            Kind::Choice(options) => options
                .get(*i)
                .map(|o| o.id.clone())
                .unwrap_or_else(|| "?".to_string()),
            _ => "?".to_string(),
        },
    }
}

/// The test as written after the question id: `> 140`, `== yes`, `not in [a, b]`.
pub fn test_text(test: &Test, question: &Question) -> String {
    match test {
        Test::Cmp(op, lit) => format!("{op} {}", lit_text(lit, question)),
        Test::In { negated, lits } => {
            let items: Vec<String> = lits.iter().map(|l| lit_text(l, question)).collect();
            let kw = if *negated { "not in" } else { "in" };
            format!("{kw} [{}]", items.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::Value;
    use crate::expr::CmpOp;

    fn gt(slot: Slot, n: f64) -> Cond {
        Cond::test(slot, Test::Cmp(CmpOp::Gt, Lit::Number(n)))
    }

    #[test]
    fn agrees_with_eval_on_every_combination_of_fields() {
        // (q0 > 140 or q1 > 90) and not (q0 >= 180 or q1 >= 110), plus a negated `in`.
        let ge = |slot, n| Cond::test(slot, Test::Cmp(CmpOp::Ge, Lit::Number(n)));
        let cond = Cond::All(vec![
            Cond::Any(vec![gt(0, 140.0), gt(1, 90.0)]),
            Cond::Not(Box::new(Cond::Any(vec![ge(0, 180.0), ge(1, 110.0)]))),
            Cond::test(
                2,
                Test::In {
                    negated: true,
                    lits: vec![Lit::YesNo(true)],
                },
            ),
        ]);
        let values = [
            Value::Integer(120),
            Value::Integer(150),
            Value::Integer(200),
            Value::Integer(95),
        ];
        let yes = Value::YesNo(true);
        let no = Value::YesNo(false);
        let mut options: Vec<Seen<&Value>> = values.iter().map(Seen::Answered).collect();
        options.push(Seen::Unanswered);
        options.push(Seen::Skipped);
        let third = [
            Seen::Answered(&yes),
            Seen::Answered(&no),
            Seen::Unanswered,
            Seen::Skipped,
        ];
        let mut seen = std::collections::HashSet::new();
        for a in &options {
            for b in &options {
                for c in &third {
                    let fields = [*a, *b, *c];
                    let t = trace(&cond, &fields);
                    assert_eq!(t.truth, cond.eval(&fields), "{fields:?}");
                    seen.insert(t.truth);
                }
            }
        }
        assert_eq!(seen.len(), 3, "all three truth values exercised");
    }

    #[test]
    fn keeps_each_comparison_with_what_it_saw() {
        let v = Value::Integer(146);
        let fields = [Seen::Answered(&v), Seen::Unanswered];
        let cond = Cond::Any(vec![gt(0, 140.0), gt(1, 90.0)]);
        let t = trace(&cond, &fields);
        assert_eq!(t.truth, Truth::True);
        let Step::Any(items) = &t.step else {
            panic!("expected or")
        };
        assert_eq!(items[0].truth, Truth::True);
        assert_eq!(items[1].truth, Truth::Unknown);
        assert!(matches!(
            items[1].step,
            Step::Test {
                slot: 1,
                seen: Seen::Unanswered,
                ..
            }
        ));
        let mut slots = vec![];
        t.slots(&mut slots);
        assert_eq!(slots, vec![0, 1]);
    }
}
