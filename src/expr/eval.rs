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

/// A truth value of three-valued logic, ordered `False < Unknown < True`: `and` is the
/// lesser of two, `or` the greater.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
    #[inline]
    pub fn and(self, other: Truth) -> Truth {
        self.min(other)
    }

    #[inline]
    pub fn or(self, other: Truth) -> Truth {
        self.max(other)
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
    /// The result of this test on what one question is for this patient. (`Check::apply`
    /// gives the same result faster, for the tests it has a ready form of.)
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

/// A comparison made ready when the ruleset loads, so that deciding a patient compares no
/// `Value`s: for a yes/no or choice question, the result for each possible answer; for a
/// number, the literal and the orderings that make the test true. It is derived from the
/// `Test` (`Check::of`) and gives exactly its `apply`'s result; a test it has no ready form
/// for (a number `in` list) runs `Test::apply`.
///
/// Against comparing `Value` with `Lit` on every row: `engine::evaluate_into` 3,775 -> 3,300
/// instructions per row (-12.6%; whole run 25,568 -> 25,047) with ruleset 2.0.0, and 3,125 ->
/// 2,739 (-12.4%) with 1.0.0 (batch --format csv, 20k rows, one thread, callgrind).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Check {
    /// The result for a skipped question.
    skipped: Truth,
    form: Form,
    /// The question has no `ask_if`: it is never skipped nor held back, and the walk reads
    /// it with `Fields::seen_always_asked` (set once, at load: `Cond::mark_always_asked`).
    /// Not consulting skip logic for these: `engine::evaluate_into` 3,282 -> 2,976
    /// instructions per row (-9.3%) with ruleset 2.0.0, 2,723 -> 2,453 with 1.0.0 (batch
    /// --format csv, 20k rows, one thread, callgrind).
    always_asked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Form {
    /// A yes/no answer: true for the answers whose bit is set (bit 0 no, bit 1 yes).
    YesNo(u8),
    /// A choice answer: true for the options whose bit is set (option `i`, bit `i`).
    Choice(u64),
    /// A number: true when the answer's ordering against `lit` is set in `orderings` (bit 0
    /// less, bit 1 equal, bit 2 greater); unknown when they do not order (NaN).
    Order { lit: f64, orderings: u8 },
    /// `Test::apply`.
    General,
}

/// The bits of `Form::Order` for the orderings that make `op` true.
fn orderings(op: CmpOp) -> u8 {
    const LESS: u8 = 1;
    const EQUAL: u8 = 2;
    const GREATER: u8 = 4;
    match op {
        CmpOp::Eq => EQUAL,
        CmpOp::Ne => LESS | GREATER,
        CmpOp::Lt => LESS,
        CmpOp::Le => LESS | EQUAL,
        CmpOp::Gt => GREATER,
        CmpOp::Ge => GREATER | EQUAL,
    }
}

impl Check {
    /// The ready form of `test`: for a finite answer type, `test.apply` itself asked about
    /// every answer once, here.
    pub fn of(test: &Test) -> Check {
        // The results for these answers, as bits, if each is true or false.
        fn bits(test: &Test, answers: impl Iterator<Item = Value>) -> Option<u64> {
            let mut bits = 0;
            for (i, value) in answers.enumerate() {
                match test.apply(Seen::Answered(&value)) {
                    Truth::True => bits |= 1 << i,
                    Truth::False => {}
                    Truth::Unknown => return None,
                }
            }
            Some(bits)
        }
        let form = match test {
            Test::Cmp(op, Lit::Number(lit)) => Form::Order {
                lit: *lit,
                orderings: orderings(*op),
            },
            _ if test_lits_are(test, |l| matches!(l, Lit::YesNo(_))) => {
                bits(test, [false, true].into_iter().map(Value::YesNo))
                    .map_or(Form::General, |b| Form::YesNo(b as u8))
            }
            _ if test_lits_are(test, |l| matches!(l, Lit::Choice(_))) => {
                bits(test, (0..64).map(Value::Choice)).map_or(Form::General, Form::Choice)
            }
            _ => Form::General,
        };
        Check {
            skipped: test.apply(Seen::Skipped),
            form,
            always_asked: false,
        }
    }

    /// `test.apply(seen)`, where `test` is the test this was made of.
    #[inline(always)]
    pub fn apply(&self, seen: Seen<&Value>, test: &Test) -> Truth {
        let bit = |bits: u64, i: usize| Truth::from_bool(bits >> i & 1 != 0);
        match seen {
            Seen::Unanswered => Truth::Unknown,
            Seen::Skipped => self.skipped,
            Seen::Answered(value) => match (self.form, value) {
                (Form::YesNo(bits), Value::YesNo(b)) => bit(u64::from(bits), usize::from(*b)),
                (Form::Choice(bits), Value::Choice(i)) if *i < 64 => bit(bits, *i),
                (Form::Order { lit, orderings }, Value::Integer(n)) => {
                    order(*n as f64, lit, orderings)
                }
                (Form::Order { lit, orderings }, Value::Number(x)) => order(*x, lit, orderings),
                _ => test.apply(seen),
            },
        }
    }
}

/// Whether every literal of `test` is like `like`.
fn test_lits_are(test: &Test, like: impl Fn(&Lit) -> bool) -> bool {
    match test {
        Test::Cmp(_, lit) => like(lit),
        Test::In { lits, .. } => lits.iter().all(like),
    }
}

/// Whether `x`'s ordering against `lit` is one of `orderings`.
#[inline(always)]
fn order(x: f64, lit: f64, orderings: u8) -> Truth {
    let ordering = match x.partial_cmp(&lit) {
        Some(std::cmp::Ordering::Less) => 1,
        Some(std::cmp::Ordering::Equal) => 2,
        Some(std::cmp::Ordering::Greater) => 4,
        None => return Truth::Unknown,
    };
    Truth::from_bool(orderings & ordering != 0)
}

/// What each question is for one patient, as a condition reads it: `Seen` by slot. A slice
/// of `Seen` is one (the interview's and the tools' form); the engine reads the answers and
/// its skip logic in place instead of copying them into one, patient after patient.
pub trait Fields<'a> {
    /// What the question in `slot` is; a slot past the end is unanswered.
    fn seen(&self, slot: Slot) -> Seen<&'a Value>;

    /// `seen` of a question that has no `ask_if`, which a reader may find without looking
    /// at skip logic.
    #[inline(always)]
    fn seen_always_asked(&self, slot: Slot) -> Seen<&'a Value> {
        self.seen(slot)
    }
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
            Cond::Test { slot, test, check } => {
                let seen = if check.always_asked {
                    fields.seen_always_asked(*slot)
                } else {
                    fields.seen(*slot)
                };
                let truth = check.apply(seen, test);
                watch.test(*slot, test, seen, truth);
                truth
            }
            _ => self.walk_group(fields, watch),
        }
    }

    /// `walk` of an `and`, `or` or `not`: the watcher sees it open, then its items walked,
    /// then it close with its result.
    fn walk_group<'a, F, W>(&'a self, fields: &F, watch: &mut W) -> Truth
    where
        F: Fields<'a> + ?Sized,
        W: Watch<'a>,
    {
        let truth = match self {
            Cond::Test { .. } => return self.walk(fields, watch),
            Cond::Any(items) => {
                watch.open();
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
                watch.open();
                let mut acc = Truth::True;
                for item in items {
                    acc = acc.and(item.walk(fields, watch));
                    if acc == Truth::False && !W::EVERY_BRANCH {
                        break;
                    }
                }
                acc
            }
            Cond::Not(inner) => {
                watch.open();
                inner.walk(fields, watch).not()
            }
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

    /// Marks each comparison of a question without an `ask_if` (`has_ask_if` false) as always
    /// asked: done once, when the ruleset loads.
    pub fn mark_always_asked(&mut self, has_ask_if: &impl Fn(Slot) -> bool) {
        match self {
            Cond::Any(items) | Cond::All(items) => items
                .iter_mut()
                .for_each(|i| i.mark_always_asked(has_ask_if)),
            Cond::Not(inner) => inner.mark_always_asked(has_ask_if),
            Cond::Test { slot, check, .. } => check.always_asked = !has_ask_if(*slot),
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
    fn a_ready_check_gives_exactly_what_its_test_gives() {
        let ops = [
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::Lt,
            CmpOp::Le,
            CmpOp::Gt,
            CmpOp::Ge,
        ];
        let lit_lists = [
            vec![Lit::YesNo(true)],
            vec![Lit::YesNo(false)],
            vec![Lit::YesNo(true), Lit::YesNo(false)],
            vec![Lit::Choice(0)],
            vec![Lit::Choice(2), Lit::Choice(63)],
            vec![Lit::Choice(64)],
            vec![Lit::Number(140.0)],
            vec![Lit::Number(-0.5), Lit::Number(37.5)],
            vec![Lit::Number(f64::NAN)],
            vec![Lit::YesNo(true), Lit::Number(1.0)],
            vec![],
        ];
        let mut tests = Vec::new();
        for lits in &lit_lists {
            if let Some(lit) = lits.first() {
                tests.extend(ops.map(|op| Test::Cmp(op, lit.clone())));
            }
            for negated in [false, true] {
                tests.push(Test::In {
                    negated,
                    lits: lits.clone(),
                });
            }
        }
        let mut values = vec![
            Value::YesNo(false),
            Value::YesNo(true),
            Value::Text("x".into()),
        ];
        values.extend((0..70).map(Value::Choice));
        values.extend([-1, 0, 140, 141, i64::MAX].map(Value::Integer));
        values.extend([-0.5, 37.5, 139.9, 140.0, f64::NAN, f64::INFINITY].map(Value::Number));
        let mut seens: Vec<Seen<&Value>> = values.iter().map(Seen::Answered).collect();
        seens.extend([Seen::Unanswered, Seen::Skipped]);
        for test in &tests {
            let check = Check::of(test);
            for &seen in &seens {
                assert_eq!(
                    check.apply(seen, test),
                    test.apply(seen),
                    "{test:?} on {seen:?}"
                );
            }
        }
        // What the shipped rulesets write has a ready form.
        for test in [
            Test::Cmp(CmpOp::Eq, Lit::YesNo(true)),
            Test::Cmp(CmpOp::Ne, Lit::Choice(3)),
            Test::Cmp(CmpOp::Ge, Lit::Number(180.0)),
        ] {
            assert_ne!(Check::of(&test).form, Form::General, "{test:?}");
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
        let gt = |slot, n| Cond::test(slot, Test::Cmp(CmpOp::Gt, Lit::Number(n)));
        let ge = |slot, n| Cond::test(slot, Test::Cmp(CmpOp::Ge, Lit::Number(n)));
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
