//! FHIR R4 in and out: `rules export --format fhir` checked element by element against the R4
//! Questionnaire definition (required elements, cardinalities, value types, code systems and
//! the que-* invariants), and the round trip — every shipped case as a QuestionnaireResponse to
//! the exported Questionnaire, screened by `check`, gives the case's verdict.

use std::collections::{BTreeSet, HashMap};

use serde_json::{json, Map, Value as Json};

use ketascreen::cases;
use ketascreen::ruleset::{self, Kind, Ruleset};

use crate::support::{ks, Run};

// ---------------------------------------------------------------- the R4 definition

/// A FHIR R4 data type, as far as the exported Questionnaire uses them.
#[derive(Debug, Clone, Copy)]
enum Ty {
    String,
    Markdown,
    Uri,
    Canonical,
    /// A code from a required binding (`None`: any code).
    Code(Option<&'static [&'static str]>),
    Boolean,
    Integer,
    Decimal,
    Complex(&'static str),
}

/// One element: name (a choice `value[x]` lists its typed suffixes), min, 0..* or not, types.
type Element = (&'static str, usize, bool, Vec<(&'static str, Ty)>);

/// PublicationStatus (required binding of Questionnaire.status).
const PUBLICATION_STATUS: &[&str] = &["draft", "active", "retired", "unknown"];
/// QuestionnaireItemType (required binding of Questionnaire.item.type).
const ITEM_TYPES: &[&str] = &[
    "group",
    "display",
    "boolean",
    "decimal",
    "integer",
    "date",
    "dateTime",
    "time",
    "string",
    "text",
    "url",
    "choice",
    "open-choice",
    "attachment",
    "reference",
    "quantity",
];
/// QuestionnaireItemOperator.
const OPERATORS: &[&str] = &["exists", "=", "!=", ">", "<", ">=", "<="];
/// EnableWhenBehavior.
const BEHAVIORS: &[&str] = &["all", "any"];
/// ResourceType, the few a questionnaire about a person can name.
const SUBJECT_TYPES: &[&str] = &["Patient", "Person", "RelatedPerson", "Practitioner"];
/// ExpressionLanguage (extensible binding; these are the defined codes).
const EXPRESSION_LANGUAGES: &[&str] = &["text/cql", "text/fhirpath", "application/x-fhir-query"];
/// questionnaire-item-control codes (R4 core code system).
const ITEM_CONTROLS: &[&str] = &[
    "group",
    "list",
    "table",
    "header",
    "footer",
    "text",
    "inline",
    "prompt",
    "unit",
    "lower",
    "upper",
    "flyover",
    "help",
    "autocomplete",
    "drop-down",
    "check-box",
    "lookup",
    "radio-button",
    "slider",
    "spinner",
    "text-box",
];

/// The elements of each structure, from the R4 (4.0.1) definitions. Elements the export never
/// writes (contact, useContext, initial, ...) are listed too so that writing them by mistake
/// is still checked.
fn definition(structure: &str) -> Vec<Element> {
    use Ty::*;
    let one = |ty: Ty| vec![("", ty)];
    match structure {
        "Questionnaire" => vec![
            (
                "resourceType",
                1,
                false,
                one(Code(Some(&["Questionnaire"]))),
            ),
            ("id", 0, false, one(String)),
            ("extension", 0, true, one(Complex("Extension"))),
            ("url", 0, false, one(Uri)),
            ("identifier", 0, true, one(Complex("Identifier"))),
            ("version", 0, false, one(String)),
            ("name", 0, false, one(String)),
            ("title", 0, false, one(String)),
            ("derivedFrom", 0, true, one(Canonical)),
            ("status", 1, false, one(Code(Some(PUBLICATION_STATUS)))),
            ("experimental", 0, false, one(Boolean)),
            ("subjectType", 0, true, one(Code(Some(SUBJECT_TYPES)))),
            ("publisher", 0, false, one(String)),
            ("description", 0, false, one(Markdown)),
            ("purpose", 0, false, one(Markdown)),
            ("copyright", 0, false, one(Markdown)),
            ("code", 0, true, one(Complex("Coding"))),
            ("item", 0, true, one(Complex("Item"))),
        ],
        "Item" => vec![
            ("extension", 0, true, one(Complex("Extension"))),
            ("linkId", 1, false, one(String)),
            ("definition", 0, false, one(Uri)),
            ("code", 0, true, one(Complex("Coding"))),
            ("prefix", 0, false, one(String)),
            ("text", 0, false, one(String)),
            ("type", 1, false, one(Code(Some(ITEM_TYPES)))),
            ("enableWhen", 0, true, one(Complex("EnableWhen"))),
            ("enableBehavior", 0, false, one(Code(Some(BEHAVIORS)))),
            ("required", 0, false, one(Boolean)),
            ("repeats", 0, false, one(Boolean)),
            ("readOnly", 0, false, one(Boolean)),
            ("maxLength", 0, false, one(Integer)),
            ("answerValueSet", 0, false, one(Canonical)),
            ("answerOption", 0, true, one(Complex("AnswerOption"))),
            ("item", 0, true, one(Complex("Item"))),
        ],
        "EnableWhen" => vec![
            ("question", 1, false, one(String)),
            ("operator", 1, false, one(Code(Some(OPERATORS)))),
            (
                "answer",
                1,
                false,
                vec![
                    ("Boolean", Boolean),
                    ("Decimal", Decimal),
                    ("Integer", Integer),
                    ("String", String),
                    ("Coding", Complex("Coding")),
                    ("Quantity", Complex("Quantity")),
                ],
            ),
        ],
        "AnswerOption" => vec![
            (
                "value",
                1,
                false,
                vec![
                    ("Integer", Integer),
                    ("String", String),
                    ("Coding", Complex("Coding")),
                ],
            ),
            ("initialSelected", 0, false, one(Boolean)),
        ],
        "Identifier" => vec![
            ("use", 0, false, one(Code(None))),
            ("system", 0, false, one(Uri)),
            ("value", 0, false, one(String)),
        ],
        "Coding" => vec![
            ("system", 0, false, one(Uri)),
            ("version", 0, false, one(String)),
            ("code", 0, false, one(Code(None))),
            ("display", 0, false, one(String)),
            ("userSelected", 0, false, one(Boolean)),
        ],
        "CodeableConcept" => vec![
            ("coding", 0, true, one(Complex("Coding"))),
            ("text", 0, false, one(String)),
        ],
        "Quantity" => vec![
            ("value", 0, false, one(Decimal)),
            ("unit", 0, false, one(String)),
            ("system", 0, false, one(Uri)),
            ("code", 0, false, one(Code(None))),
        ],
        "Expression" => vec![
            ("description", 0, false, one(String)),
            ("name", 0, false, one(Code(None))),
            ("language", 1, false, one(Code(Some(EXPRESSION_LANGUAGES)))),
            ("expression", 0, false, one(String)),
            ("reference", 0, false, one(Uri)),
        ],
        "Extension" => vec![
            ("url", 1, false, one(Uri)),
            (
                "value",
                0,
                false,
                vec![
                    ("Integer", Integer),
                    ("Decimal", Decimal),
                    ("Boolean", Boolean),
                    ("String", String),
                    ("Coding", Complex("Coding")),
                    ("CodeableConcept", Complex("CodeableConcept")),
                    ("Expression", Complex("Expression")),
                ],
            ),
        ],
        other => panic!("no definition for {other}"),
    }
}

/// Checks one JSON value against a structure; problems are pushed as `path: message`.
fn validate(structure: &str, value: &Json, path: &str, problems: &mut Vec<String>) {
    let Json::Object(object) = value else {
        problems.push(format!("{path}: {structure} must be an object"));
        return;
    };
    if object.is_empty() {
        problems.push(format!("{path}: empty object (ele-1)"));
    }
    let def = definition(structure);
    let mut known = BTreeSet::new();
    for (name, min, many, types) in &def {
        // The keys this element may appear as: `name`, or `nameType` for a choice.
        let present: Vec<(&String, &Json, Ty)> = types
            .iter()
            .filter_map(|(suffix, ty)| {
                let key = format!("{name}{suffix}");
                object.get_key_value(&key).map(|(k, v)| (k, v, *ty))
            })
            .collect();
        for (suffix, _) in types {
            known.insert(format!("{name}{suffix}"));
        }
        if present.len() > 1 {
            problems.push(format!("{path}: more than one {name}[x]"));
        }
        let Some((key, v, ty)) = present.into_iter().next() else {
            if *min > 0 {
                problems.push(format!("{path}: required element {name} is missing"));
            }
            continue;
        };
        let here = format!("{path}.{key}");
        match (many, v) {
            (true, Json::Array(items)) => {
                if items.len() < *min.max(&1) {
                    problems.push(format!("{here}: an array must not be empty"));
                }
                for (i, item) in items.iter().enumerate() {
                    check_type(ty, item, &format!("{here}[{i}]"), problems);
                }
            }
            (true, _) => problems.push(format!("{here}: 0..* must be a JSON array")),
            (false, Json::Array(_)) => problems.push(format!("{here}: 0..1 must not be an array")),
            (false, v) => check_type(ty, v, &here, problems),
        }
    }
    for key in object.keys() {
        if !known.contains(key) {
            problems.push(format!("{path}: {key} is not an element of {structure}"));
        }
    }
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.split(' ')
            .all(|part| !part.is_empty() && !part.contains(char::is_whitespace))
}

fn is_uri(s: &str) -> bool {
    // An absolute URI: a scheme, a colon, and no whitespace.
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    !rest.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && !s.contains(char::is_whitespace)
}

fn check_type(ty: Ty, v: &Json, path: &str, problems: &mut Vec<String>) {
    let ok = match (ty, v) {
        (Ty::String | Ty::Markdown, Json::String(s)) => !s.trim().is_empty(),
        (Ty::Uri | Ty::Canonical, Json::String(s)) => is_uri(s),
        (Ty::Code(allowed), Json::String(s)) => {
            is_code(s) && allowed.is_none_or(|list| list.contains(&s.as_str()))
        }
        (Ty::Boolean, Json::Bool(_)) => true,
        (Ty::Integer, Json::Number(n)) => n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
        (Ty::Decimal, Json::Number(_)) => true,
        (Ty::Complex(name), v) => {
            validate(name, v, path, problems);
            true
        }
        _ => false,
    };
    if !ok {
        problems.push(format!("{path}: {v} is not a valid {ty:?}"));
    }
}

/// Every item, depth first, with its parent's type.
fn all_items<'a>(items: &'a Json, out: &mut Vec<&'a Json>) {
    for item in items.as_array().into_iter().flatten() {
        out.push(item);
        if let Some(children) = item.get("item") {
            all_items(children, out);
        }
    }
}

/// The que-* invariants and the extensions' own definitions.
fn invariants(q: &Json, problems: &mut Vec<String>) {
    let mut items = Vec::new();
    all_items(&q["item"], &mut items);
    let by_link: HashMap<&str, &Json> = items
        .iter()
        .map(|i| (i["linkId"].as_str().unwrap_or(""), *i))
        .collect();
    // que-2: linkIds are unique.
    if by_link.len() != items.len() {
        problems.push("que-2: linkIds are not unique".into());
    }
    // que-0 (warning): name usable as an identifier.
    let name = q["name"].as_str().unwrap_or("");
    if !(name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    {
        problems.push(format!("que-0: name {name:?}"));
    }
    for item in &items {
        let link = item["linkId"].as_str().unwrap_or("?");
        let ty = item["type"].as_str().unwrap_or("");
        let children = item.get("item").and_then(Json::as_array);
        // que-1: groups have items, display items have none.
        if ty == "group" && children.is_none_or(|c| c.is_empty()) {
            problems.push(format!("{link}: que-1 group without items"));
        }
        if ty == "display" && children.is_some() {
            problems.push(format!("{link}: que-1 display item with items"));
        }
        // que-3, que-6, que-9: display items have no code, required, repeats or readOnly.
        if ty == "display" {
            for key in ["code", "required", "repeats", "readOnly"] {
                if item.get(key).is_some() {
                    problems.push(format!("{link}: display item has {key}"));
                }
            }
        }
        // que-4, que-5: answerOption only on choice-like types, never with answerValueSet.
        if item.get("answerOption").is_some() {
            if item.get("answerValueSet").is_some() {
                problems.push(format!("{link}: que-4"));
            }
            if !["choice", "open-choice", "integer", "date", "time", "string"].contains(&ty) {
                problems.push(format!("{link}: que-5 answerOption on a {ty} item"));
            }
        }
        // A choice question needs its options.
        if ty == "choice" && item.get("answerOption").is_none() {
            problems.push(format!("{link}: a choice item without answerOption"));
        }
        // que-12: more than one enableWhen needs enableBehavior.
        let conditions = item
            .get("enableWhen")
            .and_then(Json::as_array)
            .map(Vec::len)
            .unwrap_or(0);
        if conditions > 1 && item.get("enableBehavior").is_none() {
            problems.push(format!("{link}: que-12"));
        }
        for (i, when) in item
            .get("enableWhen")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("{link}.enableWhen[{i}]");
            let target = when["question"].as_str().unwrap_or("");
            let Some(target_item) = by_link.get(target) else {
                problems.push(format!("{at}: question {target} is not a linkId"));
                continue;
            };
            let target_type = target_item["type"].as_str().unwrap_or("");
            let op = when["operator"].as_str().unwrap_or("");
            // que-7: exists takes a boolean.
            if op == "exists" && when.get("answerBoolean").is_none() {
                problems.push(format!("{at}: que-7"));
            }
            let expected = match target_type {
                "boolean" => "answerBoolean",
                "integer" => "answerInteger",
                "decimal" => "answerDecimal",
                "choice" => "answerCoding",
                "string" => "answerString",
                other => {
                    problems.push(format!("{at}: enabled by a {other} item"));
                    continue;
                }
            };
            if op != "exists" && when.get(expected).is_none() {
                problems.push(format!(
                    "{at}: a {target_type} item is compared with {expected}"
                ));
            }
            if ["boolean", "choice"].contains(&target_type) && !["=", "!=", "exists"].contains(&op)
            {
                problems.push(format!("{at}: {op} on a {target_type} item"));
            }
            // The coding compared with must be one of the target's options.
            if let Some(coding) = when.get("answerCoding") {
                let options: Vec<&Json> = target_item["answerOption"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|o| &o["valueCoding"])
                    .collect();
                if !options
                    .iter()
                    .any(|o| o["system"] == coding["system"] && o["code"] == coding["code"])
                {
                    problems.push(format!("{at}: {coding} is not an option of {target}"));
                }
            }
        }
        // The extensions each have their own definition: where they go and their value type.
        for ext in item
            .get("extension")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            let url = ext["url"].as_str().unwrap_or("");
            let value_keys: Vec<&String> = ext
                .as_object()
                .into_iter()
                .flat_map(Map::keys)
                .filter(|k| k.starts_with("value"))
                .collect();
            let value_key = value_keys.first().map(|k| k.as_str()).unwrap_or("");
            let wanted: &[&str] = match url {
                "http://hl7.org/fhir/StructureDefinition/minValue"
                | "http://hl7.org/fhir/StructureDefinition/maxValue" => match ty {
                    "integer" => &["valueInteger"],
                    "decimal" => &["valueDecimal"],
                    _ => &[],
                },
                "http://hl7.org/fhir/StructureDefinition/questionnaire-unit" => {
                    if ["integer", "decimal", "quantity"].contains(&ty) {
                        &["valueCoding"]
                    } else {
                        &[]
                    }
                }
                "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl" => {
                    let code = &ext["valueCodeableConcept"]["coding"][0];
                    if code["system"] != "http://hl7.org/fhir/questionnaire-item-control"
                        || !ITEM_CONTROLS.contains(&code["code"].as_str().unwrap_or(""))
                    {
                        problems.push(format!("{link}: itemControl {code}"));
                    }
                    &["valueCodeableConcept"]
                }
                "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression" => {
                    if item.get("enableWhen").is_some() {
                        problems.push(format!("{link}: both enableWhen and enableWhenExpression"));
                    }
                    &["valueExpression"]
                }
                other => {
                    problems.push(format!("{link}: unexpected extension {other}"));
                    &[]
                }
            };
            if value_keys.len() != 1 || !wanted.contains(&value_key) {
                problems.push(format!(
                    "{link}: extension {url} has {value_keys:?}, expected one of {wanted:?}"
                ));
            }
            if let Some(coding) = ext.get("valueCoding") {
                // A unit coded in UCUM, or at least named.
                if coding
                    .get("system")
                    .is_some_and(|s| s != "http://unitsofmeasure.org")
                {
                    problems.push(format!("{link}: unit system {}", coding["system"]));
                }
                if coding.get("display").is_none() {
                    problems.push(format!("{link}: unit without a display"));
                }
            }
        }
    }
}

fn exported(args: &[&str]) -> Json {
    let mut all = vec!["rules", "export", "--format", "fhir"];
    all.extend_from_slice(args);
    let (run, doc) = ks(all).json();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    doc
}

fn problems_of(q: &Json) -> Vec<String> {
    let mut problems = Vec::new();
    validate("Questionnaire", q, "Questionnaire", &mut problems);
    invariants(q, &mut problems);
    problems
}

#[test]
fn exported_questionnaire_conforms_to_the_r4_definition() {
    let q = exported(&[]);
    assert_eq!(problems_of(&q), Vec::<String>::new());
}

#[test]
fn the_validator_catches_what_it_claims_to() {
    // A checker that finds nothing proves nothing: break the export in the ways it checks.
    let good = exported(&[]);
    let mut bad = good.clone();
    bad.as_object_mut().map(|o| o.remove("status"));
    bad["item"][0]["item"][0]["type"] = json!("question");
    bad["item"][0]["item"][1]["linkId"] = bad["item"][0]["item"][0]["linkId"].clone();
    bad["item"][0]["enableWhen"] =
        json!({"question": "age_years", "operator": "=", "answerInteger": 1});
    bad["identifier"][0]["system"] = json!("not a uri");
    bad["item"][0]["item"][0]["extension"][0]["valueDecimal"] = json!(1.5);
    let problems = problems_of(&bad);
    for expected in [
        "Questionnaire: required element status is missing",
        "Questionnaire.item[0].item[0].type: \"question\" is not a valid",
        "que-2: linkIds are not unique",
        "Questionnaire.item[0].enableWhen: 0..* must be a JSON array",
        "Questionnaire.identifier[0].system: \"not a uri\" is not a valid Uri",
        "Questionnaire.item[0].item[0].extension[0]: more than one value[x]",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(expected)),
            "{expected:?} not found in {problems:#?}"
        );
    }
}

#[test]
fn questionnaire_carries_identity_types_options_units_bounds_and_skip_logic() {
    let q = exported(&[]);
    let rs = ruleset::builtin().expect("built-in ruleset");
    assert_eq!(q["url"], "urn:ketascreen:questionnaire:ketamine-default");
    assert_eq!(q["version"], rs.version);
    assert_eq!(
        q["identifier"],
        json!([{"system": "urn:ketascreen:ruleset-sha256", "value": rs.sha256}])
    );
    let mut items = Vec::new();
    all_items(&q["item"], &mut items);
    let by_link: HashMap<&str, &Json> = items
        .iter()
        .map(|i| (i["linkId"].as_str().unwrap_or(""), *i))
        .collect();
    // Every question is an item of its type, in ruleset order, grouped by section.
    let questions: Vec<&str> = items
        .iter()
        .filter(|i| !["group", "display"].contains(&i["type"].as_str().unwrap_or("")))
        .map(|i| i["linkId"].as_str().unwrap_or(""))
        .collect();
    let ids: Vec<&str> = rs.questions.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(questions, ids);
    for question in &rs.questions {
        let item = by_link[question.id.as_str()];
        let ty = match &question.kind {
            Kind::YesNo => "boolean",
            Kind::Integer { .. } => "integer",
            Kind::Number { .. } => "decimal",
            Kind::Choice(_) => "choice",
            Kind::Text => "string",
        };
        assert_eq!(item["type"], ty, "{}", question.id);
        assert_eq!(item["text"], question.text.as_str());
        if let Kind::Choice(options) = &question.kind {
            let codes: Vec<&str> = item["answerOption"]
                .as_array()
                .expect("options")
                .iter()
                .map(|o| o["valueCoding"]["code"].as_str().unwrap_or(""))
                .collect();
            let ours: Vec<&str> = options.iter().map(|o| o.id.as_str()).collect();
            assert_eq!(codes, ours, "{}", question.id);
        }
        assert_eq!(
            item.get("enableWhen").is_some(),
            question.ask_if.is_some(),
            "{}",
            question.id
        );
    }
    assert_eq!(
        by_link["systolic_bp"]["extension"],
        json!([
            {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": 50},
            {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": 300},
            {"url": "http://hl7.org/fhir/StructureDefinition/questionnaire-unit",
             "valueCoding": {"system": "http://unitsofmeasure.org", "code": "mm[Hg]", "display": "mmHg"}}
        ])
    );
    assert_eq!(
        by_link["psychosis_history"]["enableWhen"],
        json!([{"question": "current_psychosis", "operator": "=", "answerBoolean": false}])
    );
    assert_eq!(by_link["psychosis_history"].get("enableBehavior"), None);
}

const SKIP_RULES: &str = r#"
ruleset:
  id: skip-logic
  version: 2.1.0
  title: Skip logic FHIR can and cannot say
  sources:
    s: "A source"
questions:
  - {id: a, section: S, text: A?, type: yes_no}
  - {id: n, section: S, text: N?, type: number, min: 0.5, max: 9.5, unit: kg}
  - id: c
    section: T
    text: C?
    type: choice
    options: [{id: x, label: X}, {id: y, label: Y}, {id: z, label: Z}]
  - {id: all_of, section: T, text: All?, type: yes_no, ask_if: a and n > 2.5}
  - {id: any_of, section: T, text: Any?, type: yes_no, ask_if: "c in [x, y]"}
  - {id: none_of, section: T, text: None?, type: yes_no, ask_if: not (c == x or a)}
  - {id: mixed, section: T, text: Mixed?, type: text, ask_if: a and (c == x or n < 1)}
rules:
  - {id: r, severity: exclude, when: a, message: "A", source: s}
"#;

#[test]
fn ask_if_becomes_enable_when_where_fhir_can_say_it_and_fhirpath_where_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("skip.yaml");
    std::fs::write(&rules, SKIP_RULES).expect("written");
    let q = exported(&[rules.to_str().expect("utf-8 path")]);
    assert_eq!(problems_of(&q), Vec::<String>::new());
    let mut items = Vec::new();
    all_items(&q["item"], &mut items);
    let item = |id: &str| {
        *items
            .iter()
            .find(|i| i["linkId"] == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    let system = "urn:ketascreen:questionnaire:skip-logic:c";
    assert_eq!(item("all_of")["enableBehavior"], "all");
    assert_eq!(
        item("all_of")["enableWhen"],
        json!([
            {"question": "a", "operator": "=", "answerBoolean": true},
            {"question": "n", "operator": ">", "answerDecimal": 2.5}
        ])
    );
    assert_eq!(item("any_of")["enableBehavior"], "any");
    assert_eq!(
        item("any_of")["enableWhen"],
        json!([
            {"question": "c", "operator": "=", "answerCoding": {"system": system, "code": "x"}},
            {"question": "c", "operator": "=", "answerCoding": {"system": system, "code": "y"}}
        ])
    );
    // not (c == x or a) = c != x and a != yes
    assert_eq!(item("none_of")["enableBehavior"], "all");
    assert_eq!(
        item("none_of")["enableWhen"],
        json!([
            {"question": "c", "operator": "!=", "answerCoding": {"system": system, "code": "x"}},
            {"question": "a", "operator": "!=", "answerBoolean": true}
        ])
    );
    let path = |id: &str| format!("%resource.repeat(item).where(linkId = '{id}').answer.value");
    let e = format!(
        "({} = true and ({}.code = 'x' or {} < 1))",
        path("a"),
        path("c"),
        path("n")
    );
    assert_eq!(
        item("mixed")["extension"],
        json!([{
            "url": "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression",
            "valueExpression": {"language": "text/fhirpath", "expression": format!("({e}).empty() or ({e})")}
        }])
    );
    assert_eq!(
        item("n")["extension"],
        json!([
            {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueDecimal": 0.5},
            {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueDecimal": 9.5},
            {"url": "http://hl7.org/fhir/StructureDefinition/questionnaire-unit",
             "valueCoding": {"system": "http://unitsofmeasure.org", "code": "kg", "display": "kg"}}
        ])
    );
}

// ---------------------------------------------------------------- responses

/// A QuestionnaireResponse to `q` answering each question as `answers` (question id -> the
/// answer as a case file writes it), nested in the Questionnaire's groups, each value in the
/// `value[x]` its item type calls for. A value the question would reject goes in as
/// `valueString`, so that it is rejected the same way.
fn response_to(q: &Json, rs: &Ruleset, answers: &Map<String, Json>, subject: &str) -> Json {
    fn answer_items(items: &Json, rs: &Ruleset, answers: &Map<String, Json>) -> Vec<Json> {
        let mut out = Vec::new();
        for item in items.as_array().into_iter().flatten() {
            let link = item["linkId"].as_str().unwrap_or("");
            if item["type"] == "group" {
                let inner = answer_items(&item["item"], rs, answers);
                if !inner.is_empty() {
                    out.push(json!({"linkId": link, "text": item["text"], "item": inner}));
                }
                continue;
            }
            let Some(raw) = answers.get(link).filter(|v| !v.is_null()) else {
                continue;
            };
            let question = &rs.questions[rs.slot(link).expect("a question")];
            let text = match raw {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            };
            let typed = ketascreen::patient::parse_json(question, raw);
            let value = match (typed, &question.kind) {
                (Ok(Some(ketascreen::answers::Value::YesNo(b))), _) => json!({"valueBoolean": b}),
                (Ok(Some(ketascreen::answers::Value::Integer(n))), _) => json!({"valueInteger": n}),
                (Ok(Some(ketascreen::answers::Value::Number(x))), _) => json!({"valueDecimal": x}),
                (Ok(Some(ketascreen::answers::Value::Choice(i))), _) => {
                    json!({"valueCoding": item["answerOption"][i]["valueCoding"].clone()})
                }
                _ => json!({"valueString": text}),
            };
            out.push(json!({"linkId": link, "text": item["text"], "answer": [value]}));
        }
        out
    }
    json!({
        "resourceType": "QuestionnaireResponse",
        "questionnaire": format!("{}|{}", q["url"].as_str().unwrap_or(""), rs.version),
        "status": "completed",
        "subject": {"reference": subject},
        "item": answer_items(&q["item"], rs, answers),
    })
}

fn check_file(doc: &Json, extra: &[&str]) -> (Run, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("response.json");
    std::fs::write(&file, serde_json::to_vec_pretty(doc).expect("json")).expect("written");
    let mut args = vec!["check".to_string(), file.display().to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = ks(args).run();
    (run, dir)
}

#[test]
fn every_shipped_case_as_a_questionnaire_response_gets_the_cases_verdict() {
    let q = exported(&[]);
    let rs = ruleset::builtin().expect("built-in ruleset");
    let file = cases::parse(
        &std::fs::read_to_string(crate::support::path("rules/ketamine.tests.yaml")).expect("cases"),
        "rules/ketamine.tests.yaml",
    )
    .expect("case file");
    assert!(file.cases.len() > 50);
    for (i, case) in file.cases.iter().enumerate() {
        let answers = cases::merged_answers(&file, case);
        let response = response_to(&q, &rs, &answers, &format!("Patient/case-{i}"));
        // The library path: the same verdict, reason for reason, as the case's own answers.
        let patient = ketascreen::fhir::response::read(&rs, &response).expect("reads");
        let direct = cases::run(&rs, &file, case);
        assert!(direct.passed(), "{}: {:?}", case.name, direct.problems);
        assert_eq!(
            ketascreen::engine::evaluate(&rs, &patient.answers),
            direct.verdict,
            "{}",
            case.name
        );
        // The command: `check` on the response file says what the case expects.
        let (run, _dir) = check_file(&response, &["--format", "json"]);
        assert_eq!(run.code, 0, "{}: {}", case.name, run.stderr);
        let doc: Json = serde_json::from_str(&run.stdout).expect("json verdict");
        assert_eq!(doc["verdict"], case.verdict.as_str(), "{}", case.name);
        assert_eq!(doc["id"], format!("Patient/case-{i}"));
        let fired: BTreeSet<&str> = doc["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .map(|r| r["rule"].as_str().unwrap_or(""))
            .collect();
        let expected: BTreeSet<&str> = case.fired.iter().map(String::as_str).collect();
        assert_eq!(fired, expected, "{}", case.name);
        if let Some(urgent) = case.urgent {
            assert_eq!(doc["urgent"], urgent, "{}", case.name);
        }
    }
}

fn baseline_response() -> Json {
    let q = exported(&[]);
    let rs = ruleset::builtin().expect("built-in ruleset");
    let file = cases::parse(
        &std::fs::read_to_string(crate::support::path("rules/ketamine.tests.yaml")).expect("cases"),
        "cases",
    )
    .expect("case file");
    response_to(&q, &rs, &file.defaults, "Patient/p1")
}

#[test]
fn a_response_to_another_questionnaire_or_version_is_refused() {
    let mut other = baseline_response();
    other["questionnaire"] = json!("http://example.org/Questionnaire/phq9|1.0.0");
    let (run, dir) = check_file(&other, &[]);
    let file = dir.path().join("response.json");
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        format!(
            "ketascreen: cannot read answers from {}: this QuestionnaireResponse answers \
             questionnaire 'http://example.org/Questionnaire/phq9|1.0.0', not \
             'urn:ketascreen:questionnaire:ketamine-default|2.0.0' (ruleset ketamine-default \
             2.0.0): screen it with the ruleset its Questionnaire was exported from (--rules FILE)\n",
            file.display()
        )
    );

    let mut old = baseline_response();
    old["questionnaire"] = json!("urn:ketascreen:questionnaire:ketamine-default|0.9.0");
    let (run, dir) = check_file(&old, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        format!(
            "ketascreen: cannot read answers from {}: this QuestionnaireResponse answers version \
             0.9.0 of 'urn:ketascreen:questionnaire:ketamine-default', but the ruleset is version \
             2.0.0: screen it with the ruleset version it was made for (--rules FILE)\n",
            dir.path().join("response.json").display()
        )
    );

    let mut none = baseline_response();
    none.as_object_mut().map(|o| o.remove("questionnaire"));
    let (run, _dir) = check_file(&none, &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.ends_with(
            "this QuestionnaireResponse names no questionnaire; it must answer \
             'urn:ketascreen:questionnaire:ketamine-default|2.0.0' (write that Questionnaire \
             with 'ketascreen rules export --format fhir')\n"
        ),
        "{}",
        run.stderr
    );

    // Without a version, the url is enough.
    let mut unversioned = baseline_response();
    unversioned["questionnaire"] = json!("urn:ketascreen:questionnaire:ketamine-default");
    let (run, _dir) = check_file(&unversioned, &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_bundle_of_one_response_is_checked_and_of_two_is_sent_to_batch() {
    let response = baseline_response();
    let one = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1"}},
        {"resource": response.clone()}
    ]});
    let (run, _dir) = check_file(&one, &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let doc: Json = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["verdict"], "eligible");
    assert_eq!(doc["id"], "Patient/p1");

    let two = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": response.clone()}, {"resource": response}
    ]});
    let (run, dir) = check_file(&two, &[]);
    let file = dir.path().join("response.json");
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        format!(
            "ketascreen: {0} is a FHIR Bundle of 2 QuestionnaireResponses; check screens one \
             patient: screen them all with 'ketascreen batch {0}'\n",
            file.display()
        )
    );
}

#[test]
fn response_values_of_the_wrong_type_are_input_errors_never_answers() {
    let mut response = baseline_response();
    // Find the items to spoil, wherever the groups put them.
    fn set(items: &mut Json, link: &str, answer: Json) {
        for item in items.as_array_mut().into_iter().flatten() {
            if item["linkId"] == link {
                item["answer"] = answer.clone();
            }
            if let Some(children) = item.get_mut("item") {
                set(children, link, answer.clone());
            }
        }
    }
    let items = &mut response["item"];
    set(
        items,
        "systolic_bp",
        json!([{"valueQuantity": {"value": 19.5, "unit": "kPa"}}]),
    );
    set(
        items,
        "diastolic_bp",
        json!([{"valueQuantity": {"value": 85, "code": "mm[Hg]", "system": "http://unitsofmeasure.org"}}]),
    );
    set(items, "current_mania", json!([{"valueDate": "2024-01-01"}]));
    set(
        items,
        "pregnancy_status",
        json!([{"valueCoding": {"system": "http://snomed.info/sct", "code": "77386006"}}]),
    );
    set(
        items,
        "ketamine_allergy",
        json!([{"valueBoolean": false}, {"valueBoolean": true}]),
    );
    let (run, _dir) = check_file(&response, &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Json = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["verdict"], "incomplete");
    assert_eq!(
        doc["errors"],
        json!([
            {"question": "systolic_bp", "value": "{\"value\":19.5,\"unit\":\"kPa\"}", "message": "unit 'kPa' is not this question's (mmHg)"},
            {"question": "ketamine_allergy", "value": "", "message": "2 answers given to a question that takes one; treated as unanswered"},
            {"question": "current_mania", "value": "2024-01-01", "message": "valueDate cannot answer a yes_no question (expected valueBoolean)"},
            {"question": "pregnancy_status", "value": "{\"system\":\"http://snomed.info/sct\",\"code\":\"77386006\"}", "message": "code system 'http://snomed.info/sct' is not this question's ('urn:ketascreen:questionnaire:ketamine-default:pregnancy_status')"}
        ])
    );
    // The UCUM-coded quantity in the question's unit was read.
    let missing: Vec<&str> = doc["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .flat_map(|m| m["questions"].as_array().into_iter().flatten())
        .filter_map(Json::as_str)
        .collect();
    assert!(!missing.contains(&"diastolic_bp"), "{missing:?}");
}

#[test]
fn check_names_documents_that_are_not_one_patients_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, &str, String); 4] = [
        (
            "patient.json",
            r#"{"resourceType": "Patient", "id": "p1"}"#,
            "is a FHIR Patient resource, not answers: check reads a QuestionnaireResponse (or a Bundle holding one) or an answers object (question id: value)".into(),
        ),
        (
            "form.json",
            "", // filled below with the exported Questionnaire
            "is a FHIR Questionnaire (the form), not answers: check reads a QuestionnaireResponse to it".into(),
        ),
        (
            "many.json",
            r#"[{"id": "a"}, {"id": "b"}, {"id": "c"}]"#,
            "holds a JSON array of 3 items, not one patient's answers: screen them with 'ketascreen batch {file} --input-format json'".into(),
        ),
        (
            "patients.ndjson",
            "{\"id\": \"a\", \"age_years\": 40}\n{\"id\": \"b\"}\n",
            "holds NDJSON (2 JSON documents, one per line), not one patient's answers: screen them with 'ketascreen batch {file} --input-format ndjson'".into(),
        ),
    ];
    for (name, text, message) in cases {
        let file = dir.path().join(name);
        let text = if text.is_empty() {
            serde_json::to_string(&exported(&[])).expect("json")
        } else {
            text.to_string()
        };
        std::fs::write(&file, text).expect("written");
        let shown = file.display().to_string();
        let run = ks(["check", shown.as_str()]).run();
        assert_eq!(run.code, 1, "{name}");
        assert_eq!(run.stdout, "", "{name}");
        assert_eq!(
            run.stderr,
            format!(
                "ketascreen: {shown} {}\n",
                message.replace("{file}", &shown)
            ),
            "{name}"
        );
    }
    // From stdin, the advice names FILE.
    let run = ks(["check", "-"])
        .stdin("{\"id\": \"a\"}\n{\"id\": \"b\"}\n")
        .run();
    assert_eq!(
        run.stderr,
        "ketascreen: <stdin> holds NDJSON (2 JSON documents, one per line), not one patient's answers: screen them with 'ketascreen batch FILE --input-format ndjson'\n"
    );
}

#[test]
fn the_example_response_gets_the_same_verdict_as_the_example_answers() {
    let (run, from_fhir) = ks([
        "check",
        "examples/questionnaire-response.json",
        "--format",
        "json",
    ])
    .json();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let (_, from_answers) = ks(["check", "examples/patient.json", "--format", "json"]).json();
    assert_eq!(from_fhir, from_answers);
}
