//! One patient's answers as a document — JSON or YAML, from `check` or a saved interview —
//! turned into `Answers`. Keys are matched like CSV headers (id, any case, alias); invalid
//! values become input errors and stay unanswered; unknown keys are reported, never guessed.

use serde_json::Value as Json;

use crate::answers::{self, Answers, InputError, InvalidValue, Value};
use crate::ruleset::{Kind, Question, Ruleset};

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
    #[error("not valid JSON")]
    Json(#[from] serde_json::Error),
    #[error("not valid YAML{}", yaml_place(.0))]
    Yaml(#[from] serde_yaml::Error),
    #[error("expected an object of answers (question id: value), found {0}")]
    NotAnObject(&'static str),
    #[error("the input is empty")]
    Empty,
    #[error("{0}")]
    Ambiguous(String),
}

/// The schemas of the documents ketascreen writes that hold answers: a saved interview (a
/// verdict record with an `answers` object) and an interview draft.
pub const ANSWER_SCHEMAS: [&str; 2] = [crate::output::SCHEMA, "ketascreen.interview-draft/v1"];

/// The top-level keys of a saved record or a draft besides `answers`: they describe the
/// record and are never read as answers (a question cannot be named after them: lint says so).
pub const RECORD_KEYS: [&str; 14] = [
    "schema",
    "row",
    "id",
    "patient_id",
    "verdict",
    "urgent",
    "urgent_undecided",
    "reasons",
    "missing",
    "ignored",
    "errors",
    "ruleset",
    "profile",
    "asked",
];

/// " (line L, column C)" when the YAML error knows its place and does not already say it.
fn yaml_place(e: &serde_yaml::Error) -> String {
    match e.location() {
        Some(l) if !e.to_string().contains(" at line ") => {
            format!(" (line {}, column {})", l.line(), l.column())
        }
        _ => String::new(),
    }
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
    let strict: Strict = if trimmed.starts_with('{') || trimmed.starts_with('[') {
        serde_json::from_str(trimmed)?
    } else {
        // serde_yaml's own value type places a duplicate key at its line and column.
        let quoted = quote_inexact_numbers(trimmed);
        let value: serde_yaml::Value = serde_yaml::from_str(&quoted)?;
        serde_yaml::from_value(value)?
    };
    Ok(strict.0)
}

/// YAML reads `17.99999999999999999` as the float 18.0 before we see it. JSON keeps every
/// number as written (serde_json's `arbitrary_precision`); for YAML, a plain decimal scalar
/// that a float cannot hold exactly is quoted, so it reaches the question as the text it was
/// and is checked, and refused, in its written form (`answers::parse_text`).
fn quote_inexact_numbers(text: &str) -> std::borrow::Cow<'_, str> {
    use saphyr_parser::{Event, Parser, ScalarStyle};
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut parser = Parser::new_from_str(text);
    while let Some(Ok((event, span))) = parser.next_event() {
        if let Event::Scalar(value, ScalarStyle::Plain, _, None) = event {
            let number =
                value.contains(['.', 'e', 'E']) && value.parse::<f64>().is_ok_and(f64::is_finite);
            if number && !answers::is_exact_decimal(&value) {
                spans.push((span.start.index(), span.end.index()));
            }
        }
    }
    if spans.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 2 * spans.len());
    let mut spans = spans.into_iter().peekable();
    for (i, c) in text.chars().enumerate() {
        if spans.peek().is_some_and(|&(start, _)| start == i) {
            out.push('"');
        }
        if let Some(&(_, end)) = spans.peek() {
            if end == i {
                out.push('"');
                spans.next();
                if spans.peek().is_some_and(|&(start, _)| start == i) {
                    out.push('"');
                }
            }
        }
        out.push(c);
    }
    if spans.next().is_some() {
        out.push('"');
    }
    std::borrow::Cow::Owned(out)
}

/// A JSON value read from JSON or YAML that refuses duplicate keys (serde_json would keep the
/// last silently: for patient answers that could hide a contradiction). Non-finite numbers
/// (YAML `.nan`, `.inf`) become text, so the question reports them as invalid values.
struct Strict(Json);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

/// The key under which serde_json (`arbitrary_precision`) passes a number's written form.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON or YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(serde_json::Number::from_f64(v)
            .map(Json::Number)
            .unwrap_or_else(|| Json::String(v.to_string())))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        d.deserialize_any(StrictVisitor)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(Strict(key)) = map.next_key()? {
            let key = match key {
                Json::String(s) => s,
                other => other.to_string(),
            };
            let Strict(value) = map.next_value()?;
            // serde_json's arbitrary_precision hands a number over as a one-key map holding
            // its written form: keep that form.
            if key == NUMBER_TOKEN && object.is_empty() {
                if let Json::String(written) = &value {
                    if let Ok(n) = serde_json::from_str::<serde_json::Number>(written) {
                        return Ok(Json::Number(n));
                    }
                }
            }
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate key '{key}'")));
            }
            object.insert(key, value);
        }
        Ok(Json::Object(object))
    }
}

fn scalar_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The `answers` of a saved record or draft (a document with a `schema` key). Refused when
/// the document is ambiguous: a schema that is not ours, no `answers` object, an answer also
/// given at the top level (which one would count?), or two different patient ids.
fn saved_answers<'d>(
    ruleset: &Ruleset,
    top: &'d serde_json::Map<String, Json>,
    schema: &Json,
) -> Result<&'d serde_json::Map<String, Json>, DocumentError> {
    let refuse = |msg: String| Err(DocumentError::Ambiguous(msg));
    let known = ANSWER_SCHEMAS.join(" or ");
    let Some(name) = schema.as_str().filter(|s| ANSWER_SCHEMAS.contains(s)) else {
        return refuse(format!(
            "'schema' is {}, not a ketascreen document ({known}); a plain answers document has no 'schema' key",
            crate::output::escape::quoted(&scalar_text(schema))
        ));
    };
    let Some(Json::Object(inner)) = top.get("answers") else {
        return refuse(format!(
            "a {name} document without an 'answers' object holds no answers"
        ));
    };
    let extra: Vec<String> = top
        .keys()
        .filter(|k| k.as_str() != "answers" && !RECORD_KEYS.contains(&k.as_str()))
        .filter(|k| ruleset.resolve_name(k).is_some())
        .map(|k| crate::output::escape::quoted(k))
        .collect();
    if !extra.is_empty() {
        return refuse(format!(
            "ambiguous document: a {name} record has its answers in 'answers', but {} also given at the top level; move every answer into 'answers'",
            if extra.len() == 1 {
                format!("{} is", extra[0])
            } else {
                format!("{} are", extra.join(", "))
            }
        ));
    }
    for key in ID_KEYS {
        let (outer, inner) = (top.get(key), inner.get(key));
        if let (Some(a), Some(b)) = (outer, inner) {
            if a != b && !a.is_null() && !b.is_null() {
                return refuse(format!(
                    "ambiguous document: two patient ids, '{key}' {} at the top level and {} in 'answers'",
                    crate::output::escape::quoted(&scalar_text(a)),
                    crate::output::escape::quoted(&scalar_text(b))
                ));
            }
        }
    }
    Ok(inner)
}

/// Reads a document's answers. A saved interview (`schema` plus an `answers` object) is read
/// through its `answers`.
pub fn from_document(ruleset: &Ruleset, doc: &Json) -> Result<Patient, DocumentError> {
    let Json::Object(top) = doc else {
        return Err(DocumentError::NotAnObject(kind_of(doc)));
    };
    let body = match top.get("schema") {
        None => top,
        Some(schema) => saved_answers(ruleset, top, schema)?,
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
        if ID_KEYS.contains(&key.as_str()) {
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
                form: None,
                question: question.id.clone(),
                value: answers::echo(&scalar_text(raw)),
                message: format!(
                    "answered twice (as '{first}' and '{key}'); treated as unanswered"
                ),
            });
            patient.answers.set(slot, None);
            continue;
        }
        given_as[slot] = Some(key);
        match parse_json(question, raw) {
            Ok(value) => patient.answers.set(slot, value),
            Err(e) => patient.errors.push(InputError {
                form: None,
                question: question.id.clone(),
                value: answers::echo(&scalar_text(raw)),
                message: e.message,
            }),
        }
    }
    Ok(patient)
}

/// Why a document could not be read through a profile.
#[derive(Debug, thiserror::Error)]
pub enum ProfiledError {
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error("{0}")]
    Header(#[from] crate::profile::HeaderMismatch),
    #[error("{0}")]
    NotAPatient(String),
}

/// Reads a document whose keys and values are as the clinic's export writes them (a REDCap
/// record as JSON, say) through an intake profile: the keys are the header, the values the
/// cells, and the profile's plan reads them exactly as it reads a batch row. `name` names the
/// input in messages.
pub fn from_document_with_profile(
    ruleset: &Ruleset,
    doc: &Json,
    profile: &crate::profile::Profile,
    name: &str,
) -> Result<Patient, ProfiledError> {
    let Json::Object(top) = doc else {
        return Err(DocumentError::NotAnObject(kind_of(doc)).into());
    };
    let header: Vec<&str> = top.keys().map(String::as_str).collect();
    let cells: Vec<String> = top
        .values()
        .map(|v| match v {
            Json::Null => String::new(),
            other => scalar_text(other),
        })
        .collect();
    let plan = crate::profile::Plan::compile(profile, ruleset, &header, None, name)?;
    if let Some(column) = plan.rows_column() {
        if !plan.is_patient(cells[column].as_bytes()) {
            return Err(ProfiledError::NotAPatient(format!(
                "{name}: not a patient by the profile's input.rows: '{}' is '{}'",
                plan.names[column],
                answers::echo(&cells[column])
            )));
        }
    }
    let mut patient = Patient {
        id: plan
            .id
            .map(|i| cells[i].trim().to_string())
            .filter(|s| !s.is_empty()),
        answers: Answers::new(ruleset),
        errors: Vec::new(),
        unknown_keys: Vec::new(),
    };
    for (i, v) in top.values().enumerate() {
        if matches!(v, Json::Array(_) | Json::Object(_)) {
            patient.errors.push(InputError::new(
                String::new(),
                answers::echo(&v.to_string()),
                format!("key '{}': a list or object is not a cell", header[i]),
            ));
        }
    }
    plan.reader().read(
        ruleset,
        |i| cells[i].as_bytes(),
        &mut patient.answers,
        &mut patient.errors,
    );
    patient.unknown_keys = plan
        .unmapped
        .iter()
        .map(|&i| (plan.names[i].clone(), None))
        .collect();
    Ok(patient)
}

/// Parses a JSON (or YAML, through JSON) value for this question. `Ok(None)` means unanswered.
pub fn parse_json(
    question: &Question,
    raw: &serde_json::Value,
) -> Result<Option<Value>, InvalidValue> {
    use serde_json::Value as J;
    match raw {
        J::Null => Ok(None),
        J::String(s) => answers::parse_text(question, s),
        J::Bool(b) => match question.kind {
            Kind::YesNo => Ok(Some(Value::YesNo(*b))),
            Kind::Text => Ok(Some(Value::Text(b.to_string()))),
            _ => Err(answers::invalid(format!(
                "{b} is not valid here: {}",
                answers::expected(question)
            ))),
        },
        J::Number(n) => match question.kind {
            Kind::YesNo => match n.as_i64() {
                Some(1) => Ok(Some(Value::YesNo(true))),
                Some(0) => Ok(Some(Value::YesNo(false))),
                _ => Err(answers::invalid(format!(
                    "{n} is not valid here: {}",
                    answers::expected(question)
                ))),
            },
            _ => answers::parse_text(question, &n.to_string()),
        },
        J::Array(_) | J::Object(_) => Err(answers::invalid(format!(
            "a list or object is not valid here: {}",
            answers::expected(question)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(kind: Kind) -> Question {
        Question {
            id: "q".into(),
            section: "S".into(),
            text: "?".into(),
            help: None,
            kind,
            unit: Some("mmHg".into()),
            aliases: vec![],
            ask_if: None,
            ask_if_text: None,
        }
    }

    #[test]
    fn json_values_become_answers() {
        let q = question(Kind::YesNo);
        assert_eq!(
            parse_json(&q, &serde_json::json!(true)),
            Ok(Some(Value::YesNo(true)))
        );
        assert_eq!(
            parse_json(&q, &serde_json::json!(0)),
            Ok(Some(Value::YesNo(false)))
        );
        assert!(parse_json(&q, &serde_json::json!(2)).is_err());
        let q = question(Kind::Integer {
            min: Some(50),
            max: Some(300),
        });
        assert!(parse_json(&q, &serde_json::json!(true)).is_err());
        assert_eq!(
            parse_json(&q, &serde_json::json!(146)),
            Ok(Some(Value::Integer(146)))
        );
    }
}
