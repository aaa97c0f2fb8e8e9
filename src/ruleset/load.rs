//! Loading a ruleset file: YAML into the raw model, then every check the product contract
//! asks for — ids, types, bounds, options, conditions, message placeholders, sources, `ask_if`
//! cycles — each reported at its file, line and column, all of them, not just the first.

use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::diag::{Diagnostic, Level};
use super::locate::{Locations, Pos};
use super::model::{ChoiceOption, Kind, Piece, Question, Rule, Ruleset, Slot};
use super::raw::{RawFile, RawKind, RawQuestion, RawRule};
use crate::expr::{self, Cond, ExprError};
use crate::suggest::did_you_mean;

/// The default ruleset, compiled into the binary.
pub const BUILTIN_TEXT: &str = include_str!("../../rules/ketamine.yaml");
/// How the built-in ruleset is named in messages.
pub const BUILTIN_NAME: &str = "rules/ketamine.yaml (built-in)";

/// Why a ruleset could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read ruleset {path}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{}", render_invalid(file, diagnostics))]
    Invalid {
        file: String,
        diagnostics: Vec<Diagnostic>,
    },
}

fn render_invalid(file: &str, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let _ = writeln!(out, "{d}");
    }
    let n = diagnostics.len();
    let _ = write!(
        out,
        "{file}: {n} error{} found; the ruleset was not loaded",
        if n == 1 { "" } else { "s" }
    );
    out
}

/// Loads the built-in default ruleset.
pub fn builtin() -> Result<Ruleset, LoadError> {
    load_str(BUILTIN_TEXT, BUILTIN_NAME)
}

/// Loads a ruleset from text; `file` names it in messages.
pub fn load_str(text: &str, file: &str) -> Result<Ruleset, LoadError> {
    let mut loader = Loader {
        file,
        text,
        loc: OnceCell::new(),
        diags: Vec::new(),
    };
    let raw: RawFile = match serde_yaml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            loader.serde_error(&e);
            return Err(loader.into_error());
        }
    };
    let ruleset = loader.build(raw, text);
    match ruleset {
        Some(r) if loader.diags.is_empty() => Ok(r),
        _ => Err(loader.into_error()),
    }
}

/// True for names usable in conditions: a lowercase letter, then lowercase letters, digits, `_`.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

const RESERVED: [&str; 6] = ["and", "or", "not", "in", "yes", "no"];

struct Loader<'a> {
    file: &'a str,
    text: &'a str,
    /// Node positions, indexed only when there is an error to place (a second parse).
    loc: OnceCell<Locations>,
    diags: Vec<Diagnostic>,
}

impl Loader<'_> {
    fn loc(&self) -> &Locations {
        self.loc.get_or_init(|| Locations::index(self.text))
    }

    fn push(&mut self, pos: Option<Pos>, width: usize, message: String) {
        let pos = pos.unwrap_or(Pos { line: 1, column: 1 });
        self.diags.push(Diagnostic {
            level: Level::Error,
            file: self.file.to_string(),
            line: pos.line,
            column: pos.column,
            width,
            message,
            source_line: self.loc().line_text(pos.line),
        });
    }

    /// An error about the value at `path`.
    fn at(&mut self, path: &str, message: String) {
        let pos = self.loc().value(path).or_else(|| self.loc().key(path));
        self.push(pos, 1, message);
    }

    fn into_error(mut self) -> LoadError {
        self.diags.sort_by_key(|d| (d.line, d.column));
        self.diags.dedup();
        LoadError::Invalid {
            file: self.file.to_string(),
            diagnostics: self.diags,
        }
    }

    fn serde_error(&mut self, e: &serde_yaml::Error) {
        let (message, pos) = super::diag::serde_message(e);
        self.push(pos, 1, message);
    }

    /// Reports a condition's errors at their places inside the file.
    fn expr_errors(&mut self, path: &str, text: &str, errors: Vec<ExprError>, context: &str) {
        for e in errors {
            let pos = self.loc().inside(path, text, e.span.start);
            let width = text
                .get(e.span.start..e.span.end)
                .map(|s| s.chars().count())
                .unwrap_or(1);
            let hint = e.hint.unwrap_or_default();
            self.push(pos, width, format!("{} in {context}{hint}", e.message));
        }
    }

    fn condition(
        &mut self,
        path: &str,
        text: &str,
        questions: &[Question],
        context: &str,
    ) -> Option<Cond> {
        let ast = match expr::parse(text) {
            Ok(ast) => ast,
            Err(e) => {
                self.expr_errors(path, text, vec![e], context);
                return None;
            }
        };
        match expr::compile(&ast, questions) {
            Ok(cond) => Some(cond),
            Err(errors) => {
                self.expr_errors(path, text, errors, context);
                None
            }
        }
    }

    fn build(&mut self, raw: RawFile, text: &str) -> Option<Ruleset> {
        let header = raw.ruleset;
        if header.id.trim().is_empty() {
            self.at("ruleset.id", "the ruleset id is empty".to_string());
        }
        let mut sources = Vec::new();
        for (key, value) in &header.sources {
            match (key.as_str(), value.as_str()) {
                (Some(k), Some(v)) if !v.trim().is_empty() => {
                    sources.push((k.to_string(), v.to_string()))
                }
                (Some(k), _) => self.at(
                    &format!("ruleset.sources.{k}"),
                    format!("source '{k}' needs a citation text"),
                ),
                (None, _) => self.at("ruleset.sources", "source keys must be text".to_string()),
            }
        }

        let mut questions = Vec::with_capacity(raw.questions.len());
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, q) in raw.questions.iter().enumerate() {
            if let Some(first) = seen.insert(q.id.clone(), i) {
                self.at(
                    &format!("questions[{i}].id"),
                    format!(
                        "duplicate question id '{}' (first defined as question {})",
                        q.id,
                        first + 1
                    ),
                );
            }
            questions.push(self.question(i, q));
        }
        self.check_aliases(&questions);

        // Conditions need every question known first (an ask_if may read a later question).
        for (i, q) in raw.questions.iter().enumerate() {
            if let Some(text) = &q.ask_if {
                let cond = self.condition(
                    &format!("questions[{i}].ask_if"),
                    text,
                    &questions,
                    &format!("ask_if of question '{}'", q.id),
                );
                questions[i].ask_if = cond;
                questions[i].ask_if_text = Some(text.clone());
            }
        }
        let ask_order = self.ask_order(&questions);

        let mut rules = Vec::with_capacity(raw.rules.len());
        let mut rule_ids: HashMap<&str, usize> = HashMap::new();
        let mut cited = HashSet::new();
        for (i, r) in raw.rules.iter().enumerate() {
            if let Some(first) = rule_ids.insert(r.id.as_str(), i) {
                self.at(
                    &format!("rules[{i}].id"),
                    format!(
                        "duplicate rule id '{}' (first defined as rule {})",
                        r.id,
                        first + 1
                    ),
                );
            }
            if r.id.trim().is_empty() {
                self.at(&format!("rules[{i}].id"), "rule id is empty".to_string());
            }
            cited.insert(r.source.as_str());
            if let Some(rule) = self.rule(i, r, &questions, &sources) {
                rules.push(rule);
            }
        }
        for (key, _) in &sources {
            if !cited.contains(key.as_str()) {
                let pos = self.loc().key(&format!("ruleset.sources.{key}"));
                self.push(
                    pos,
                    key.chars().count(),
                    format!("source '{key}' is not cited by any rule"),
                );
            }
        }
        if raw.questions.is_empty() {
            self.at("questions", "the ruleset has no questions".to_string());
        }

        let digest = Sha256::digest(text.as_bytes());
        let sha256 = digest.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
        Some(Ruleset::new(
            header.id,
            header.version.into_string(),
            header.title,
            sources,
            questions,
            rules,
            ask_order,
            sha256,
            self.file.to_string(),
        ))
    }

    fn question(&mut self, i: usize, q: &RawQuestion) -> Question {
        let path = format!("questions[{i}]");
        if !is_identifier(&q.id) || RESERVED.contains(&q.id.as_str()) {
            self.at(&format!("{path}.id"), format!("question id '{}' must be lowercase letters, digits and '_', start with a letter, and not be a keyword", q.id));
        }
        let numeric = matches!(q.kind, RawKind::Integer | RawKind::Number);
        let kind_name = match q.kind {
            RawKind::YesNo => "yes_no",
            RawKind::Integer => "integer",
            RawKind::Number => "number",
            RawKind::Choice => "choice",
            RawKind::Text => "text",
        };
        if !numeric {
            for (field, present) in [
                ("min", q.min.is_some()),
                ("max", q.max.is_some()),
                ("unit", q.unit.is_some()),
            ] {
                if present {
                    self.at(&format!("{path}.{field}"), format!("'{field}' applies only to integer and number questions, and '{}' is {kind_name}", q.id));
                }
            }
        }
        if q.kind != RawKind::Choice && q.options.is_some() {
            self.at(
                &format!("{path}.options"),
                format!(
                    "'options' applies only to choice questions, and '{}' is {kind_name}",
                    q.id
                ),
            );
        }
        if let (Some(lo), Some(hi)) = (q.min, q.max) {
            if lo > hi {
                self.at(
                    &format!("{path}.min"),
                    format!("min {lo} is greater than max {hi} in question '{}'", q.id),
                );
            }
        }
        let kind = match q.kind {
            RawKind::YesNo => Kind::YesNo,
            RawKind::Text => Kind::Text,
            RawKind::Number => Kind::Number {
                min: q.min,
                max: q.max,
            },
            RawKind::Integer => {
                let mut whole = |field: &str, v: Option<f64>| -> Option<i64> {
                    let v = v?;
                    if v.fract() != 0.0 || v.abs() > 1e15 {
                        self.at(
                            &format!("{path}.{field}"),
                            format!(
                                "{field} of integer question '{}' must be a whole number",
                                q.id
                            ),
                        );
                        return None;
                    }
                    Some(v as i64)
                };
                Kind::Integer {
                    min: whole("min", q.min),
                    max: whole("max", q.max),
                }
            }
            RawKind::Choice => Kind::Choice(self.options(&path, q)),
        };
        Question {
            id: q.id.clone(),
            section: q.section.clone(),
            text: q.text.clone(),
            help: q.help.clone(),
            kind,
            unit: q.unit.clone(),
            aliases: q.aliases.clone(),
            ask_if: None,
            ask_if_text: None,
        }
    }

    fn options(&mut self, path: &str, q: &RawQuestion) -> Vec<ChoiceOption> {
        let Some(raw) = &q.options else {
            self.at(
                &format!("{path}.type"),
                format!("choice question '{}' needs 'options'", q.id),
            );
            return Vec::new();
        };
        if raw.is_empty() {
            self.at(
                &format!("{path}.options"),
                format!("choice question '{}' has no options", q.id),
            );
        }
        let mut seen = HashSet::new();
        for (j, o) in raw.iter().enumerate() {
            if !is_identifier(&o.id) || RESERVED.contains(&o.id.as_str()) {
                self.at(&format!("{path}.options[{j}].id"), format!("option id '{}' must be lowercase letters, digits and '_', start with a letter, and not be a keyword", o.id));
            }
            if !seen.insert(o.id.to_ascii_lowercase()) {
                self.at(
                    &format!("{path}.options[{j}].id"),
                    format!("duplicate option id '{}' in question '{}'", o.id, q.id),
                );
            }
        }
        raw.iter()
            .map(|o| ChoiceOption {
                id: o.id.clone(),
                label: o.label.clone(),
            })
            .collect()
    }

    fn check_aliases(&mut self, questions: &[Question]) {
        let mut owner: HashMap<String, &str> = questions
            .iter()
            .map(|q| (q.id.to_ascii_lowercase(), q.id.as_str()))
            .collect();
        for (i, q) in questions.iter().enumerate() {
            for (j, alias) in q.aliases.iter().enumerate() {
                let key = alias.trim().to_ascii_lowercase();
                if key.is_empty() {
                    self.at(
                        &format!("questions[{i}].aliases[{j}]"),
                        format!("empty alias in question '{}'", q.id),
                    );
                    continue;
                }
                match owner.get(&key) {
                    Some(other) if *other != q.id => {
                        self.at(&format!("questions[{i}].aliases[{j}]"), format!("alias '{alias}' of question '{}' is already the name of question '{other}'", q.id));
                    }
                    Some(_) => {}
                    None => {
                        owner.insert(key, q.id.as_str());
                    }
                }
            }
        }
    }

    /// An order in which every `ask_if` can be decided before its question; a cycle is an error.
    fn ask_order(&mut self, questions: &[Question]) -> Vec<Slot> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Open,
            Done,
        }
        let deps: Vec<Vec<Slot>> = questions
            .iter()
            .map(|q| {
                let mut reads = Vec::new();
                if let Some(c) = &q.ask_if {
                    c.reads(&mut reads);
                }
                reads
            })
            .collect();
        let mut marks = vec![Mark::New; questions.len()];
        let mut order = Vec::with_capacity(questions.len());
        for root in 0..questions.len() {
            if marks[root] != Mark::New {
                continue;
            }
            // Iterative depth-first search: (slot, next dependency to visit).
            let mut stack = vec![(root, 0usize)];
            marks[root] = Mark::Open;
            while let Some(&mut (slot, ref mut next)) = stack.last_mut() {
                if let Some(&dep) = deps[slot].get(*next) {
                    *next += 1;
                    match marks[dep] {
                        Mark::New => {
                            marks[dep] = Mark::Open;
                            stack.push((dep, 0));
                        }
                        Mark::Open => {
                            let start = stack.iter().position(|(s, _)| *s == dep).unwrap_or(0);
                            let mut cycle: Vec<&str> = stack[start..]
                                .iter()
                                .map(|(s, _)| questions[*s].id.as_str())
                                .collect();
                            cycle.push(questions[dep].id.as_str());
                            self.at(
                                &format!("questions[{slot}].ask_if"),
                                format!("ask_if cycle: {}", cycle.join(" -> ")),
                            );
                        }
                        Mark::Done => {}
                    }
                } else {
                    marks[slot] = Mark::Done;
                    order.push(slot);
                    stack.pop();
                }
            }
        }
        order
    }

    fn rule(
        &mut self,
        i: usize,
        r: &RawRule,
        questions: &[Question],
        sources: &[(String, String)],
    ) -> Option<Rule> {
        let path = format!("rules[{i}]");
        let context = format!("rule '{}'", r.id);
        if !sources.iter().any(|(k, _)| *k == r.source) {
            let hint = did_you_mean(&r.source, sources.iter().map(|(k, _)| k.as_str()));
            let pos = self.loc().value(&format!("{path}.source"));
            self.push(
                pos,
                r.source.chars().count(),
                format!("unknown source '{}' in {context}{hint}", r.source),
            );
        }
        let message = self.message(&format!("{path}.message"), &r.message, questions, &context);
        let when = self.condition(&format!("{path}.when"), &r.when, questions, &context)?;
        let mut reads = Vec::new();
        when.reads(&mut reads);
        Some(Rule {
            id: r.id.clone(),
            severity: r.severity,
            urgent: r.urgent,
            when,
            when_text: r.when.clone(),
            message: message?,
            message_text: r.message.clone(),
            source: r.source.clone(),
            reads,
        })
    }

    /// Splits a message into text and `{question_id}` placeholders (`{{` and `}}` are braces).
    fn message(
        &mut self,
        path: &str,
        text: &str,
        questions: &[Question],
        context: &str,
    ) -> Option<Vec<Piece>> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut ok = true;
        let mut rest = text.char_indices().peekable();
        while let Some((at, c)) = rest.next() {
            match c {
                '{' if rest.peek().map(|p| p.1) == Some('{') => {
                    rest.next();
                    literal.push('{');
                }
                '}' if rest.peek().map(|p| p.1) == Some('}') => {
                    rest.next();
                    literal.push('}');
                }
                '{' => {
                    let Some(close) = text[at..].find('}') else {
                        let pos = self.loc().inside(path, text, at);
                        self.push(pos, 1, format!("unclosed '{{' in the message of {context} (write '{{{{' for a brace)"));
                        return None;
                    };
                    let name = &text[at + 1..at + close];
                    let trimmed = name.trim();
                    match questions.iter().position(|q| q.id == trimmed) {
                        Some(slot) => {
                            if !literal.is_empty() {
                                pieces.push(Piece::Text(std::mem::take(&mut literal)));
                            }
                            pieces.push(Piece::Answer(slot));
                        }
                        None => {
                            ok = false;
                            let hint =
                                did_you_mean(trimmed, questions.iter().map(|q| q.id.as_str()));
                            let pos = self.loc().inside(path, text, at + 1);
                            self.push(pos, name.chars().count().max(1), format!("unknown question '{trimmed}' in the message of {context}{hint}"));
                        }
                    }
                    while rest.peek().is_some_and(|&(j, _)| j <= at + close) {
                        rest.next();
                    }
                }
                '}' => {
                    let pos = self.loc().inside(path, text, at);
                    self.push(
                        pos,
                        1,
                        format!(
                            "unmatched '}}' in the message of {context} (write '}}}}' for a brace)"
                        ),
                    );
                    ok = false;
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        ok.then_some(pieces)
    }
}
