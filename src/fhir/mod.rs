//! FHIR R4 at the edges: the ruleset written out as a `Questionnaire` (`questionnaire`) and a
//! `QuestionnaireResponse` read back in as one patient's answers (`response`). Small serde
//! structs of our own cover exactly the elements we write and read: FHIR crates are heavy
//! (minutes to build, a 120 MB binary) or change majors monthly. Nothing here decides a
//! verdict: a response becomes the same `Patient` a JSON answers document does.

pub mod questionnaire;
pub mod response;

use crate::ruleset::Ruleset;

/// The canonical URL of the Questionnaire a ruleset is exported as. Rulesets carry no web
/// address of their own, so this is a URN built from the ruleset's id: stable across
/// exports, and what a response's `questionnaire` must name.
pub fn questionnaire_url(ruleset: &Ruleset) -> String {
    format!("urn:ketascreen:questionnaire:{}", ruleset.id)
}

/// The code system of one choice question's options.
pub fn options_system(ruleset: &Ruleset, question_id: &str) -> String {
    format!("{}:{question_id}", questionnaire_url(ruleset))
}

/// The identifier system under which the ruleset file's sha256 is given.
pub const SHA256_SYSTEM: &str = "urn:ketascreen:ruleset-sha256";

/// UCUM, the code system of units.
pub const UCUM: &str = "http://unitsofmeasure.org";

/// The UCUM code for a unit as rulesets write it, when it is a common one.
pub fn ucum_code(unit: &str) -> Option<&'static str> {
    Some(match unit.trim() {
        "mmHg" | "mm Hg" | "mmhg" => "mm[Hg]",
        "years" | "year" | "yr" | "y" => "a",
        "months" | "month" => "mo",
        "weeks" | "week" | "wk" => "wk",
        "days" | "day" | "d" => "d",
        "hours" | "hour" | "h" => "h",
        "kg" => "kg",
        "g" => "g",
        "mg" => "mg",
        "mg/day" | "mg/d" => "mg/d",
        "cm" => "cm",
        "m" => "m",
        "kg/m2" | "kg/m²" => "kg/m2",
        "%" | "percent" => "%",
        "bpm" | "beats/min" | "/min" => "/min",
        "mmol/L" | "mmol/l" => "mmol/L",
        "mg/dL" | "mg/dl" => "mg/dL",
        "points" | "score" => "{score}",
        _ => return None,
    })
}

/// The `resourceType` of a JSON document, when it has one.
pub fn resource_type(doc: &serde_json::Value) -> Option<&str> {
    doc.get("resourceType").and_then(serde_json::Value::as_str)
}
