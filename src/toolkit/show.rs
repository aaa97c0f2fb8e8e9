//! `ketascreen rules show`: the whole ruleset as a document a clinician reviews and signs off —
//! its identity (id, version, SHA-256 of the file), the questions by section with their
//! answer types, units, bounds, options and skip conditions, every rule with its severity,
//! urgency, condition, message and source, and the full citations. As a terminal table or as
//! Markdown. Pure: renders a loaded ruleset to text, decides nothing.

use std::fmt::Write as _;

use comfy_table::{presets, ColumnConstraint, ContentArrangement, Table, Width};

use crate::ruleset::{Kind, Question, Ruleset, Severity};

/// The document formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Markdown,
}

/// What a question accepts, in one line: `integer, between 50 and 300 mmHg`.
pub fn answer_summary(q: &Question) -> String {
    match &q.kind {
        Kind::YesNo => "yes or no".to_string(),
        Kind::Integer { .. } | Kind::Number { .. } => {
            let kind = if matches!(q.kind, Kind::Integer { .. }) {
                "whole number"
            } else {
                "number"
            };
            match (q.bounds_text(), &q.unit) {
                (Some(b), _) => format!("{kind}, {b}"),
                (None, Some(unit)) => format!("{kind}, in {unit}"),
                (None, None) => kind.to_string(),
            }
        }
        Kind::Choice(options) => format!("one of {} options", options.len()),
        Kind::Text => "free text (kept, never used by rules)".to_string(),
    }
}

/// When the question is asked: `always`, or `only if CONDITION`.
pub fn asked_text(q: &Question) -> String {
    match &q.ask_if_text {
        Some(cond) => format!("only if {cond}"),
        None => "always".to_string(),
    }
}

/// Sections in the order they first appear, each with its questions in order.
fn sections(ruleset: &Ruleset) -> Vec<(&str, Vec<&Question>)> {
    let mut out: Vec<(&str, Vec<&Question>)> = Vec::new();
    for q in &ruleset.questions {
        match out.iter_mut().find(|(s, _)| *s == q.section) {
            Some((_, qs)) => qs.push(q),
            None => out.push((q.section.as_str(), vec![q])),
        }
    }
    out
}

fn counts(ruleset: &Ruleset) -> String {
    let n = |s: Severity| ruleset.rules.iter().filter(|r| r.severity == s).count();
    let urgent = ruleset.rules.iter().filter(|r| r.urgent).count();
    format!(
        "{} questions in {} sections; {} rules ({} exclude, {} review, {} note; {} urgent); {} sources",
        ruleset.questions.len(),
        sections(ruleset).len(),
        ruleset.rules.len(),
        n(Severity::Exclude),
        n(Severity::Review),
        n(Severity::Note),
        urgent,
        ruleset.sources.len()
    )
}

fn severity_text(severity: Severity, urgent: bool) -> String {
    if urgent {
        format!("{severity}, urgent")
    } else {
        severity.to_string()
    }
}

/// Renders the document.
pub fn render(ruleset: &Ruleset, format: Format) -> String {
    match format {
        Format::Table => table(ruleset),
        Format::Markdown => markdown(ruleset),
    }
}

const SIGN_OFF: &str = "Reviewed and approved for use by (name, role): ______________________________   Date: ____________";

fn new_table(header: Vec<&str>) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    crate::output::fit_width(&mut t, 110);
    t
}

/// Keeps column `index` at least `chars` wide (plus its padding), so ids do not wrap.
fn keep_at_least(t: &mut Table, index: usize, chars: usize) {
    let width = u16::try_from(chars + 2).unwrap_or(u16::MAX);
    if let Some(column) = t.column_mut(index) {
        column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(width)));
    }
}

fn table(ruleset: &Ruleset) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", ruleset.title);
    let _ = writeln!(out, "  ruleset  {}", ruleset.id);
    let _ = writeln!(out, "  version  {}", ruleset.version);
    let _ = writeln!(out, "  sha256   {}", ruleset.sha256);
    let _ = writeln!(out, "  file     {}", ruleset.origin);
    let _ = writeln!(out, "  {}", counts(ruleset));

    out.push_str("\nQUESTIONS (in interview order)\n");
    for (section, questions) in sections(ruleset) {
        let _ = writeln!(out, "\n{section}");
        let mut t = new_table(vec!["Question", "Answer", "Asked"]);
        // Ids are never broken across lines.
        let id_width = questions
            .iter()
            .map(|q| q.id.chars().count())
            .max()
            .unwrap_or(0);
        keep_at_least(&mut t, 0, id_width);
        for q in questions {
            let mut question = format!("{}\n{}", q.id, q.text);
            if let Some(help) = &q.help {
                let _ = write!(question, "\nHelp: {help}");
            }
            if !q.aliases.is_empty() {
                let _ = write!(question, "\nAlso accepted as: {}", q.aliases.join(", "));
            }
            let mut answer = answer_summary(q);
            if let Kind::Choice(options) = &q.kind {
                for o in options {
                    let _ = write!(answer, "\n- {}: {}", o.id, o.label);
                }
            }
            t.add_row(vec![question, answer, asked_text(q)]);
        }
        let _ = writeln!(out, "{t}");
    }

    out.push_str("\nRULES (in ruleset order; exclude -> ineligible, review -> review, note -> information only)\n\n");
    for rule in &ruleset.rules {
        let _ = writeln!(
            out,
            "{}  ({})\n  when     {}\n  message  {}\n  source   {}\n",
            rule.id,
            severity_text(rule.severity, rule.urgent),
            rule.when_text,
            rule.message_text,
            rule.source
        );
    }
    out.push_str("SOURCES\n\n");
    let mut t = new_table(vec!["Source", "Citation"]);
    let key_width = ruleset
        .sources
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    keep_at_least(&mut t, 0, key_width);
    for (key, citation) in &ruleset.sources {
        t.add_row(vec![key.clone(), citation.clone()]);
    }
    let _ = writeln!(out, "{t}");
    let _ = writeln!(out, "\n{SIGN_OFF}");
    out
}

/// Text for a Markdown table cell: pipes escaped, `<` kept from starting HTML, line breaks as `<br>`.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('\n', "<br>")
}

/// Inline code for a table cell (`|` must be escaped even inside backticks).
fn code(text: &str) -> String {
    let text = text.replace('|', "\\|").replace('\n', " ");
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

fn markdown(ruleset: &Ruleset) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", cell(&ruleset.title));
    out.push_str("| | |\n|---|---|\n");
    let _ = writeln!(out, "| Ruleset | {} |", code(&ruleset.id));
    let _ = writeln!(out, "| Version | {} |", cell(&ruleset.version));
    let _ = writeln!(out, "| SHA-256 | {} |", code(&ruleset.sha256));
    let _ = writeln!(out, "| File | {} |", cell(&ruleset.origin));
    let _ = writeln!(out, "| Contents | {} |", cell(&counts(ruleset)));

    out.push_str("\n## Questions\n\nIn interview order.\n");
    for (section, questions) in sections(ruleset) {
        let _ = writeln!(out, "\n### {}\n", cell(section));
        out.push_str("| Question | Answer | Asked |\n|---|---|---|\n");
        for q in questions {
            let mut question = format!("{}<br>{}", code(&q.id), cell(&q.text));
            if let Some(help) = &q.help {
                let _ = write!(question, "<br>*Help:* {}", cell(help));
            }
            if !q.aliases.is_empty() {
                let aliases: Vec<String> = q.aliases.iter().map(|a| code(a)).collect();
                let _ = write!(question, "<br>Also accepted as: {}", aliases.join(", "));
            }
            let mut answer = cell(&answer_summary(q));
            if let Kind::Choice(options) = &q.kind {
                answer.push(':');
                for o in options {
                    let _ = write!(answer, "<br>{}: {}", code(&o.id), cell(&o.label));
                }
            }
            let asked = match &q.ask_if_text {
                Some(cond) => format!("only if {}", code(cond)),
                None => "always".to_string(),
            };
            let _ = writeln!(out, "| {question} | {answer} | {asked} |");
        }
    }

    out.push_str("\n## Rules\n\nIn ruleset order. `exclude` makes the verdict ineligible, `review` refers to the prescriber, `note` is information only; `urgent` asks for same-day clinical attention.\n\n");
    out.push_str("| Rule | Severity | Fires when | Message | Source |\n|---|---|---|---|---|\n");
    for rule in &ruleset.rules {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            code(&rule.id),
            severity_text(rule.severity, rule.urgent),
            code(&rule.when_text),
            cell(&rule.message_text),
            code(&rule.source)
        );
    }

    out.push_str("\n## Sources\n\n");
    for (key, citation) in &ruleset.sources {
        let _ = writeln!(
            out,
            "- {}: {}",
            code(key),
            citation.replace('<', "&lt;").replace('\n', " ")
        );
    }
    let _ = writeln!(out, "\n## Sign-off\n\n{SIGN_OFF}");
    out
}
