//! Tracing evaluation, for `check --explain` and failing rule cases: the same three-valued
//! evaluation as `Cond::eval`, built from the same `Test::apply` and `Truth` operations, but
//! keeping every step — each comparison with the field it saw and its result, each `and`/`or`/
//! `not` with its result. It evaluates every branch (`eval` may stop early at a decided `or` or
//! `and`; Kleene logic makes the result the same either way). It decides nothing new and
//! renders nothing: `output::explain` turns a trace into text or JSON.

use super::eval::{Field, Truth};
use super::{Cond, Lit, Test};
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
        field: Field<'a>,
    },
}

/// Evaluates `cond` over `fields` (indexed by slot), keeping every step.
pub fn trace<'a>(cond: &'a Cond, fields: &[Field<'a>]) -> Trace<'a> {
    match cond {
        Cond::Any(items) => {
            let items: Vec<Trace<'a>> = items.iter().map(|i| trace(i, fields)).collect();
            let truth = items.iter().fold(Truth::False, |acc, t| acc.or(t.truth));
            Trace {
                truth,
                step: Step::Any(items),
            }
        }
        Cond::All(items) => {
            let items: Vec<Trace<'a>> = items.iter().map(|i| trace(i, fields)).collect();
            let truth = items.iter().fold(Truth::True, |acc, t| acc.and(t.truth));
            Trace {
                truth,
                step: Step::All(items),
            }
        }
        Cond::Not(inner) => {
            let inner = trace(inner, fields);
            Trace {
                truth: !inner.truth,
                step: Step::Not(Box::new(inner)),
            }
        }
        Cond::Test { slot, test } => {
            let field = fields.get(*slot).copied().unwrap_or(Field::Unanswered);
            Trace {
                truth: test.apply(field),
                step: Step::Test {
                    slot: *slot,
                    test,
                    field,
                },
            }
        }
    }
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
        Cond::Test {
            slot,
            test: Test::Cmp(CmpOp::Gt, Lit::Number(n)),
        }
    }

    #[test]
    fn agrees_with_eval_on_every_combination_of_fields() {
        // (q0 > 140 or q1 > 90) and not (q0 >= 180 or q1 >= 110), plus a negated `in`.
        let ge = |slot, n| Cond::Test {
            slot,
            test: Test::Cmp(CmpOp::Ge, Lit::Number(n)),
        };
        let cond = Cond::All(vec![
            Cond::Any(vec![gt(0, 140.0), gt(1, 90.0)]),
            Cond::Not(Box::new(Cond::Any(vec![ge(0, 180.0), ge(1, 110.0)]))),
            Cond::Test {
                slot: 2,
                test: Test::In {
                    negated: true,
                    lits: vec![Lit::YesNo(true)],
                },
            },
        ]);
        let values = [
            Value::Integer(120),
            Value::Integer(150),
            Value::Integer(200),
            Value::Integer(95),
        ];
        let yes = Value::YesNo(true);
        let no = Value::YesNo(false);
        let mut options: Vec<Field<'_>> = values.iter().map(Field::Answered).collect();
        options.push(Field::Unanswered);
        options.push(Field::Skipped);
        let third = [
            Field::Answered(&yes),
            Field::Answered(&no),
            Field::Unanswered,
            Field::Skipped,
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
        let fields = [Field::Answered(&v), Field::Unanswered];
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
                field: Field::Unanswered,
                ..
            }
        ));
        let mut slots = vec![];
        t.slots(&mut slots);
        assert_eq!(slots, vec![0, 1]);
    }
}
