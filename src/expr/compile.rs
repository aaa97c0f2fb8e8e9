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

/// "an integer", "a choice".
fn article(word: &str) -> String {
    let an = word.starts_with(|c: char| "aeiou".contains(c));
    format!("{} {word}", if an { "an" } else { "a" })
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
                    Some(Cond::test(slot, Test::Cmp(CmpOp::Eq, Lit::YesNo(true))))
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
                            "'{}' is {} question, not yes/no: compare it (e.g. '{example}')",
                            q.id,
                            article(q.kind.name())
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
                        Some(Cond::test(slot, Test::Cmp(*op, lit)))
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
                Some(Cond::test(
                    slot,
                    Test::In {
                        negated: *negated,
                        lits: lits?,
                    },
                ))
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
                    .map(|s| crate::suggest::hint(Some(s)));
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
                            Some(s) => crate::suggest::hint(Some(s)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse;
    use crate::ruleset::ChoiceOption;

    fn q(id: &str, kind: Kind) -> Question {
        Question {
            id: id.into(),
            section: "S".into(),
            text: "?".into(),
            help: None,
            kind,
            unit: None,
            aliases: vec![],
            ask_if: None,
            ask_if_text: None,
        }
    }

    fn questions() -> Vec<Question> {
        vec![
            q(
                "systolic_bp",
                Kind::Integer {
                    min: Some(50),
                    max: Some(300),
                },
            ),
            q("aneurysm", Kind::YesNo),
            q(
                "pregnancy_status",
                Kind::Choice(vec![
                    ChoiceOption {
                        id: "not_pregnant".into(),
                        label: "No".into(),
                    },
                    ChoiceOption {
                        id: "pregnant".into(),
                        label: "Yes".into(),
                    },
                ]),
            ),
            q("notes", Kind::Text),
        ]
    }

    /// (column, message + hint) of every error.
    fn errors(text: &str) -> Vec<(usize, String)> {
        let ast = parse(text).expect("parses");
        compile(&ast, &questions())
            .expect_err("should not type-check")
            .into_iter()
            .map(|e| {
                (
                    e.span.start,
                    format!("{}{}", e.message, e.hint.unwrap_or_default()),
                )
            })
            .collect()
    }

    #[test]
    fn compiles_to_slots_and_typed_literals() {
        let ast = parse("systolic_bp >= 180 or aneurysm or pregnancy_status in [pregnant]")
            .expect("parses");
        let cond = compile(&ast, &questions()).expect("type-checks");
        let Cond::Any(items) = cond else {
            panic!("expected any")
        };
        assert_eq!(
            items[0],
            Cond::test(0, Test::Cmp(CmpOp::Ge, Lit::Number(180.0)))
        );
        assert_eq!(
            items[1],
            Cond::test(1, Test::Cmp(CmpOp::Eq, Lit::YesNo(true)))
        );
        assert_eq!(
            items[2],
            Cond::test(
                2,
                Test::In {
                    negated: false,
                    lits: vec![Lit::Choice(1)]
                }
            )
        );
    }

    #[test]
    fn every_type_error_is_reported_at_its_place() {
        assert_eq!(
            errors("systolic_bpp >= 180"),
            [(
                0,
                "unknown question 'systolic_bpp' (did you mean 'systolic_bp'?)".to_string()
            )]
        );
        assert_eq!(
            errors("aneurysm == 1"),
            [(
                12,
                "cannot compare yes/no question 'aneurysm' with a number (use yes or no)"
                    .to_string()
            )]
        );
        assert_eq!(
            errors("aneurysm == maybe"),
            [(
                12,
                "yes/no question 'aneurysm' can only be compared with yes or no, not 'maybe'"
                    .to_string()
            )]
        );
        assert_eq!(
            errors("pregnancy_status < pregnant"),
            [(
                17,
                "'<' does not apply to choice question 'pregnancy_status' (use ==, != or in)"
                    .to_string()
            )]
        );
        assert_eq!(
            errors("aneurysm >= yes"),
            [(
                9,
                "'>=' does not apply to yes_no question 'aneurysm' (use == or !=)".to_string()
            )]
        );
        assert_eq!(
            errors("pregnancy_status == pregnent"),
            [(20, "unknown option 'pregnent' for choice question 'pregnancy_status' (did you mean 'pregnant'?)".to_string())]
        );
        assert_eq!(
            errors("pregnancy_status == twins"),
            [(20, "unknown option 'twins' for choice question 'pregnancy_status' (options: not_pregnant, pregnant)".to_string())]
        );
        assert_eq!(
            errors("systolic_bp > high"),
            [(
                14,
                "cannot compare integer question 'systolic_bp' with 'high': expected a number"
                    .to_string()
            )]
        );
        assert_eq!(errors("systolic_bp"), [(0, "'systolic_bp' is an integer question, not yes/no: compare it (e.g. 'systolic_bp >= 1')".to_string())]);
        assert_eq!(
            errors("notes == yes"),
            [(0, "text question 'notes' cannot be used in a condition (text answers are kept, never used by rules)".to_string())]
        );
    }

    #[test]
    fn all_errors_are_collected_not_just_the_first() {
        let found = errors("systolic_bpp > 1 or aneurysm == 2 or pregnancy_status <= pregnant");
        let columns: Vec<usize> = found.iter().map(|(c, _)| *c).collect();
        assert_eq!(columns, [0, 32, 54]);
    }
}
