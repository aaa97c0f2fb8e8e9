//! The intake nurse's interview: walk the ruleset's questions one at a time, skip those whose
//! `ask_if` is false given the answers so far, show a review of every answer (any of which can
//! be changed), and only then hand the answers to the engine for the verdict.
//!
//! The walk (`walk`, over an `Interview` state) knows nothing of terminals: it talks to an
//! `Asker`, so it is unit-tested with scripted answers. `prompt` is the one real `Asker`, drawn
//! on stderr with our own line editor (`line`: the keys, `screen`: the drawing); `draft` saves
//! and reloads unfinished interviews; `session` is the front end that ties them to the command
//! line. Deciding stays in `engine`; rendering the verdict stays in `output`.

pub mod draft;
pub mod line;
pub mod prompt;
pub mod screen;
pub mod session;

use crate::answers::{Answers, Seen, Value};
use crate::engine;
use crate::ruleset::{Kind, Question, Ruleset, Slot};

pub use session::{run, Options};

/// Why the walk stopped before the verdict. Whatever was answered is kept in the `Interview`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl-C.
    Interrupted,
    /// Esc: the nurse paused the interview.
    Paused,
    /// The terminal failed (closed, unreadable); the message says how.
    Failed(String),
}

/// What the nurse chose at the review step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewChoice {
    /// The answers are right: show the verdict.
    Confirm,
    /// Change the answer to this question.
    Change(Slot),
    /// Change the patient id.
    ChangeId,
}

/// One question as it is put to the nurse.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub slot: Slot,
    pub question: &'a Question,
    /// The answer given before, when the question is being changed.
    pub current: Option<&'a Value>,
    /// True when the nurse already went through this question (changing an answer): then a
    /// `current` of `None` means it was answered "unknown".
    pub changing: bool,
    /// 1-based position among the questions that apply, and how many apply so far.
    pub number: usize,
    pub total: usize,
    /// Whether there is a question (or the patient id) to go back to.
    pub can_go_back: bool,
}

/// The nurse's reply to one question.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// An answer; `None` is "unknown".
    Answer(Option<Value>),
    /// Back to the previous question (`back`, ↑ or PgUp).
    Back,
}

/// The questions put to the nurse. `Err` stops the walk; every answer given so far is kept.
pub trait Asker {
    /// The optional patient id, asked once at the start of a new interview.
    fn patient_id(&mut self, current: Option<&str>) -> Result<Option<String>, Stop>;
    /// A new section of questions begins.
    fn section(&mut self, title: &str);
    /// One question: an answer, or back to the previous question.
    fn ask(&mut self, ask: Ask<'_>) -> Result<Reply, Stop>;
    /// The review of every answer before the verdict.
    fn review(&mut self, interview: &Interview<'_>) -> Result<ReviewChoice, Stop>;
    /// A repeat visit (`--from`): are this section's previous answers (question text,
    /// answer) unchanged since `since`? `true` keeps them all; `false` asks each question.
    fn confirm_section(
        &mut self,
        _title: &str,
        _answers: &[(String, String)],
        _since: &str,
    ) -> Result<bool, Stop> {
        Ok(false)
    }
}

/// An interview under way: the answers so far and which questions the nurse went through.
/// A question gone through may still be unanswered (the nurse said "unknown").
#[derive(Debug, Clone)]
pub struct Interview<'r> {
    ruleset: &'r Ruleset,
    id: Option<String>,
    answers: Answers,
    asked: Vec<bool>,
    /// A repeat visit (`--from`): the date of the previous one; its answers are offered a
    /// section at a time for confirmation.
    since: Option<String>,
}

impl<'r> Interview<'r> {
    /// A new interview: nothing asked yet.
    pub fn new(ruleset: &'r Ruleset) -> Self {
        Interview {
            ruleset,
            id: None,
            answers: Answers::new(ruleset),
            asked: vec![false; ruleset.questions.len()],
            since: None,
        }
    }

    /// A new visit starting from a previous visit's answers, dated `since`: nothing counts as
    /// gone through; the patient id is asked again (filled in), and each section's previous
    /// answers are offered for confirmation as a whole.
    pub fn from_previous(previous: Interview<'r>, since: String) -> Self {
        let mut interview = Interview {
            asked: vec![false; previous.ruleset.questions.len()],
            since: Some(since),
            ..previous
        };
        interview.prune();
        interview
    }

    /// The date of the previous visit, in a repeat visit.
    pub fn since(&self) -> Option<&str> {
        self.since.as_deref()
    }

    /// An interview continued from earlier answers. `asked` marks the questions already gone
    /// through; answers to questions that no longer apply are discarded.
    pub fn resume(
        ruleset: &'r Ruleset,
        id: Option<String>,
        answers: Answers,
        asked: Vec<bool>,
    ) -> Self {
        let mut asked = asked;
        asked.resize(ruleset.questions.len(), false);
        let mut interview = Interview {
            ruleset,
            id,
            answers,
            asked,
            since: None,
        };
        interview.prune();
        interview
    }

    pub fn ruleset(&self) -> &'r Ruleset {
        self.ruleset
    }

    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    pub fn set_id(&mut self, id: Option<String>) {
        self.id = id;
    }

    pub fn answers(&self) -> &Answers {
        &self.answers
    }

    pub fn is_asked(&self, slot: Slot) -> bool {
        self.asked.get(slot).copied().unwrap_or(false)
    }

    /// Whether anything was typed yet (an id or an answer): only then is there a draft to keep.
    pub fn started(&self) -> bool {
        self.id.is_some() || self.asked.iter().any(|&a| a)
    }

    /// Whether the question applies given the answers so far (its `ask_if` is not false).
    pub fn applies(&self, slot: Slot) -> bool {
        engine::seen(self.ruleset, &self.answers)
            .get(slot)
            .is_some_and(|f| *f != Seen::Skipped)
    }

    /// The questions that apply given the answers so far, in asking order.
    pub fn applicable(&self) -> Vec<Slot> {
        let fields = engine::seen(self.ruleset, &self.answers);
        self.ruleset
            .ask_order
            .iter()
            .copied()
            .filter(|&s| fields[s] != Seen::Skipped)
            .collect()
    }

    /// The next question to ask: the first, in asking order, that applies and was not gone
    /// through yet.
    pub fn next(&self) -> Option<Slot> {
        let fields = engine::seen(self.ruleset, &self.answers);
        self.ruleset
            .ask_order
            .iter()
            .copied()
            .find(|&s| !self.asked[s] && fields[s] != Seen::Skipped)
    }

    /// Records the nurse's answer (`None`: unknown), then re-applies skip logic.
    pub fn record(&mut self, slot: Slot, value: Option<Value>) {
        self.answers.set(slot, value);
        if let Some(a) = self.asked.get_mut(slot) {
            *a = true;
        }
        self.prune();
    }

    /// Questions that no longer apply lose their answer and count as not asked, so a stale
    /// answer is never kept, and the question is asked afresh if it applies again.
    fn prune(&mut self) {
        let skipped: Vec<Slot> = engine::seen(self.ruleset, &self.answers)
            .iter()
            .enumerate()
            .filter(|(_, f)| **f == Seen::Skipped)
            .map(|(s, _)| s)
            .collect();
        for slot in skipped {
            self.answers.set(slot, None);
            self.asked[slot] = false;
        }
    }

    fn ask_of(&self, slot: Slot, changing: bool) -> Ask<'_> {
        let applicable = self.applicable();
        let number = applicable
            .iter()
            .position(|&s| s == slot)
            .map_or(applicable.len() + 1, |p| p + 1);
        Ask {
            slot,
            question: &self.ruleset.questions[slot],
            current: self.answers.get(slot),
            changing,
            number,
            total: applicable.len(),
            can_go_back: false,
        }
    }

    /// The question before `slot` in asking order that applies and was gone through: where
    /// `back` goes. `None` at the first question.
    fn previous(&self, slot: Slot) -> Option<Slot> {
        let fields = engine::seen(self.ruleset, &self.answers);
        let at = self.ruleset.ask_order.iter().position(|&s| s == slot)?;
        self.ruleset.ask_order[..at]
            .iter()
            .rev()
            .copied()
            .find(|&s| self.asked[s] && fields[s] != Seen::Skipped)
    }

    /// The question after `slot` in asking order that applies: where the walk goes on after a
    /// question revisited with `back`.
    fn following(&self, slot: Slot) -> Option<Slot> {
        let fields = engine::seen(self.ruleset, &self.answers);
        let at = self.ruleset.ask_order.iter().position(|&s| s == slot)?;
        self.ruleset.ask_order[at + 1..]
            .iter()
            .copied()
            .find(|&s| fields[s] != Seen::Skipped)
    }

    /// The unanswered questions a question's `ask_if` reads (what keeps it undecided).
    fn unknown_ask_if_reads(&self, slot: Slot, fields: &[Seen<&Value>]) -> Vec<String> {
        let mut reads = Vec::new();
        if let Some(cond) = &self.ruleset.questions[slot].ask_if {
            cond.reads(&mut reads);
        }
        reads
            .into_iter()
            .filter(|&s| fields[s] == Seen::Unanswered)
            .map(|s| self.ruleset.questions[s].id.clone())
            .collect()
    }

    /// Every question with what the nurse recorded for it, in asking order, for the review.
    pub fn review_rows(&self) -> Vec<ReviewRow<'r>> {
        let fields = engine::seen(self.ruleset, &self.answers);
        self.ruleset
            .ask_order
            .iter()
            .enumerate()
            .map(|(i, &slot)| {
                let question = &self.ruleset.questions[slot];
                let state = match (fields[slot], self.answers.get(slot)) {
                    (Seen::Skipped, _) => RowState::NotApplicable,
                    _ if !self.asked[slot] => RowState::NotAsked,
                    (Seen::Answered(v), _) => RowState::Answered(shown(question, v)),
                    // Answered, but whether it applies hangs on an unknown answer: the
                    // engine holds it back until then.
                    (_, Some(v)) => RowState::HeldBack {
                        answer: shown(question, v),
                        until: self.unknown_ask_if_reads(slot, &fields),
                    },
                    (_, None) => RowState::Unknown,
                };
                ReviewRow {
                    number: i + 1,
                    slot,
                    question,
                    state,
                }
            })
            .collect()
    }
}

/// One line of the review.
#[derive(Debug, Clone)]
pub struct ReviewRow<'r> {
    /// 1-based position in the questionnaire.
    pub number: usize,
    pub slot: Slot,
    pub question: &'r Question,
    pub state: RowState,
}

/// What the review shows for one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowState {
    /// The answer as the nurse reads it ("146 mmHg", "yes", a choice's label).
    Answered(String),
    /// Gone through and answered "unknown".
    Unknown,
    /// Answered, but the answer counts only once these unanswered questions (which decide
    /// whether it applies) are answered.
    HeldBack { answer: String, until: Vec<String> },
    /// Its `ask_if` is false: not asked, does not apply.
    NotApplicable,
    /// Applies but not asked yet (only before the walk is done).
    NotAsked,
}

impl RowState {
    pub fn text(&self) -> String {
        match self {
            RowState::Answered(s) => s.clone(),
            RowState::Unknown => "unknown".to_string(),
            RowState::HeldBack { answer, until } => {
                format!("{answer} (counts once {} is answered)", until.join(", "))
            }
            RowState::NotApplicable => "(does not apply)".to_string(),
            RowState::NotAsked => "(not asked yet)".to_string(),
        }
    }
}

/// An answer as the nurse reads it: a choice by its label, a number with its unit.
pub fn shown(question: &Question, value: &Value) -> String {
    match (value, &question.kind) {
        (Value::Choice(i), Kind::Choice(options)) => options
            .get(*i)
            .map(|o| o.label.clone())
            .unwrap_or_else(|| value.display(question).to_string()),
        (Value::Integer(_) | Value::Number(_), _) => match &question.unit {
            Some(unit) => format!("{} {unit}", value.display(question)),
            None => value.display(question).to_string(),
        },
        _ => value.display(question).to_string(),
    }
}

/// In a repeat visit, at the first question of a section not offered yet: shows the previous
/// answers of the section's questions that apply and are not gone through, and when the
/// nurse confirms them unchanged, records them all as gone through. Skip logic is applied as
/// each is recorded, exactly as if typed. Returns whether anything was recorded.
fn confirm_section(
    interview: &mut Interview<'_>,
    asker: &mut dyn Asker,
    offered: &mut Vec<String>,
) -> Result<bool, Stop> {
    let Some(since) = interview.since.clone() else {
        return Ok(false);
    };
    let Some(first) = interview.next() else {
        return Ok(false);
    };
    let rs = interview.ruleset;
    let title = rs.questions[first].section.clone();
    if offered.contains(&title) {
        return Ok(false);
    }
    offered.push(title.clone());
    let slots: Vec<Slot> = interview
        .applicable()
        .into_iter()
        .filter(|&s| rs.questions[s].section == title && !interview.is_asked(s))
        .filter(|&s| interview.answers.get(s).is_some())
        .collect();
    if slots.is_empty() {
        return Ok(false);
    }
    let shown_answers: Vec<(String, String)> = slots
        .iter()
        .filter_map(|&s| {
            let q = &rs.questions[s];
            interview
                .answers
                .get(s)
                .map(|v| (q.text.clone(), shown(q, v)))
        })
        .collect();
    if !asker.confirm_section(&title, &shown_answers, &since)? {
        return Ok(false);
    }
    for slot in slots {
        // Still applies after the ones recorded before it (skip logic as if typed).
        if interview.applies(slot) {
            let value = interview.answers.get(slot).cloned();
            interview.record(slot, value);
        }
    }
    Ok(true)
}

/// Walks the interview to the nurse's confirmation at the review: the patient id (new
/// interviews only), then every question that applies and was not gone through yet, then the
/// review, where a changed answer re-runs skip logic and asks what became relevant.
/// `back` on a question returns to the previous one gone through (its answer filled in), and
/// from there the walk goes forward again one question at a time, each with its answer, until
/// it reaches a question not gone through; skip logic is re-applied after every answer, so an
/// answer that no longer applies is discarded exactly as at the review.
/// `checkpoint` is called after every change (to keep a draft).
pub fn walk(
    interview: &mut Interview<'_>,
    asker: &mut dyn Asker,
    checkpoint: &mut dyn FnMut(&Interview<'_>),
) -> Result<(), Stop> {
    let asks_id = !interview.started() || interview.since.is_some();
    if asks_id {
        let current = interview.id.clone();
        let id = asker.patient_id(current.as_deref())?;
        interview.set_id(id);
        if interview.started() {
            checkpoint(interview);
        }
    }
    let mut section: Option<String> = None;
    // A question being revisited after `back` (then the walk goes forward from it).
    let mut revisit: Option<Slot> = None;
    // Repeat visits: the sections already offered for confirmation.
    let mut offered: Vec<String> = Vec::new();
    loop {
        while let Some(slot) = revisit.or_else(|| interview.next()) {
            let title = &interview.ruleset.questions[slot].section;
            if section.as_deref() != Some(title.as_str()) {
                asker.section(title);
                section = Some(title.clone());
                if revisit.is_none() && confirm_section(interview, asker, &mut offered)? {
                    checkpoint(interview);
                    continue;
                }
            }
            let changing = interview.is_asked(slot);
            let mut ask = interview.ask_of(slot, changing);
            let previous = interview.previous(slot);
            ask.can_go_back = previous.is_some() || asks_id;
            match asker.ask(ask)? {
                Reply::Answer(value) => {
                    interview.record(slot, value);
                    checkpoint(interview);
                    revisit = match revisit {
                        Some(_) => interview.following(slot).filter(|&s| interview.is_asked(s)),
                        None => None,
                    };
                }
                Reply::Back => match previous {
                    Some(p) => revisit = Some(p),
                    None if asks_id => {
                        let id = asker.patient_id(interview.id())?;
                        interview.set_id(id);
                        checkpoint(interview);
                        revisit = Some(slot).filter(|&s| interview.is_asked(s));
                        section = None;
                    }
                    None => {}
                },
            }
        }
        section = None;
        match asker.review(interview)? {
            ReviewChoice::Confirm => return Ok(()),
            ReviewChoice::ChangeId => {
                let id = asker.patient_id(interview.id())?;
                interview.set_id(id);
                checkpoint(interview);
            }
            ReviewChoice::Change(slot) => {
                // Only a question that applies can be changed; others are left alone.
                if slot < interview.asked.len() && interview.applies(slot) {
                    match asker.ask(interview.ask_of(slot, true))? {
                        Reply::Answer(value) => {
                            interview.record(slot, value);
                            checkpoint(interview);
                        }
                        Reply::Back => {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::parse_text;
    use crate::engine::{evaluate, Status};
    use crate::ruleset::load_str;
    use std::collections::VecDeque;

    const RULES: &str = r#"
ruleset:
  id: walk-test
  version: 1
  title: Walk test
  sources:
    s: Source
questions:
  - {id: age, section: About, text: Age?, type: integer, unit: years, min: 0, max: 120}
  - {id: sbp, section: Vitals, text: Systolic?, type: integer, unit: mmHg, min: 50, max: 300}
  - {id: pregnancy, section: Pregnancy, text: Pregnancy status?, type: choice, options: [{id: not_applicable, label: Not applicable}, {id: not_pregnant, label: Not pregnant}, {id: pregnant, label: Pregnant}]}
  - {id: breastfeeding, section: Pregnancy, text: Breastfeeding?, type: yes_no, ask_if: pregnancy != not_applicable}
  - {id: notes, section: Notes, text: Notes?, type: text}
rules:
  - {id: minor, severity: exclude, when: age < 18, message: minor, source: s}
  - {id: high_bp, severity: review, when: sbp > 140, message: "bp {sbp}", source: s}
  - {id: pregnant, severity: exclude, when: pregnancy == pregnant, message: pregnant, source: s}
  - {id: feeding, severity: review, when: breastfeeding, message: feeding, source: s}
"#;

    fn rules() -> Ruleset {
        load_str(RULES, "walk.yaml").expect("test ruleset loads")
    }

    /// One scripted step: the question id expected and the text typed, or a review choice.
    enum Step {
        Id(&'static str),
        Answer(&'static str, &'static str),
        Confirm,
        Change(&'static str),
        /// `back` typed at this question.
        Back(&'static str),
        /// A repeat visit's section: kept unchanged (true) or asked question by question.
        Keep(&'static str, bool),
        Stop(Stop),
    }

    /// Plays a script; records every prompt it saw. Running out of script is Ctrl-C.
    struct Script<'r> {
        ruleset: &'r Ruleset,
        steps: VecDeque<Step>,
        seen: Vec<String>,
    }

    impl<'r> Script<'r> {
        fn new(ruleset: &'r Ruleset, steps: Vec<Step>) -> Self {
            Script {
                ruleset,
                steps: steps.into(),
                seen: Vec::new(),
            }
        }
    }

    impl Asker for Script<'_> {
        fn patient_id(&mut self, _current: Option<&str>) -> Result<Option<String>, Stop> {
            self.seen.push("id".into());
            match self.steps.pop_front() {
                Some(Step::Id(id)) => Ok(Some(id.to_string()).filter(|s| !s.is_empty())),
                Some(Step::Stop(stop)) => Err(stop),
                _ => panic!("script expected an id step"),
            }
        }

        fn section(&mut self, title: &str) {
            self.seen.push(format!("# {title}"));
        }

        fn ask(&mut self, ask: Ask<'_>) -> Result<Reply, Stop> {
            let id = &ask.question.id;
            let current = ask
                .current
                .map(|v| format!(" [{}]", v.display(ask.question)))
                .unwrap_or_default();
            self.seen.push(if ask.changing {
                format!("{id}* ({}/{}){current}", ask.number, ask.total)
            } else {
                format!("{id} ({}/{}){current}", ask.number, ask.total)
            });
            match self.steps.pop_front() {
                Some(Step::Answer(expected, raw)) => {
                    assert_eq!(id, expected, "asked {id}, script expected {expected}");
                    let q = &self.ruleset.questions[ask.slot];
                    Ok(Reply::Answer(
                        parse_text(q, raw).expect("script answers are valid"),
                    ))
                }
                Some(Step::Back(expected)) => {
                    assert_eq!(id, expected, "asked {id}, script expected {expected}");
                    assert!(ask.can_go_back, "{id}: back offered");
                    Ok(Reply::Back)
                }
                Some(Step::Stop(stop)) => Err(stop),
                None => Err(Stop::Interrupted),
                Some(_) => panic!("script expected a review step when {id} was asked"),
            }
        }

        fn confirm_section(
            &mut self,
            title: &str,
            answers: &[(String, String)],
            since: &str,
        ) -> Result<bool, Stop> {
            let shown: Vec<String> = answers.iter().map(|(q, a)| format!("{q} {a}")).collect();
            self.seen
                .push(format!("keep {title} since {since}: {}", shown.join("; ")));
            match self.steps.pop_front() {
                Some(Step::Keep(expected, keep)) => {
                    assert_eq!(title, expected);
                    Ok(keep)
                }
                Some(Step::Stop(stop)) => Err(stop),
                _ => panic!("script expected a section confirmation for {title}"),
            }
        }

        fn review(&mut self, _interview: &Interview<'_>) -> Result<ReviewChoice, Stop> {
            self.seen.push("review".into());
            match self.steps.pop_front() {
                Some(Step::Confirm) => Ok(ReviewChoice::Confirm),
                Some(Step::Change(id)) => Ok(ReviewChoice::Change(
                    self.ruleset.slot(id).expect("script names a question"),
                )),
                Some(Step::Stop(stop)) => Err(stop),
                None => Err(Stop::Interrupted),
                Some(_) => panic!("script expected a question at the review"),
            }
        }
    }

    fn run_script<'r>(
        interview: &mut Interview<'r>,
        ruleset: &'r Ruleset,
        steps: Vec<Step>,
    ) -> (Result<(), Stop>, Vec<String>, usize) {
        let mut script = Script::new(ruleset, steps);
        let mut checkpoints = 0;
        let result = walk(interview, &mut script, &mut |_| checkpoints += 1);
        assert!(script.steps.is_empty(), "script not used up");
        (result, script.seen, checkpoints)
    }

    fn value<'a>(interview: &'a Interview<'_>, id: &str) -> Option<&'a Value> {
        let slot = interview.ruleset().slot(id).expect("known id");
        interview.answers().get(slot)
    }

    #[test]
    fn walks_in_order_with_a_heading_per_section_and_skips_what_does_not_apply() {
        let rs = rules();
        let mut iv = Interview::new(&rs);
        let (result, seen, checkpoints) = run_script(
            &mut iv,
            &rs,
            vec![
                Step::Id("P-1"),
                Step::Answer("age", "40"),
                Step::Answer("sbp", "150"),
                Step::Answer("pregnancy", "not_applicable"),
                Step::Answer("notes", "calm"),
                Step::Confirm,
            ],
        );
        assert_eq!(result, Ok(()));
        // breastfeeding is never asked: its ask_if is false once pregnancy is not_applicable,
        // and the count of questions that apply drops from 5 to 4 at that moment.
        assert_eq!(
            seen,
            [
                "id",
                "# About",
                "age (1/5)",
                "# Vitals",
                "sbp (2/5)",
                "# Pregnancy",
                "pregnancy (3/5)",
                "# Notes",
                "notes (4/4)",
                "review"
            ]
        );
        assert_eq!(checkpoints, 5);
        assert_eq!(iv.id(), Some("P-1"));
        let verdict = evaluate(&rs, iv.answers());
        assert_eq!(verdict.status, Status::Review);
        assert_eq!(verdict.skipped, vec![3]);
    }

    #[test]
    fn unknown_answers_stay_unanswered_and_are_not_asked_again() {
        let rs = rules();
        let mut iv = Interview::new(&rs);
        let (result, seen, _) = run_script(
            &mut iv,
            &rs,
            vec![
                Step::Id(""),
                Step::Answer("age", "40"),
                Step::Answer("sbp", "?"),
                Step::Answer("pregnancy", "unknown"),
                Step::Answer("breastfeeding", "no"),
                Step::Answer("notes", ""),
                Step::Confirm,
            ],
        );
        assert_eq!(result, Ok(()));
        assert_eq!(iv.id(), None);
        assert_eq!(value(&iv, "sbp"), None);
        assert!(iv.is_asked(rs.slot("sbp").expect("id")));
        // pregnancy unknown leaves breastfeeding's ask_if unknown: it is asked, not skipped.
        assert!(seen.contains(&"breastfeeding (4/5)".to_string()));
        let verdict = evaluate(&rs, iv.answers());
        assert_eq!(verdict.status, Status::Incomplete);
        let missing: Vec<&str> = verdict
            .missing_questions()
            .into_iter()
            .map(|s| rs.questions[s].id.as_str())
            .collect();
        assert_eq!(missing, ["sbp", "pregnancy"]);
        let rows = iv.review_rows();
        assert_eq!(rows[1].state, RowState::Unknown);
        // The "no" to breastfeeding waits on the pregnancy status, and the review says so.
        assert_eq!(
            rows[3].state.text(),
            "no (counts once pregnancy is answered)"
        );
        assert_eq!(rows[0].state, RowState::Answered("40 years".into()));
    }

    #[test]
    fn changing_an_answer_discards_the_answer_that_no_longer_applies() {
        let rs = rules();
        let mut iv = Interview::new(&rs);
        let (result, seen, _) = run_script(
            &mut iv,
            &rs,
            vec![
                Step::Id("P-2"),
                Step::Answer("age", "30"),
                Step::Answer("sbp", "120"),
                Step::Answer("pregnancy", "not_pregnant"),
                Step::Answer("breastfeeding", "yes"),
                Step::Answer("notes", ""),
                // At the review: pregnancy was wrong, it does not apply.
                Step::Change("pregnancy"),
                Step::Answer("pregnancy", "not_applicable"),
                Step::Confirm,
            ],
        );
        assert_eq!(result, Ok(()));
        assert_eq!(
            seen[seen.len() - 3..],
            ["review", "pregnancy* (3/5) [not_pregnant]", "review"]
        );
        // The "yes" to breastfeeding is gone, not kept stale.
        assert_eq!(value(&iv, "breastfeeding"), None);
        assert!(!iv.is_asked(rs.slot("breastfeeding").expect("id")));
        assert_eq!(iv.review_rows()[3].state, RowState::NotApplicable);
        assert_eq!(evaluate(&rs, iv.answers()).status, Status::Eligible);
    }

    #[test]
    fn changing_an_answer_asks_the_question_that_became_relevant() {
        let rs = rules();
        let mut iv = Interview::new(&rs);
        let (result, seen, _) = run_script(
            &mut iv,
            &rs,
            vec![
                Step::Id("P-3"),
                Step::Answer("age", "30"),
                Step::Answer("sbp", "120"),
                Step::Answer("pregnancy", "not_applicable"),
                Step::Answer("notes", ""),
                Step::Change("pregnancy"),
                Step::Answer("pregnancy", "not_pregnant"),
                // Became relevant: asked right after the change, before the review again.
                Step::Answer("breastfeeding", "yes"),
                Step::Confirm,
            ],
        );
        assert_eq!(result, Ok(()));
        assert_eq!(
            seen[seen.len() - 5..],
            [
                "review",
                "pregnancy* (3/4) [not_applicable]",
                "# Pregnancy",
                "breastfeeding (4/5)",
                "review"
            ]
        );
        let verdict = evaluate(&rs, iv.answers());
        assert_eq!(verdict.status, Status::Review);
    }

    #[test]
    fn a_stop_keeps_every_answer_and_resuming_a_draft_continues_at_the_first_question_not_gone_through(
    ) {
        let rs = rules();
        let mut iv = Interview::new(&rs);
        let (result, _, _) = run_script(
            &mut iv,
            &rs,
            vec![
                Step::Id("P-4"),
                Step::Answer("age", "52"),
                Step::Answer("sbp", "?"),
                Step::Stop(Stop::Interrupted),
            ],
        );
        assert_eq!(result, Err(Stop::Interrupted));
        assert_eq!(value(&iv, "age"), Some(&Value::Integer(52)));

        // Through the draft document, as `--resume` reads it.
        let doc = draft::to_json(&iv);
        let loaded = draft::from_json(&rs, &doc).expect("draft reads back");
        assert!(loaded.is_draft);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let mut resumed = loaded.interview;
        assert_eq!(resumed.id(), Some("P-4"));
        // sbp was answered "unknown": gone through, so not asked again; pregnancy is next.
        let (result, seen, _) = run_script(
            &mut resumed,
            &rs,
            vec![
                Step::Answer("pregnancy", "pregnant"),
                Step::Answer("breastfeeding", "no"),
                Step::Answer("notes", ""),
                Step::Confirm,
            ],
        );
        assert_eq!(result, Ok(()));
        assert_eq!(seen[..2], ["# Pregnancy", "pregnancy (3/5)"]);
        assert_eq!(value(&resumed, "age"), Some(&Value::Integer(52)));
        let verdict = evaluate(&rs, resumed.answers());
        assert_eq!(verdict.status, Status::Ineligible);
    }

    #[test]
    fn resuming_plain_answers_asks_only_the_unanswered_and_drops_answers_that_do_not_apply() {
        let rs = rules();
        let doc = serde_json::json!({
            "id": "P-5", "age": 44, "sbp": null, "pregnancy": "not_applicable",
            "breastfeeding": "yes", "notes": "x"
        });
        let loaded = draft::from_json(&rs, &doc).expect("reads");
        assert!(!loaded.is_draft);
        let mut iv = loaded.interview;
        assert_eq!(value(&iv, "breastfeeding"), None);
        let (result, seen, _) = run_script(
            &mut iv,
            &rs,
            vec![Step::Answer("sbp", "130"), Step::Confirm],
        );
        assert_eq!(result, Ok(()));
        assert_eq!(seen, ["# Vitals", "sbp (2/4)", "review"]);
        assert_eq!(evaluate(&rs, iv.answers()).status, Status::Eligible);
    }

    #[test]
    fn back_returns_to_the_previous_question_with_its_answer_and_goes_forward_again() {
        let rs = rules();
        let mut iv = Interview::new(&rs);
        let (result, seen, _) = run_script(
            &mut iv,
            &rs,
            vec![
                Step::Id("P-6"),
                Step::Back("age"),
                Step::Id("P-7"),
                Step::Answer("age", "30"),
                Step::Answer("sbp", "120"),
                Step::Answer("pregnancy", "not_pregnant"),
                Step::Answer("breastfeeding", "yes"),
                // At notes: back twice, to pregnancy, and make it "not applicable".
                Step::Back("notes"),
                Step::Back("breastfeeding"),
                Step::Answer("pregnancy", "not_applicable"),
                // breastfeeding no longer applies: its "yes" is discarded, notes is next.
                Step::Answer("notes", ""),
                Step::Confirm,
            ],
        );
        assert_eq!(result, Ok(()));
        assert_eq!(
            seen,
            [
                "id",
                "# About",
                "age (1/5)",
                "id",
                "# About",
                "age (1/5)",
                "# Vitals",
                "sbp (2/5)",
                "# Pregnancy",
                "pregnancy (3/5)",
                "breastfeeding (4/5)",
                "# Notes",
                "notes (5/5)",
                "# Pregnancy",
                "breastfeeding* (4/5) [yes]",
                "pregnancy* (3/5) [not_pregnant]",
                "# Notes",
                "notes (4/4)",
                "review"
            ]
        );
        assert_eq!(iv.id(), Some("P-7"));
        assert_eq!(value(&iv, "breastfeeding"), None);
        assert!(!iv.is_asked(rs.slot("breastfeeding").expect("id")));
        assert_eq!(evaluate(&rs, iv.answers()).status, Status::Eligible);
    }

    #[test]
    fn after_back_each_later_answer_is_offered_again_until_the_first_not_gone_through() {
        let rs = rules();
        let mut iv = Interview::new(&rs);
        let (result, seen, _) = run_script(
            &mut iv,
            &rs,
            vec![
                Step::Id(""),
                Step::Answer("age", "30"),
                Step::Answer("sbp", "150"),
                Step::Back("pregnancy"),
                Step::Back("sbp"),
                Step::Answer("age", "31"),
                Step::Answer("sbp", "130"),
                Step::Answer("pregnancy", "pregnant"),
                Step::Answer("breastfeeding", "no"),
                Step::Answer("notes", ""),
                Step::Confirm,
            ],
        );
        assert_eq!(result, Ok(()));
        assert_eq!(
            seen[5..],
            [
                "# Pregnancy",
                "pregnancy (3/5)",
                "# Vitals",
                "sbp* (2/5) [150]",
                "# About",
                "age* (1/5) [30]",
                "# Vitals",
                "sbp* (2/5) [150]",
                "# Pregnancy",
                "pregnancy (3/5)",
                "breastfeeding (4/5)",
                "# Notes",
                "notes (5/5)",
                "review"
            ]
        );
        assert_eq!(value(&iv, "age"), Some(&Value::Integer(31)));
        assert_eq!(value(&iv, "sbp"), Some(&Value::Integer(130)));
    }

    #[test]
    fn a_repeat_visit_confirms_a_section_at_a_time_and_asks_what_was_not_answered() {
        let rs = rules();
        let doc = serde_json::json!({
            "id": "P-8", "age": 44, "sbp": 150, "pregnancy": "not_pregnant",
            "breastfeeding": null, "notes": "calm"
        });
        let previous = draft::from_json(&rs, &doc).expect("reads").interview;
        let mut iv = Interview::from_previous(previous, "2026-11-01".into());
        assert!(!iv.is_asked(rs.slot("age").expect("id")));
        let (result, seen, _) = run_script(
            &mut iv,
            &rs,
            vec![
                Step::Id("P-8"),
                Step::Keep("About", true),
                // Vitals changed: asked, the previous answer filled in.
                Step::Keep("Vitals", false),
                Step::Answer("sbp", "130"),
                // Pregnancy kept; breastfeeding had no answer, so it is asked.
                Step::Keep("Pregnancy", true),
                Step::Answer("breastfeeding", "no"),
                Step::Keep("Notes", true),
                Step::Confirm,
            ],
        );
        assert_eq!(result, Ok(()));
        assert_eq!(
            seen,
            [
                "id",
                "# About",
                "keep About since 2026-11-01: Age? 44 years",
                "# Vitals",
                "keep Vitals since 2026-11-01: Systolic? 150 mmHg",
                "sbp (2/5) [150]",
                "# Pregnancy",
                "keep Pregnancy since 2026-11-01: Pregnancy status? Not pregnant",
                "breastfeeding (4/5)",
                "# Notes",
                "keep Notes since 2026-11-01: Notes? calm",
                "review"
            ]
        );
        assert_eq!(value(&iv, "age"), Some(&Value::Integer(44)));
        assert_eq!(value(&iv, "sbp"), Some(&Value::Integer(130)));
        assert_eq!(value(&iv, "breastfeeding"), Some(&Value::YesNo(false)));
        assert_eq!(evaluate(&rs, iv.answers()).status, Status::Eligible);
    }

    #[test]
    fn a_stop_at_the_patient_id_leaves_nothing_to_save() {
        let rs = rules();
        let mut iv = Interview::new(&rs);
        let (result, _, checkpoints) = run_script(&mut iv, &rs, vec![Step::Stop(Stop::Paused)]);
        assert_eq!(result, Err(Stop::Paused));
        assert!(!iv.started());
        assert_eq!(checkpoints, 0);
    }
}
