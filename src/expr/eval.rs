//! Three-valued (Kleene) evaluation of compiled conditions over one patient's answers.
//! An unanswered question makes a comparison unknown; `true or unknown` is true and
//! `false and unknown` is false, so a missing answer only matters where it could change the
//! result. A skipped question (not applicable) is a known value that equals no literal.

use super::parse::CmpOp;
use super::{Cond, Lit, Test};
use crate::answers::Value;
use crate::ruleset::Slot;

/// A truth value of three-valued logic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Truth {
    False,
    Unknown,
    True,
}

impl Truth {
    // Named like the operator it is (clippy would have an `ops::Not` impl instead).
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }

    pub fn and(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::False, _) | (_, Truth::False) => Truth::False,
            (Truth::True, Truth::True) => Truth::True,
            _ => Truth::Unknown,
        }
    }

    pub fn or(self, other: Truth) -> Truth {
        match (self, other) {
            (Truth::True, _) | (_, Truth::True) => Truth::True,
            (Truth::False, Truth::False) => Truth::False,
            _ => Truth::Unknown,
        }
    }

    pub fn from_bool(b: bool) -> Truth {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Truth::True => "true",
            Truth::False => "false",
            Truth::Unknown => "unknown",
        }
    }
}

/// What a condition sees of one question.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Field<'a> {
    Answered(&'a Value),
    Unanswered,
    /// Not applicable: its `ask_if` is false.
    Skipped,
}

impl Test {
    /// The result of this test on one field.
    pub fn apply(&self, field: Field<'_>) -> Truth {
        match field {
            Field::Unanswered => Truth::Unknown,
            // A skipped question equals no literal and orders against nothing.
            Field::Skipped => Truth::from_bool(matches!(
                self,
                Test::Cmp(CmpOp::Ne, _) | Test::In { negated: true, .. }
            )),
            Field::Answered(value) => match self {
                Test::Cmp(op, lit) => compare(value, *op, lit),
                Test::In { negated, lits } => {
                    let mut found = Truth::False;
                    for lit in lits {
                        found = found.or(compare(value, CmpOp::Eq, lit));
                    }
                    if *negated {
                        found.not()
                    } else {
                        found
                    }
                }
            },
        }
    }
}

fn compare(value: &Value, op: CmpOp, lit: &Lit) -> Truth {
    let ordering = match (value, lit) {
        (Value::YesNo(a), Lit::YesNo(b)) => a.cmp(b),
        (Value::Choice(a), Lit::Choice(b)) => a.cmp(b),
        (Value::Integer(a), Lit::Number(b)) => match (*a as f64).partial_cmp(b) {
            Some(o) => o,
            None => return Truth::Unknown,
        },
        (Value::Number(a), Lit::Number(b)) => match a.partial_cmp(b) {
            Some(o) => o,
            None => return Truth::Unknown,
        },
        // The type check makes this unreachable; unknown is the safe answer if it ever is not.
        _ => return Truth::Unknown,
    };
    use std::cmp::Ordering::*;
    Truth::from_bool(match op {
        CmpOp::Eq => ordering == Equal,
        CmpOp::Ne => ordering != Equal,
        CmpOp::Lt => ordering == Less,
        CmpOp::Le => ordering != Greater,
        CmpOp::Gt => ordering == Greater,
        CmpOp::Ge => ordering != Less,
    })
}

impl Cond {
    /// Evaluates the condition; `fields` is indexed by question slot.
    pub fn eval(&self, fields: &[Field<'_>]) -> Truth {
        match self {
            Cond::Any(items) => {
                let mut acc = Truth::False;
                for item in items {
                    acc = acc.or(item.eval(fields));
                    if acc == Truth::True {
                        break;
                    }
                }
                acc
            }
            Cond::All(items) => {
                let mut acc = Truth::True;
                for item in items {
                    acc = acc.and(item.eval(fields));
                    if acc == Truth::False {
                        break;
                    }
                }
                acc
            }
            Cond::Not(inner) => inner.eval(fields).not(),
            Cond::Test { slot, test } => {
                test.apply(fields.get(*slot).copied().unwrap_or(Field::Unanswered))
            }
        }
    }

    /// The unanswered questions that keep an unknown condition undecided: those under the
    /// unknown branches only (a branch already true or false does not need them).
    pub fn undecided_by(&self, fields: &[Field<'_>], out: &mut Vec<Slot>) {
        if self.eval(fields) != Truth::Unknown {
            return;
        }
        match self {
            Cond::Any(items) | Cond::All(items) => {
                items.iter().for_each(|i| i.undecided_by(fields, out))
            }
            Cond::Not(inner) => inner.undecided_by(fields, out),
            Cond::Test { slot, .. } => {
                if !out.contains(slot) {
                    out.push(*slot);
                }
            }
        }
    }

    /// Every question the condition reads, in order of first appearance.
    pub fn reads(&self, out: &mut Vec<Slot>) {
        match self {
            Cond::Any(items) | Cond::All(items) => items.iter().for_each(|i| i.reads(out)),
            Cond::Not(inner) => inner.reads(out),
            Cond::Test { slot, .. } => {
                if !out.contains(slot) {
                    out.push(*slot);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Truth::{self, *};
    use super::*;

    const ALL: [Truth; 3] = [True, False, Unknown];

    #[test]
    fn kleene_truth_tables() {
        // (a, b, a and b, a or b)
        let table = [
            (True, True, True, True),
            (True, False, False, True),
            (True, Unknown, Unknown, True),
            (False, True, False, True),
            (False, False, False, False),
            (False, Unknown, False, Unknown),
            (Unknown, True, Unknown, True),
            (Unknown, False, False, Unknown),
            (Unknown, Unknown, Unknown, Unknown),
        ];
        for (a, b, and, or) in table {
            assert_eq!(a.and(b), and, "{a:?} and {b:?}");
            assert_eq!(a.or(b), or, "{a:?} or {b:?}");
        }
        assert_eq!(True.not(), False);
        assert_eq!(False.not(), True);
        assert_eq!(Unknown.not(), Unknown);
        for a in ALL {
            for b in ALL {
                // De Morgan holds in Kleene logic.
                assert_eq!(a.and(b).not(), a.not().or(b.not()));
            }
        }
    }

    #[test]
    fn skipped_equals_no_literal() {
        let eq = Test::Cmp(CmpOp::Eq, Lit::YesNo(true));
        let ne = Test::Cmp(CmpOp::Ne, Lit::YesNo(true));
        let lt = Test::Cmp(CmpOp::Lt, Lit::Number(5.0));
        let within = Test::In {
            negated: false,
            lits: vec![Lit::Choice(0)],
        };
        let outside = Test::In {
            negated: true,
            lits: vec![Lit::Choice(0)],
        };
        assert_eq!(eq.apply(Field::Skipped), False);
        assert_eq!(ne.apply(Field::Skipped), True);
        assert_eq!(lt.apply(Field::Skipped), False);
        assert_eq!(within.apply(Field::Skipped), False);
        assert_eq!(outside.apply(Field::Skipped), True);
        for test in [eq, ne, lt, within, outside] {
            assert_eq!(test.apply(Field::Unanswered), Unknown);
        }
    }

    #[test]
    fn numeric_comparisons_are_inclusive_exactly_as_written() {
        let v = Value::Integer(140);
        let at = |op, n| Test::Cmp(op, Lit::Number(n)).apply(Field::Answered(&v));
        assert_eq!(at(CmpOp::Gt, 140.0), False);
        assert_eq!(at(CmpOp::Ge, 140.0), True);
        assert_eq!(at(CmpOp::Lt, 140.5), True);
        assert_eq!(at(CmpOp::Eq, 140.0), True);
        assert_eq!(at(CmpOp::Ne, 140.0), False);
    }

    #[test]
    fn undecided_names_only_the_questions_that_matter() {
        // (q0 > 140 or q1 > 90) and not (q0 >= 180 or q1 >= 110), with q0 = 150, q1 unanswered.
        let gt = |slot, n| Cond::Test {
            slot,
            test: Test::Cmp(CmpOp::Gt, Lit::Number(n)),
        };
        let ge = |slot, n| Cond::Test {
            slot,
            test: Test::Cmp(CmpOp::Ge, Lit::Number(n)),
        };
        let cond = Cond::All(vec![
            Cond::Any(vec![gt(0, 140.0), gt(1, 90.0)]),
            Cond::Not(Box::new(Cond::Any(vec![ge(0, 180.0), ge(1, 110.0)]))),
        ]);
        let v = Value::Integer(150);
        let fields = [Field::Answered(&v), Field::Unanswered];
        assert_eq!(cond.eval(&fields), Unknown);
        let mut out = vec![];
        cond.undecided_by(&fields, &mut out);
        assert_eq!(out, vec![1]);
        let fields = [Field::Answered(&v), Field::Skipped];
        assert_eq!(cond.eval(&fields), True);
    }
}
