//! Type-checking a parsed condition against the questions and compiling it to a `Cond`: names
//! become question slots, `yes`/`no` and option ids become typed literals, and every misuse
//! (an unknown name, a yes/no compared with a number, `<` on a choice, a text question in a
//! condition) becomes an error at the place it was written. All errors are collected, not just
//! the first.

use super::parse::{Ast, Atom, CmpOp, ExprError, Name};
use super::{Cond, Lit, Test};
use crate::ruleset::{Kind, Question, Slot};
use crate::suggest::closest;

/// Compiles a parsed condition. `questions` are all the ruleset's questions, in slot order.
pub fn compile(ast: &Ast, questions: &[Question]) -> Result<Cond, Vec<ExprError>> {
    let mut errors = Vec::new();
    let cond = Compiler {
        questions,
        errors: &mut errors,
    }
    .node(ast);
    match cond {
        Some(cond) if errors.is_empty() => Ok(cond),
        _ => Err(errors),
    }
}

struct Compiler<'a> {
    questions: &'a [Question],
    errors: &'a mut Vec<ExprError>,
}

impl Compiler<'_> {
    fn node(&mut self, ast: &Ast) -> Option<Cond> {
        match ast {
            Ast::Or(items) => self.list(items).map(Cond::Any),
            Ast::And(items) => self.list(items).map(Cond::All),
            Ast::Not(inner) => self.node(inner).map(|c| Cond::Not(Box::new(c))),
            Ast::Bare(name) => {
                let slot = self.question(name)?;
                let q = &self.questions[slot];
                if q.kind == Kind::YesNo {
                    Some(Cond::Test {
                        slot,
                        test: Test::Cmp(CmpOp::Eq, Lit::YesNo(true)),
                    })
                } else {
                    let example = match q.kind {
                        Kind::Choice(ref options) => {
                            format!(
                                "{} == {}",
                                q.id,
                                options.first().map(|o| o.id.as_str()).unwrap_or("option")
                            )
                        }
                        _ => format!("{} >= 1", q.id),
                    };
                    self.error(
                        name.span,
                        format!(
                            "'{}' is a {} question, not yes/no: compare it (e.g. '{example}')",
                            q.id,
                            q.kind.name()
                        ),
                        None,
                    );
                    None
                }
            }
            Ast::Cmp {
                lhs,
                op,
                op_span,
                rhs,
            } => {
                let slot = self.question(lhs)?;
                let q = &self.questions[slot];
                match q.kind {
                    Kind::YesNo | Kind::Choice(_) if op.is_ordering() => {
                        let alternatives = if matches!(q.kind, Kind::Choice(_)) {
                            "==, != or in"
                        } else {
                            "== or !="
                        };
                        self.error(
                            *op_span,
                            format!(
                                "'{op}' does not apply to {} question '{}' (use {alternatives})",
                                q.kind.name(),
                                q.id
                            ),
                            None,
                        );
                        None
                    }
                    _ => {
                        let lit = self.literal(slot, rhs)?;
                        Some(Cond::Test {
                            slot,
                            test: Test::Cmp(*op, lit),
                        })
                    }
                }
            }
            Ast::In {
                lhs,
                negated,
                items,
            } => {
                let slot = self.question(lhs)?;
                let lits: Vec<Option<Lit>> = items.iter().map(|a| self.literal(slot, a)).collect();
                let lits: Option<Vec<Lit>> = lits.into_iter().collect();
                Some(Cond::Test {
                    slot,
                    test: Test::In {
                        negated: *negated,
                        lits: lits?,
                    },
                })
            }
        }
    }

    fn list(&mut self, items: &[Ast]) -> Option<Vec<Cond>> {
        let compiled: Vec<Option<Cond>> = items.iter().map(|i| self.node(i)).collect();
        compiled.into_iter().collect()
    }

    fn error(&mut self, span: super::Span, message: String, hint: Option<String>) {
        self.errors
            .push(ExprError::new(span, message).with_hint(hint));
    }

    fn question(&mut self, name: &Name) -> Option<Slot> {
        match self.questions.iter().position(|q| q.id == name.text) {
            Some(slot) if self.questions[slot].kind == Kind::Text => {
                self.error(
                    name.span,
                    format!("text question '{}' cannot be used in a condition (text answers are kept, never used by rules)", name.text),
                    None,
                );
                None
            }
            Some(slot) => Some(slot),
            None => {
                let hint = closest(&name.text, self.questions.iter().map(|q| q.id.as_str()))
                    .map(|s| format!(" (did you mean '{s}'?)"));
                self.error(name.span, format!("unknown question '{}'", name.text), hint);
                None
            }
        }
    }

    fn literal(&mut self, slot: Slot, atom: &Atom) -> Option<Lit> {
        let q = &self.questions[slot];
        match (&q.kind, atom) {
            (Kind::YesNo, Atom::Word(w)) if w.text == "yes" => Some(Lit::YesNo(true)),
            (Kind::YesNo, Atom::Word(w)) if w.text == "no" => Some(Lit::YesNo(false)),
            (Kind::YesNo, Atom::Word(w)) => {
                self.error(
                    w.span,
                    format!(
                        "yes/no question '{}' can only be compared with yes or no, not '{}'",
                        q.id, w.text
                    ),
                    None,
                );
                None
            }
            (Kind::YesNo, Atom::Number { span, .. }) => {
                self.error(
                    *span,
                    format!(
                        "cannot compare yes/no question '{}' with a number (use yes or no)",
                        q.id
                    ),
                    None,
                );
                None
            }
            (Kind::Integer { .. } | Kind::Number { .. }, Atom::Number { value, .. }) => {
                Some(Lit::Number(*value))
            }
            (Kind::Integer { .. } | Kind::Number { .. }, Atom::Word(w)) => {
                let what = if self.questions.iter().any(|other| other.id == w.text) {
                    "another question (comparing two questions is not supported)".to_string()
                } else {
                    format!("'{}'", w.text)
                };
                self.error(
                    w.span,
                    format!(
                        "cannot compare {} question '{}' with {what}: expected a number",
                        q.kind.name(),
                        q.id
                    ),
                    None,
                );
                None
            }
            (Kind::Choice(options), Atom::Word(w)) => {
                match options.iter().position(|o| o.id == w.text) {
                    Some(index) => Some(Lit::Choice(index)),
                    None => {
                        let ids = || options.iter().map(|o| o.id.as_str());
                        let hint = match closest(&w.text, ids()) {
                            Some(s) => format!(" (did you mean '{s}'?)"),
                            None => format!(" (options: {})", ids().collect::<Vec<_>>().join(", ")),
                        };
                        self.error(
                            w.span,
                            format!("unknown option '{}' for choice question '{}'", w.text, q.id),
                            Some(hint),
                        );
                        None
                    }
                }
            }
            (Kind::Choice(_), Atom::Number { span, .. }) => {
                self.error(*span, format!("cannot compare choice question '{}' with a number (use one of its option ids)", q.id), None);
                None
            }
            (Kind::Text, _) => None,
        }
    }
}
