//! The human view of a verdict, for a terminal: a banner (with URGENT when set), a table of
//! the exclusions and referrals that fired with what was found and the source, the missing
//! answers, the notes, input errors, and the ruleset it was decided by.

use comfy_table::{presets, ContentArrangement, Table};

use super::escape;
use super::json::seen_json;
use super::Record;
use crate::engine::{Reason, Status};
use crate::ruleset::{Ruleset, Severity};

/// The one-line meaning of each verdict.
pub fn banner(status: Status) -> &'static str {
    match status {
        Status::Ineligible => "INELIGIBLE: an exclusion applies; not a candidate now",
        Status::Incomplete => "INCOMPLETE: answers are missing that could change the verdict",
        Status::Review => "REVIEW: refer to the prescriber before treatment",
        Status::Eligible => {
            "ELIGIBLE: no contraindication found; candidate pending the prescriber's evaluation"
        }
    }
}

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn answers_read(ruleset: &Ruleset, reason: &Reason) -> String {
    let parts: Vec<String> = reason
        .answers
        .iter()
        .map(|(slot, seen)| {
            let shown = match seen_json(ruleset, *slot, seen) {
                serde_json::Value::Null => "unanswered".to_string(),
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            format!("{}={}", ruleset.questions[*slot].id, escape::text(&shown))
        })
        .collect();
    parts.join(", ")
}

/// Renders the record for a terminal. `color` allows ANSI colour.
pub fn render(ruleset: &Ruleset, record: &Record, color: bool) -> String {
    let v = &record.verdict;
    let mut out = String::new();
    let code = match v.status {
        Status::Ineligible => "1;31",
        Status::Incomplete => "1;33",
        Status::Review => "1;35",
        Status::Eligible => "1;32",
    };
    if let Some(id) = &record.id {
        out.push_str(&format!("Patient: {}\n", escape::text(id)));
    }
    out.push_str(&paint(banner(v.status), code, color));
    out.push('\n');
    if v.urgent {
        out.push_str(&paint(
            "URGENT: same-day clinical attention needed (see the rules marked urgent)",
            "1;41;97",
            color,
        ));
        out.push('\n');
    }

    let decisive: Vec<&Reason> = v
        .reasons
        .iter()
        .filter(|r| r.severity != Severity::Note)
        .collect();
    if !decisive.is_empty() {
        let mut table = Table::new();
        table
            .load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(vec!["Severity", "Rule", "What was found", "Source"]);
        if table.width().is_none() {
            table.set_width(110);
        }
        for r in decisive {
            let rule = &ruleset.rules[r.rule];
            let severity = if r.urgent {
                format!("{} (urgent)", r.severity)
            } else {
                r.severity.to_string()
            };
            let found = format!(
                "{}\nread: {}",
                escape::text(&r.message),
                answers_read(ruleset, r)
            );
            table.add_row(vec![severity, rule.id.clone(), found, rule.source.clone()]);
        }
        out.push('\n');
        out.push_str(&table.to_string());
        out.push('\n');
    }

    if !v.missing.is_empty() {
        out.push_str("\nMissing answers (each could change the verdict):\n");
        for m in &v.missing {
            let qs: Vec<&str> = m
                .questions
                .iter()
                .map(|&s| ruleset.questions[s].id.as_str())
                .collect();
            out.push_str(&format!(
                "  - {}: needs {}\n",
                ruleset.rules[m.rule].id,
                qs.join(", ")
            ));
        }
    }

    let notes: Vec<&Reason> = v
        .reasons
        .iter()
        .filter(|r| r.severity == Severity::Note)
        .collect();
    if !notes.is_empty() {
        out.push_str("\nNotes:\n");
        for r in notes {
            let rule = &ruleset.rules[r.rule];
            out.push_str(&format!(
                "  - {}: {} [{}]\n",
                rule.id,
                escape::text(&r.message),
                rule.source
            ));
        }
    }

    if !record.errors.is_empty() {
        out.push_str("\nInput errors (these answers were treated as unanswered):\n");
        for e in &record.errors {
            out.push_str(&format!(
                "  - {} = {:?}: {}\n",
                e.question,
                e.value,
                escape::text(&e.message)
            ));
        }
    }

    let cited: Vec<&str> = {
        let mut keys: Vec<&str> = v
            .reasons
            .iter()
            .map(|r| ruleset.rules[r.rule].source.as_str())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    };
    if !cited.is_empty() {
        out.push_str("\nSources:\n");
        for key in cited {
            out.push_str(&format!(
                "  [{key}] {}\n",
                ruleset.source_citation(key).unwrap_or("")
            ));
        }
    }
    out.push_str(&format!(
        "\nRuleset {} {} (sha256 {}). Decision support only: the prescriber makes the treatment decision.\n",
        ruleset.id,
        ruleset.version,
        ruleset.sha256.get(..12).unwrap_or(&ruleset.sha256)
    ));
    out
}
