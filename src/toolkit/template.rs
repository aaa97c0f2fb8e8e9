//! `ketascreen rules template`: a blank intake that maps one-to-one onto the ruleset, so a
//! clinic can build its forms from it — the CSV header row (an `id` column, then every question
//! id in interview order), a JSON answers object with every answer `null`, or a YAML skeleton
//! with a comment above each answer giving the question, its type, unit, bounds, options and
//! skip condition. Every blank answer is unanswered, never "no": `check` on a blank template
//! is `incomplete`. Pure: renders text.

use std::fmt::Write as _;

use serde_json::{Map, Value as Json};

use crate::patient::ID_KEYS;
use crate::ruleset::{Kind, Question, Ruleset};

/// The template formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    Yaml,
    /// A REDCap data dictionary (`profile::redcap::template`).
    Redcap,
}

/// Renders a blank intake in a format.
pub fn render(ruleset: &Ruleset, format: Format) -> String {
    match format {
        Format::Csv => csv(ruleset),
        Format::Json => json(ruleset),
        Format::Yaml => yaml(ruleset),
        Format::Redcap => crate::profile::redcap::template(ruleset),
    }
}

fn csv(ruleset: &Ruleset) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let header = std::iter::once(ID_KEYS[0]).chain(ruleset.questions.iter().map(|q| q.id.as_str()));
    // Writing to memory cannot fail; an empty template is the worst case.
    let _ = w.write_record(header);
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

fn json(ruleset: &Ruleset) -> String {
    let mut map = Map::new();
    map.insert(ID_KEYS[0].to_string(), Json::Null);
    for q in &ruleset.questions {
        map.insert(q.id.clone(), Json::Null);
    }
    let mut text = serde_json::to_string_pretty(&Json::Object(map)).unwrap_or_default();
    text.push('\n');
    text
}

fn comment(out: &mut String, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "{}", format!("# {line}").trim_end());
    }
}

/// The question's type, unit and bounds: `integer in mmHg, from 50 to 300`.
fn type_line(q: &Question) -> String {
    let numeric = |kind: &str, min: Option<String>, max: Option<String>| {
        let mut line = kind.to_string();
        if let Some(unit) = &q.unit {
            let _ = write!(line, " in {unit}");
        }
        match (min, max) {
            (Some(lo), Some(hi)) => {
                let _ = write!(line, ", from {lo} to {hi}");
            }
            (Some(lo), None) => {
                let _ = write!(line, ", at least {lo}");
            }
            (None, Some(hi)) => {
                let _ = write!(line, ", at most {hi}");
            }
            (None, None) => {}
        }
        line
    };
    match &q.kind {
        Kind::YesNo => "yes_no: yes or no".to_string(),
        Kind::Integer { min, max } => numeric(
            "integer",
            min.map(|v| v.to_string()),
            max.map(|v| v.to_string()),
        ),
        Kind::Number { min, max } => numeric(
            "number",
            min.map(|v| v.to_string()),
            max.map(|v| v.to_string()),
        ),
        Kind::Choice(_) => "choice, one of:".to_string(),
        Kind::Text => "text (kept, never used by rules)".to_string(),
    }
}

fn yaml(ruleset: &Ruleset) -> String {
    let mut out = String::new();
    comment(
        &mut out,
        &format!(
            "Blank intake: {}\nruleset {} {} (sha256 {})\n\nWrite each answer after its colon. Leave it empty when it is not known: an empty\nanswer is unanswered, never \"no\", and can make the verdict incomplete.\nScreen it with: ketascreen check THIS_FILE",
            ruleset.title, ruleset.id, ruleset.version, ruleset.sha256
        ),
    );
    out.push('\n');
    comment(&mut out, "Patient identifier (optional; not an answer)");
    let _ = writeln!(out, "{}:", ID_KEYS[0]);
    let mut section: Option<&str> = None;
    for q in &ruleset.questions {
        if section != Some(q.section.as_str()) {
            section = Some(q.section.as_str());
            let _ = writeln!(
                out,
                "\n# ---------------------------------------- {}",
                q.section
            );
        }
        out.push('\n');
        comment(&mut out, &q.text);
        if let Some(help) = &q.help {
            comment(&mut out, &format!("Help: {help}"));
        }
        comment(&mut out, &type_line(q));
        if let Kind::Choice(options) = &q.kind {
            let width = options.iter().map(|o| o.id.len()).max().unwrap_or(0);
            for o in options {
                let _ = writeln!(out, "#   {:<width$}  {}", o.id, o.label);
            }
        }
        if let Some(cond) = &q.ask_if_text {
            comment(
                &mut out,
                &format!("Asked only if {cond}; otherwise leave it empty"),
            );
        }
        let _ = writeln!(out, "{}:", q.id);
    }
    out
}
