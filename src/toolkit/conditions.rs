//! Conditions as a reviewer compares them: a canonical text (spacing and redundant parentheses
//! gone, so a reformatted condition is not a change) and the list of comparisons a condition
//! makes, each as canonical text with its question and, for numeric thresholds, the number.
//! Built from the parsed syntax tree of the condition text; decides nothing about answers.

use crate::expr::{self, Ast, Atom, CmpOp};

/// One comparison of a condition, as written (canonically).
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The question id on its left, as written.
    pub question: String,
    /// The comparison alone: `systolic_bp > 140`, `breastfeeding`, `sud in [current]`.
    pub text: String,
    /// The operator and number, for a comparison with a number.
    pub threshold: Option<(CmpOp, f64)>,
}

/// The canonical text of a condition; the text itself if it does not parse (a loaded ruleset's
/// conditions always do).
pub fn canonical(text: &str) -> String {
    match expr::parse(text) {
        Ok(ast) => print(&ast),
        Err(_) => text.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// The comparisons of a condition, in the order written.
pub fn comparisons(text: &str) -> Vec<Comparison> {
    let mut out = Vec::new();
    if let Ok(ast) = expr::parse(text) {
        collect(&ast, &mut out);
    }
    out
}

fn collect(ast: &Ast, out: &mut Vec<Comparison>) {
    match ast {
        Ast::Or(items) | Ast::And(items) => items.iter().for_each(|a| collect(a, out)),
        Ast::Not(inner) => collect(inner, out),
        Ast::Bare(name) => out.push(Comparison {
            question: name.text.clone(),
            text: name.text.clone(),
            threshold: None,
        }),
        Ast::Cmp { lhs, op, rhs, .. } => out.push(Comparison {
            question: lhs.text.clone(),
            text: print(ast),
            threshold: match rhs {
                Atom::Number { value, .. } => Some((*op, *value)),
                Atom::Word(_) => None,
            },
        }),
        Ast::In { lhs, .. } => out.push(Comparison {
            question: lhs.text.clone(),
            text: print(ast),
            threshold: None,
        }),
    }
}

fn atom(a: &Atom) -> String {
    match a {
        Atom::Word(n) => n.text.clone(),
        Atom::Number { value, .. } => number(*value),
    }
}

/// A number as a clinician writes it: `140`, `37.5`.
pub fn number(value: f64) -> String {
    format!("{value}")
}

/// Prints a syntax tree with the fewest parentheses that keep its meaning.
pub fn print(ast: &Ast) -> String {
    match ast {
        Ast::Or(items) => items.iter().map(print).collect::<Vec<_>>().join(" or "),
        Ast::And(items) => items
            .iter()
            .map(|a| match a {
                Ast::Or(_) => format!("({})", print(a)),
                _ => print(a),
            })
            .collect::<Vec<_>>()
            .join(" and "),
        Ast::Not(inner) => match inner.as_ref() {
            Ast::Bare(_) | Ast::Not(_) => format!("not {}", print(inner)),
            _ => format!("not ({})", print(inner)),
        },
        Ast::Bare(name) => name.text.clone(),
        Ast::Cmp { lhs, op, rhs, .. } => format!("{} {op} {}", lhs.text, atom(rhs)),
        Ast::In {
            lhs,
            negated,
            items,
        } => format!(
            "{} {}in [{}]",
            lhs.text,
            if *negated { "not " } else { "" },
            items.iter().map(atom).collect::<Vec<_>>().join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text_ignores_spacing_and_redundant_parentheses() {
        assert_eq!(
            canonical("( systolic_bp>140  or diastolic_bp > 90) and not (systolic_bp >= 180)"),
            "(systolic_bp > 140 or diastolic_bp > 90) and not (systolic_bp >= 180)"
        );
        assert_eq!(canonical("((a)) or (b and c)"), "a or b and c");
        assert_eq!(canonical("x not in [a,b]"), "x not in [a, b]");
        assert_eq!(canonical("t >= 37.50"), "t >= 37.5");
    }

    #[test]
    fn comparisons_carry_their_thresholds() {
        let c = comparisons("age < 18 or flag or sud in [current]");
        let texts: Vec<&str> = c.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["age < 18", "flag", "sud in [current]"]);
        assert_eq!(c[0].threshold, Some((CmpOp::Lt, 18.0)));
        assert_eq!(c[1].threshold, None);
    }
}
