//! The decision: `evaluate(&Ruleset, &Answers) -> Verdict`. Pure — no I/O, no printing, no
//! prompts — so the interview, `check` and `batch` all decide the same way. It applies skip
//! logic, evaluates every rule in three-valued logic, and ranks the outcome:
//! ineligible > incomplete > review > eligible, with `urgent` beside it.

use std::fmt;

use crate::answers::{Answers, Value};
use crate::expr::{Field, Truth};
use crate::ruleset::{Piece, Ruleset, Severity, Slot};

/// The screening outcome, in precedence order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Ineligible,
    Incomplete,
    Review,
    Eligible,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Ineligible,
        Status::Incomplete,
        Status::Review,
        Status::Eligible,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ineligible => "ineligible",
            Status::Incomplete => "incomplete",
            Status::Review => "review",
            Status::Eligible => "eligible",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rule saw of one question.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    Answered(Value),
    Unanswered,
    Skipped,
}

/// A rule that fired.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    /// Index into `Ruleset::rules`.
    pub rule: usize,
    pub severity: Severity,
    pub urgent: bool,
    /// The rule's message with the answers filled in.
    pub message: String,
    /// Every question the rule reads, with what it saw.
    pub answers: Vec<(Slot, Seen)>,
}

/// An exclude or review rule that could not be decided, and the unanswered questions that
/// would decide it.
#[derive(Debug, Clone, PartialEq)]
pub struct Missing {
    pub rule: usize,
    pub questions: Vec<Slot>,
}

/// The outcome for one patient, with its basis.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub status: Status,
    pub urgent: bool,
    /// Fired rules: exclude, then review, then note; ruleset order within each.
    pub reasons: Vec<Reason>,
    pub missing: Vec<Missing>,
    /// Questions not applicable for this patient (their `ask_if` is false).
    pub skipped: Vec<Slot>,
}

impl Verdict {
    /// Every question named in `missing`, once, in ruleset order.
    pub fn missing_questions(&self) -> Vec<Slot> {
        let mut all: Vec<Slot> = self
            .missing
            .iter()
            .flat_map(|m| m.questions.iter().copied())
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// What each question is for this patient once skip logic has run, indexed by slot.
///
/// A question whose `ask_if` is unknown (it reads an unanswered question) is itself unknown,
/// even if answered: whether its answer applies is not yet known. This keeps the logic
/// monotone — answering a question can only settle unknowns, never overturn a decided rule.
pub fn fields<'a>(ruleset: &Ruleset, answers: &'a Answers) -> Vec<Field<'a>> {
    let mut fields = vec![Field::Unanswered; ruleset.questions.len()];
    for &slot in &ruleset.ask_order {
        let asked = match &ruleset.questions[slot].ask_if {
            Some(cond) => cond.eval(&fields),
            None => Truth::True,
        };
        fields[slot] = match (asked, answers.get(slot)) {
            (Truth::False, _) => Field::Skipped,
            (Truth::True, Some(value)) => Field::Answered(value),
            _ => Field::Unanswered,
        };
    }
    fields
}

/// Decides one patient.
pub fn evaluate(ruleset: &Ruleset, answers: &Answers) -> Verdict {
    let fields = fields(ruleset, answers);
    let mut reasons = Vec::new();
    let mut missing = Vec::new();
    for (index, rule) in ruleset.rules.iter().enumerate() {
        match rule.when.eval(&fields) {
            Truth::True => reasons.push(Reason {
                rule: index,
                severity: rule.severity,
                urgent: rule.urgent,
                message: fill(ruleset, &rule.message, &fields),
                answers: rule
                    .reads
                    .iter()
                    .map(|&slot| (slot, seen(fields[slot])))
                    .collect(),
            }),
            Truth::Unknown if rule.severity != Severity::Note => {
                let mut questions = Vec::new();
                rule.when.undecided_by(&fields, &mut questions);
                add_unknown_ask_if(ruleset, answers, &fields, &mut questions);
                missing.push(Missing {
                    rule: index,
                    questions,
                });
            }
            _ => {}
        }
    }
    reasons.sort_by_key(|r| r.severity);
    let fired = |s: Severity| reasons.iter().any(|r| r.severity == s);
    let status = if fired(Severity::Exclude) {
        Status::Ineligible
    } else if !missing.is_empty() {
        Status::Incomplete
    } else if fired(Severity::Review) {
        Status::Review
    } else {
        Status::Eligible
    };
    let skipped = (0..fields.len())
        .filter(|&s| fields[s] == Field::Skipped)
        .collect();
    Verdict {
        status,
        urgent: reasons.iter().any(|r| r.urgent),
        reasons,
        missing,
        skipped,
    }
}

/// A question whose own `ask_if` is unknown is settled by answering what that `ask_if` reads:
/// name those questions too, and drop the question itself when it already has an answer.
fn add_unknown_ask_if(
    ruleset: &Ruleset,
    answers: &Answers,
    fields: &[Field<'_>],
    questions: &mut Vec<Slot>,
) {
    let mut i = 0;
    while i < questions.len() {
        if let Some(cond) = &ruleset.questions[questions[i]].ask_if {
            cond.undecided_by(fields, questions);
        }
        i += 1;
    }
    questions.retain(|&slot| answers.get(slot).is_none() || fields[slot] != Field::Unanswered);
}

fn seen(field: Field<'_>) -> Seen {
    match field {
        Field::Answered(v) => Seen::Answered(v.clone()),
        Field::Unanswered => Seen::Unanswered,
        Field::Skipped => Seen::Skipped,
    }
}

fn fill(ruleset: &Ruleset, pieces: &[Piece], fields: &[Field<'_>]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Answer(slot) => match fields[*slot] {
                Field::Answered(v) => {
                    let _ = write!(out, "{}", v.display(&ruleset.questions[*slot]));
                }
                Field::Unanswered => out.push_str("(unanswered)"),
                Field::Skipped => out.push_str("(not applicable)"),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ruleset::load_str;

    const RULES: &str = r#"
ruleset:
  id: t
  version: 1
  title: T
  sources:
    s: Source
questions:
  - {id: sbp, section: V, text: SBP, type: integer, min: 50, max: 300}
  - {id: pregnant, section: P, text: Pregnant?, type: yes_no}
  - {id: feeding, section: P, text: Breastfeeding?, type: yes_no, ask_if: pregnant == no}
rules:
  - {id: high, severity: exclude, when: sbp >= 180, message: "SBP {sbp}", source: s, urgent: true}
  - {id: raised, severity: review, when: sbp > 140 and sbp < 180, message: raised, source: s}
  - {id: feed, severity: review, when: feeding, message: "feeding {feeding}", source: s}
  - {id: old, severity: note, when: sbp < 60, message: low, source: s}
"#;

    fn decide(values: &[(&str, &str)]) -> Verdict {
        let rs = load_str(RULES, "t.yaml").expect("loads");
        let mut answers = Answers::new(&rs);
        for (id, raw) in values {
            let slot = rs.slot(id).expect("known id");
            answers.set(
                slot,
                crate::answers::parse_text(&rs.questions[slot], raw).expect("valid"),
            );
        }
        evaluate(&rs, &answers)
    }

    #[test]
    fn exclusion_wins_over_missing_answers() {
        let v = decide(&[("sbp", "185")]);
        assert_eq!(v.status, Status::Ineligible);
        assert!(v.urgent);
        assert_eq!(v.reasons[0].message, "SBP 185");
        // pregnant unanswered leaves feeding's ask_if unknown: both could decide `feed`.
        assert_eq!(
            v.missing,
            vec![Missing {
                rule: 2,
                questions: vec![2, 1]
            }]
        );
    }

    #[test]
    fn an_answer_whose_relevance_is_unknown_is_held_back() {
        // feeding = yes, but pregnant (its ask_if) is unanswered: feed is undecided, and only
        // `pregnant` is missing, since `feeding` already has its answer.
        let v = decide(&[("sbp", "120"), ("feeding", "yes")]);
        assert_eq!(v.status, Status::Incomplete);
        assert!(v.reasons.is_empty());
        assert_eq!(
            v.missing,
            vec![Missing {
                rule: 2,
                questions: vec![1]
            }]
        );
        // Answering the ask_if question settles it either way.
        assert_eq!(
            decide(&[("sbp", "120"), ("feeding", "yes"), ("pregnant", "yes")]).status,
            Status::Eligible
        );
        assert_eq!(
            decide(&[("sbp", "120"), ("feeding", "yes"), ("pregnant", "no")]).status,
            Status::Review
        );
    }

    #[test]
    fn skipped_question_is_not_missing() {
        let v = decide(&[("sbp", "120"), ("pregnant", "yes")]);
        assert_eq!(v.status, Status::Eligible);
        assert_eq!(v.skipped, vec![2]);
        // An answer to a skipped question is ignored.
        let v = decide(&[("sbp", "120"), ("pregnant", "yes"), ("feeding", "yes")]);
        assert_eq!(v.status, Status::Eligible);
    }

    #[test]
    fn undecided_note_is_not_missing_and_reasons_are_ranked() {
        let v = decide(&[("sbp", "150"), ("pregnant", "no"), ("feeding", "yes")]);
        assert_eq!(v.status, Status::Review);
        let rules: Vec<usize> = v.reasons.iter().map(|r| r.rule).collect();
        assert_eq!(rules, vec![1, 2]);
        let v = decide(&[("pregnant", "yes")]);
        assert_eq!(v.status, Status::Incomplete);
        assert_eq!(v.missing.len(), 2);
    }
}
