//! The decision: `evaluate(&Ruleset, &Answers) -> Verdict`. Pure — no I/O, no printing, no
//! prompts — so the interview, `check`, `rules test` and `batch` all decide the same way. It
//! applies skip logic, evaluates every rule in three-valued logic (`Cond::walk`, the one
//! evaluator), and ranks the outcome: ineligible > incomplete > review > eligible, with
//! `urgent` beside it. `explain` decides the same way with a recorder switched on, and returns
//! the trace of every rule and `ask_if` beside the verdict (renderers only render it).

use std::fmt;

use crate::answers::{Answers, Seen, Value};
use crate::expr::{Fields, Recorder, Trace, Truth, Watch};
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
    pub answers: Vec<(Slot, Seen<Value>)>,
}

/// An exclude or review rule that could not be decided, and the unanswered questions that
/// would decide it.
#[derive(Debug, Clone, PartialEq)]
pub struct Missing {
    pub rule: usize,
    pub questions: Vec<Slot>,
}

/// An answer given to a question that does not apply to this patient (its `ask_if` is
/// false): never read by a rule, never silently dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Ignored {
    pub question: Slot,
    pub value: Value,
    /// Why the question does not apply: what its `ask_if` read, then the `ask_if` itself
    /// (`pregnancy_status is not_applicable; asked only if pregnancy_status != not_applicable`).
    pub because: String,
}

/// The outcome for one patient, with its basis.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub status: Status,
    pub urgent: bool,
    /// No urgent rule fired, but an urgent rule is undecided: whether the patient needs
    /// same-day attention is not known until its questions are answered.
    pub urgent_undecided: bool,
    /// Fired rules: exclude, then review, then note; ruleset order within each.
    pub reasons: Vec<Reason>,
    pub missing: Vec<Missing>,
    /// Questions not applicable for this patient (their `ask_if` is false).
    pub skipped: Vec<Slot>,
    /// Answers to skipped questions, in ruleset order.
    pub ignored: Vec<Ignored>,
    /// Whether each question applies to this patient, by slot: what skip logic decided, kept
    /// here so that `evaluate_into` reuses the buffer from patient to patient.
    applies: Vec<Applies>,
    spare: Spare,
}

/// Entries of earlier patients' verdicts that this one does not show, kept so that
/// `evaluate_into` reuses their buffers instead of freeing them and allocating afresh. Not
/// part of the verdict's value: any two are equal. Against truncating: `evaluate_into`
/// 5,840 -> 4,729 instructions per row for batch --format ndjson (whole run 39,074 ->
/// 37,949), 3,300 -> 3,285 for csv (ruleset 2.0.0, 20k rows, one thread, callgrind).
#[derive(Clone, Default)]
struct Spare {
    reasons: Vec<Reason>,
    missing: Vec<Missing>,
    ignored: Vec<Ignored>,
}

impl PartialEq for Spare {
    fn eq(&self, _: &Spare) -> bool {
        true
    }
}

impl fmt::Debug for Spare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spare").finish_non_exhaustive()
    }
}

impl Verdict {
    /// A verdict to be overwritten by `decide`.
    fn blank() -> Self {
        Verdict {
            status: Status::Incomplete,
            urgent: false,
            urgent_undecided: false,
            reasons: Vec::new(),
            missing: Vec::new(),
            skipped: Vec::new(),
            ignored: Vec::new(),
            applies: Vec::new(),
            spare: Spare::default(),
        }
    }

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

/// One rule, traced.
#[derive(Debug, Clone)]
pub struct RuleTrace<'a> {
    /// Index into `Ruleset::rules`.
    pub rule: usize,
    pub trace: Trace<'a>,
    /// For an undecided rule: the unanswered questions that would decide it (for an exclude
    /// or review rule, as in the verdict's `missing`).
    pub needs: Vec<Slot>,
}

/// One question's `ask_if`, traced.
#[derive(Debug, Clone)]
pub struct AskIfTrace<'a> {
    pub slot: Slot,
    pub trace: Trace<'a>,
}

/// Every rule and every `ask_if`, traced for one patient by the evaluation that decided the
/// verdict.
#[derive(Debug, Clone)]
pub struct Explanation<'a> {
    pub rules: Vec<RuleTrace<'a>>,
    pub ask_if: Vec<AskIfTrace<'a>>,
    /// What each question was for this patient, by slot.
    pub seen: Vec<Seen<&'a Value>>,
}

/// Whether a question applies to this patient, once skip logic has run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applies {
    /// It has no `ask_if`, or its `ask_if` is true: its answer, if any, is read.
    Yes,
    /// Its `ask_if` is false: skipped.
    No,
    /// Its `ask_if` is unknown: its answer, if any, is held back (read as unanswered).
    NotKnown,
}

/// One patient's answers with skip logic applied, read in place by the conditions: what
/// `seen` copies out, without the copy.
#[derive(Clone, Copy)]
struct Patient<'a, 'p> {
    answers: &'a Answers,
    applies: &'p [Applies],
}

impl<'a> Fields<'a> for Patient<'a, '_> {
    #[inline]
    fn seen(&self, slot: Slot) -> Seen<&'a Value> {
        match self.applies.get(slot) {
            Some(Applies::Yes) => self
                .answers
                .get(slot)
                .map_or(Seen::Unanswered, Seen::Answered),
            Some(Applies::No) => Seen::Skipped,
            _ => Seen::Unanswered,
        }
    }

    #[inline(always)]
    fn seen_always_asked(&self, slot: Slot) -> Seen<&'a Value> {
        self.answers
            .get(slot)
            .map_or(Seen::Unanswered, Seen::Answered)
    }
}

impl<'a> Patient<'a, '_> {
    /// Every question's `Seen`, by slot.
    fn all_seen(&self) -> Vec<Seen<&'a Value>> {
        (0..self.applies.len())
            .map(|slot| self.seen(slot))
            .collect()
    }
}

/// What each question is for this patient once skip logic has run, indexed by slot.
///
/// A question whose `ask_if` is unknown (it reads an unanswered question) is itself unknown,
/// even if answered: whether its answer applies is not yet known. This keeps the logic
/// monotone — answering a question can only settle unknowns, never overturn a decided rule.
pub fn seen<'a>(ruleset: &Ruleset, answers: &'a Answers) -> Vec<Seen<&'a Value>> {
    let mut applies = Vec::new();
    skip_logic(ruleset, answers, &mut applies, &mut |_, _: ()| {});
    Patient {
        answers,
        applies: &applies,
    }
    .all_seen()
}

/// Decides whether each question applies, into `applies` (by slot), telling `keep` each
/// `ask_if`'s watcher after it is walked.
fn skip_logic<'a, W: Watch<'a> + Default>(
    ruleset: &'a Ruleset,
    answers: &'a Answers,
    applies: &mut Vec<Applies>,
    keep: &mut impl FnMut(Slot, W),
) {
    applies.clear();
    applies.resize(ruleset.questions.len(), Applies::Yes);
    // `guarded` lists the questions with an `ask_if` in ask order, so each sees the questions
    // it reads already settled.
    for &slot in ruleset.guarded() {
        if let Some(cond) = &ruleset.questions[slot].ask_if {
            let mut watch = W::default();
            let patient = Patient { answers, applies };
            let truth = cond.walk(&patient, &mut watch);
            applies[slot] = match truth {
                Truth::False => Applies::No,
                Truth::Unknown => Applies::NotKnown,
                Truth::True => Applies::Yes,
            };
            keep(slot, watch);
        }
    }
}

/// Decides one patient.
pub fn evaluate(ruleset: &Ruleset, answers: &Answers) -> Verdict {
    let mut verdict = Verdict::blank();
    evaluate_into(ruleset, answers, &mut verdict, Detail::Full);
    verdict
}

/// How much of the verdict's wording `evaluate_into` writes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Everything, exactly as `evaluate`.
    Full,
    /// Each reason's `message` and `answers` and each ignored answer's `because` left empty,
    /// for output that shows rule and question ids only (batch CSV and table, impact):
    /// everything else exactly as `evaluate`. Filling the messages alone was 5.6% of batch's
    /// instructions (callgrind, 20k rows, one thread, `--format csv`).
    IdsOnly,
}

/// `evaluate`, into a verdict the caller keeps from patient to patient: the verdict is
/// overwritten, and its vectors and strings are reused rather than allocated afresh. With
/// `Detail::Full` the result equals `evaluate`'s exactly.
pub fn evaluate_into(ruleset: &Ruleset, answers: &Answers, verdict: &mut Verdict, detail: Detail) {
    let mut applies = std::mem::take(&mut verdict.applies);
    skip_logic(ruleset, answers, &mut applies, &mut |_, _: ()| {});
    let patient = Patient {
        answers,
        applies: &applies,
    };
    decide(ruleset, &patient, &mut |_, _: (), _| {}, verdict, detail);
    verdict.applies = applies;
}

/// Decides one patient exactly as `evaluate` does, keeping the trace of every rule and
/// `ask_if` (for `--explain` and failing rule cases).
pub fn explain<'a>(ruleset: &'a Ruleset, answers: &'a Answers) -> (Verdict, Explanation<'a>) {
    let mut ask_if = Vec::new();
    let mut keep_ask_if = |slot, recorder: Recorder<'a>| {
        if let Some(trace) = recorder.finish() {
            ask_if.push(AskIfTrace { slot, trace });
        }
    };
    let mut applies = Vec::new();
    skip_logic(ruleset, answers, &mut applies, &mut keep_ask_if);
    ask_if.sort_by_key(|a| a.slot);
    let patient = Patient {
        answers,
        applies: &applies,
    };
    let mut rules = Vec::new();
    let mut verdict = Verdict::blank();
    decide(
        ruleset,
        &patient,
        &mut |rule, recorder: Recorder<'a>, _| {
            if let Some(trace) = recorder.finish() {
                rules.push(RuleTrace {
                    rule,
                    trace,
                    needs: Vec::new(),
                });
            }
        },
        &mut verdict,
        Detail::Full,
    );
    for rt in &mut rules {
        if rt.trace.truth == Truth::Unknown {
            rt.needs = match verdict.missing.iter().find(|m| m.rule == rt.rule) {
                Some(m) => m.questions.clone(),
                None => {
                    let mut needs = Vec::new();
                    ruleset.rules[rt.rule]
                        .when
                        .undecided_by(&patient, &mut needs);
                    needs
                }
            };
        }
    }
    let seen = patient.all_seen();
    verdict.applies = applies;
    (
        verdict,
        Explanation {
            rules,
            ask_if,
            seen,
        },
    )
}

/// The one decision: every rule walked once over the patient, each rule's watcher handed to
/// `keep`; the verdict is written over `verdict`, reusing its buffers.
fn decide<'a, W: Watch<'a> + Default>(
    ruleset: &'a Ruleset,
    patient: &Patient<'a, '_>,
    keep: &mut impl FnMut(usize, W, Truth),
    verdict: &mut Verdict,
    detail: Detail,
) {
    let spare = &mut verdict.spare;
    spare.reasons.append(&mut verdict.reasons);
    spare.missing.append(&mut verdict.missing);
    for (index, rule) in ruleset.rules.iter().enumerate() {
        let mut watch = W::default();
        let truth = rule.when.walk(patient, &mut watch);
        keep(index, watch, truth);
        match truth {
            Truth::True => {
                let reason = reuse(&mut verdict.reasons, &mut spare.reasons, || Reason {
                    rule: index,
                    severity: rule.severity,
                    urgent: rule.urgent,
                    message: String::new(),
                    answers: Vec::new(),
                });
                reason.rule = index;
                reason.severity = rule.severity;
                reason.urgent = rule.urgent;
                reason.message.clear();
                reason.answers.clear();
                if detail == Detail::Full {
                    fill(&mut reason.message, ruleset, &rule.message, patient);
                    reason.answers.extend(
                        rule.reads
                            .iter()
                            .map(|&slot| (slot, patient.seen(slot).cloned())),
                    );
                }
            }
            Truth::Unknown if rule.severity != Severity::Note => {
                let entry = reuse(&mut verdict.missing, &mut spare.missing, || Missing {
                    rule: index,
                    questions: Vec::new(),
                });
                entry.rule = index;
                entry.questions.clear();
                rule.when.undecided_by(patient, &mut entry.questions);
                add_unknown_ask_if(ruleset, patient, &mut entry.questions);
            }
            _ => {}
        }
    }
    // Exclude, then review, then note; a stable sort keeps ruleset order within each (and
    // sorts a handful of reasons without allocating).
    verdict.reasons.sort_by_key(|r| r.severity);
    let fired = |severity| verdict.reasons.iter().any(|r| r.severity == severity);
    verdict.status = if fired(Severity::Exclude) {
        Status::Ineligible
    } else if !verdict.missing.is_empty() {
        Status::Incomplete
    } else if fired(Severity::Review) {
        Status::Review
    } else {
        Status::Eligible
    };
    verdict.urgent = verdict.reasons.iter().any(|r| r.urgent);
    verdict.urgent_undecided = urgent_undecided(ruleset, verdict.urgent, &verdict.missing);
    verdict.skipped.clear();
    verdict.skipped.extend(
        ruleset
            .guarded()
            .iter()
            .copied()
            .filter(|&s| patient.applies[s] == Applies::No),
    );
    verdict.skipped.sort_unstable();
    spare.ignored.append(&mut verdict.ignored);
    ignored(
        ruleset,
        patient,
        &verdict.skipped,
        (&mut verdict.ignored, &mut spare.ignored),
        detail,
    );
}

/// A new last entry of `items`: a spare one (to be overwritten), or else `new()`.
fn reuse<'v, T>(items: &'v mut Vec<T>, spare: &mut Vec<T>, new: impl FnOnce() -> T) -> &'v mut T {
    let entry = spare.pop().unwrap_or_else(new);
    items.push(entry);
    let last = items.len() - 1;
    &mut items[last]
}

/// No urgent rule fired, yet an urgent rule is undecided.
fn urgent_undecided(ruleset: &Ruleset, urgent: bool, missing: &[Missing]) -> bool {
    !urgent && missing.iter().any(|m| ruleset.rules[m.rule].urgent)
}

/// The answers given to skipped questions, each with why its question does not apply, into
/// `out` (empty), reusing `spare` entries.
fn ignored(
    ruleset: &Ruleset,
    patient: &Patient<'_, '_>,
    skipped: &[Slot],
    (out, spare): (&mut Vec<Ignored>, &mut Vec<Ignored>),
    detail: Detail,
) {
    for &slot in skipped {
        // A skipped question has an `ask_if` (it is what skipped it).
        let Some(value) = patient.answers.get(slot) else {
            continue;
        };
        let entry = reuse(out, spare, || Ignored {
            question: slot,
            value: value.clone(),
            because: String::new(),
        });
        entry.question = slot;
        entry.value.clone_from(value);
        entry.because.clear();
        if detail == Detail::Full {
            because(&mut entry.because, ruleset, slot, patient);
        }
    }
}

/// Why a skipped question does not apply, appended to `out`: what its `ask_if` read, then
/// the `ask_if` itself (`pregnancy_status is not_applicable; asked only if ...`).
fn because(out: &mut String, ruleset: &Ruleset, slot: Slot, patient: &Patient<'_, '_>) {
    for (i, &read) in ruleset.ask_if_reads(slot).iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let question = &ruleset.questions[read];
        out.push_str(&question.id);
        match patient.seen(read) {
            Seen::Answered(v) => {
                out.push_str(" is ");
                push_answer(out, v, question);
            }
            Seen::Unanswered => out.push_str(" is unanswered"),
            Seen::Skipped => out.push_str(" does not apply"),
        }
    }
    out.push_str("; asked only if ");
    out.push_str(ruleset.questions[slot].ask_if_text.as_deref().unwrap_or(""));
}

/// An answer as written (`Value::display`), appended to `out`.
fn push_answer(out: &mut String, value: &Value, question: &crate::ruleset::Question) {
    use std::fmt::Write as _;
    let _ = write!(out, "{}", value.display(question));
}

/// A question whose own `ask_if` is unknown is settled by answering what that `ask_if` reads:
/// name those questions too, and drop the question itself when it already has an answer.
fn add_unknown_ask_if(ruleset: &Ruleset, patient: &Patient<'_, '_>, questions: &mut Vec<Slot>) {
    let mut i = 0;
    while i < questions.len() {
        if let Some(cond) = &ruleset.questions[questions[i]].ask_if {
            cond.undecided_by(patient, questions);
        }
        i += 1;
    }
    questions.retain(|&slot| patient.answers.get(slot).is_none());
}

/// A rule's message with the answers filled in, appended to `out`.
fn fill(out: &mut String, ruleset: &Ruleset, pieces: &[Piece], patient: &Patient<'_, '_>) {
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Answer(slot) => match patient.seen(*slot) {
                Seen::Answered(v) => push_answer(out, v, &ruleset.questions[*slot]),
                Seen::Unanswered => out.push_str("(unanswered)"),
                Seen::Skipped => out.push_str("(not applicable)"),
            },
        }
    }
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
    fn an_undecided_urgent_rule_makes_urgent_not_known() {
        // `high` is urgent and needs sbp.
        let v = decide(&[("pregnant", "yes")]);
        assert!(!v.urgent);
        assert!(v.urgent_undecided);
        // An urgent rule that fired settles it, whatever else is undecided.
        let v = decide(&[("sbp", "185")]);
        assert!(v.urgent);
        assert!(!v.urgent_undecided);
        // Decided and not fired: not urgent, and known not to be.
        let v = decide(&[("sbp", "120")]);
        assert_eq!(v.status, Status::Incomplete);
        assert!(!v.urgent);
        assert!(!v.urgent_undecided);
    }

    #[test]
    fn an_answer_to_a_skipped_question_is_ignored_with_its_reason() {
        let v = decide(&[("sbp", "120"), ("pregnant", "yes"), ("feeding", "yes")]);
        assert_eq!(v.status, Status::Eligible);
        assert_eq!(
            v.ignored,
            vec![Ignored {
                question: 2,
                value: Value::YesNo(true),
                because: "pregnant is yes; asked only if pregnant == no".into()
            }]
        );
        // Skipped with no answer: nothing to ignore.
        assert!(decide(&[("sbp", "120"), ("pregnant", "yes")])
            .ignored
            .is_empty());
        // Held back while its ask_if is unknown: not ignored (it may yet apply).
        assert!(decide(&[("sbp", "120"), ("feeding", "yes")])
            .ignored
            .is_empty());
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

    /// The engine as it was first written — one `Vec` per patient, conditions evaluated on
    /// fields — kept here as the reference `evaluate`, `evaluate_into` and `explain` must agree with.
    mod reference {
        use super::super::*;

        /// What each question is, and whether it applies, by slot.
        pub fn fields<'a>(
            ruleset: &Ruleset,
            answers: &'a Answers,
        ) -> (Vec<Seen<&'a Value>>, Vec<Applies>) {
            let mut fields = vec![Seen::<&Value>::Unanswered; ruleset.questions.len()];
            let mut applies = vec![Applies::Yes; ruleset.questions.len()];
            for &slot in &ruleset.ask_order {
                let asked = match &ruleset.questions[slot].ask_if {
                    Some(cond) => cond.eval(&fields),
                    None => Truth::True,
                };
                fields[slot] = match (asked, answers.get(slot)) {
                    (Truth::False, _) => Seen::Skipped,
                    (Truth::True, Some(value)) => Seen::Answered(value),
                    _ => Seen::Unanswered,
                };
                applies[slot] = match asked {
                    Truth::False => Applies::No,
                    Truth::Unknown => Applies::NotKnown,
                    Truth::True => Applies::Yes,
                };
            }
            (fields, applies)
        }

        fn ignored(
            ruleset: &Ruleset,
            answers: &Answers,
            skipped: &[Slot],
            seen: &[Seen<&Value>],
        ) -> Vec<Ignored> {
            use std::fmt::Write as _;
            let mut out = Vec::new();
            for &slot in skipped {
                let (Some(value), Some(cond)) =
                    (answers.get(slot), &ruleset.questions[slot].ask_if)
                else {
                    continue;
                };
                let mut reads = Vec::new();
                cond.reads(&mut reads);
                let mut because = String::new();
                for (i, &read) in reads.iter().enumerate() {
                    if i > 0 {
                        because.push_str(", ");
                    }
                    let id = &ruleset.questions[read].id;
                    let _ = match seen[read] {
                        Seen::Answered(v) => {
                            write!(because, "{id} is {}", v.display(&ruleset.questions[read]))
                        }
                        Seen::Unanswered => write!(because, "{id} is unanswered"),
                        Seen::Skipped => write!(because, "{id} does not apply"),
                    };
                }
                let _ = write!(
                    because,
                    "; asked only if {}",
                    ruleset.questions[slot].ask_if_text.as_deref().unwrap_or("")
                );
                out.push(Ignored {
                    question: slot,
                    value: value.clone(),
                    because,
                });
            }
            out
        }

        fn add_unknown_ask_if(
            ruleset: &Ruleset,
            answers: &Answers,
            fields: &[Seen<&Value>],
            questions: &mut Vec<Slot>,
        ) {
            let mut i = 0;
            while i < questions.len() {
                if let Some(cond) = &ruleset.questions[questions[i]].ask_if {
                    cond.undecided_by(fields, questions);
                }
                i += 1;
            }
            questions
                .retain(|&slot| answers.get(slot).is_none() || fields[slot] != Seen::Unanswered);
        }

        fn fill(ruleset: &Ruleset, pieces: &[Piece], fields: &[Seen<&Value>]) -> String {
            use std::fmt::Write as _;
            let mut out = String::new();
            for piece in pieces {
                match piece {
                    Piece::Text(t) => out.push_str(t),
                    Piece::Answer(slot) => match fields[*slot] {
                        Seen::Answered(v) => {
                            let _ = write!(out, "{}", v.display(&ruleset.questions[*slot]));
                        }
                        Seen::Unanswered => out.push_str("(unanswered)"),
                        Seen::Skipped => out.push_str("(not applicable)"),
                    },
                }
            }
            out
        }

        pub fn evaluate(ruleset: &Ruleset, answers: &Answers) -> Verdict {
            let (fields, applies) = fields(ruleset, answers);
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
                            .map(|&slot| (slot, fields[slot].cloned()))
                            .collect(),
                    }),
                    Truth::Unknown if rule.severity != Severity::Note => {
                        let mut questions = Vec::new();
                        rule.when.undecided_by(&fields[..], &mut questions);
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
            let skipped: Vec<Slot> = (0..fields.len())
                .filter(|&s| fields[s] == Seen::Skipped)
                .collect();
            let urgent = reasons.iter().any(|r| r.urgent);
            let urgent_undecided = !urgent
                && missing
                    .iter()
                    .any(|m: &Missing| ruleset.rules[m.rule].urgent);
            let ignored = ignored(ruleset, answers, &skipped, &fields);
            Verdict {
                status,
                urgent,
                urgent_undecided,
                reasons,
                missing,
                skipped,
                ignored,
                applies,
                spare: Spare::default(),
            }
        }
    }

    /// Random answers for the shipped rulesets — every question answered, unanswered, or (for
    /// a yes/no) either way — decided by the reference engine, `evaluate` and `explain`: all
    /// three agree exactly.
    #[test]
    fn agrees_with_the_reference_engine_on_the_shipped_rulesets() {
        agree_with_reference(&crate::ruleset::builtin().expect("built-in ruleset loads"));
        let clinic = include_str!("../examples/clinic-ruleset.yaml");
        agree_with_reference(
            &crate::ruleset::load_str(clinic, "examples/clinic-ruleset.yaml")
                .expect("example loads"),
        );
    }

    fn agree_with_reference(rs: &Ruleset) {
        use crate::ruleset::Kind;
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let (mut reused, mut ids_only) = (Verdict::blank(), Verdict::blank());
        for _ in 0..20_000 {
            let mut answers = Answers::new(rs);
            // Mostly the harmless answer, sometimes the risky one, sometimes none.
            let blank_rate = [2, 10, 50][next(3) as usize];
            for (slot, q) in rs.questions.iter().enumerate() {
                if next(100) < blank_rate {
                    continue;
                }
                let value = match &q.kind {
                    Kind::YesNo => crate::answers::Value::YesNo(next(8) == 0),
                    Kind::Integer { min, max } => {
                        let (lo, hi) = (min.unwrap_or(0), max.unwrap_or(100));
                        crate::answers::Value::Integer(lo + next((hi - lo + 1) as u64) as i64)
                    }
                    Kind::Number { .. } => crate::answers::Value::Number(next(1000) as f64 / 7.0),
                    Kind::Choice(options) => {
                        crate::answers::Value::Choice(next(options.len() as u64) as usize)
                    }
                    Kind::Text => crate::answers::Value::Text("x".into()),
                };
                answers.set(slot, Some(value));
            }
            let expected = reference::evaluate(rs, &answers);
            assert_eq!(evaluate(rs, &answers), expected);
            let (verdict, explanation) = explain(rs, &answers);
            assert_eq!(verdict, expected);
            let (fields, _) = reference::fields(rs, &answers);
            assert_eq!(explanation.seen, fields);
            assert_eq!(seen(rs, &answers), fields);
            // Into a verdict reused from the patients before: the same, buffers and all.
            evaluate_into(rs, &answers, &mut reused, Detail::Full);
            assert_eq!(reused, expected);
            // Ids only: the same, with the wording left out.
            evaluate_into(rs, &answers, &mut ids_only, Detail::IdsOnly);
            let mut without = expected.clone();
            without.reasons.iter_mut().for_each(|r| {
                r.message.clear();
                r.answers.clear();
            });
            without.ignored.iter_mut().for_each(|i| i.because.clear());
            assert_eq!(ids_only, without);
        }
    }
}
