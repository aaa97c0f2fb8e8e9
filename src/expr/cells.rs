//! A faster way to evaluate compiled conditions when the same conditions are evaluated for many
//! patients (the batch loop). Each field is first reduced to a `Cell` — answered or not, the
//! kind of value, the value as a number — so a comparison reads 16 bytes in place instead of
//! following a pointer into the answers and dispatching on the value's type. The results are
//! exactly `Cond::eval`'s (three-valued, a skipped field equals no literal, a type mismatch is
//! unknown); a test checks the two against each other over every kind of field and test.

use super::eval::{Field, Truth};
use super::parse::CmpOp;
use super::{Cond, Lit, Test};
use crate::answers::Value;
use crate::ruleset::Slot;

/// What a cell holds. The kinds match `Lit`'s: a value compares only with a literal of its
/// own kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holds {
    Unanswered,
    Skipped,
    YesNo,
    /// An integer or decimal answer.
    Number,
    Choice,
    /// Text is never compared (the type check forbids it); any test of it is unknown.
    Text,
}

/// One field as a comparison sees it: yes/no as 0 or 1, a choice as its option index, an
/// integer or decimal as its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    holds: Holds,
    value: f64,
}

impl Cell {
    pub const UNANSWERED: Cell = Cell {
        holds: Holds::Unanswered,
        value: 0.0,
    };

    pub const SKIPPED: Cell = Cell {
        holds: Holds::Skipped,
        value: 0.0,
    };

    /// An answer, or unanswered.
    #[inline]
    pub fn of_answer(answer: Option<&Value>) -> Cell {
        match answer {
            Some(value) => Cell::of(Field::Answered(value)),
            None => Cell::UNANSWERED,
        }
    }

    pub fn is_skipped(self) -> bool {
        self.holds == Holds::Skipped
    }

    pub fn is_unanswered(self) -> bool {
        self.holds == Holds::Unanswered
    }

    #[inline]
    pub fn of(field: Field<'_>) -> Cell {
        let (holds, value) = match field {
            Field::Unanswered => (Holds::Unanswered, 0.0),
            Field::Skipped => (Holds::Skipped, 0.0),
            Field::Answered(Value::YesNo(b)) => (Holds::YesNo, f64::from(u8::from(*b))),
            Field::Answered(Value::Integer(n)) => (Holds::Number, *n as f64),
            Field::Answered(Value::Number(x)) => (Holds::Number, *x),
            Field::Answered(Value::Choice(i)) => (Holds::Choice, *i as f64),
            Field::Answered(Value::Text(_)) => (Holds::Text, 0.0),
        };
        Cell { holds, value }
    }
}

#[inline]
fn literal(lit: &Lit) -> (Holds, f64) {
    match lit {
        Lit::YesNo(b) => (Holds::YesNo, f64::from(u8::from(*b))),
        Lit::Number(x) => (Holds::Number, *x),
        Lit::Choice(i) => (Holds::Choice, *i as f64),
    }
}

#[inline]
fn compare(cell: Cell, op: CmpOp, lit: &Lit) -> Truth {
    let (holds, value) = literal(lit);
    if cell.holds != holds {
        return Truth::Unknown;
    }
    let Some(ordering) = cell.value.partial_cmp(&value) else {
        return Truth::Unknown;
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

impl Test {
    /// `apply`, on a cell.
    #[inline]
    pub fn apply_cell(&self, cell: Cell) -> Truth {
        match cell.holds {
            Holds::Unanswered => Truth::Unknown,
            Holds::Skipped => Truth::from_bool(matches!(
                self,
                Test::Cmp(CmpOp::Ne, _) | Test::In { negated: true, .. }
            )),
            _ => match self {
                Test::Cmp(op, lit) => compare(cell, *op, lit),
                Test::In { negated, lits } => {
                    let mut found = Truth::False;
                    for lit in lits {
                        found = found.or(compare(cell, CmpOp::Eq, lit));
                    }
                    if *negated {
                        negate(found)
                    } else {
                        found
                    }
                }
            },
        }
    }
}

impl Cond {
    /// `eval`, on cells (indexed by question slot). Inlined where it is called, so the usual
    /// rule — a single comparison — costs no call.
    #[inline]
    pub fn eval_cells(&self, cells: &[Cell]) -> Truth {
        match self {
            Cond::Test {
                slot,
                test: Test::Cmp(op, lit),
            } => match cells.get(*slot) {
                Some(cell) => compare_cell(*cell, *op, lit),
                None => Truth::Unknown,
            },
            _ => self.eval_cells_nested(cells),
        }
    }

    #[inline(never)]
    fn eval_cells_nested(&self, cells: &[Cell]) -> Truth {
        match self {
            Cond::Test { slot, test } => {
                test.apply_cell(cells.get(*slot).copied().unwrap_or(Cell::UNANSWERED))
            }
            Cond::Any(items) => {
                let mut acc = Truth::False;
                for item in items {
                    acc = acc.or(item.eval_cells(cells));
                    if acc == Truth::True {
                        break;
                    }
                }
                acc
            }
            Cond::All(items) => {
                let mut acc = Truth::True;
                for item in items {
                    acc = acc.and(item.eval_cells(cells));
                    if acc == Truth::False {
                        break;
                    }
                }
                acc
            }
            Cond::Not(inner) => negate(inner.eval_cells(cells)),
        }
    }
}

impl Cond {
    /// `undecided_by`, on cells.
    pub fn undecided_by_cells(&self, cells: &[Cell], out: &mut Vec<Slot>) {
        if self.eval_cells(cells) != Truth::Unknown {
            return;
        }
        match self {
            Cond::Any(items) | Cond::All(items) => {
                items.iter().for_each(|i| i.undecided_by_cells(cells, out))
            }
            Cond::Not(inner) => inner.undecided_by_cells(cells, out),
            Cond::Test { slot, .. } => {
                if !out.contains(slot) {
                    out.push(*slot);
                }
            }
        }
    }
}

/// Kleene negation: unknown stays unknown.
#[inline]
fn negate(truth: Truth) -> Truth {
    match truth {
        Truth::True => Truth::False,
        Truth::False => Truth::True,
        Truth::Unknown => Truth::Unknown,
    }
}

/// A condition that is a single comparison — what most rules are — with its literal already a
/// number, so that evaluating it is a handful of instructions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Simple {
    slot: Slot,
    op: CmpOp,
    holds: Holds,
    value: f64,
}

impl Simple {
    /// The condition as a `Simple`, if it is one comparison.
    pub fn of(cond: &Cond) -> Option<Simple> {
        match cond {
            Cond::Test {
                slot,
                test: Test::Cmp(op, lit),
            } => {
                let (holds, value) = literal(lit);
                Some(Simple {
                    slot: *slot,
                    op: *op,
                    holds,
                    value,
                })
            }
            _ => None,
        }
    }

    /// `eval_cells` of the condition it was made from.
    #[inline]
    pub fn eval(&self, cells: &[Cell]) -> Truth {
        let Some(cell) = cells.get(self.slot) else {
            return Truth::Unknown;
        };
        if cell.holds == self.holds {
            return match cell.value.partial_cmp(&self.value) {
                Some(ordering) => ordered(ordering, self.op),
                None => Truth::Unknown,
            };
        }
        match cell.holds {
            Holds::Skipped => Truth::from_bool(self.op == CmpOp::Ne),
            _ => Truth::Unknown,
        }
    }
}

#[inline]
fn ordered(ordering: std::cmp::Ordering, op: CmpOp) -> Truth {
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

/// `Test::Cmp(op, lit).apply_cell(cell)`.
#[inline]
fn compare_cell(cell: Cell, op: CmpOp, lit: &Lit) -> Truth {
    match cell.holds {
        Holds::Unanswered => Truth::Unknown,
        Holds::Skipped => Truth::from_bool(op == CmpOp::Ne),
        _ => compare(cell, op, lit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    fn value(rng: &mut Rng) -> Value {
        let numbers = [0.0, 1.0, 2.0, -3.5, 140.0, 140.5, f64::NAN, 1e300];
        match rng.below(5) {
            0 => Value::YesNo(rng.below(2) == 1),
            1 => Value::Integer([0, 1, 2, 139, 140, 141, -5, i64::MAX][rng.below(8)]),
            2 => Value::Number(numbers[rng.below(numbers.len())]),
            3 => Value::Choice(rng.below(4)),
            _ => Value::Text("x".into()),
        }
    }

    fn lit(rng: &mut Rng) -> Lit {
        let numbers = [0.0, 1.0, 2.0, 140.0, 140.5, -3.5, f64::NAN, 9.3e18];
        match rng.below(3) {
            0 => Lit::YesNo(rng.below(2) == 1),
            1 => Lit::Number(numbers[rng.below(numbers.len())]),
            _ => Lit::Choice(rng.below(4)),
        }
    }

    fn cond(rng: &mut Rng, depth: usize, slots: usize) -> Cond {
        let ops = [
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::Lt,
            CmpOp::Le,
            CmpOp::Gt,
            CmpOp::Ge,
        ];
        match if depth == 0 { 0 } else { rng.below(5) } {
            0 | 1 => Cond::Test {
                slot: rng.below(slots + 1), // one past the end: read as unanswered
                test: if rng.below(3) == 0 {
                    Test::In {
                        negated: rng.below(2) == 1,
                        lits: (0..rng.below(3) + 1).map(|_| lit(rng)).collect(),
                    }
                } else {
                    Test::Cmp(ops[rng.below(ops.len())], lit(rng))
                },
            },
            2 => Cond::Any(
                (0..rng.below(3) + 1)
                    .map(|_| cond(rng, depth - 1, slots))
                    .collect(),
            ),
            3 => Cond::All(
                (0..rng.below(3) + 1)
                    .map(|_| cond(rng, depth - 1, slots))
                    .collect(),
            ),
            _ => Cond::Not(Box::new(cond(rng, depth - 1, slots))),
        }
    }

    #[test]
    fn cells_evaluate_exactly_like_fields() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        for _ in 0..20_000 {
            let values: Vec<Value> = (0..4).map(|_| value(&mut rng)).collect();
            let fields: Vec<Field<'_>> = values
                .iter()
                .map(|v| match rng.below(4) {
                    0 => Field::Unanswered,
                    1 => Field::Skipped,
                    _ => Field::Answered(v),
                })
                .collect();
            let cells: Vec<Cell> = fields.iter().map(|f| Cell::of(*f)).collect();
            let c = cond(&mut rng, 3, fields.len());
            assert_eq!(c.eval_cells(&cells), c.eval(&fields), "{c:?} on {fields:?}");
            if let Some(simple) = Simple::of(&c) {
                assert_eq!(simple.eval(&cells), c.eval(&fields), "{c:?} on {fields:?}");
            }
            let (mut by_cells, mut by_fields) = (vec![], vec![]);
            c.undecided_by_cells(&cells, &mut by_cells);
            c.undecided_by(&fields, &mut by_fields);
            assert_eq!(by_cells, by_fields, "{c:?} on {fields:?}");
        }
    }
}
