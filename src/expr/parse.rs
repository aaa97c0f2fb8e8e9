//! Lexing and parsing of condition text (`systolic_bp >= 180 or diastolic_bp >= 110`) into an
//! untyped syntax tree that remembers where every piece came from. Nothing here knows the
//! questions: names are checked and typed in `compile`. Positions are byte offsets into the
//! condition text, turned into file lines and columns by the ruleset loader.

use std::fmt;

/// A byte range inside one condition's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

/// A problem in a condition, at a place inside its text.
#[derive(Debug, Clone, PartialEq)]
pub struct ExprError {
    pub span: Span,
    pub message: String,
    /// A "did you mean" or similar, printed after the context the loader adds.
    pub hint: Option<String>,
}

impl ExprError {
    pub(crate) fn new(span: Span, message: impl Into<String>) -> Self {
        ExprError {
            span,
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

/// Comparison operators of the condition language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    pub fn is_ordering(self) -> bool {
        !matches!(self, CmpOp::Eq | CmpOp::Ne)
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name as written, with its place.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

/// The right-hand side of a comparison: a word (`yes`, an option id) or a number.
#[derive(Debug, Clone, PartialEq)]
pub enum Atom {
    Word(Name),
    Number { value: f64, span: Span },
}

impl Atom {
    pub fn span(&self) -> Span {
        match self {
            Atom::Word(n) => n.span,
            Atom::Number { span, .. } => *span,
        }
    }
}

/// The untyped syntax tree of a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    Or(Vec<Ast>),
    And(Vec<Ast>),
    Not(Box<Ast>),
    /// A bare question id: `aneurysm_or_avm` means `aneurysm_or_avm == yes`.
    Bare(Name),
    Cmp {
        lhs: Name,
        op: CmpOp,
        op_span: Span,
        rhs: Atom,
    },
    In {
        lhs: Name,
        negated: bool,
        items: Vec<Atom>,
    },
}

/// Deepest nesting of parentheses and `not` a condition may have. Real conditions use a
/// handful; the limit keeps a hostile file from exhausting the stack.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Number(f64),
    Op(CmpOp),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    And,
    Or,
    Not,
    In,
    End,
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Word(w) => format!("'{w}'"),
        Tok::Number(_) => "a number".to_string(),
        Tok::Op(op) => format!("'{op}'"),
        Tok::LParen => "'('".to_string(),
        Tok::RParen => "')'".to_string(),
        Tok::LBracket => "'['".to_string(),
        Tok::RBracket => "']'".to_string(),
        Tok::Comma => "','".to_string(),
        Tok::And => "'and'".to_string(),
        Tok::Or => "'or'".to_string(),
        Tok::Not => "'not'".to_string(),
        Tok::In => "'in'".to_string(),
        Tok::End => "the end of the condition".to_string(),
    }
}

fn lex(text: &str) -> Result<Vec<(Tok, Span)>, ExprError> {
    let bytes = text.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let single = match c {
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b'[' => Some(Tok::LBracket),
            b']' => Some(Tok::RBracket),
            b',' => Some(Tok::Comma),
            _ => None,
        };
        if let Some(tok) = single {
            toks.push((tok, Span::new(i, i + 1)));
            i += 1;
            continue;
        }
        let next = bytes.get(i + 1).copied();
        let op = match (c, next) {
            (b'=', Some(b'=')) => Some((CmpOp::Eq, 2)),
            (b'!', Some(b'=')) => Some((CmpOp::Ne, 2)),
            (b'<', Some(b'=')) => Some((CmpOp::Le, 2)),
            (b'>', Some(b'=')) => Some((CmpOp::Ge, 2)),
            (b'<', _) => Some((CmpOp::Lt, 1)),
            (b'>', _) => Some((CmpOp::Gt, 1)),
            _ => None,
        };
        if let Some((op, len)) = op {
            toks.push((Tok::Op(op), Span::new(i, i + len)));
            i += len;
            continue;
        }
        if c == b'=' {
            return Err(ExprError::new(
                Span::new(i, i + 1),
                "'=' is not an operator here (use '==' to compare)",
            ));
        }
        if c.is_ascii_digit()
            || c == b'.'
            || (c == b'-' && next.is_some_and(|n| n.is_ascii_digit() || n == b'.'))
        {
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            let span = Span::new(start, i);
            let literal = &text[start..i];
            let value: f64 = literal
                .parse()
                .map_err(|_| ExprError::new(span, format!("'{literal}' is not a number")))?;
            if !value.is_finite() || value.abs() > 1e15 {
                return Err(ExprError::new(
                    span,
                    format!("number '{literal}' is too large"),
                ));
            }
            toks.push((Tok::Number(value), span));
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &text[start..i];
            let tok = match word {
                "and" => Tok::And,
                "or" => Tok::Or,
                "not" => Tok::Not,
                "in" => Tok::In,
                _ => Tok::Word(word.to_string()),
            };
            toks.push((tok, Span::new(start, i)));
            continue;
        }
        let ch = text[start..].chars().next().unwrap_or('?');
        let span = Span::new(start, start + ch.len_utf8());
        let hint = match ch {
            '&' => " (use 'and')",
            '|' => " (use 'or')",
            '!' => " (use 'not', or '!=' to compare)",
            '"' | '\'' => " (write option ids and yes/no without quotes)",
            _ => "",
        };
        return Err(ExprError::new(
            span,
            format!("unexpected character '{ch}'{hint}"),
        ));
    }
    toks.push((Tok::End, Span::new(text.len(), text.len())));
    Ok(toks)
}

struct Parser {
    toks: Vec<(Tok, Span)>,
    pos: usize,
    depth: usize,
}

/// Parses one condition. The result is untyped: `compile` checks names and types.
pub fn parse(text: &str) -> Result<Ast, ExprError> {
    let toks = lex(text)?;
    let mut parser = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    if parser.peek() == &Tok::End {
        return Err(ExprError::new(parser.span(), "the condition is empty"));
    }
    let ast = parser.or_expr()?;
    if parser.peek() != &Tok::End {
        let what = describe(parser.peek());
        let hint = if matches!(parser.peek(), Tok::Word(_) | Tok::Number(_) | Tok::LParen) {
            " (missing 'and' or 'or'?)"
        } else {
            ""
        };
        return Err(ExprError::new(
            parser.span(),
            format!("unexpected {what}{hint}"),
        ));
    }
    Ok(ast)
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].0
    }

    fn span(&self) -> Span {
        self.toks[self.pos.min(self.toks.len() - 1)].1
    }

    fn bump(&mut self) -> (Tok, Span) {
        let item = self.toks[self.pos.min(self.toks.len() - 1)].clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        item
    }

    fn enter(&mut self, at: Span) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::new(
                at,
                format!("condition is nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Ast, ExprError> {
        let mut items = vec![self.and_expr()?];
        while self.peek() == &Tok::Or {
            self.bump();
            items.push(self.and_expr()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Ast::Or(items)
        })
    }

    fn and_expr(&mut self) -> Result<Ast, ExprError> {
        let mut items = vec![self.not_expr()?];
        while self.peek() == &Tok::And {
            self.bump();
            items.push(self.not_expr()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Ast::And(items)
        })
    }

    fn not_expr(&mut self) -> Result<Ast, ExprError> {
        if self.peek() == &Tok::Not {
            let (_, at) = self.bump();
            self.enter(at)?;
            let inner = self.not_expr()?;
            self.depth -= 1;
            return Ok(Ast::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Ast, ExprError> {
        let (tok, span) = self.bump();
        match tok {
            Tok::LParen => {
                self.enter(span)?;
                let inner = self.or_expr()?;
                self.depth -= 1;
                let (close, close_span) = self.bump();
                if close != Tok::RParen {
                    return Err(ExprError::new(
                        close_span,
                        format!("expected ')' but found {}", describe(&close)),
                    ));
                }
                Ok(inner)
            }
            Tok::Word(text) => {
                let lhs = Name { text, span };
                self.after_name(lhs)
            }
            Tok::Number(_) => Err(ExprError::new(
                span,
                "a comparison starts with a question id (write 'question > 5', not '5 < question')",
            )),
            other => Err(ExprError::new(
                span,
                format!("expected a question id but found {}", describe(&other)),
            )),
        }
    }

    fn after_name(&mut self, lhs: Name) -> Result<Ast, ExprError> {
        match self.peek().clone() {
            Tok::Op(op) => {
                let (_, op_span) = self.bump();
                let rhs = self.atom()?;
                Ok(Ast::Cmp {
                    lhs,
                    op,
                    op_span,
                    rhs,
                })
            }
            Tok::In => {
                self.bump();
                self.list(lhs, false)
            }
            Tok::Not if matches!(self.toks.get(self.pos + 1), Some((Tok::In, _))) => {
                self.bump();
                self.bump();
                self.list(lhs, true)
            }
            _ => Ok(Ast::Bare(lhs)),
        }
    }

    fn list(&mut self, lhs: Name, negated: bool) -> Result<Ast, ExprError> {
        let (open, open_span) = self.bump();
        if open != Tok::LBracket {
            return Err(ExprError::new(
                open_span,
                format!("expected '[' after 'in' but found {}", describe(&open)),
            ));
        }
        let mut items = vec![self.atom()?];
        loop {
            let (tok, span) = self.bump();
            match tok {
                Tok::Comma => items.push(self.atom()?),
                Tok::RBracket => break,
                other => {
                    return Err(ExprError::new(
                        span,
                        format!("expected ',' or ']' but found {}", describe(&other)),
                    ));
                }
            }
        }
        Ok(Ast::In {
            lhs,
            negated,
            items,
        })
    }

    fn atom(&mut self) -> Result<Atom, ExprError> {
        let (tok, span) = self.bump();
        match tok {
            Tok::Word(text) => Ok(Atom::Word(Name { text, span })),
            Tok::Number(value) => Ok(Atom::Number { value, span }),
            other => Err(ExprError::new(
                span,
                format!(
                    "expected a value (a number, yes/no or an option id) but found {}",
                    describe(&other)
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> (usize, String) {
        let e = parse(text).expect_err("should fail");
        (e.span.start, e.message)
    }

    #[test]
    fn precedence_and_binds_tighter_than_or() {
        let ast = parse("a or b and c").expect("parses");
        let Ast::Or(items) = ast else {
            panic!("expected or")
        };
        assert!(matches!(items[0], Ast::Bare(_)));
        assert!(matches!(items[1], Ast::And(_)));
    }

    #[test]
    fn comparisons_lists_and_negation() {
        assert!(matches!(
            parse("x >= 180").expect("parses"),
            Ast::Cmp { op: CmpOp::Ge, .. }
        ));
        assert!(matches!(
            parse("x in [a, b]").expect("parses"),
            Ast::In { negated: false, .. }
        ));
        assert!(matches!(
            parse("x not in [a]").expect("parses"),
            Ast::In { negated: true, .. }
        ));
        assert!(matches!(parse("not (x)").expect("parses"), Ast::Not(_)));
        assert!(
            matches!(parse("x > -1.5").expect("parses"), Ast::Cmp { rhs: Atom::Number { value, .. }, .. } if value == -1.5)
        );
    }

    #[test]
    fn errors_point_at_the_offending_column() {
        assert_eq!(
            err("x = 3"),
            (
                2,
                "'=' is not an operator here (use '==' to compare)".into()
            )
        );
        assert_eq!(err("x >"), (3, "expected a value (a number, yes/no or an option id) but found the end of the condition".into()));
        assert_eq!(
            err("(x > 1"),
            (6, "expected ')' but found the end of the condition".into())
        );
        assert_eq!(
            err("x > 1 y"),
            (6, "unexpected 'y' (missing 'and' or 'or'?)".into())
        );
        assert_eq!(
            err("x && y"),
            (2, "unexpected character '&' (use 'and')".into())
        );
        assert_eq!(
            err("5 < x"),
            (
                0,
                "a comparison starts with a question id (write 'question > 5', not '5 < question')"
                    .into()
            )
        );
        assert_eq!(err("  "), (2, "the condition is empty".into()));
        assert_eq!(
            err("x in a"),
            (5, "expected '[' after 'in' but found 'a'".into())
        );
        assert_eq!(err("x > 1.2.3"), (4, "'1.2.3' is not a number".into()));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let text = format!("{}x{}", "(".repeat(50_000), ")".repeat(50_000));
        let (pos, message) = err(&text);
        assert_eq!(pos, MAX_DEPTH);
        assert!(message.contains("nested too deeply"), "{message}");
        let nots = format!("{}x", "not ".repeat(10_000));
        assert!(err(&nots).1.contains("nested too deeply"));
    }
}
