//! The published JSON Schema `schema/verdict.v1.json`: it is a valid draft 2020-12 schema; the
//! record of every shipped rule case (as `check --explain` prints it, and as a saved interview
//! holds it) and every record of the batch tests' files (CSV, and NDJSON with a FHIR
//! QuestionnaireResponse) validate against it; with every object closed to undeclared
//! properties they still do (the schema names every field we write); and wrong records fail.

use serde_json::{json, Value};

use ketascreen::answers::Answers;
use ketascreen::cases;
use ketascreen::output::{json as json_out, Record};
use ketascreen::ruleset;
use ketascreen::toolkit::testing::{BUILTIN_CASES, BUILTIN_CASES_NAME};

use crate::support::{ks, path};

fn schema() -> Value {
    let text = std::fs::read_to_string(path("schema/verdict.v1.json")).expect("schema readable");
    serde_json::from_str(&text).expect("schema is JSON")
}

/// The schema with every object that lists its properties closed to any other property, so
/// that a field we write but the schema does not describe fails.
fn closed(mut schema: Value) -> Value {
    fn close(node: &mut Value) {
        match node {
            Value::Object(map) => {
                if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                    map.insert("additionalProperties".into(), Value::Bool(false));
                }
                map.values_mut().for_each(close);
            }
            Value::Array(items) => items.iter_mut().for_each(close),
            _ => {}
        }
    }
    close(&mut schema);
    schema
}

/// The published schema and its closed twin, compiled.
fn validators() -> [jsonschema::Validator; 2] {
    let schema = schema();
    jsonschema::draft202012::meta::validate(&schema)
        .unwrap_or_else(|e| panic!("not a valid draft 2020-12 schema: {e}"));
    let open = jsonschema::draft202012::new(&schema).expect("schema compiles");
    let closed = jsonschema::draft202012::new(&closed(schema)).expect("closed schema compiles");
    [open, closed]
}

fn assert_valid(validators: &[jsonschema::Validator; 2], record: &Value, what: &str) {
    for (validator, kind) in validators.iter().zip(["schema", "closed schema"]) {
        let errors: Vec<String> = validator
            .iter_errors(record)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what}: invalid against the {kind}:\n  {}\n{record:#}",
            errors.join("\n  ")
        );
    }
}

#[test]
fn every_shipped_case_validates_as_check_prints_it_and_as_an_interview_saves_it() {
    let validators = validators();
    let rs = ruleset::builtin().expect("built-in ruleset");
    let file = cases::parse(BUILTIN_CASES, BUILTIN_CASES_NAME).expect("cases parse");
    let mut undecided = 0;
    let mut ignored = 0;
    for case in &file.cases {
        let mut doc = cases::merged_answers(&file, case);
        doc.insert("id".into(), json!(case.name));
        let run = ks(["check", "-", "--explain", "--format", "json"])
            .stdin(Value::Object(doc).to_string())
            .run();
        assert_eq!(run.code, 0, "{}: {run:?}", case.name);
        let record: Value = serde_json::from_str(&run.stdout).expect("JSON");
        assert!(record["explain"].is_object(), "{}", case.name);
        assert_valid(&validators, &record, &case.name);
        undecided += usize::from(record["urgent_undecided"] == true);
        ignored += usize::from(record["ignored"] != json!([]));
    }
    // The new fields are exercised, not only present.
    assert!(undecided >= 5, "{undecided} cases with urgent not known");
    assert!(ignored >= 5, "{ignored} cases with ignored answers");

    // A saved interview adds every answer.
    for outcome in cases::run_all(&rs, &file) {
        let record = Record {
            id: None,
            row: None,
            verdict: outcome.verdict.clone(),
            errors: Vec::new(),
            profile: None,
        };
        let value = json_out::to_value(&rs, &record, Some(&outcome.answers));
        assert!(value["answers"].is_object());
        assert_valid(&validators, &value, &outcome.name);
    }
    // And one with nothing answered at all.
    let nothing = Answers::new(&rs);
    let record = Record {
        id: Some("P-0".into()),
        row: Some(1),
        verdict: ketascreen::engine::evaluate(&rs, &nothing),
        errors: Vec::new(),
        profile: None,
    };
    assert_valid(
        &validators,
        &json_out::to_value(&rs, &record, Some(&nothing)),
        "nothing answered",
    );
}

#[test]
fn every_batch_test_record_validates() {
    let validators = validators();
    let dir = tempfile::tempdir().expect("tempdir");
    let messy = dir.path().join("messy.csv");
    std::fs::write(&messy, crate::batch::messy()).expect("written");
    let messy = messy.display().to_string();
    let mut checked = 0;
    for file in [
        messy.as_str(),
        "examples/intake.csv",
        "examples/patients.ndjson",
    ] {
        let run = ks(["batch", file, "--format", "ndjson"]).run();
        assert_eq!(run.code, 0, "{run:?}");
        for line in run.stdout.lines() {
            let record: Value = serde_json::from_str(line).expect("JSON line");
            assert!(record["row"].is_u64());
            assert_valid(
                &validators,
                &record,
                &format!("{file} row {}", record["row"]),
            );
            checked += 1;
        }
        let (run, array) = ks(["batch", file, "--format", "json"]).json();
        assert_eq!(run.code, 0, "{run:?}");
        for record in array.as_array().expect("array") {
            assert_valid(&validators, record, file);
        }
    }
    // The messy file's nine records (its empty row is no patient), intake.csv's 12, 4 NDJSON.
    assert_eq!(checked, 9 + 12 + 4);
}

#[test]
fn a_wrong_record_fails() {
    let [open, closed] = validators();
    let (run, good) = ks([
        "check",
        "examples/patient-incomplete.yaml",
        "--format",
        "json",
    ])
    .json();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(open.is_valid(&good));
    type Edit = fn(&mut Value);
    let wrong: [(&str, Edit); 9] = [
        ("urgent_undecided missing", |r| {
            r.as_object_mut().map(|o| o.remove("urgent_undecided"));
        }),
        ("ignored missing", |r| {
            r.as_object_mut().map(|o| o.remove("ignored"));
        }),
        ("verdict not one of the four", |r| {
            r["verdict"] = json!("maybe")
        }),
        ("urgent as a word", |r| r["urgent"] = json!("no")),
        ("missing entry without urgent", |r| {
            r["missing"][0].as_object_mut().map(|o| o.remove("urgent"));
        }),
        ("note in missing", |r| {
            r["missing"][0]["severity"] = json!("note")
        }),
        ("ignored entry without because", |r| {
            r["ignored"] = json!([{"question": "breastfeeding", "value": "yes"}]);
        }),
        ("row 0", |r| r["row"] = json!(0)),
        ("short sha256", |r| r["ruleset"]["sha256"] = json!("abc")),
    ];
    for (what, edit) in wrong {
        let mut record = good.clone();
        edit(&mut record);
        assert!(!open.is_valid(&record), "{what}: should fail\n{record:#}");
    }
    // A field the schema does not describe passes the published schema (fields are only ever
    // added within v1) but fails the closed twin, which is how the tests above know that
    // every field we write is described.
    let mut record = good;
    record["verdikt"] = json!("eligible");
    assert!(open.is_valid(&record));
    assert!(!closed.is_valid(&record));
}

/// Records read through an intake profile (its id and sha256, a form error with a null
/// question) validate too.
#[test]
fn profile_records_validate() {
    let validators = validators();
    let run = crate::support::ks([
        "batch",
        "examples/redcap/export.csv",
        "--profile",
        "examples/redcap/profile.yaml",
        "--format",
        "ndjson",
    ])
    .run();
    assert_eq!(run.code, 0, "{run:?}");
    let mut forms = 0;
    for line in run.stdout.lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("JSON");
        assert!(record["profile"].is_object());
        forms += record["errors"]
            .as_array()
            .map_or(0, |e| e.iter().filter(|e| e["form"].is_string()).count());
        assert_valid(&validators, &record, line);
    }
    assert!(forms >= 2, "{forms} form errors");
}
