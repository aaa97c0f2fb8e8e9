//! The human view of a verdict, for a terminal: a banner (with URGENT when set, or URGENT NOT
//! KNOWN when an urgent rule is undecided), a table of the exclusions and referrals that fired
//! with what was found and the source, the missing answers, the notes, the answers that were
//! ignored because their question does not apply, input errors, and the ruleset it was decided
//! by. It fits the width it
//! is given (the terminal's, or 80 columns when stdout is not a terminal): free text is
//! wrapped at word boundaries with a hanging indent (`wrap`), and no id is ever cut.

use std::io::IsTerminal;

use comfy_table::{presets, ColumnConstraint, ContentArrangement, Table, Width};

use super::json::seen_json;
use super::wrap::{self, wrap_block};
use super::Record;
use crate::engine::{Reason, Status, Verdict};
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
            format!(
                "{}={}",
                ruleset.questions[*slot].id,
                wrap::printable(&shown)
            )
        })
        .collect();
    parts.join(", ")
}

/// The questions that would decide the undecided urgent rules, once each, in ruleset order.
pub fn urgent_unknown_questions<'r>(ruleset: &'r Ruleset, verdict: &Verdict) -> Vec<&'r str> {
    let mut slots: Vec<usize> = verdict
        .missing
        .iter()
        .filter(|m| ruleset.rules[m.rule].urgent)
        .flat_map(|m| m.questions.iter().copied())
        .collect();
    slots.sort_unstable();
    slots.dedup();
    slots
        .into_iter()
        .map(|s| ruleset.questions[s].id.as_str())
        .collect()
}

/// The banner line for a verdict whose urgency is not known:
/// `URGENT NOT KNOWN: suicidal_intent_or_plan unanswered — ask today`.
pub fn urgent_unknown_banner(ruleset: &Ruleset, verdict: &Verdict) -> String {
    format!(
        "URGENT NOT KNOWN: {} unanswered — ask today",
        urgent_unknown_questions(ruleset, verdict).join(", ")
    )
}

/// The width the table is laid out for: the terminal's when stdout is one; otherwise
/// `COLUMNS` when set (as shells export it), else 80 columns.
pub fn width() -> usize {
    let columns = if std::io::stdout().is_terminal() {
        crossterm::terminal::size().ok().map(|(w, _)| w)
    } else {
        std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse().ok())
    };
    wrap::usable(columns)
}

/// Paints every line of a wrapped block (so a colour never spans a line break).
fn paint_block(block: &str, code: &str, color: bool) -> String {
    block
        .lines()
        .map(|l| format!("{}\n", paint(l, code, color)))
        .collect()
}

/// Renders the record for a terminal as wide as stdout's (see `width`). `color` allows ANSI
/// colour.
pub fn render(ruleset: &Ruleset, record: &Record, color: bool) -> String {
    render_width(ruleset, record, color, width())
}

/// Renders the record for `width` columns: every line fits.
pub fn render_width(ruleset: &Ruleset, record: &Record, color: bool, width: usize) -> String {
    let w = width.max(wrap::MIN_WIDTH);
    let v = &record.verdict;
    let mut out = String::new();
    let code = match v.status {
        Status::Ineligible => "1;31",
        Status::Incomplete => "1;33",
        Status::Review => "1;35",
        Status::Eligible => "1;32",
    };
    if let Some(id) = &record.id {
        let id = wrap::printable(id);
        out.push_str(&wrap_block(&format!("Patient: {id}"), w, "", "  "));
    }
    out.push_str(&paint_block(
        &wrap_block(banner(v.status), w, "", "  "),
        code,
        color,
    ));
    if v.urgent {
        out.push_str(&paint_block(
            &wrap_block(
                "URGENT: same-day clinical attention needed (see the rules marked urgent)",
                w,
                "",
                "  ",
            ),
            "1;41;97",
            color,
        ));
    }
    if v.urgent_undecided {
        out.push_str(&paint_block(
            &wrap_block(&urgent_unknown_banner(ruleset, v), w, "", "  "),
            "1;41;97",
            color,
        ));
    }

    let decisive: Vec<&Reason> = v
        .reasons
        .iter()
        .filter(|r| r.severity != Severity::Note)
        .collect();
    if !decisive.is_empty() {
        out.push('\n');
        out.push_str(&reasons_table(ruleset, &decisive, w));
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
            let rule = &ruleset.rules[m.rule];
            let urgent = if rule.urgent { " (urgent)" } else { "" };
            out.push_str(&wrap_block(
                &format!("{}{urgent}: needs {}", rule.id, qs.join(", ")),
                w,
                "  - ",
                "    ",
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
            out.push_str(&wrap_block(
                &format!(
                    "{}: {} [{}]",
                    rule.id,
                    wrap::printable(&r.message),
                    rule.source
                ),
                w,
                "  - ",
                "    ",
            ));
        }
    }

    if !v.ignored.is_empty() {
        out.push_str(
            "\nIgnored answers (their questions do not apply to this patient; never used):\n",
        );
        for i in &v.ignored {
            let q = &ruleset.questions[i.question];
            out.push_str(&wrap_block(
                &format!(
                    "{} = {}: {}",
                    q.id,
                    wrap::printable(&i.value.display(q).to_string()),
                    i.because
                ),
                w,
                "  - ",
                "    ",
            ));
        }
    }

    if !record.errors.is_empty() {
        out.push_str("\nInput errors (these answers were treated as unanswered):\n");
        for e in &record.errors {
            out.push_str(&wrap_block(
                &format!(
                    "{} = {:?}: {}",
                    e.subject(),
                    e.value,
                    wrap::printable(&e.message)
                ),
                w,
                "  - ",
                "    ",
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
            out.push_str(&wrap_block(
                &format!("[{key}] {}", ruleset.source_citation(key).unwrap_or("")),
                w,
                "  ",
                "    ",
            ));
        }
    }
    out.push('\n');
    out.push_str(&wrap_block(
        &format!(
            "Ruleset {} {} (sha256 {}).",
            ruleset.id,
            ruleset.version,
            ruleset.sha256.get(..12).unwrap_or(&ruleset.sha256)
        ),
        w,
        "",
        "",
    ));
    if let Some(p) = &record.profile {
        out.push_str(&wrap_block(
            &format!(
                "Answers read through profile {} (sha256 {}).",
                p.id,
                p.sha256.get(..12).unwrap_or(&p.sha256)
            ),
            w,
            "",
            "",
        ));
    }
    out.push_str(&wrap_block(
        "Decision support only: the prescriber makes the treatment decision.",
        w,
        "",
        "",
    ));
    out
}

/// The exclusions and referrals that fired, as a table `w` columns wide: severity, rule, and
/// what was found (the message, the answers read, the source). The rule column is as wide as
/// the longest rule id, so no rule id is ever cut; the rest wraps at word boundaries.
fn reasons_table(ruleset: &Ruleset, decisive: &[&Reason], w: usize) -> String {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(u16::try_from(w).unwrap_or(u16::MAX))
        .set_header(vec!["Severity", "Rule", "What was found"]);
    let mut longest_id = 0;
    for r in decisive {
        let rule = &ruleset.rules[r.rule];
        let severity = if r.urgent {
            format!("{}\n(urgent)", r.severity)
        } else {
            r.severity.to_string()
        };
        let found = format!(
            "{}\nread: {}\nsource: {}",
            wrap::printable(&r.message),
            answers_read(ruleset, r),
            rule.source
        );
        longest_id = longest_id.max(wrap::width(&rule.id));
        table.add_row(vec![severity, rule.id.clone(), found]);
    }
    // Rule ids whole: the rule column is at least as wide as the longest. (A lower bound on
    // the last column would pin it to that bound: comfy-table treats it as its width.)
    if let Some(col) = table.column_mut(1) {
        col.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(
            u16::try_from(longest_id + 2).unwrap_or(u16::MAX),
        )));
    }
    table.to_string()
}
