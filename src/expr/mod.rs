//! The condition language of rules and `ask_if`: text is parsed once (`parse`), checked
//! against the questions' types and compiled to a `Cond` indexed by question slot (`compile`),
//! then evaluated many times in three-valued logic (`eval`, the one evaluator) with no string
//! lookups; `trace` records an evaluation step by step for `--explain`.
//! This module does no I/O and knows nothing of files: positions are offsets into the text.

mod compile;
mod eval;
mod parse;
pub mod trace;

pub use compile::compile;
pub use eval::{Check, Fields, Truth, Watch};
pub use parse::{parse, Ast, Atom, CmpOp, ExprError, Span, MAX_DEPTH};
pub use trace::{trace, Recorder, Step, Trace};

use crate::ruleset::Slot;

/// A literal a question is compared with, already typed for that question.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    YesNo(bool),
    Number(f64),
    /// Index into the question's options.
    Choice(usize),
}

/// What is tested of one question.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Cmp(CmpOp, Lit),
    In { negated: bool, lits: Vec<Lit> },
}

/// A compiled condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Any(Vec<Cond>),
    All(Vec<Cond>),
    Not(Box<Cond>),
    /// One comparison: `test` as written, `check` the same test made ready to run
    /// (`Cond::test` makes both).
    Test {
        slot: Slot,
        test: Test,
        check: Check,
    },
}

impl Cond {
    /// The comparison `test` of the question in `slot`.
    pub fn test(slot: Slot, test: Test) -> Cond {
        Cond::Test {
            slot,
            check: Check::of(&test),
            test,
        }
    }
}
