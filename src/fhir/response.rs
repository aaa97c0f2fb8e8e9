//! A FHIR R4 `QuestionnaireResponse` read as one patient's answers. Answers are matched to
//! questions by `linkId` (exactly the question id), found at any depth (groups, nested items);
//! each `value[x]` is checked against the question's type and then read by the same
//! `patient::parse_json` every other JSON front end uses. A response to another questionnaire (url
//! or version) is refused outright: its linkIds may mean something else.

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::{options_system, questionnaire_url, ucum_code};
use crate::answers::{self, Answers, InputError};
use crate::patient::Patient;
use crate::ruleset::{Kind, Question, Ruleset};

/// Why a document could not be read as a response to this ruleset's Questionnaire.
#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    #[error("not a valid QuestionnaireResponse: {0}")]
    Invalid(String),
    #[error(
        "this QuestionnaireResponse names no questionnaire; it must answer '{expected}' \
         (write that Questionnaire with 'ketascreen rules export --format fhir')"
    )]
    NoQuestionnaire { expected: String },
    #[error(
        "this QuestionnaireResponse answers questionnaire '{given}', not '{expected}' (ruleset \
         {ruleset}): screen it with the ruleset its Questionnaire was exported from (--rules FILE)"
    )]
    OtherQuestionnaire {
        given: String,
        expected: String,
        ruleset: String,
    },
    #[error(
        "this QuestionnaireResponse answers version {given} of '{url}', but the ruleset is \
         version {expected}: screen it with the ruleset version it was made for (--rules FILE)"
    )]
    OtherVersion {
        given: String,
        url: String,
        expected: String,
    },
    #[error("this QuestionnaireResponse has status 'entered-in-error': it must not be screened")]
    EnteredInError,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Response {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    questionnaire: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    subject: Option<Reference>,
    #[serde(default)]
    item: Vec<ResponseItem>,
}

#[derive(Debug, Deserialize)]
struct Reference {
    #[serde(default)]
    reference: Option<String>,
    #[serde(default)]
    identifier: Option<IdentifierIn>,
}

#[derive(Debug, Deserialize)]
struct IdentifierIn {
    #[serde(default)]
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResponseItem {
    link_id: String,
    #[serde(default)]
    answer: Vec<ResponseAnswer>,
    #[serde(default)]
    item: Vec<ResponseItem>,
}

#[derive(Debug, Deserialize)]
struct ResponseAnswer {
    #[serde(default)]
    item: Vec<ResponseItem>,
    /// `value[x]` and anything else, looked at by name.
    #[serde(flatten)]
    rest: Map<String, Json>,
}

/// The canonical a response must name: `url|version`.
pub fn expected_canonical(ruleset: &Ruleset) -> String {
    format!("{}|{}", questionnaire_url(ruleset), ruleset.version)
}

/// Reads a QuestionnaireResponse (already parsed JSON) as a patient's answers.
pub fn read(ruleset: &Ruleset, doc: &Json) -> Result<Patient, ResponseError> {
    let response: Response =
        serde_json::from_value(doc.clone()).map_err(|e| ResponseError::Invalid(e.to_string()))?;
    check_questionnaire(ruleset, response.questionnaire.as_deref())?;
    if response.status.as_deref() == Some("entered-in-error") {
        return Err(ResponseError::EnteredInError);
    }
    let id = response
        .subject
        .as_ref()
        .and_then(|s| {
            s.identifier
                .as_ref()
                .and_then(|i| i.value.clone())
                .or_else(|| s.reference.clone())
        })
        .or_else(|| response.id.clone());
    let mut reader = Reader {
        ruleset,
        patient: Patient {
            id,
            answers: Answers::new(ruleset),
            errors: Vec::new(),
            unknown_keys: Vec::new(),
        },
        seen: vec![false; ruleset.questions.len()],
    };
    reader.items(&response.item);
    Ok(reader.patient)
}

fn check_questionnaire(ruleset: &Ruleset, canonical: Option<&str>) -> Result<(), ResponseError> {
    let url = questionnaire_url(ruleset);
    let Some(canonical) = canonical.map(str::trim).filter(|c| !c.is_empty()) else {
        return Err(ResponseError::NoQuestionnaire {
            expected: expected_canonical(ruleset),
        });
    };
    let (given_url, given_version) = match canonical.split_once('|') {
        Some((u, v)) => (u, Some(v)),
        None => (canonical, None),
    };
    if given_url != url {
        return Err(ResponseError::OtherQuestionnaire {
            given: answers::echo(canonical).escape_debug().to_string(),
            expected: expected_canonical(ruleset),
            ruleset: format!("{} {}", ruleset.id, ruleset.version),
        });
    }
    match given_version {
        Some(v) if v != ruleset.version => Err(ResponseError::OtherVersion {
            given: answers::echo(v).escape_debug().to_string(),
            url,
            expected: ruleset.version.clone(),
        }),
        _ => Ok(()),
    }
}

struct Reader<'a> {
    ruleset: &'a Ruleset,
    patient: Patient,
    seen: Vec<bool>,
}

impl Reader<'_> {
    fn items(&mut self, items: &[ResponseItem]) {
        for item in items {
            self.item(item);
            self.items(&item.item);
            for answer in &item.answer {
                self.items(&answer.item);
            }
        }
    }

    fn error(&mut self, question: &Question, value: String, message: String) {
        self.patient.errors.push(InputError {
            form: None,
            question: question.id.clone(),
            value: answers::echo(&value),
            message,
        });
    }

    fn item(&mut self, item: &ResponseItem) {
        let Some(slot) = self.ruleset.slot(&item.link_id) else {
            if !item.answer.is_empty() {
                let hint = self
                    .ruleset
                    .suggest_question(&item.link_id)
                    .map(str::to_string);
                self.patient.unknown_keys.push((item.link_id.clone(), hint));
            }
            return;
        };
        let question = &self.ruleset.questions[slot];
        if std::mem::replace(&mut self.seen[slot], true) {
            self.error(
                question,
                String::new(),
                format!(
                    "two items have linkId '{}'; treated as unanswered",
                    item.link_id
                ),
            );
            self.patient.answers.set(slot, None);
            return;
        }
        let answer = match item.answer.as_slice() {
            [] => return,
            [one] => one,
            many => {
                self.error(
                    question,
                    String::new(),
                    format!(
                        "{} answers given to a question that takes one; treated as unanswered",
                        many.len()
                    ),
                );
                return;
            }
        };
        let raw = match value_of(self.ruleset, question, answer) {
            Ok(raw) => raw,
            Err((value, message)) => {
                self.error(question, value, message);
                return;
            }
        };
        match crate::patient::parse_json(question, &raw) {
            Ok(value) => self.patient.answers.set(slot, value),
            Err(e) => {
                let shown = match &raw {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                };
                self.error(question, shown, e.message);
            }
        }
    }
}

/// The answer's `value[x]` as the JSON `patient::parse_json` reads, or the rejected value and
/// why it was rejected.
fn value_of(
    ruleset: &Ruleset,
    question: &Question,
    answer: &ResponseAnswer,
) -> Result<Json, (String, String)> {
    let values: Vec<(&String, &Json)> = answer
        .rest
        .iter()
        .filter(|(k, _)| k.starts_with("value"))
        .collect();
    let (key, value) = match values.as_slice() {
        [] => return Ok(Json::Null),
        [one] => *one,
        _ => {
            let keys: Vec<&str> = values.iter().map(|(k, _)| k.as_str()).collect();
            return Err((
                String::new(),
                format!(
                    "an answer has {} values ({}); treated as unanswered",
                    keys.len(),
                    keys.join(", ")
                ),
            ));
        }
    };
    let shown = || match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    match key.as_str() {
        "valueBoolean" | "valueInteger" | "valueDecimal" | "valueString" => Ok(value.clone()),
        "valueCoding" => {
            let code = value.get("code").and_then(Json::as_str);
            let system = value.get("system").and_then(Json::as_str);
            let ours = options_system(ruleset, &question.id);
            match (code, system) {
                (None, _) => Err((shown(), "a valueCoding without a code".to_string())),
                (Some(_), Some(s)) if s != ours => Err((
                    shown(),
                    format!("code system '{s}' is not this question's ('{ours}')"),
                )),
                (Some(code), _) => Ok(Json::String(code.to_string())),
            }
        }
        "valueQuantity" => {
            let Some(number) = value.get("value").filter(|v| v.is_number()) else {
                return Err((shown(), "a valueQuantity without a value".to_string()));
            };
            let unit = value.get("unit").and_then(Json::as_str);
            let code = value.get("code").and_then(Json::as_str);
            let expected = question.unit.as_deref();
            let fits = match expected {
                _ if unit.is_none() && code.is_none() => true,
                None => false,
                Some(q) => {
                    unit.is_some_and(|u| u.trim().eq_ignore_ascii_case(q))
                        || (code.is_some() && code == ucum_code(q))
                }
            };
            if fits {
                Ok(number.clone())
            } else {
                Err((
                    shown(),
                    format!(
                        "unit '{}' is not this question's ({})",
                        unit.or(code).unwrap_or(""),
                        expected.unwrap_or("no unit")
                    ),
                ))
            }
        }
        other => Err((
            shown(),
            format!(
                "{other} cannot answer a {} question (expected {})",
                question.kind.name(),
                expected_value(&question.kind)
            ),
        )),
    }
}

fn expected_value(kind: &Kind) -> &'static str {
    match kind {
        Kind::YesNo => "valueBoolean",
        Kind::Integer { .. } => "valueInteger",
        Kind::Number { .. } => "valueDecimal",
        Kind::Choice(_) => "valueCoding",
        Kind::Text => "valueString",
    }
}

/// The QuestionnaireResponses a Bundle holds (`entry[].resource`), in order.
pub fn bundle_responses(doc: &Json) -> Vec<&Json> {
    doc.get("entry")
        .and_then(Json::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| e.get("resource"))
                .filter(|r| super::resource_type(r) == Some("QuestionnaireResponse"))
                .collect()
        })
        .unwrap_or_default()
}
