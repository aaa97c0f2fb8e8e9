//! One patient's answers as a document — JSON or YAML, from `check` or a saved interview —
//! turned into `Answers`. Keys are matched like CSV headers (id, any case, alias); invalid
//! values become input errors and stay unanswered; unknown keys are reported, never guessed.

use serde_json::Value as Json;

use crate::answers::{self, Answers, InputError};
use crate::ruleset::Ruleset;

/// Keys that carry the patient's identifier rather than an answer.
pub const ID_KEYS: [&str; 2] = ["id", "patient_id"];

/// A patient's answers read from a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Patient {
    pub id: Option<String>,
    pub answers: Answers,
    pub errors: Vec<InputError>,
    /// Keys that matched no question, with the closest question id if one is close.
    pub unknown_keys: Vec<(String, Option<String>)>,
}

/// Why a document could not be read as answers at all.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not valid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    #[error("expected an object of answers (question id: value), found {0}")]
    NotAnObject(&'static str),
    #[error("the input is empty")]
    Empty,
}

fn kind_of(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

/// Parses text as JSON when it looks like JSON, otherwise as YAML.
pub fn parse_document(text: &str) -> Result<Json, DocumentError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err(DocumentError::Empty);
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        Ok(serde_json::from_str(trimmed)?)
    } else {
        Ok(serde_yaml::from_str(trimmed)?)
    }
}

fn scalar_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Reads a document's answers. A saved interview (`schema` plus an `answers` object) is read
/// through its `answers`.
pub fn from_document(ruleset: &Ruleset, doc: &Json) -> Result<Patient, DocumentError> {
    let Json::Object(top) = doc else {
        return Err(DocumentError::NotAnObject(kind_of(doc)));
    };
    let body = match (top.get("schema"), top.get("answers")) {
        (Some(_), Some(Json::Object(inner))) => inner,
        _ => top,
    };
    let id = ID_KEYS
        .iter()
        .find_map(|k| top.get(*k).or_else(|| body.get(*k)))
        .filter(|v| !v.is_null())
        .map(scalar_text);
    let mut patient = Patient {
        id,
        answers: Answers::new(ruleset),
        errors: Vec::new(),
        unknown_keys: Vec::new(),
    };
    let mut given_as: Vec<Option<&str>> = vec![None; ruleset.questions.len()];
    for (key, raw) in body {
        if ID_KEYS.contains(&key.as_str()) || (std::ptr::eq(body, top) && key == "schema") {
            continue;
        }
        let Some(slot) = ruleset.resolve_name(key) else {
            let hint = ruleset.suggest_question(key).map(str::to_string);
            patient.unknown_keys.push((key.clone(), hint));
            continue;
        };
        let question = &ruleset.questions[slot];
        if let Some(first) = given_as[slot] {
            patient.errors.push(InputError {
                question: question.id.clone(),
                value: scalar_text(raw),
                message: format!(
                    "answered twice (as '{first}' and '{key}'); treated as unanswered"
                ),
            });
            patient.answers.set(slot, None);
            continue;
        }
        given_as[slot] = Some(key);
        match answers::parse_json(question, raw) {
            Ok(value) => patient.answers.set(slot, value),
            Err(e) => patient.errors.push(InputError {
                question: question.id.clone(),
                value: scalar_text(raw),
                message: e.message,
            }),
        }
    }
    Ok(patient)
}
