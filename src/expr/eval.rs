//! Three-valued (Kleene) evaluation of compiled conditions over one patient's answers.
//! An unanswered question makes a comparison unknown; `true or unknown` is true and
//! `false and unknown` is false, so a missing answer only matters where it could change the
//! result. A skipped question (not applicable) is a known value that equals no literal.
//! This is the only evaluator: the engine, the batch, `rules test` and `--explain` (through a
//! recording `Watch`) all run `Cond::walk`.

use std::ops::Not;

use super::parse::CmpOp;
use super::{Cond, Lit, Test};
use crate::answers::{Seen, Value};
use crate::ruleset::Slot;

/// A truth value of three-valued logic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Truth {
    False,
    Unknown,
    True,
}

impl std::ops::Not for Truth {
    type Output = Truth;

    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

impl Truth {
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

impl Test {
    /// The result of this test on what one question is for this patient.
    #[inline(always)]
    pub fn apply(&self, seen: Seen<&Value>) -> Truth {
        match seen {
            Seen::Unanswered => Truth::Unknown,
            // A skipped question equals no literal and orders against nothing.
            Seen::Skipped => Truth::from_bool(matches!(
                self,
                Test::Cmp(CmpOp::Ne, _) | Test::In { negated: true, .. }
            )),
            Seen::Answered(value) => match self {
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

#[inline]
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

/// What each question is for one patient, as a condition reads it: `Seen` by slot. A slice
/// of `Seen` is one (the interview's and the tools' form); the engine reads the answers and
/// its skip logic in place instead of copying them into one, patient after patient.
pub trait Fields<'a> {
    /// What the question in `slot` is; a slot past the end is unanswered.
    fn seen(&self, slot: Slot) -> Seen<&'a Value>;
}

impl<'a, 'v: 'a> Fields<'a> for [Seen<&'v Value>] {
    #[inline]
    fn seen(&self, slot: Slot) -> Seen<&'a Value> {
        match self.get(slot) {
            Some(&Seen::Answered(value)) => Seen::Answered(value),
            Some(Seen::Skipped) => Seen::Skipped,
            _ => Seen::Unanswered,
        }
    }
}

/// What watches an evaluation step by step. `()` watches nothing and lets `and`/`or` stop at
/// the first deciding item; `trace::Recorder` keeps every step (and so evaluates every
/// branch; Kleene logic makes the result the same either way). Both run the one `Cond::walk`.
pub trait Watch<'a> {
    /// Whether every branch is evaluated (true when recording).
    const EVERY_BRANCH: bool;
    /// An `and`, `or` or `not` begins.
    fn open(&mut self) {}
    /// A comparison was made.
    fn test(&mut self, _slot: Slot, _test: &'a Test, _seen: Seen<&'a Value>, _truth: Truth) {}
    /// The `and`, `or` or `not` last opened ends with this result.
    fn close(&mut self, _cond: &'a Cond, _truth: Truth) {}
}

impl Watch<'_> for () {
    const EVERY_BRANCH: bool = false;
}

impl Cond {
    /// Evaluates the condition; `seen` is indexed by question slot.
    #[inline]
    pub fn eval(&self, seen: &[Seen<&Value>]) -> Truth {
        self.walk(seen, &mut ())
    }

    /// The one evaluation step, with a watcher. A comparison — what most rules are — is
    /// decided here, inlined where the walk is called; `and`, `or` and `not` go on in
    /// `walk_group`, which walks their items with this same step.
    #[inline(always)]
    pub fn walk<'a, F, W>(&'a self, fields: &F, watch: &mut W) -> Truth
    where
        F: Fields<'a> + ?Sized,
        W: Watch<'a>,
    {
        match self {
            Cond::Test { slot, test } => {
                let seen = fields.seen(*slot);
                let truth = test.apply(seen);
                watch.test(*slot, test, seen, truth);
                truth
            }
            _ => self.walk_group(fields, watch),
        }
    }

    /// `walk` of an `and`, `or` or `not`.
    fn walk_group<'a, F, W>(&'a self, fields: &F, watch: &mut W) -> Truth
    where
        F: Fields<'a> + ?Sized,
        W: Watch<'a>,
    {
        if let Cond::Test { .. } = self {
            return self.walk(fields, watch);
        }
        watch.open();
        let truth = match self {
            Cond::Any(items) => {
                let mut acc = Truth::False;
                for item in items {
                    acc = acc.or(item.walk(fields, watch));
                    if acc == Truth::True && !W::EVERY_BRANCH {
                        break;
                    }
                }
                acc
            }
            Cond::All(items) => {
                let mut acc = Truth::True;
                for item in items {
                    acc = acc.and(item.walk(fields, watch));
                    if acc == Truth::False && !W::EVERY_BRANCH {
                        break;
                    }
                }
                acc
            }
            Cond::Not(inner) => inner.walk(fields, watch).not(),
            Cond::Test { .. } => Truth::Unknown, // returned above
        };
        watch.close(self, truth);
        truth
    }

    /// The unanswered questions that keep an unknown condition undecided: those under the
    /// unknown branches only (a branch already true or false does not need them).
    pub fn undecided_by<'a, F>(&'a self, fields: &F, out: &mut Vec<Slot>)
    where
        F: Fields<'a> + ?Sized,
    {
        if self.walk(fields, &mut ()) != Truth::Unknown {
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
        assert_eq!(eq.apply(Seen::Skipped), False);
        assert_eq!(ne.apply(Seen::Skipped), True);
        assert_eq!(lt.apply(Seen::Skipped), False);
        assert_eq!(within.apply(Seen::Skipped), False);
        assert_eq!(outside.apply(Seen::Skipped), True);
        for test in [eq, ne, lt, within, outside] {
            assert_eq!(test.apply(Seen::Unanswered), Unknown);
        }
    }

    #[test]
    fn numeric_comparisons_are_inclusive_exactly_as_written() {
        let v = Value::Integer(140);
        let at = |op, n| Test::Cmp(op, Lit::Number(n)).apply(Seen::Answered(&v));
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
        let fields = [Seen::Answered(&v), Seen::Unanswered];
        assert_eq!(cond.eval(&fields), Unknown);
        let mut out = vec![];
        cond.undecided_by(&fields[..], &mut out);
        assert_eq!(out, vec![1]);
        let fields = [Seen::Answered(&v), Seen::Skipped];
        assert_eq!(cond.eval(&fields), True);
    }
}
