//! The one real `Asker`: inquire prompts drawn on stderr (inquire's crossterm backend writes
//! there), so stdout carries only the verdict. Typed answers are checked with
//! `answers::parse_text` — the same spellings `check` and `batch` accept — and an invalid one
//! is refused inline with the reason ("must be between 50 and 300 mmHg") and asked again.
//! Enter alone never answers for the nurse: a typed question needs text (or `?` for unknown),
//! and a list starts on "Unknown / not recorded". Esc pauses, Ctrl-C interrupts; the session
//! saves the draft either way. Colour only when allowed (terminal, no `NO_COLOR`, not dumb).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use comfy_table::{presets, ContentArrangement, Table};
use inquire::error::CustomUserError;
use inquire::ui::{Color, RenderConfig, Styled};
use inquire::validator::Validation;
use inquire::{InquireError, Select, Text};

use super::{shown, Ask, Asker, Interview, ReviewChoice, RowState, Stop};
use crate::answers::{parse_text, Value};
use crate::output::escape;
use crate::ruleset::{Kind, Question};

/// The entry of every choice list that records "unknown".
pub const UNKNOWN_OPTION: &str = "Unknown / not recorded";
/// The review step's two actions.
pub const CONFIRM: &str = "Confirm and show the verdict";
pub const CHANGE: &str = "Change an answer…";
/// The first entry of the "which answer" list.
pub const BACK: &str = "← Back to the review";

/// Prompts on the terminal.
pub struct Prompter {
    colour: bool,
    /// Set by a SIGINT that arrives between two prompts (during a prompt, Ctrl-C is a key).
    interrupted: Arc<AtomicBool>,
}

impl Prompter {
    pub fn new(colour: bool, interrupted: Arc<AtomicBool>) -> Self {
        Prompter {
            colour,
            interrupted,
        }
    }

    fn config(&self) -> RenderConfig<'static> {
        if self.colour {
            RenderConfig::default_colored()
                .with_canceled_prompt_indicator(Styled::new("<paused>").with_fg(Color::DarkYellow))
        } else {
            RenderConfig::empty()
                .with_answered_prompt_prefix(Styled::new(">"))
                .with_canceled_prompt_indicator(Styled::new("<paused>"))
        }
    }

    fn check_signal(&self) -> Result<(), Stop> {
        if self.interrupted.load(Ordering::SeqCst) {
            Err(Stop::Interrupted)
        } else {
            Ok(())
        }
    }

    fn bold(&self, text: &str) -> String {
        if self.colour {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// A typed answer: yes/no, numbers, text.
    fn typed(&self, ask: &Ask<'_>, message: &str, help: &str) -> Result<Option<Value>, Stop> {
        let q = ask.question;
        let validator = move |input: &str| -> Result<Validation, CustomUserError> {
            if input.trim().is_empty() && q.kind != Kind::Text {
                return Ok(Validation::Invalid(
                    "type an answer, or ? if it is not known".into(),
                ));
            }
            Ok(match parse_text(q, input) {
                Ok(_) => Validation::Valid,
                Err(e) => Validation::Invalid(e.message.into()),
            })
        };
        let formatter = move |input: &str| match parse_text(q, input) {
            Ok(Some(v)) => shown(q, &v),
            Ok(None) => "unknown".to_string(),
            Err(_) => input.to_string(),
        };
        let initial = match (ask.current, ask.changing) {
            (Some(v), _) => v.display(q).to_string(),
            (None, true) if q.kind != Kind::Text => "?".to_string(),
            (None, _) => String::new(),
        };
        let mut text = Text::new(message)
            .with_help_message(help)
            .with_validator(validator)
            .with_formatter(&formatter)
            .with_render_config(self.config());
        if !initial.is_empty() {
            text = text.with_initial_value(&initial);
        }
        let raw = text.prompt().map_err(stop)?;
        parse_text(q, &raw).map_err(|e| Stop::Failed(e.message))
    }

    /// A choice: its labels in a list, plus "Unknown / not recorded", where the cursor starts
    /// unless the question already has an answer.
    fn choice(&self, ask: &Ask<'_>, message: &str, help: &str) -> Result<Option<Value>, Stop> {
        let q = ask.question;
        let Kind::Choice(options) = &q.kind else {
            return Err(Stop::Failed(format!("{} is not a choice question", q.id)));
        };
        let mut labels: Vec<String> = options.iter().map(|o| o.label.clone()).collect();
        labels.push(UNKNOWN_OPTION.to_string());
        let unknown = options.len();
        let cursor = match ask.current {
            Some(Value::Choice(i)) if *i < options.len() => *i,
            _ => unknown,
        };
        let picked = Select::new(message, labels)
            .with_help_message(help)
            .with_starting_cursor(cursor)
            .with_page_size(12)
            .with_render_config(self.config())
            .raw_prompt()
            .map_err(stop)?;
        match options.get(picked.index) {
            Some(option) => parse_text(q, &option.id).map_err(|e| Stop::Failed(e.message)),
            None => Ok(None),
        }
    }
}

fn stop(err: InquireError) -> Stop {
    match err {
        InquireError::OperationInterrupted => Stop::Interrupted,
        InquireError::OperationCanceled => Stop::Paused,
        other => Stop::Failed(other.to_string()),
    }
}

/// The question as put to the nurse, with its unit when the text does not already say it.
fn message(q: &Question) -> String {
    match &q.unit {
        Some(unit) if !q.text.contains(unit.as_str()) => format!("{} ({unit})", q.text),
        _ => q.text.clone(),
    }
}

/// The line under the question: its help, what to type, the keys.
fn help_line(ask: &Ask<'_>) -> String {
    let q = ask.question;
    let keys = match &q.kind {
        Kind::YesNo => "y/n, ? = unknown".to_string(),
        Kind::Integer { .. } | Kind::Number { .. } => match q.bounds_text() {
            Some(b) => format!("{b}, ? = unknown"),
            None => "a number, ? = unknown".to_string(),
        },
        Kind::Choice(_) => "↑↓ then Enter, type to filter".to_string(),
        Kind::Text => "free text, Enter alone = nothing to add".to_string(),
    };
    let position = format!("{} of {}", ask.number, ask.total);
    match &q.help {
        Some(help) => format!("{help}\n{keys} | Esc = pause | {position}"),
        None => format!("{keys} | Esc = pause | {position}"),
    }
}

impl Asker for Prompter {
    fn patient_id(&mut self, current: Option<&str>) -> Result<Option<String>, Stop> {
        self.check_signal()?;
        let formatter = |input: &str| match input.trim() {
            "" => "(none)".to_string(),
            id => id.to_string(),
        };
        let mut text = Text::new("Patient id (optional):")
            .with_help_message("as on the referral | Enter alone = leave it out | Esc = pause")
            .with_formatter(&formatter)
            .with_render_config(self.config());
        if let Some(id) = current {
            text = text.with_initial_value(id);
        }
        let id = text.prompt().map_err(stop)?;
        let id = id.trim();
        Ok((!id.is_empty()).then(|| id.to_string()))
    }

    fn section(&mut self, title: &str) {
        eprintln!("\n{}", self.bold(&format!("── {title} ──")));
    }

    fn ask(&mut self, ask: Ask<'_>) -> Result<Option<Value>, Stop> {
        self.check_signal()?;
        let message = message(ask.question);
        let help = help_line(&ask);
        let value = match ask.question.kind {
            Kind::Choice(_) => self.choice(&ask, &message, &help),
            _ => self.typed(&ask, &message, &help),
        }?;
        self.check_signal()?;
        Ok(value)
    }

    fn review(&mut self, interview: &Interview<'_>) -> Result<ReviewChoice, Stop> {
        self.check_signal()?;
        eprintln!("\n{}", self.bold("── Review ──"));
        eprintln!("{}", review_table(interview, None));
        loop {
            let action = Select::new(
                "Are these answers right?",
                vec![CONFIRM.to_string(), CHANGE.to_string()],
            )
            .with_help_message("↑↓ then Enter | Esc = pause")
            .with_render_config(self.config())
            .raw_prompt()
            .map_err(stop)?;
            self.check_signal()?;
            if action.index == 0 {
                return Ok(ReviewChoice::Confirm);
            }
            let rows: Vec<_> = interview
                .review_rows()
                .into_iter()
                .filter(|r| !matches!(r.state, RowState::NotApplicable))
                .collect();
            let mut entries = vec![BACK.to_string()];
            entries.push(format!(
                "Patient id: {}",
                interview.id().map_or("(none)".into(), escape::text)
            ));
            entries.extend(rows.iter().map(|r| {
                format!(
                    "{}. {} = {}",
                    r.number,
                    r.question.id,
                    escape::text(&r.state.text())
                )
            }));
            let picked = Select::new("Which answer?", entries)
                .with_help_message("↑↓ or type to filter, then Enter | Esc = pause")
                .with_page_size(12)
                .with_render_config(self.config())
                .raw_prompt()
                .map_err(stop)?;
            self.check_signal()?;
            match picked.index {
                0 => continue,
                1 => return Ok(ReviewChoice::ChangeId),
                i => {
                    if let Some(row) = rows.get(i - 2) {
                        return Ok(ReviewChoice::Change(row.slot));
                    }
                }
            }
        }
    }
}

/// The review table: every question in asking order with what was recorded, grouped by
/// section. `width` fixes the width (tests); `None` fits the terminal on stderr.
pub fn review_table(interview: &Interview<'_>, width: Option<u16>) -> String {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec!["Section", "#", "Question", "Answer"]);
    match width {
        Some(w) => {
            table.set_width(w);
        }
        None => {
            table.use_stderr();
            if table.width().is_none() {
                table.set_width(100);
            }
        }
    }
    let mut section = "";
    for row in interview.review_rows() {
        let title = row.question.section.as_str();
        let shown_section = if title == section { "" } else { title };
        section = title;
        table.add_row(vec![
            shown_section.to_string(),
            row.number.to_string(),
            row.question.id.clone(),
            escape::text(&row.state.text()).into_owned(),
        ]);
    }
    let id = interview.id().map_or("(none)".into(), escape::text);
    format!("Patient id: {id}\n{table}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::parse_text;
    use crate::ruleset::load_str;

    #[test]
    fn the_review_table_shows_every_question_by_section_with_what_was_recorded() {
        let rs = load_str(
            r#"
ruleset: {id: t, version: 1, title: T, sources: {s: S}}
questions:
  - {id: age_years, section: Patient, text: Age?, type: integer, unit: years, min: 0, max: 120}
  - {id: systolic_bp, section: Vital signs, text: SBP?, type: integer, unit: mmHg, min: 50, max: 300}
  - {id: pregnancy_status, section: Pregnancy, text: Pregnancy?, type: choice, options: [{id: not_applicable, label: Cannot become pregnant}, {id: pregnant, label: Pregnant}]}
  - {id: breastfeeding, section: Pregnancy, text: Feeding?, type: yes_no, ask_if: pregnancy_status != not_applicable}
rules:
  - {id: r, severity: review, when: systolic_bp > 140, message: m, source: s}
"#,
            "t.yaml",
        )
        .expect("loads");
        let mut iv = Interview::new(&rs);
        iv.set_id(Some("P-1".into()));
        for (id, raw) in [
            ("age_years", "45"),
            ("systolic_bp", "?"),
            ("pregnancy_status", "not_applicable"),
        ] {
            let slot = rs.slot(id).expect("id");
            iv.record(slot, parse_text(&rs.questions[slot], raw).expect("valid"));
        }
        assert_eq!(
            review_table(&iv, Some(80)),
            "Patient id: P-1
┌─────────────┬───┬──────────────────┬────────────────────────┐
│ Section     ┆ # ┆ Question         ┆ Answer                 │
╞═════════════╪═══╪══════════════════╪════════════════════════╡
│ Patient     ┆ 1 ┆ age_years        ┆ 45 years               │
│ Vital signs ┆ 2 ┆ systolic_bp      ┆ unknown                │
│ Pregnancy   ┆ 3 ┆ pregnancy_status ┆ Cannot become pregnant │
│             ┆ 4 ┆ breastfeeding    ┆ (does not apply)       │
└─────────────┴───┴──────────────────┴────────────────────────┘"
        );
    }
}
