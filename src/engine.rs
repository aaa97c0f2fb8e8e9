//! The decision: `evaluate(&Ruleset, &Answers) -> Verdict`. Pure — no I/O, no printing, no
//! prompts — so the interview, `check` and `batch` all decide the same way. It applies skip
//! logic, evaluates every rule in three-valued logic, and ranks the outcome:
//! ineligible > incomplete > review > eligible, with `urgent` beside it. `evaluate_with`
//! decides the same way while reusing buffers, for loops over many patients.

use std::fmt;

use crate::answers::{Answers, Value};
use crate::expr::{Cell, Field, Simple, Truth};
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
    let mut scratch = Scratch::default();
    evaluate_with(ruleset, answers, &mut scratch);
    scratch.verdict
}

/// Buffers kept between decisions when many patients are decided one after another (the
/// batch loop): the verdict itself, every question as a condition reads it (`expr::Cell`), the
/// fired and undecided rules and spare reasons. Once they have grown to fit, deciding a patient
/// allocates nothing beyond what a fired rule's answers need (a text answer is cloned).
#[derive(Debug)]
pub struct Scratch {
    verdict: Verdict,
    /// Every question as rule conditions read it, skip logic applied.
    cells: Vec<Cell>,
    /// Fired rules by severity (exclude, review, note), in ruleset order.
    fired: [Vec<usize>; 3],
    /// Undecided exclude and review rules, in ruleset order.
    undecided: Vec<usize>,
    spare_reasons: Vec<Reason>,
    spare_missing: Vec<Missing>,
    detail: Detail,
    /// Each rule's condition as a `Simple` where it is one, for the ruleset named by
    /// `plan_for` (its id and the hash of its file: the same bytes compile the same way).
    simple: Vec<Option<Simple>>,
    plan_for: (String, String),
}

/// How much of each reason `evaluate_with` writes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    /// Everything, exactly as `evaluate`.
    #[default]
    Full,
    /// Reasons without their filled-in `message` and read `answers` (both left empty), for
    /// outputs that show only rule ids; everything else — status, urgent, which rules fired,
    /// missing, skipped — exactly as `evaluate`.
    Outline,
}

impl Scratch {
    /// Buffers for deciding with the given detail.
    pub fn with_detail(detail: Detail) -> Self {
        Scratch {
            detail,
            ..Scratch::default()
        }
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            verdict: Verdict {
                status: Status::Incomplete,
                urgent: false,
                urgent_undecided: false,
                reasons: Vec::new(),
                missing: Vec::new(),
                skipped: Vec::new(),
                ignored: Vec::new(),
            },
            cells: Vec::new(),
            fired: Default::default(),
            undecided: Vec::new(),
            spare_reasons: Vec::new(),
            spare_missing: Vec::new(),
            detail: Detail::Full,
            simple: Vec::new(),
            plan_for: (String::new(), String::new()),
        }
    }
}

/// Decides one patient exactly as `evaluate` does, reusing `scratch`'s buffers. The verdict
/// borrowed back is overwritten by the next call.
pub fn evaluate_with<'s>(
    ruleset: &Ruleset,
    answers: &Answers,
    scratch: &'s mut Scratch,
) -> &'s Verdict {
    let Scratch {
        verdict,
        cells,
        fired,
        undecided,
        spare_reasons,
        spare_missing,
        detail,
        simple,
        plan_for,
    } = scratch;
    if simple.len() != ruleset.rules.len()
        || plan_for.1 != ruleset.sha256
        || plan_for.0 != ruleset.id
    {
        *simple = ruleset.rules.iter().map(|r| Simple::of(&r.when)).collect();
        *plan_for = (ruleset.id.clone(), ruleset.sha256.clone());
    }
    fill_cells(ruleset, answers, cells);
    // What a question is for this patient, as messages and reasons show it.
    // An answer held back by an unknown `ask_if` reads as unanswered, as its cell does.
    let field = |slot: Slot| -> Field<'_> {
        let cell = cells[slot];
        if cell.is_skipped() {
            Field::Skipped
        } else if cell.is_unanswered() {
            Field::Unanswered
        } else {
            answers.get(slot).map_or(Field::Unanswered, Field::Answered)
        }
    };
    spare_reasons.append(&mut verdict.reasons);
    spare_missing.append(&mut verdict.missing);

    fired.iter_mut().for_each(Vec::clear);
    undecided.clear();
    for (index, (rule, simple)) in ruleset.rules.iter().zip(simple.iter()).enumerate() {
        let truth = match simple {
            Some(simple) => simple.eval(cells),
            None => rule.when.eval_cells(cells),
        };
        match truth {
            Truth::True => fired[rule.severity as usize].push(index),
            Truth::Unknown if rule.severity != Severity::Note => undecided.push(index),
            _ => {}
        }
    }
    // Fired rules ranked exclude, then review, then note; ruleset order within each.
    for &index in fired.iter().flatten() {
        let rule = &ruleset.rules[index];
        let mut reason = spare_reasons.pop().unwrap_or_else(|| Reason {
            rule: index,
            severity: rule.severity,
            urgent: false,
            message: String::new(),
            answers: Vec::new(),
        });
        reason.rule = index;
        reason.severity = rule.severity;
        reason.urgent = rule.urgent;
        reason.message.clear();
        reason.answers.clear();
        if *detail == Detail::Full {
            fill(ruleset, &rule.message, &field, &mut reason.message);
            reason
                .answers
                .extend(rule.reads.iter().map(|&slot| (slot, seen(field(slot)))));
        }
        verdict.reasons.push(reason);
    }
    for &index in undecided.iter() {
        let mut missing = spare_missing.pop().unwrap_or_else(|| Missing {
            rule: index,
            questions: Vec::new(),
        });
        missing.rule = index;
        missing.questions.clear();
        ruleset.rules[index]
            .when
            .undecided_by_cells(cells, &mut missing.questions);
        add_unknown_ask_if(ruleset, answers, cells, &mut missing.questions);
        verdict.missing.push(missing);
    }

    verdict.status = if !fired[Severity::Exclude as usize].is_empty() {
        Status::Ineligible
    } else if !verdict.missing.is_empty() {
        Status::Incomplete
    } else if !fired[Severity::Review as usize].is_empty() {
        Status::Review
    } else {
        Status::Eligible
    };
    verdict.urgent = verdict.reasons.iter().any(|r| r.urgent);
    verdict.skipped.clear();
    verdict.skipped.extend(
        ruleset
            .guarded()
            .iter()
            .copied()
            .filter(|&s| cells[s].is_skipped()),
    );
    verdict.skipped.sort_unstable();
    verdict.urgent_undecided = urgent_undecided(ruleset, verdict.urgent, &verdict.missing);
    verdict.ignored.clear();
    ignored(
        ruleset,
        answers,
        &verdict.skipped,
        &field,
        &mut verdict.ignored,
    );
    verdict
}

/// No urgent rule fired, yet an urgent rule is undecided.
fn urgent_undecided(ruleset: &Ruleset, urgent: bool, missing: &[Missing]) -> bool {
    !urgent && missing.iter().any(|m| ruleset.rules[m.rule].urgent)
}

/// The answers given to skipped questions, each with why its question does not apply.
fn ignored<'a>(
    ruleset: &Ruleset,
    answers: &Answers,
    skipped: &[Slot],
    field: &impl Fn(Slot) -> Field<'a>,
    out: &mut Vec<Ignored>,
) {
    use std::fmt::Write as _;
    for &slot in skipped {
        let (Some(value), Some(cond)) = (answers.get(slot), &ruleset.questions[slot].ask_if) else {
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
            let _ = match field(read) {
                Field::Answered(v) => {
                    write!(because, "{id} is {}", v.display(&ruleset.questions[read]))
                }
                Field::Unanswered => write!(because, "{id} is unanswered"),
                Field::Skipped => write!(because, "{id} does not apply"),
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
}

/// The cells of every question once skip logic has run, as `fields` gives them: skipped when
/// the `ask_if` is false, unanswered (held back) while it is unknown. `guarded` lists the
/// questions with an `ask_if` in ask order, so each sees the questions it reads settled.
fn fill_cells(ruleset: &Ruleset, answers: &Answers, cells: &mut Vec<Cell>) {
    cells.clear();
    cells.extend((0..ruleset.questions.len()).map(|slot| Cell::of_answer(answers.get(slot))));
    for &slot in ruleset.guarded() {
        if let Some(cond) = &ruleset.questions[slot].ask_if {
            match cond.eval_cells(cells) {
                Truth::False => cells[slot] = Cell::SKIPPED,
                Truth::Unknown => cells[slot] = Cell::UNANSWERED,
                Truth::True => {}
            }
        }
    }
}

/// A question whose own `ask_if` is unknown is settled by answering what that `ask_if` reads:
/// name those questions too, and drop the question itself when it already has an answer.
fn add_unknown_ask_if(
    ruleset: &Ruleset,
    answers: &Answers,
    cells: &[Cell],
    questions: &mut Vec<Slot>,
) {
    let mut i = 0;
    while i < questions.len() {
        if let Some(cond) = &ruleset.questions[questions[i]].ask_if {
            cond.undecided_by_cells(cells, questions);
        }
        i += 1;
    }
    questions.retain(|&slot| answers.get(slot).is_none());
}

fn seen(field: Field<'_>) -> Seen {
    match field {
        Field::Answered(v) => Seen::Answered(v.clone()),
        Field::Unanswered => Seen::Unanswered,
        Field::Skipped => Seen::Skipped,
    }
}

fn fill<'a>(
    ruleset: &Ruleset,
    pieces: &[Piece],
    field: &impl Fn(Slot) -> Field<'a>,
    out: &mut String,
) {
    use std::fmt::Write as _;
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Answer(slot) => match field(*slot) {
                Field::Answered(v) => {
                    let _ = write!(out, "{}", v.display(&ruleset.questions[*slot]));
                }
                Field::Unanswered => out.push_str("(unanswered)"),
                Field::Skipped => out.push_str("(not applicable)"),
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
    fn skipped_question_is_not_missing() {
        let v = decide(&[("sbp", "120"), ("pregnant", "yes")]);
        assert_eq!(v.status, Status::Eligible);
        assert_eq!(v.skipped, vec![2]);
        // An answer to a skipped question is ignored.
        let v = decide(&[("sbp", "120"), ("pregnant", "yes"), ("feeding", "yes")]);
        assert_eq!(v.status, Status::Eligible);
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
    fn undecided_note_is_not_missing_and_reasons_are_ranked() {
        let v = decide(&[("sbp", "150"), ("pregnant", "no"), ("feeding", "yes")]);
        assert_eq!(v.status, Status::Review);
        let rules: Vec<usize> = v.reasons.iter().map(|r| r.rule).collect();
        assert_eq!(rules, vec![1, 2]);
        let v = decide(&[("pregnant", "yes")]);
        assert_eq!(v.status, Status::Incomplete);
        assert_eq!(v.missing.len(), 2);
    }

    #[test]
    fn reused_scratch_decides_exactly_like_evaluate() {
        let rs = load_str(RULES, "t.yaml").expect("loads");
        let patients: [&[(&str, &str)]; 6] = [
            &[("sbp", "185")],
            &[("sbp", "150"), ("pregnant", "no"), ("feeding", "yes")],
            &[("sbp", "120"), ("pregnant", "yes")],
            &[("sbp", "55"), ("pregnant", "no"), ("feeding", "no")],
            &[],
            &[("sbp", "190"), ("pregnant", "no"), ("feeding", "yes")],
        ];
        let mut scratch = Scratch::default();
        // Twice round, so buffers grown by one patient are reused by a smaller one.
        for values in patients.iter().chain(patients.iter()) {
            let mut answers = Answers::new(&rs);
            for (id, raw) in values.iter() {
                let slot = rs.slot(id).expect("known id");
                answers.set(
                    slot,
                    crate::answers::parse_text(&rs.questions[slot], raw).expect("valid"),
                );
            }
            let fresh = evaluate(&rs, &answers);
            assert_eq!(
                evaluate_with(&rs, &answers, &mut scratch),
                &fresh,
                "{values:?}"
            );
        }
    }

    #[test]
    fn outline_leaves_out_only_messages_and_read_answers() {
        let rs = load_str(RULES, "t.yaml").expect("loads");
        let mut outline = Scratch::with_detail(Detail::Outline);
        for values in [&[("sbp", "185")][..], &[("sbp", "150"), ("pregnant", "no")]] {
            let mut answers = Answers::new(&rs);
            for (id, raw) in values {
                let slot = rs.slot(id).expect("known id");
                answers.set(
                    slot,
                    crate::answers::parse_text(&rs.questions[slot], raw).expect("valid"),
                );
            }
            let mut full = evaluate(&rs, &answers);
            for r in &mut full.reasons {
                r.message.clear();
                r.answers.clear();
            }
            assert_eq!(evaluate_with(&rs, &answers, &mut outline), &full);
        }
    }

    /// The engine as it was first written — one `Vec` per patient, conditions evaluated on
    /// fields — kept here as the reference `evaluate` and `evaluate_with` must agree with.
    mod reference {
        use super::super::*;

        fn fields<'a>(ruleset: &Ruleset, answers: &'a Answers) -> Vec<Field<'a>> {
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
            questions
                .retain(|&slot| answers.get(slot).is_none() || fields[slot] != Field::Unanswered);
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
            let skipped: Vec<Slot> = (0..fields.len())
                .filter(|&s| fields[s] == Field::Skipped)
                .collect();
            let urgent = reasons.iter().any(|r| r.urgent);
            let urgent_undecided = !urgent
                && missing
                    .iter()
                    .any(|m: &Missing| ruleset.rules[m.rule].urgent);
            let mut ignored = Vec::new();
            super::super::ignored(ruleset, answers, &skipped, &|s| fields[s], &mut ignored);
            Verdict {
                status,
                urgent,
                urgent_undecided,
                reasons,
                missing,
                skipped,
                ignored,
            }
        }
    }

    /// Random answers for the shipped rulesets — every question answered, unanswered, or (for
    /// a yes/no) either way — decided by the reference engine, `evaluate`, and one reused
    /// `Scratch`: all three agree exactly.
    #[test]
    fn agrees_with_the_reference_engine_on_the_shipped_rulesets() {
        let clinic = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join("clinic-ruleset.yaml");
        agree_with_reference(&crate::ruleset::builtin().expect("built-in ruleset loads"));
        agree_with_reference(&crate::ruleset::load_file(&clinic).expect("example loads"));
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
        let mut scratch = Scratch::default();
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
            assert_eq!(evaluate_with(rs, &answers, &mut scratch), &expected);
        }
    }
}
