//! Lint warnings: what a ruleset may legally say but probably does not mean. A question no rule
//! or `ask_if` reads; a comparison that can never be true, or is true for every answer, given
//! the question's declared bounds or options (`age_years < 0` with `min: 0`); an `ask_if` that
//! reads a question asked later. Each is located at FILE:LINE:COL like a load error. Warnings
//! never stop a ruleset from loading; only `rules lint --deny-warnings` fails on them.
//!
//! Conditions keep no source positions once compiled, so the checks here re-parse each
//! condition's text and walk its syntax tree alongside the compiled `Cond` (the compiler maps
//! one to the other node for node): the tree gives the place, the compiled test gives the
//! typed meaning, and the verdict on each comparison comes from `Test::apply` itself.

use super::diag::{Diagnostic, Level};
use super::load::{load_str, LoadError, BUILTIN_NAME, BUILTIN_TEXT};
use super::locate::Locations;
use super::model::{Kind, Question, Ruleset, Severity, Slot};
use super::thresholds;
use crate::answers::{Seen, Value};
use crate::expr::{self, Ast, CmpOp, Cond, Lit, Span, Test, Truth};

/// Loads a ruleset from text and lints it: the ruleset and its warnings, or the load errors.
pub fn lint_str(text: &str, file: &str) -> Result<(Ruleset, Vec<Diagnostic>), LoadError> {
    let ruleset = load_str(text, file)?;
    let warnings = warnings(&ruleset, text, file);
    Ok((ruleset, warnings))
}

/// Lints the built-in ruleset.
pub fn lint_builtin() -> Result<(Ruleset, Vec<Diagnostic>), LoadError> {
    lint_str(BUILTIN_TEXT, BUILTIN_NAME)
}

/// The warnings for a loaded ruleset; `text` is the file it was loaded from, `file` its name.
pub fn warnings(ruleset: &Ruleset, text: &str, file: &str) -> Vec<Diagnostic> {
    let mut w = Warner {
        file,
        loc: Locations::index(text),
        out: Vec::new(),
    };
    w.unread_questions(ruleset);
    for (i, q) in ruleset.questions.iter().enumerate() {
        if let (Some(cond), Some(when)) = (&q.ask_if, &q.ask_if_text) {
            let path = format!("questions[{i}].ask_if");
            let context = format!("ask_if of question '{}'", q.id);
            let leaves = leaves_of(when, cond);
            w.comparisons(ruleset, &path, when, &leaves, &context);
            for leaf in &leaves {
                if leaf.slot > i {
                    let later = &ruleset.questions[leaf.slot].id;
                    w.push(
                        &path,
                        when,
                        leaf.name,
                        format!("{context} reads '{later}', which is asked later (move '{later}' above '{}')", q.id),
                    );
                }
            }
        }
    }
    let mut rule_leaves = Vec::with_capacity(ruleset.rules.len());
    for (i, rule) in ruleset.rules.iter().enumerate() {
        let path = format!("rules[{i}].when");
        let leaves = leaves_of(&rule.when_text, &rule.when);
        w.comparisons(
            ruleset,
            &path,
            &rule.when_text,
            &leaves,
            &format!("rule '{}'", rule.id),
        );
        rule_leaves.push(leaves);
    }
    w.thresholds(ruleset, &rule_leaves);
    w.can_only_say_eligible(ruleset);
    w.reserved_names(ruleset);
    w.ambiguous_labels(ruleset);
    w.conditions_never_true(ruleset);
    // A condition of one comparison that can never be true is reported once, as the error.
    let errors: Vec<(usize, usize)> = w
        .out
        .iter()
        .filter(|d| d.level == Level::Error)
        .map(|d| (d.line, d.column))
        .collect();
    w.out.retain(|d| {
        d.level == Level::Error
            || !d.message.contains("can never be true")
            || !errors.contains(&(d.line, d.column))
    });
    w.out.sort_by_key(|d| (d.line, d.column));
    w.out.dedup();
    w.out
}

/// One comparison of a condition: where it is written and what it tests.
#[derive(Debug, Clone, Copy)]
struct Leaf<'a> {
    /// The whole comparison, `age_years < 18`.
    span: Span,
    /// The question id on its left.
    name: Span,
    slot: Slot,
    test: &'a Test,
    /// Under an odd number of `not`s: the rule fires when this comparison is false.
    negated: bool,
}

/// The comparisons of a condition, each with its place in `text`.
fn leaves_of<'a>(text: &str, cond: &'a Cond) -> Vec<Leaf<'a>> {
    let mut out = Vec::new();
    if let Ok(ast) = expr::parse(text) {
        walk(&ast, cond, text, false, &mut out);
    }
    out
}

fn walk<'a>(ast: &Ast, cond: &'a Cond, text: &str, negated: bool, out: &mut Vec<Leaf<'a>>) {
    match (ast, cond) {
        (Ast::Or(a), Cond::Any(c)) | (Ast::And(a), Cond::All(c)) if a.len() == c.len() => {
            for (a, c) in a.iter().zip(c) {
                walk(a, c, text, negated, out);
            }
        }
        (Ast::Not(a), Cond::Not(c)) => walk(a, c, text, !negated, out),
        (Ast::Bare(name), Cond::Test { slot, test, .. }) => out.push(Leaf {
            span: name.span,
            name: name.span,
            slot: *slot,
            test,
            negated,
        }),
        (Ast::Cmp { lhs, rhs, .. }, Cond::Test { slot, test, .. }) => out.push(Leaf {
            span: Span {
                start: lhs.span.start,
                end: rhs.span().end,
            },
            name: lhs.span,
            slot: *slot,
            test,
            negated,
        }),
        (Ast::In { lhs, items, .. }, Cond::Test { slot, test, .. }) => {
            let last = items.last().map(|a| a.span().end).unwrap_or(lhs.span.end);
            let end = text
                .get(last..)
                .and_then(|rest| rest.find(']'))
                .map(|i| last + i + 1)
                .unwrap_or(last);
            out.push(Leaf {
                span: Span {
                    start: lhs.span.start,
                    end,
                },
                name: lhs.span,
                slot: *slot,
                test,
                negated,
            });
        }
        // The compiler maps the tree node for node; anything else is not a condition we made.
        _ => {}
    }
}

struct Warner<'a> {
    file: &'a str,
    loc: Locations,
    out: Vec<Diagnostic>,
}

impl Warner<'_> {
    /// A warning about the part `span` of the condition `text` at `path`.
    fn push(&mut self, path: &str, text: &str, span: Span, message: String) {
        let pos = self.loc.inside(path, text, span.start);
        let width = text
            .get(span.start..span.end)
            .map(|s| s.chars().count())
            .unwrap_or(1);
        self.warn(pos, width, message);
    }

    fn warn(&mut self, pos: Option<super::Pos>, width: usize, message: String) {
        let pos = pos.unwrap_or(super::Pos { line: 1, column: 1 });
        self.out.push(Diagnostic {
            level: Level::Warning,
            file: self.file.to_string(),
            line: pos.line,
            column: pos.column,
            width: width.max(1),
            message,
            source_line: self.loc.line_text(pos.line),
        });
    }

    fn error(&mut self, pos: Option<super::Pos>, width: usize, message: String) {
        self.warn(pos, width, message);
        if let Some(d) = self.out.last_mut() {
            d.level = Level::Error;
        }
    }

    /// No exclude or review rule at all (`rules: []` among them): every patient is eligible.
    fn can_only_say_eligible(&mut self, ruleset: &Ruleset) {
        if ruleset.rules.iter().any(|r| r.severity != Severity::Note) {
            return;
        }
        let pos = self.loc.key("rules").or_else(|| self.loc.value("rules"));
        self.error(
            pos,
            "rules".len(),
            format!(
                "ruleset '{}' has no exclude or review rule: it can only ever say eligible",
                ruleset.id
            ),
        );
    }

    /// A question or alias named like a key that carries the patient id or describes a saved
    /// record: its answer would be read as the id, or switch how the document is read.
    fn reserved_names(&mut self, ruleset: &Ruleset) {
        for (slot, q) in ruleset.questions.iter().enumerate() {
            let names = std::iter::once((format!("questions[{slot}].id"), &q.id)).chain(
                q.aliases
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (format!("questions[{slot}].aliases[{i}]"), a)),
            );
            for (path, name) in names {
                let lower = name.to_ascii_lowercase();
                if RESERVED.contains(&lower.as_str()) {
                    let pos = self.loc.value(&path);
                    self.error(
                        pos,
                        name.chars().count(),
                        format!(
                            "question '{}' is named '{name}', which names the patient id or a saved record's field in answers files and CSV headers: its answers would not be read as answers; rename it",
                            q.id
                        ),
                    );
                }
            }
        }
    }

    /// Options whose labels (or a label and another option's id) differ only in case: the
    /// answer typed or exported as that text could mean either.
    fn ambiguous_labels(&mut self, ruleset: &Ruleset) {
        for (slot, q) in ruleset.questions.iter().enumerate() {
            let Kind::Choice(options) = &q.kind else {
                continue;
            };
            for (i, a) in options.iter().enumerate() {
                let clash = options[..i].iter().find(|b| {
                    let label = a.label.trim();
                    label.eq_ignore_ascii_case(b.label.trim()) || label.eq_ignore_ascii_case(&b.id)
                });
                let clash = clash.or_else(|| {
                    options
                        .iter()
                        .take(i)
                        .find(|b| a.id.eq_ignore_ascii_case(b.label.trim()))
                });
                if let Some(b) = clash {
                    let pos = self
                        .loc
                        .value(&format!("questions[{slot}].options[{i}].label"))
                        .or_else(|| self.loc.value(&format!("questions[{slot}].options[{i}]")));
                    self.error(
                        pos,
                        a.label.chars().count(),
                        format!(
                            "options '{}' and '{}' of question '{}' are told apart only by case ('{}' / '{}'): an answer written that way could mean either; make the labels differ",
                            b.id, a.id, q.id, b.label, a.label
                        ),
                    );
                }
            }
        }
    }

    /// Whole conditions that no combination of answers makes true (`x >= 180 and x < 180`):
    /// an exclude or review rule that can never fire, or an `ask_if` that never lets its
    /// question be asked (hiding the rules that read it).
    fn conditions_never_true(&mut self, ruleset: &Ruleset) {
        for (i, rule) in ruleset.rules.iter().enumerate() {
            if can_be_true(ruleset, &rule.when) != Some(false) {
                continue;
            }
            let pos = self.loc.value(&format!("rules[{i}].when"));
            let message = format!(
                "condition '{}' of rule '{}' can never be true: the rule never fires",
                rule.when_text, rule.id
            );
            let width = rule.when_text.chars().count();
            if rule.severity == Severity::Note {
                self.warn(pos, width, message);
            } else {
                self.error(pos, width, format!("{message} ({} rule)", rule.severity));
            }
        }
        for (slot, q) in ruleset.questions.iter().enumerate() {
            let (Some(cond), Some(text)) = (&q.ask_if, &q.ask_if_text) else {
                continue;
            };
            if can_be_true(ruleset, cond) != Some(false) {
                continue;
            }
            let hidden: Vec<&str> = ruleset
                .rules
                .iter()
                .filter(|r| r.severity != Severity::Note && r.reads.contains(&slot))
                .map(|r| r.id.as_str())
                .collect();
            let pos = self.loc.value(&format!("questions[{slot}].ask_if"));
            let width = text.chars().count();
            if hidden.is_empty() {
                self.warn(
                    pos,
                    width,
                    format!(
                        "ask_if '{text}' of question '{}' can never be true: the question is never asked",
                        q.id
                    ),
                );
            } else {
                self.error(
                    pos,
                    width,
                    format!(
                        "ask_if '{text}' of question '{}' can never be true: the question is never asked, so it never counts in {} {}",
                        q.id,
                        if hidden.len() == 1 { "rule" } else { "rules" },
                        hidden.join(", ")
                    ),
                );
            }
        }
    }

    fn unread_questions(&mut self, ruleset: &Ruleset) {
        let mut read: Vec<Slot> = Vec::new();
        for rule in &ruleset.rules {
            rule.when.reads(&mut read);
        }
        for q in &ruleset.questions {
            if let Some(cond) = &q.ask_if {
                cond.reads(&mut read);
            }
        }
        for (slot, q) in ruleset.questions.iter().enumerate() {
            if q.kind != Kind::Text && !read.contains(&slot) {
                let pos = self.loc.value(&format!("questions[{slot}].id"));
                self.warn(
                    pos,
                    q.id.chars().count(),
                    format!(
                        "question '{}' is not read by any rule or ask_if: its answer never changes a verdict",
                        q.id
                    ),
                );
            }
        }
    }

    /// Overlapping and gapped numeric ranges between exclude/review rules (`thresholds`).
    fn thresholds(&mut self, ruleset: &Ruleset, rule_leaves: &[Vec<Leaf<'_>>]) {
        let plain: Vec<Vec<(Slot, &Test, bool)>> = rule_leaves
            .iter()
            .map(|ls| ls.iter().map(|l| (l.slot, l.test, l.negated)).collect())
            .collect();
        for finding in thresholds::findings(ruleset, &plain) {
            // Placed at the earlier rule's comparison; the later one's place is in the message.
            let first = match &finding {
                thresholds::Finding::Overlap { a, .. } => *a,
                thresholds::Finding::Gap { lower, upper, .. } => {
                    if lower.rule < upper.rule {
                        *lower
                    } else {
                        *upper
                    }
                }
            };
            let place = |t: &thresholds::Threshold| {
                let rule = &ruleset.rules[t.rule];
                let leaf = rule_leaves[t.rule][t.leaf];
                let path = format!("rules[{}].when", t.rule);
                let pos = self.loc.inside(&path, &rule.when_text, leaf.span.start);
                let written = rule
                    .when_text
                    .get(leaf.span.start..leaf.span.end)
                    .unwrap_or("")
                    .to_string();
                (path, leaf.span, pos, written)
            };
            let (path, span, _, _) = place(&first);
            let describe = |t: &thresholds::Threshold, with_place: bool| {
                let (_, _, pos, written) = place(t);
                let rule = &ruleset.rules[t.rule];
                let at = match (with_place, pos) {
                    (true, Some(p)) => format!(" at {}:{}:{}", self.file, p.line, p.column),
                    _ => String::new(),
                };
                format!("'{written}' in rule '{}' ({}){at}", rule.id, rule.severity)
            };
            let q = |t: &thresholds::Threshold| ruleset.questions[t.slot].id.clone();
            let message = match &finding {
                thresholds::Finding::Overlap { a, b, from, to } => {
                    let values = if (from - to).abs() < 1e-9 {
                        format!("{} = {}", q(a), from)
                    } else {
                        format!("{} from {} to {}", q(a), from, to)
                    };
                    format!(
                        "numeric ranges overlap: {} and {} both fire for {values}, and their conditions do not exclude each other (the stricter severity wins there); if the ranges should not overlap, add 'and not (...)' to one of them",
                        describe(a, false),
                        describe(b, true)
                    )
                }
                thresholds::Finding::Gap {
                    lower,
                    upper,
                    whole,
                    ..
                } => {
                    let values = match whole {
                        Some((x, y)) if x == y => format!("{} = {x} decides", q(lower)),
                        Some((x, y)) => format!("{} from {x} to {y} decide", q(lower)),
                        None if (lower.value - upper.value).abs() < 1e-9 => {
                            format!("{} = {} decides", q(lower), lower.value)
                        }
                        None => format!(
                            "{} between {} and {} decide",
                            q(lower),
                            lower.value,
                            upper.value
                        ),
                    };
                    let (x, y) = if first == *lower {
                        (describe(lower, false), describe(upper, true))
                    } else {
                        (describe(upper, false), describe(lower, true))
                    };
                    format!(
                        "numeric ranges leave a gap: {x} and {y} look meant to meet, but {values} neither rule"
                    )
                }
            };
            let text = ruleset.rules[first.rule].when_text.clone();
            self.push(&path, &text, span, message);
        }
    }

    fn comparisons(
        &mut self,
        ruleset: &Ruleset,
        path: &str,
        text: &str,
        leaves: &[Leaf<'_>],
        context: &str,
    ) {
        for leaf in leaves {
            let q = &ruleset.questions[leaf.slot];
            let Some(finding) = judge(q, leaf.test) else {
                continue;
            };
            let written = text.get(leaf.span.start..leaf.span.end).unwrap_or("");
            let message = match finding {
                Finding::Never(why) => {
                    format!("comparison '{written}' can never be true: {why} in {context}")
                }
                Finding::Always(why) => format!(
                    "comparison '{written}' is always true when answered: {why} in {context}"
                ),
            };
            self.push(path, text, leaf.span, message);
        }
    }
}

/// Names a question or alias may not have (compared case-insensitively): `id` and
/// `patient_id` carry the patient's id (documents and CSV headers), `schema` switches a
/// document to a saved record.
const RESERVED: [&str; 3] = ["id", "patient_id", "schema"];

/// How many combinations of answers `can_be_true` tries before it gives up.
const MAX_COMBINATIONS: usize = 200_000;

/// Whether some combination of answers (each question it reads answered with any allowed
/// value, unanswered, or skipped) makes the condition true; `None` when there are too many
/// combinations to try. Numeric questions are tried at their bounds and on both sides of
/// every number the condition compares them with, which is every case the comparisons can
/// tell apart.
fn can_be_true(ruleset: &Ruleset, cond: &Cond) -> Option<bool> {
    let mut reads = Vec::new();
    cond.reads(&mut reads);
    let mut choices: Vec<Vec<Option<Value>>> = Vec::new();
    let mut limits: Vec<usize> = Vec::new();
    let mut total: usize = 1;
    for &slot in &reads {
        let q = &ruleset.questions[slot];
        let mut numbers = Vec::new();
        literals_for(cond, slot, &mut numbers);
        let mut values: Vec<Option<Value>> =
            representatives(q, &numbers).into_iter().map(Some).collect();
        values.push(None);
        // Past the values: skipped, possible only for a question with an ask_if.
        let skippable = usize::from(q.ask_if.is_some());
        total = total.checked_mul(values.len() + skippable)?;
        if total > MAX_COMBINATIONS {
            return None;
        }
        choices.push(values);
        limits.push(skippable);
    }
    // Odometer over every combination; the extra index past `values` is "skipped".
    let mut at = vec![0usize; reads.len()];
    let mut fields: Vec<Seen<&Value>> = vec![Seen::Unanswered; ruleset.questions.len()];
    loop {
        for (k, &slot) in reads.iter().enumerate() {
            fields[slot] = match choices[k].get(at[k]) {
                Some(Some(v)) => Seen::Answered(v),
                Some(None) => Seen::Unanswered,
                None => Seen::Skipped,
            };
        }
        if cond.eval(&fields) == Truth::True {
            return Some(true);
        }
        let mut k = 0;
        loop {
            if k == at.len() {
                return Some(false);
            }
            at[k] += 1;
            if at[k] < choices[k].len() + limits[k] {
                break;
            }
            at[k] = 0;
            k += 1;
        }
    }
}

/// The numbers a condition compares question `slot` with.
fn literals_for(cond: &Cond, slot: Slot, out: &mut Vec<f64>) {
    match cond {
        Cond::Any(items) | Cond::All(items) => {
            items.iter().for_each(|c| literals_for(c, slot, out))
        }
        Cond::Not(inner) => literals_for(inner, slot, out),
        Cond::Test { slot: s, test, .. } if *s == slot => {
            let lits: &[Lit] = match test {
                Test::Cmp(_, lit) => std::slice::from_ref(lit),
                Test::In { lits, .. } => lits,
            };
            out.extend(lits.iter().filter_map(|l| match l {
                Lit::Number(n) => Some(*n),
                _ => None,
            }));
        }
        Cond::Test { .. } => {}
    }
}

/// Answers that stand for every case a condition can tell apart for this question.
fn representatives(q: &Question, numbers: &[f64]) -> Vec<Value> {
    match &q.kind {
        Kind::YesNo => vec![Value::YesNo(true), Value::YesNo(false)],
        Kind::Choice(options) => (0..options.len()).map(Value::Choice).collect(),
        Kind::Text => vec![Value::Text(String::new())],
        Kind::Integer { min, max } => {
            let mut points: Vec<i64> = Vec::new();
            for &n in numbers {
                if n.is_finite() && n.abs() < 9e15 {
                    let f = n.floor() as i64;
                    points.extend([f - 1, f, f + 1, f + 2]);
                }
            }
            points.extend(min.iter().chain(max.iter()).copied());
            points.push(min.or(*max).unwrap_or(0));
            points.retain(|v| min.is_none_or(|lo| *v >= lo) && max.is_none_or(|hi| *v <= hi));
            points.sort_unstable();
            points.dedup();
            points.into_iter().map(Value::Integer).collect()
        }
        Kind::Number { min, max } => {
            let mut points: Vec<f64> = Vec::new();
            for &n in numbers {
                let d = n.abs().max(1.0) * 1e-9;
                points.extend([n - d, n, n + d]);
            }
            points.extend(min.iter().chain(max.iter()).copied());
            points.push(min.or(*max).unwrap_or(0.0));
            points.retain(|v| {
                v.is_finite() && min.is_none_or(|lo| *v >= lo) && max.is_none_or(|hi| *v <= hi)
            });
            points.sort_by(f64::total_cmp);
            points.dedup();
            points.into_iter().map(Value::Number).collect()
        }
    }
}

/// What is wrong with a comparison, and why.
#[derive(Debug, Clone, PartialEq)]
enum Finding {
    Never(String),
    Always(String),
}

/// Judges a test against every answer the question allows: `None` when some answer makes it
/// true and some makes it false.
fn judge(q: &Question, test: &Test) -> Option<Finding> {
    let (can_true, can_false, why) = match &q.kind {
        Kind::YesNo => {
            let (t, f) = finite(test, [Value::YesNo(true), Value::YesNo(false)]);
            (t, f, format!("'{}' is answered yes or no", q.id))
        }
        Kind::Choice(options) => {
            let (t, f) = finite(test, (0..options.len()).map(Value::Choice));
            let ids: Vec<&str> = options.iter().map(|o| o.id.as_str()).collect();
            (
                t,
                f,
                format!("the options of '{}' are {}", q.id, ids.join(", ")),
            )
        }
        Kind::Integer { min, max } => {
            let d = Domain {
                lo: min.map(|v| v as f64),
                hi: max.map(|v| v as f64),
                whole: true,
            };
            let (t, f) = d.outcomes(test);
            let why = match q.bounds_text() {
                Some(b) => format!("'{}' is a whole number {b}", q.id),
                None => format!("'{}' is a whole number", q.id),
            };
            (t, f, why)
        }
        Kind::Number { min, max } => {
            let d = Domain {
                lo: *min,
                hi: *max,
                whole: false,
            };
            let (t, f) = d.outcomes(test);
            let why = match q.bounds_text() {
                Some(b) => format!("'{}' is {b}", q.id),
                None => format!("'{}' is any number", q.id),
            };
            (t, f, why)
        }
        Kind::Text => return None,
    };
    match (can_true, can_false) {
        (false, _) => Some(Finding::Never(why)),
        (true, false) => Some(Finding::Always(why)),
        (true, true) => None,
    }
}

/// Whether some value makes the test true, and whether some makes it false, by applying it.
fn finite(test: &Test, values: impl IntoIterator<Item = Value>) -> (bool, bool) {
    let (mut t, mut f) = (false, false);
    for v in values {
        match test.apply(Seen::Answered(&v)) {
            Truth::True => t = true,
            Truth::False => f = true,
            Truth::Unknown => {}
        }
    }
    (t, f)
}

/// The answers a numeric question allows: `[lo, hi]` (open where absent), whole numbers only
/// for integer questions.
#[derive(Debug, Clone, Copy)]
struct Domain {
    lo: Option<f64>,
    hi: Option<f64>,
    whole: bool,
}

impl Domain {
    /// Whether some allowed answer satisfies `v op n`.
    fn sat(&self, op: CmpOp, n: f64) -> bool {
        let lo_ok = |f: fn(f64, f64) -> bool| self.lo.is_none_or(|lo| f(lo, n));
        let hi_ok = |f: fn(f64, f64) -> bool| self.hi.is_none_or(|hi| f(hi, n));
        match op {
            // The bounds themselves are allowed answers (whole for integers: load checks it).
            CmpOp::Lt => lo_ok(|lo, n| lo < n),
            CmpOp::Le => lo_ok(|lo, n| lo <= n),
            CmpOp::Gt => hi_ok(|hi, n| hi > n),
            CmpOp::Ge => hi_ok(|hi, n| hi >= n),
            CmpOp::Eq => self.contains(n),
            CmpOp::Ne => !(self.lo == Some(n) && self.hi == Some(n)),
        }
    }

    fn contains(&self, n: f64) -> bool {
        self.lo.is_none_or(|lo| lo <= n)
            && self.hi.is_none_or(|hi| n <= hi)
            && (!self.whole || n.fract() == 0.0)
    }

    /// Whether some allowed answer differs from every one of `ns`.
    fn escapes(&self, ns: &[f64]) -> bool {
        let (Some(lo), Some(hi)) = (self.lo, self.hi) else {
            return true;
        };
        if self.whole {
            let mut inside: Vec<f64> = ns.iter().copied().filter(|n| self.contains(*n)).collect();
            inside.sort_by(f64::total_cmp);
            inside.dedup();
            (hi - lo + 1.0) > inside.len() as f64
        } else {
            lo < hi || !ns.contains(&lo)
        }
    }

    fn outcomes(&self, test: &Test) -> (bool, bool) {
        let numbers = |lits: &[Lit]| -> Vec<f64> {
            lits.iter()
                .filter_map(|l| match l {
                    Lit::Number(n) => Some(*n),
                    _ => None,
                })
                .collect()
        };
        match test {
            Test::Cmp(op, Lit::Number(n)) => (self.sat(*op, *n), self.sat(negate(*op), *n)),
            Test::In { negated, lits } => {
                let ns = numbers(lits);
                let hit = ns.iter().any(|n| self.contains(*n));
                let miss = self.escapes(&ns);
                if *negated {
                    (miss, hit)
                } else {
                    (hit, miss)
                }
            }
            // Not a numeric test (the type check rules it out): say nothing.
            Test::Cmp(..) => (true, true),
        }
    }
}

fn negate(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Eq => CmpOp::Ne,
        CmpOp::Ne => CmpOp::Eq,
        CmpOp::Lt => CmpOp::Ge,
        CmpOp::Le => CmpOp::Gt,
        CmpOp::Gt => CmpOp::Le,
        CmpOp::Ge => CmpOp::Lt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"ruleset:
  id: t
  version: 1
  title: T
  sources:
    s: Source
questions:
  - {id: age, section: A, text: Age?, type: integer, min: 0, max: 120}
  - {id: temp, section: A, text: Temp?, type: number, min: 35, max: 42}
  - {id: sud, section: A, text: SUD?, type: choice, options: [{id: none, label: None}, {id: current, label: Current}]}
  - {id: flag, section: A, text: Flag?, type: yes_no}
  - {id: notes, section: A, text: Notes, type: text}
rules:
"#;

    fn lint(rules: &str) -> Vec<String> {
        let text = format!("{BASE}{rules}");
        let (_, warnings) = lint_str(&text, "t.yaml").expect("loads");
        warnings.iter().map(|d| d.headline()).collect()
    }

    #[test]
    fn clean_conditions_give_no_warnings() {
        let w = lint("  - id: r\n    severity: review\n    when: age < 18 or temp > 38.5 or sud in [current] or flag\n    message: m\n    source: s\n");
        assert_eq!(w, Vec::<String>::new());
    }

    #[test]
    fn comparisons_that_never_or_always_hold_are_located() {
        let w = lint("  - id: r\n    severity: review\n    when: age < 0 or age <= 120 or temp > 42 or sud in [none, current] or flag != yes\n    message: m\n    source: s\n");
        assert_eq!(
            w,
            vec![
                "t.yaml:16:11: warning: comparison 'age < 0' can never be true: 'age' is a whole number between 0 and 120 in rule 'r'",
                "t.yaml:16:22: warning: comparison 'age <= 120' is always true when answered: 'age' is a whole number between 0 and 120 in rule 'r'",
                "t.yaml:16:36: warning: comparison 'temp > 42' can never be true: 'temp' is between 35 and 42 in rule 'r'",
                "t.yaml:16:49: warning: comparison 'sud in [none, current]' is always true when answered: the options of 'sud' are none, current in rule 'r'",
            ]
        );
    }

    #[test]
    fn unread_questions_and_later_ask_if_reads() {
        let text = BASE.replace(
            "type: integer, min: 0, max: 120}",
            "type: integer, min: 0, max: 120, ask_if: flag}",
        ) + "  - {id: r, severity: review, when: temp > 38, message: m, source: s}\n";
        let (_, warnings) = lint_str(&text, "t.yaml").expect("loads");
        let w: Vec<String> = warnings.iter().map(|d| d.headline()).collect();
        assert_eq!(
            w,
            vec![
                "t.yaml:8:10: warning: question 'age' is not read by any rule or ask_if: its answer never changes a verdict",
                "t.yaml:8:80: warning: ask_if of question 'age' reads 'flag', which is asked later (move 'flag' above 'age')",
                "t.yaml:10:10: warning: question 'sud' is not read by any rule or ask_if: its answer never changes a verdict",
            ]
        );
    }

    #[test]
    fn threshold_gaps_need_thresholds_one_unit_apart() {
        let rule = |id: &str, sev: &str, when: &str| {
            format!("  - {{id: {id}, severity: {sev}, when: {when}, message: m, source: s}}\n")
        };
        let lint = |rules: &str| -> Vec<String> {
            lint(rules)
                .into_iter()
                .filter(|w| w.contains("numeric ranges"))
                .collect()
        };
        // Decimal: answers above 37.9 and below 38 decide neither.
        let w = lint(&(rule("a", "review", "temp <= 37.9") + &rule("b", "exclude", "temp >= 38")));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].ends_with("look meant to meet, but temp between 37.9 and 38 decide neither rule"),
            "{w:?}"
        );
        // Whole numbers: the same literal twice leaves it out.
        let w = lint(&(rule("a", "review", "age < 65") + &rule("b", "review", "age > 65")));
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].ends_with("but age = 65 decides neither rule"), "{w:?}");
        // Two apart is a choice, not a slip; meeting exactly is no gap; notes are not compared.
        for rules in [
            rule("a", "review", "age < 64") + &rule("b", "exclude", "age >= 66"),
            rule("a", "review", "age <= 64") + &rule("b", "exclude", "age >= 65"),
            rule("a", "note", "age < 64") + &rule("b", "exclude", "age > 64"),
            rule("a", "review", "age > 30 and not (age >= 65)")
                + &rule("b", "exclude", "age >= 65"),
        ] {
            assert_eq!(lint(&rules), Vec::<String>::new(), "{rules}");
        }
        // Same severity overlapping is harmless; different severities are not.
        assert_eq!(
            lint(&(rule("a", "review", "age > 30") + &rule("b", "review", "age > 40"))),
            Vec::<String>::new()
        );
        assert_eq!(
            lint(&(rule("a", "review", "age > 30") + &rule("b", "exclude", "age > 40"))).len(),
            1
        );
    }

    #[test]
    fn domain_reasoning_matches_applying_the_test_to_every_allowed_answer() {
        // Integer 0..=5: enumerate and compare with the closed-form reasoning.
        let d = Domain {
            lo: Some(0.0),
            hi: Some(5.0),
            whole: true,
        };
        let ops = [
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::Lt,
            CmpOp::Le,
            CmpOp::Gt,
            CmpOp::Ge,
        ];
        for n in [-1.0, 0.0, 0.5, 2.0, 5.0, 5.5, 6.0] {
            for op in ops {
                let test = Test::Cmp(op, Lit::Number(n));
                let expected = finite(&test, (0..=5).map(Value::Integer));
                assert_eq!(d.outcomes(&test), expected, "{op} {n}");
            }
        }
        for lits in [
            vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
            vec![1.0, 9.0],
            vec![7.0],
        ] {
            for negated in [false, true] {
                let test = Test::In {
                    negated,
                    lits: lits.iter().map(|n| Lit::Number(*n)).collect(),
                };
                let expected = finite(&test, (0..=5).map(Value::Integer));
                assert_eq!(d.outcomes(&test), expected, "{negated} {lits:?}");
            }
        }
    }
}
