//! `ketascreen rules diff OLD NEW`: what changed between two rulesets, as a reviewer reads it —
//! questions added, removed and changed (type, bounds, unit, options, skip condition, wording),
//! rules added, removed and changed (each changed condition old -> new with the comparisons and
//! thresholds that moved, severity, urgent, source, message), and sources. As text, Markdown
//! (for a change request) or JSON (`ketascreen.rules-diff/v1`). Pure: compares two loaded
//! rulesets and renders text; it says what changed, not what that does to patients (that is
//! `rules impact`).

use std::fmt::Write as _;

use serde::Serialize;

use super::conditions::{self, canonical, Comparison};
use super::show::{answer_summary, cell, code};
use crate::ruleset::{Kind, Question, Rule, Ruleset};

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

/// Which ruleset a side of the diff is.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub id: String,
    pub version: String,
    pub sha256: String,
    pub file: String,
}

impl Side {
    fn of(rs: &Ruleset) -> Self {
        Side {
            id: rs.id.clone(),
            version: rs.version.clone(),
            sha256: rs.sha256.clone(),
            file: rs.origin.clone(),
        }
    }
}

/// One field that changed; `None` where the field is absent on that side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

fn change(field: &str, old: Option<String>, new: Option<String>) -> Option<FieldChange> {
    (old != new).then(|| FieldChange {
        field: field.to_string(),
        old,
        new,
    })
}

/// A question present on one side only.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionEntry {
    pub id: String,
    pub section: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub answer: String,
    pub text: String,
    pub ask_if: Option<String>,
}

impl QuestionEntry {
    fn of(q: &Question) -> Self {
        QuestionEntry {
            id: q.id.clone(),
            section: q.section.clone(),
            kind: q.kind.name().to_string(),
            answer: answer_summary(q),
            text: q.text.clone(),
            ask_if: q.ask_if_text.as_deref().map(canonical),
        }
    }
}

/// A question on both sides, and what changed in it.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionChange {
    pub id: String,
    pub changes: Vec<FieldChange>,
}

/// A rule present on one side only.
#[derive(Debug, Clone, Serialize)]
pub struct RuleEntry {
    pub id: String,
    pub severity: String,
    pub urgent: bool,
    pub when: String,
    pub source: String,
    pub message: String,
}

impl RuleEntry {
    fn of(r: &Rule) -> Self {
        RuleEntry {
            id: r.id.clone(),
            severity: r.severity.to_string(),
            urgent: r.urgent,
            when: canonical(&r.when_text),
            source: r.source.clone(),
            message: r.message_text.clone(),
        }
    }
}

/// A comparison that changed inside a condition: same question, another operator or number.
#[derive(Debug, Clone, Serialize)]
pub struct Moved {
    pub old: String,
    pub new: String,
}

impl Moved {
    /// Whether this comparison is the whole condition on both sides (then the text and
    /// markdown forms do not repeat it).
    fn is_whole(&self, cond: &ConditionChange) -> bool {
        self.old == cond.old && self.new == cond.new
    }
}

/// How a rule's condition changed: the whole text old -> new, and the comparisons that moved,
/// were removed or were added (comparisons on both sides unchanged are not listed).
#[derive(Debug, Clone, Serialize)]
pub struct ConditionChange {
    pub old: String,
    pub new: String,
    pub moved: Vec<Moved>,
    pub removed: Vec<String>,
    pub added: Vec<String>,
}

/// A rule on both sides, and what changed in it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleChange {
    pub id: String,
    pub condition: Option<ConditionChange>,
    pub changes: Vec<FieldChange>,
}

/// A source on one side only.
#[derive(Debug, Clone, Serialize)]
pub struct SourceEntry {
    pub key: String,
    pub citation: String,
}

/// Added, removed and changed items of one kind.
#[derive(Debug, Clone, Serialize)]
pub struct Part<E, C> {
    pub added: Vec<E>,
    pub removed: Vec<E>,
    pub changed: Vec<C>,
}

impl<E, C> Part<E, C> {
    fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// Everything that differs between two rulesets.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub schema: &'static str,
    pub old: Side,
    pub new: Side,
    /// Ruleset-level fields that changed (id, version, title).
    pub ruleset: Vec<FieldChange>,
    pub questions: Part<QuestionEntry, QuestionChange>,
    pub rules: Part<RuleEntry, RuleChange>,
    pub sources: Part<SourceEntry, FieldChange>,
    /// What can change a verdict (see `Diff::deciding`), for programs.
    pub can_change_verdicts: Vec<Deciding>,
}

/// One kind of change that can alter verdicts, and the ids it touches.
#[derive(Debug, Clone, Serialize)]
pub struct Deciding {
    pub what: &'static str,
    pub ids: Vec<String>,
}

impl Diff {
    /// Whether the two rulesets say the same (the file may still differ, e.g. in comments).
    pub fn is_empty(&self) -> bool {
        self.ruleset
            .iter()
            .all(|c| c.field != "id" && c.field != "title")
            && self.questions.is_empty()
            && self.rules.is_empty()
            && self.sources.is_empty()
    }
}

/// Compares two rulesets.
pub fn diff(old: &Ruleset, new: &Ruleset) -> Diff {
    let ruleset = [
        change("id", Some(old.id.clone()), Some(new.id.clone())),
        change(
            "version",
            Some(old.version.clone()),
            Some(new.version.clone()),
        ),
        change("title", Some(old.title.clone()), Some(new.title.clone())),
    ]
    .into_iter()
    .flatten()
    .collect();

    let questions = Part {
        added: new
            .questions
            .iter()
            .filter(|q| old.slot(&q.id).is_none())
            .map(QuestionEntry::of)
            .collect(),
        removed: old
            .questions
            .iter()
            .filter(|q| new.slot(&q.id).is_none())
            .map(QuestionEntry::of)
            .collect(),
        changed: new
            .questions
            .iter()
            .filter_map(|n| {
                let o = &old.questions[old.slot(&n.id)?];
                let changes = question_changes(o, n);
                (!changes.is_empty()).then(|| QuestionChange {
                    id: n.id.clone(),
                    changes,
                })
            })
            .collect(),
    };

    let find = |rs: &'_ Ruleset, id: &str| rs.rules.iter().position(|r| r.id == id);
    let rules = Part {
        added: new
            .rules
            .iter()
            .filter(|r| find(old, &r.id).is_none())
            .map(RuleEntry::of)
            .collect(),
        removed: old
            .rules
            .iter()
            .filter(|r| find(new, &r.id).is_none())
            .map(RuleEntry::of)
            .collect(),
        changed: new
            .rules
            .iter()
            .filter_map(|n| {
                let o = &old.rules[find(old, &n.id)?];
                let c = rule_change(o, n);
                (c.condition.is_some() || !c.changes.is_empty()).then_some(c)
            })
            .collect(),
    };

    let citation = |rs: &'_ Ruleset, key: &str| rs.source_citation(key).map(str::to_string);
    let sources = Part {
        added: new
            .sources
            .iter()
            .filter(|(k, _)| citation(old, k).is_none())
            .map(|(k, c)| SourceEntry {
                key: k.clone(),
                citation: c.clone(),
            })
            .collect(),
        removed: old
            .sources
            .iter()
            .filter(|(k, _)| citation(new, k).is_none())
            .map(|(k, c)| SourceEntry {
                key: k.clone(),
                citation: c.clone(),
            })
            .collect(),
        changed: new
            .sources
            .iter()
            .filter_map(|(k, c)| {
                let before = citation(old, k)?;
                change(k, Some(before), Some(c.clone()))
            })
            .collect(),
    };

    let mut d = Diff {
        schema: "ketascreen.rules-diff/v1",
        old: Side::of(old),
        new: Side::of(new),
        ruleset,
        questions,
        rules,
        sources,
        can_change_verdicts: Vec::new(),
    };
    d.can_change_verdicts = d
        .deciding()
        .into_iter()
        .map(|(what, ids)| Deciding { what, ids })
        .collect();
    d
}

fn bounds(kind: &Kind) -> (Option<String>, Option<String>) {
    match kind {
        Kind::Integer { min, max } => (min.map(|v| v.to_string()), max.map(|v| v.to_string())),
        Kind::Number { min, max } => (min.map(conditions::number), max.map(conditions::number)),
        _ => (None, None),
    }
}

fn question_changes(o: &Question, n: &Question) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let s = |v: &str| Some(v.to_string());
    out.extend(change("type", s(o.kind.name()), s(n.kind.name())));
    let (omin, omax) = bounds(&o.kind);
    let (nmin, nmax) = bounds(&n.kind);
    out.extend(change("min", omin, nmin));
    out.extend(change("max", omax, nmax));
    out.extend(change("unit", o.unit.clone(), n.unit.clone()));
    let options = |k: &Kind| match k {
        Kind::Choice(options) => options.clone(),
        _ => Vec::new(),
    };
    let (oo, no) = (options(&o.kind), options(&n.kind));
    for opt in &no {
        match oo.iter().find(|x| x.id == opt.id) {
            None => out.extend(change(
                "option added",
                None,
                Some(format!("{}: {}", opt.id, opt.label)),
            )),
            Some(before) => out.extend(change(
                &format!("option {} label", opt.id),
                Some(before.label.clone()),
                Some(opt.label.clone()),
            )),
        }
    }
    for opt in &oo {
        if !no.iter().any(|x| x.id == opt.id) {
            out.extend(change(
                "option removed",
                Some(format!("{}: {}", opt.id, opt.label)),
                None,
            ));
        }
    }
    let ids = |v: &[crate::ruleset::ChoiceOption]| v.iter().map(|o| o.id.clone()).collect();
    let (oids, nids): (Vec<String>, Vec<String>) = (ids(&oo), ids(&no));
    if !oo.is_empty() && !no.is_empty() {
        let common_old: Vec<&String> = oids.iter().filter(|i| nids.contains(i)).collect();
        let common_new: Vec<&String> = nids.iter().filter(|i| oids.contains(i)).collect();
        if common_old != common_new {
            out.extend(change(
                "option order",
                Some(oids.join(", ")),
                Some(nids.join(", ")),
            ));
        }
    }
    out.extend(change(
        "ask_if",
        o.ask_if_text.as_deref().map(canonical),
        n.ask_if_text.as_deref().map(canonical),
    ));
    out.extend(change("section", s(&o.section), s(&n.section)));
    out.extend(change("text", s(&o.text), s(&n.text)));
    out.extend(change("help", o.help.clone(), n.help.clone()));
    for alias in &n.aliases {
        if !o.aliases.contains(alias) {
            out.extend(change("alias added", None, Some(alias.clone())));
        }
    }
    for alias in &o.aliases {
        if !n.aliases.contains(alias) {
            out.extend(change("alias removed", Some(alias.clone()), None));
        }
    }
    out
}

fn rule_change(o: &Rule, n: &Rule) -> RuleChange {
    let (ow, nw) = (canonical(&o.when_text), canonical(&n.when_text));
    let condition = (ow != nw).then(|| condition_change(&o.when_text, &n.when_text));
    let mut changes = Vec::new();
    let s = |v: &str| Some(v.to_string());
    changes.extend(change(
        "severity",
        s(o.severity.as_str()),
        s(n.severity.as_str()),
    ));
    changes.extend(change(
        "urgent",
        Some(o.urgent.to_string()),
        Some(n.urgent.to_string()),
    ));
    changes.extend(change("source", s(&o.source), s(&n.source)));
    changes.extend(change("message", s(&o.message_text), s(&n.message_text)));
    RuleChange {
        id: n.id.clone(),
        condition,
        changes,
    }
}

/// Pairs the comparisons of two conditions: those on both sides drop out; of the rest, those
/// on the same question pair up in order (a threshold or operator moved); what is left was
/// removed or added.
fn condition_change(old: &str, new: &str) -> ConditionChange {
    let mut o: Vec<Comparison> = conditions::comparisons(old);
    let mut n: Vec<Comparison> = conditions::comparisons(new);
    let mut i = 0;
    while i < o.len() {
        if let Some(j) = n.iter().position(|c| c.text == o[i].text) {
            o.remove(i);
            n.remove(j);
        } else {
            i += 1;
        }
    }
    let mut moved = Vec::new();
    let mut removed = Vec::new();
    for c in o {
        match n.iter().position(|x| x.question == c.question) {
            Some(j) => moved.push(Moved {
                old: c.text,
                new: n.remove(j).text,
            }),
            None => removed.push(c.text),
        }
    }
    ConditionChange {
        old: canonical(old),
        new: canonical(new),
        moved,
        removed,
        added: n.into_iter().map(|c| c.text).collect(),
    }
}

/// Renders the diff.
pub fn render(d: &Diff, format: Format) -> String {
    match format {
        Format::Text => text(d),
        Format::Markdown => markdown(d),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(d).unwrap_or_default();
            s.push('\n');
            s
        }
    }
}

/// Text from a ruleset for a terminal: control characters escaped.
fn clean(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn opt(v: &Option<String>) -> String {
    v.as_deref().map(clean).unwrap_or_else(|| "(none)".into())
}

/// Fields of a question that change how answers are read (labels and aliases are accepted as
/// input, units in cells) or when it is asked.
const DECIDING_QUESTION_FIELDS: [&str; 5] = ["type", "min", "max", "unit", "ask_if"];

impl Diff {
    /// What can change a verdict, as (what, ids): rules added or removed, conditions,
    /// severities and urgent flags changed, questions added, removed or read differently
    /// (type, bounds, unit, options, aliases, skip condition). Empty kinds are left out.
    pub fn deciding(&self) -> Vec<(&'static str, Vec<String>)> {
        let rule_ids = |e: &[RuleEntry]| e.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        let changed_rules = |field: &str| {
            self.rules
                .changed
                .iter()
                .filter(|c| c.changes.iter().any(|f| f.field == field))
                .map(|c| c.id.clone())
                .collect::<Vec<_>>()
        };
        let out = vec![
            ("rules added", rule_ids(&self.rules.added)),
            ("rules removed", rule_ids(&self.rules.removed)),
            (
                "conditions changed",
                self.rules
                    .changed
                    .iter()
                    .filter(|c| c.condition.is_some())
                    .map(|c| c.id.clone())
                    .collect(),
            ),
            ("severities changed", changed_rules("severity")),
            ("urgent flags changed", changed_rules("urgent")),
            (
                "questions added",
                self.questions.added.iter().map(|q| q.id.clone()).collect(),
            ),
            (
                "questions removed",
                self.questions
                    .removed
                    .iter()
                    .map(|q| q.id.clone())
                    .collect(),
            ),
            (
                "questions read differently (type, bounds, unit, options, aliases, ask_if)",
                self.questions
                    .changed
                    .iter()
                    .filter(|c| {
                        c.changes.iter().any(|f| {
                            DECIDING_QUESTION_FIELDS.contains(&f.field.as_str())
                                || f.field.starts_with("option ")
                                || f.field.starts_with("alias ")
                        })
                    })
                    .map(|c| c.id.clone())
                    .collect(),
            ),
        ];
        out.into_iter().filter(|(_, ids)| !ids.is_empty()).collect()
    }
}

fn counts<E, C>(p: &Part<E, C>, what: &str) -> String {
    format!(
        "{what}: {} added, {} removed, {} changed",
        p.added.len(),
        p.removed.len(),
        p.changed.len()
    )
}

fn summary(d: &Diff) -> String {
    [
        counts(&d.questions, "questions"),
        counts(&d.rules, "rules"),
        counts(&d.sources, "sources"),
    ]
    .join("; ")
}

/// A field change as text lines: short values on one line, long ones as - / + lines.
fn field_lines(c: &FieldChange, indent: &str, out: &mut String) {
    let (o, n) = (opt(&c.old), opt(&c.new));
    if o.chars().count() + n.chars().count() <= 60 {
        let _ = writeln!(out, "{indent}{}: {o} -> {n}", c.field);
    } else {
        let _ = writeln!(out, "{indent}{}:", c.field);
        if c.old.is_some() {
            let _ = writeln!(out, "{indent}  - {o}");
        }
        if c.new.is_some() {
            let _ = writeln!(out, "{indent}  + {n}");
        }
    }
}

fn urgent_text(urgent: bool) -> &'static str {
    if urgent {
        ", urgent"
    } else {
        ""
    }
}

fn text(d: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "ruleset {} {} -> {} {}",
        clean(&d.old.id),
        clean(&d.old.version),
        clean(&d.new.id),
        clean(&d.new.version)
    );
    let _ = writeln!(
        out,
        "  old: {} (sha256 {})",
        clean(&d.old.file),
        d.old.sha256
    );
    let _ = writeln!(
        out,
        "  new: {} (sha256 {})",
        clean(&d.new.file),
        d.new.sha256
    );
    for c in &d.ruleset {
        if c.field != "version" {
            field_lines(c, "  ", &mut out);
        }
    }
    if d.is_empty() {
        out.push_str("No differences in questions, rules or sources.\n");
        return out;
    }
    let _ = writeln!(out, "{}", summary(d));
    let deciding = d.deciding();
    if deciding.is_empty() {
        out.push_str("\nNothing that decides a verdict changed: wording, help texts, messages or sources only.\n");
    } else {
        out.push_str("\nWhat can change a verdict:\n");
        for (what, ids) in &deciding {
            let ids: Vec<String> = ids.iter().map(|i| clean(i)).collect();
            let _ = writeln!(out, "  {what}: {}", ids.join(", "));
        }
    }

    let q = &d.questions;
    if !q.added.is_empty() {
        let _ = writeln!(out, "\nQuestions added ({}):", q.added.len());
        for e in &q.added {
            question_entry(e, "+", &mut out);
        }
    }
    if !q.removed.is_empty() {
        let _ = writeln!(out, "\nQuestions removed ({}):", q.removed.len());
        for e in &q.removed {
            question_entry(e, "-", &mut out);
        }
    }
    if !q.changed.is_empty() {
        let _ = writeln!(out, "\nQuestions changed ({}):", q.changed.len());
        for c in &q.changed {
            let _ = writeln!(out, "  ~ {}", clean(&c.id));
            for f in &c.changes {
                field_lines(f, "      ", &mut out);
            }
        }
    }
    let r = &d.rules;
    if !r.added.is_empty() {
        let _ = writeln!(out, "\nRules added ({}):", r.added.len());
        for e in &r.added {
            rule_entry(e, "+", &mut out);
        }
    }
    if !r.removed.is_empty() {
        let _ = writeln!(out, "\nRules removed ({}):", r.removed.len());
        for e in &r.removed {
            rule_entry(e, "-", &mut out);
        }
    }
    if !r.changed.is_empty() {
        let _ = writeln!(out, "\nRules changed ({}):", r.changed.len());
        for c in &r.changed {
            let _ = writeln!(out, "  ~ {}", clean(&c.id));
            if let Some(cond) = &c.condition {
                let _ = writeln!(out, "      when:");
                let _ = writeln!(out, "        - {}", clean(&cond.old));
                let _ = writeln!(out, "        + {}", clean(&cond.new));
                for m in cond.moved.iter().filter(|m| !m.is_whole(cond)) {
                    let _ = writeln!(
                        out,
                        "        moved:   {} -> {}",
                        clean(&m.old),
                        clean(&m.new)
                    );
                }
                for x in &cond.removed {
                    let _ = writeln!(out, "        removed: {}", clean(x));
                }
                for x in &cond.added {
                    let _ = writeln!(out, "        added:   {}", clean(x));
                }
            }
            for f in &c.changes {
                field_lines(f, "      ", &mut out);
            }
        }
    }
    let s = &d.sources;
    if !s.added.is_empty() {
        let _ = writeln!(out, "\nSources added ({}):", s.added.len());
        for e in &s.added {
            let _ = writeln!(out, "  + {}: {}", clean(&e.key), clean(&e.citation));
        }
    }
    if !s.removed.is_empty() {
        let _ = writeln!(out, "\nSources removed ({}):", s.removed.len());
        for e in &s.removed {
            let _ = writeln!(out, "  - {}: {}", clean(&e.key), clean(&e.citation));
        }
    }
    if !s.changed.is_empty() {
        let _ = writeln!(out, "\nSources changed ({}):", s.changed.len());
        for c in &s.changed {
            let _ = writeln!(out, "  ~ {}", clean(&c.field));
            let _ = writeln!(out, "      - {}", opt(&c.old));
            let _ = writeln!(out, "      + {}", opt(&c.new));
        }
    }
    out
}

fn question_entry(e: &QuestionEntry, mark: &str, out: &mut String) {
    let _ = writeln!(
        out,
        "  {mark} {} ({}; {}): {}",
        clean(&e.id),
        clean(&e.section),
        clean(&e.answer),
        clean(&e.text)
    );
    if let Some(a) = &e.ask_if {
        let _ = writeln!(out, "      asked only if {}", clean(a));
    }
}

fn rule_entry(e: &RuleEntry, mark: &str, out: &mut String) {
    let _ = writeln!(
        out,
        "  {mark} {} ({}{}): {}  [source {}]",
        clean(&e.id),
        e.severity,
        urgent_text(e.urgent),
        clean(&e.when),
        clean(&e.source)
    );
}

fn md_opt(v: &Option<String>) -> String {
    v.as_deref().map(cell).unwrap_or_else(|| "*(none)*".into())
}

fn markdown(d: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Ruleset change: {} {} → {} {}\n",
        cell(&d.old.id),
        cell(&d.old.version),
        cell(&d.new.id),
        cell(&d.new.version)
    );
    out.push_str("| | Old | New |\n|---|---|---|\n");
    let _ = writeln!(
        out,
        "| Ruleset | {} {} | {} {} |",
        code(&d.old.id),
        cell(&d.old.version),
        code(&d.new.id),
        cell(&d.new.version)
    );
    let _ = writeln!(
        out,
        "| File | {} | {} |",
        cell(&d.old.file),
        cell(&d.new.file)
    );
    let _ = writeln!(
        out,
        "| SHA-256 | {} | {} |",
        code(&d.old.sha256),
        code(&d.new.sha256)
    );
    for c in d.ruleset.iter().filter(|c| c.field == "title") {
        let _ = writeln!(out, "| Title | {} | {} |", md_opt(&c.old), md_opt(&c.new));
    }
    if d.is_empty() {
        out.push_str("\nNo differences in questions, rules or sources.\n");
        return out;
    }
    let _ = writeln!(out, "\n{}.", summary(d));
    let deciding = d.deciding();
    if deciding.is_empty() {
        out.push_str("\nNothing that decides a verdict changed: wording, help texts, messages or sources only.\n");
    } else {
        out.push_str("\n**What can change a verdict:**\n\n");
        for (what, ids) in &deciding {
            let ids: Vec<String> = ids.iter().map(|i| code(i)).collect();
            let _ = writeln!(out, "- {what}: {}", ids.join(", "));
        }
    }

    let q = &d.questions;
    if !q.is_empty() {
        out.push_str("\n## Questions\n");
    }
    for (title, entries) in [("Added", &q.added), ("Removed", &q.removed)] {
        if entries.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### {title}\n");
        out.push_str("| Question | Section | Answer | Asked |\n|---|---|---|---|\n");
        for e in entries.iter() {
            let asked = e
                .ask_if
                .as_deref()
                .map(|a| format!("only if {}", code(a)))
                .unwrap_or_else(|| "always".into());
            let _ = writeln!(
                out,
                "| {}<br>{} | {} | {} | {asked} |",
                code(&e.id),
                cell(&e.text),
                cell(&e.section),
                cell(&e.answer)
            );
        }
    }
    if !q.changed.is_empty() {
        out.push_str("\n### Changed\n\n| Question | What | Old | New |\n|---|---|---|---|\n");
        for c in &q.changed {
            for f in &c.changes {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    code(&c.id),
                    cell(&f.field),
                    md_opt(&f.old),
                    md_opt(&f.new)
                );
            }
        }
    }

    let r = &d.rules;
    if !r.is_empty() {
        out.push_str("\n## Rules\n");
    }
    for (title, entries) in [("Added", &r.added), ("Removed", &r.removed)] {
        if entries.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### {title}\n");
        out.push_str("| Rule | Severity | Fires when | Source |\n|---|---|---|---|\n");
        for e in entries.iter() {
            let _ = writeln!(
                out,
                "| {} | {}{} | {} | {} |",
                code(&e.id),
                e.severity,
                urgent_text(e.urgent),
                code(&e.when),
                code(&e.source)
            );
        }
    }
    if !r.changed.is_empty() {
        out.push_str("\n### Changed\n\n| Rule | What | Old | New |\n|---|---|---|---|\n");
        for c in &r.changed {
            if let Some(cond) = &c.condition {
                let _ = writeln!(
                    out,
                    "| {} | condition | {} | {} |",
                    code(&c.id),
                    code(&cond.old),
                    code(&cond.new)
                );
                for m in cond.moved.iter().filter(|m| !m.is_whole(cond)) {
                    let _ = writeln!(
                        out,
                        "| {} | comparison moved | {} | {} |",
                        code(&c.id),
                        code(&m.old),
                        code(&m.new)
                    );
                }
                for x in &cond.removed {
                    let _ = writeln!(
                        out,
                        "| {} | comparison removed | {} | *(none)* |",
                        code(&c.id),
                        code(x)
                    );
                }
                for x in &cond.added {
                    let _ = writeln!(
                        out,
                        "| {} | comparison added | *(none)* | {} |",
                        code(&c.id),
                        code(x)
                    );
                }
            }
            for f in &c.changes {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    code(&c.id),
                    cell(&f.field),
                    md_opt(&f.old),
                    md_opt(&f.new)
                );
            }
        }
    }

    let s = &d.sources;
    if !s.is_empty() {
        out.push_str("\n## Sources\n\n| Source | Change | Old | New |\n|---|---|---|---|\n");
    }
    for e in &s.added {
        let _ = writeln!(
            out,
            "| {} | added | *(none)* | {} |",
            code(&e.key),
            cell(&e.citation)
        );
    }
    for e in &s.removed {
        let _ = writeln!(
            out,
            "| {} | removed | {} | *(none)* |",
            code(&e.key),
            cell(&e.citation)
        );
    }
    for c in &s.changed {
        let _ = writeln!(
            out,
            "| {} | citation changed | {} | {} |",
            code(&c.field),
            md_opt(&c.old),
            md_opt(&c.new)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condition_changes_pair_comparisons_by_question() {
        let c = condition_change(
            "systolic_bp > 140 or diastolic_bp > 90",
            "(systolic_bp >= 135) or diastolic_bp > 90 or flag",
        );
        assert_eq!(c.old, "systolic_bp > 140 or diastolic_bp > 90");
        assert_eq!(c.new, "systolic_bp >= 135 or diastolic_bp > 90 or flag");
        assert_eq!(c.moved.len(), 1);
        assert_eq!(
            (c.moved[0].old.as_str(), c.moved[0].new.as_str()),
            ("systolic_bp > 140", "systolic_bp >= 135")
        );
        assert!(c.removed.is_empty());
        assert_eq!(c.added, ["flag"]);
    }
}
