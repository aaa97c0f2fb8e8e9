//! Rule case files: answers in, expected verdict, fired rules, urgency and missing questions
//! out. One format serves the shipped `rules/ketamine.tests.yaml`, the test suite that walks
//! it, and `ketascreen rules test`. A case's answers are merged over the file's `defaults`
//! (`null` unanswers a default) and read exactly as `check` reads a patient.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use crate::answers::Answers;
use crate::engine::{evaluate, Status, Verdict};
use crate::patient;
use crate::ruleset::{Locations, Ruleset};

/// A case file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    #[serde(default)]
    pub defaults: Map<String, Json>,
    pub cases: Vec<Case>,
}

/// One case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    #[serde(default)]
    pub answers: Map<String, Json>,
    pub verdict: String,
    pub fired: Vec<String>,
    pub urgent: Option<bool>,
    /// Whether no urgent rule fired but an urgent rule is undecided.
    pub urgent_undecided: Option<bool>,
    pub missing: Option<Vec<String>>,
    /// The questions whose answers were ignored because they do not apply.
    pub ignored: Option<Vec<String>>,
    /// `unconfirmed` for a drafted case (`rules cases --boundaries`) no person has checked yet;
    /// `confirmed` or absent otherwise. Unconfirmed cases run but pin nothing down for coverage.
    #[serde(default)]
    pub status: Option<String>,
}

impl Case {
    /// Whether a person stands behind this case's expectation.
    pub fn is_confirmed(&self) -> bool {
        self.status.as_deref() != Some(UNCONFIRMED)
    }
}

/// The mark of a drafted case no person has checked yet.
pub const UNCONFIRMED: &str = "unconfirmed";

/// Why a case file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CaseFileError {
    /// `place` is `LINE:COL: ` when the problem has one.
    #[error("{file}:{place}{message}")]
    Invalid {
        file: String,
        place: String,
        message: String,
    },
}

/// Reads a case file's text; `file` names it in messages (`FILE:LINE:COL: message`).
pub fn parse(text: &str, file: &str) -> Result<CaseFile, CaseFileError> {
    let invalid = |pos: Option<(usize, usize)>, message: String| CaseFileError::Invalid {
        file: file.to_string(),
        place: pos
            .map(|(line, col)| format!("{line}:{col}: "))
            .unwrap_or_else(|| " ".to_string()),
        message,
    };
    let parsed: CaseFile = serde_yaml::from_str(text).map_err(|e| {
        let mut message = e.to_string();
        if let Some(cut) = message.rfind(" at line ") {
            message.truncate(cut);
        }
        invalid(e.location().map(|l| (l.line(), l.column())), message)
    })?;
    let mut names = BTreeSet::new();
    for (i, case) in parsed.cases.iter().enumerate() {
        if !names.insert(case.name.as_str()) {
            let pos = Locations::index(text)
                .value(&format!("cases[{i}].name"))
                .map(|p| (p.line, p.column));
            return Err(invalid(pos, format!("duplicate case name '{}'", case.name)));
        }
        if let Some(status) = &case.status {
            if status != UNCONFIRMED && status != "confirmed" {
                let pos = Locations::index(text)
                    .value(&format!("cases[{i}].status"))
                    .map(|p| (p.line, p.column));
                return Err(invalid(
                    pos,
                    format!(
                        "status '{status}' of case '{}' is neither 'confirmed' nor 'unconfirmed'",
                        case.name
                    ),
                ));
            }
        }
    }
    Ok(parsed)
}

/// What running one case found.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    /// Every way the result differs from the expectation; empty when the case passes.
    pub problems: Vec<String>,
    pub answers: Answers,
    pub verdict: Verdict,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

fn set_difference(
    label: &str,
    expected: &BTreeSet<String>,
    actual: &BTreeSet<String>,
) -> Option<String> {
    if expected == actual {
        return None;
    }
    let absent: Vec<&str> = expected.difference(actual).map(String::as_str).collect();
    let extra: Vec<&str> = actual.difference(expected).map(String::as_str).collect();
    let mut parts = Vec::new();
    if !absent.is_empty() {
        parts.push(format!("expected but not found: {}", absent.join(", ")));
    }
    if !extra.is_empty() {
        parts.push(format!("found but not expected: {}", extra.join(", ")));
    }
    Some(format!("{label}: {}", parts.join("; ")))
}

/// The case's answers merged over the file's defaults.
pub fn merged_answers(file: &CaseFile, case: &Case) -> Map<String, Json> {
    let mut merged = file.defaults.clone();
    for (key, value) in &case.answers {
        merged.insert(key.clone(), value.clone());
    }
    merged
}

/// Runs one case against a ruleset.
pub fn run(ruleset: &Ruleset, file: &CaseFile, case: &Case) -> Outcome {
    let mut problems = Vec::new();
    let doc = Json::Object(merged_answers(file, case));
    let patient = match patient::from_document(ruleset, &doc) {
        Ok(p) => p,
        Err(e) => {
            // Unreachable for an object, but a case must never pass on unread answers.
            problems.push(format!("answers: {e}"));
            let answers = Answers::new(ruleset);
            let verdict = evaluate(ruleset, &answers);
            return Outcome {
                name: case.name.clone(),
                problems,
                answers,
                verdict,
            };
        }
    };
    for (key, hint) in &patient.unknown_keys {
        let hint = crate::suggest::hint(hint.as_deref());
        problems.push(format!(
            "answers: '{key}' is not a question of this ruleset{hint}"
        ));
    }
    for e in &patient.errors {
        problems.push(format!(
            "answers: {} = {:?}: {}",
            e.question, e.value, e.message
        ));
    }
    let verdict = evaluate(ruleset, &patient.answers);

    match Status::parse(&case.verdict) {
        Some(expected) if expected == verdict.status => {}
        Some(expected) => problems.push(format!(
            "verdict: expected {expected}, got {}",
            verdict.status
        )),
        None => problems.push(format!(
            "verdict: '{}' is not a verdict (ineligible, incomplete, review, eligible)",
            case.verdict
        )),
    }
    for id in &case.fired {
        if !ruleset.rules.iter().any(|r| &r.id == id) {
            let hint =
                crate::suggest::did_you_mean(id, ruleset.rules.iter().map(|r| r.id.as_str()));
            problems.push(format!("fired: '{id}' is not a rule of this ruleset{hint}"));
        }
    }
    let expected: BTreeSet<String> = case.fired.iter().cloned().collect();
    let actual: BTreeSet<String> = verdict
        .reasons
        .iter()
        .map(|r| ruleset.rules[r.rule].id.clone())
        .collect();
    problems.extend(set_difference("fired", &expected, &actual));
    if let Some(urgent) = case.urgent {
        if urgent != verdict.urgent {
            problems.push(format!("urgent: expected {urgent}, got {}", verdict.urgent));
        }
    }
    if let Some(expected) = case.urgent_undecided {
        if expected != verdict.urgent_undecided {
            problems.push(format!(
                "urgent_undecided: expected {expected}, got {}",
                verdict.urgent_undecided
            ));
        }
    }
    if let Some(ignored) = &case.ignored {
        let expected: BTreeSet<String> = ignored.iter().cloned().collect();
        let actual: BTreeSet<String> = verdict
            .ignored
            .iter()
            .map(|i| ruleset.questions[i.question].id.clone())
            .collect();
        problems.extend(set_difference("ignored", &expected, &actual));
    }
    if let Some(missing) = &case.missing {
        let expected: BTreeSet<String> = missing.iter().cloned().collect();
        let actual: BTreeSet<String> = verdict
            .missing_questions()
            .into_iter()
            .map(|s| ruleset.questions[s].id.clone())
            .collect();
        problems.extend(set_difference("missing", &expected, &actual));
    }
    Outcome {
        name: case.name.clone(),
        problems,
        answers: patient.answers,
        verdict,
    }
}

/// Runs every case of a file, in order.
pub fn run_all(ruleset: &Ruleset, file: &CaseFile) -> Vec<Outcome> {
    file.cases
        .iter()
        .map(|case| run(ruleset, file, case))
        .collect()
}
