//! `batch` over JSON: NDJSON (one patient per line, a bad line costing only its own record), a
//! JSON array, a FHIR Bundle or NDJSON of QuestionnaireResponses; the layout from the flag,
//! the extension or the first line; JSON-only usage errors.

use serde_json::{json, Value as Json};

use crate::support::{ks, Run};

const RULES: &str = "tests/data/interview-rules.yaml";
const HEADER: &str =
    "row,id,verdict,urgent,reasons,missing,errors,ruleset,urgent_undecided,ignored\n";

/// stderr with the summary's elapsed time taken out.
fn timeless(stderr: &str) -> String {
    stderr
        .lines()
        .map(|l| match l.split_once(" screened in ") {
            Some((before, after)) => {
                let after = after.split_once(" s: ").map_or(after, |(_, a)| a);
                format!("{before} screened: {after}\n")
            }
            None => format!("{l}\n"),
        })
        .collect()
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("written");
    path.display().to_string()
}

fn batch(args: &[&str], stdin: Option<&str>) -> Run {
    let mut all = vec!["--rules", RULES, "batch"];
    all.extend_from_slice(args);
    let mut run = ks(all);
    if let Some(text) = stdin {
        run = run.stdin(text);
    }
    run.run()
}

const NDJSON: &str = concat!(
    "{\"id\": \"P-1\", \"age_years\": 40, \"systolic_bp\": 120, \"pregnancy_status\": \"not_pregnant\", \"breastfeeding\": \"no\"}\n",
    "\n",
    "{\"id\": \"P-2\", \"age_years\": \n",
    "{\"id\": \"P-3\", \"age_years\": 15, \"name\": \"Jane Doe\"}\n",
    "[\"P-4\", 40]\n",
    "{\"id\": \"P-1\", \"systolic_bp\": 400}\n",
);

const NDJSON_RECORDS: &str = concat!(
    "1,P-1,eligible,false,,,,interview-test@1.0.0,false,\n",
    "2,,incomplete,false,,age_years;systolic_bp;pregnancy_status;breastfeeding,(row): line 3: not a JSON document: EOF while parsing a value (column 27); none of this record's answers were read,interview-test@1.0.0,true,\n",
    "3,P-3,ineligible,false,under_18,systolic_bp;pregnancy_status;breastfeeding,,interview-test@1.0.0,true,\n",
    "4,,incomplete,false,,age_years;systolic_bp;pregnancy_status;breastfeeding,\"(row): line 5: a list, not one patient's answers (an answers object); none of this record's answers were read\",interview-test@1.0.0,true,\n",
    "5,P-1,incomplete,false,,age_years;systolic_bp;pregnancy_status;breastfeeding,(id): duplicate id: also on row 1; each row is screened on its own answers; systolic_bp: 400 is out of range: must be between 50 and 300 mmHg,interview-test@1.0.0,true,\n",
);

const NDJSON_STDERR: &str = concat!(
    "ketascreen: warning: ignoring 1 key that matches no question (never read, never echoed): 'name' (1 record)\n",
    "ketascreen: 5 rows screened: 1 ineligible, 3 incomplete, 0 review, 1 eligible; 0 urgent; 4 urgent not known; 3 rows with input errors\n",
);

#[test]
fn ndjson_gives_one_record_per_line_and_a_bad_line_only_its_own_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "patients.ndjson", NDJSON);
    let run = batch(&[&file, "--format", "csv"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, format!("{HEADER}{NDJSON_RECORDS}"));
    assert_eq!(timeless(&run.stderr), NDJSON_STDERR);

    // --strict: every record still written, exit 1.
    let run = batch(&[&file, "--format", "csv", "--strict"], None);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, format!("{HEADER}{NDJSON_RECORDS}"));
    assert!(run
        .stderr
        .ends_with("ketascreen: error: 3 rows have input errors (--strict)\n"));

    // From stdin the first line shows it is NDJSON; the flag says so too.
    for args in [
        &["-", "--format", "csv"][..],
        &["-", "--input-format", "ndjson", "--format", "csv"],
    ] {
        let run = batch(args, Some(NDJSON));
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, format!("{HEADER}{NDJSON_RECORDS}"), "{args:?}");
    }
}

#[test]
fn ndjson_records_are_valid_verdicts_in_every_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "patients.jsonl", NDJSON);
    let run = batch(&[&file, "--format", "json"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let records: Json = serde_json::from_str(&run.stdout).expect("a JSON array");
    let rows: Vec<(u64, &str)> = records
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            (
                r["row"].as_u64().unwrap_or(0),
                r["verdict"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (1, "eligible"),
            (2, "incomplete"),
            (3, "ineligible"),
            (4, "incomplete"),
            (5, "incomplete")
        ]
    );
    let run = batch(&[&file, "--format", "ndjson"], None);
    assert_eq!(run.stdout.lines().count(), 5);
    for line in run.stdout.lines() {
        let record: Json = serde_json::from_str(line).expect("one record per line");
        assert_eq!(record["schema"], "ketascreen.verdict/v1");
    }
}

#[test]
fn a_json_array_is_one_patient_per_item() {
    let array = json!([
        {"id": "A", "age_years": 40, "systolic_bp": 150, "pregnancy_status": "not_applicable"},
        "not an object",
        {"id": "C", "age_years": 12}
    ])
    .to_string();
    let run = batch(
        &["-", "--input-format", "json", "--format", "csv"],
        Some(&array),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "{HEADER}{}",
            concat!(
                "1,A,review,false,elevated_blood_pressure,,,interview-test@1.0.0,false,\n",
                "2,,incomplete,false,,age_years;systolic_bp;pregnancy_status;breastfeeding,\"(row): item 2: a string, not one patient's answers (an answers object); none of this record's answers were read\",interview-test@1.0.0,true,\n",
                "3,C,ineligible,false,under_18,systolic_bp;pregnancy_status;breastfeeding,,interview-test@1.0.0,true,\n",
            )
        )
    );
    // A .json file is read as one JSON document.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "patients.json", &array);
    let run = batch(&[&file, "--format", "csv"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 4);

    // A document that is not JSON stops the batch: there is no line to pin a record on.
    let run = batch(&["-", "--input-format", "json"], Some("[{\"id\": 1},"));
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "ketascreen: cannot read <stdin>: not a JSON document (line 1, column 11): EOF while parsing a value (column 11)\n"
    );
}

/// QuestionnaireResponses to the test ruleset's exported Questionnaire.
fn response(subject: &str, version: &str, age: i64, status_code: &str) -> Json {
    json!({
        "resourceType": "QuestionnaireResponse",
        "questionnaire": format!("urn:ketascreen:questionnaire:interview-test|{version}"),
        "status": "completed",
        "subject": {"reference": subject},
        "item": [
            {"linkId": "section-1", "item": [{"linkId": "age_years", "answer": [{"valueInteger": age}]}]},
            {"linkId": "section-2", "item": [{"linkId": "systolic_bp", "answer": [{"valueQuantity": {"value": 118, "unit": "mmHg"}}]}]},
            {"linkId": "section-3", "item": [
                {"linkId": "pregnancy_status", "answer": [{"valueCoding": {
                    "system": "urn:ketascreen:questionnaire:interview-test:pregnancy_status",
                    "code": status_code}}]},
                {"linkId": "breastfeeding", "answer": [{"valueBoolean": false}]}
            ]}
        ]
    })
}

#[test]
fn a_fhir_bundle_and_ndjson_of_questionnaire_responses() {
    let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1"}},
        {"resource": response("Patient/p1", "1.0.0", 45, "not_pregnant")},
        {"resource": response("Patient/p2", "1.0.0", 30, "pregnant")},
        {"resource": response("Patient/p3", "0.1.0", 30, "not_pregnant")}
    ]});
    let records = concat!(
        "1,Patient/p1,eligible,false,,,,interview-test@1.0.0,false,\n",
        "2,Patient/p2,ineligible,false,pregnancy,,,interview-test@1.0.0,false,\n",
        "3,,incomplete,false,,age_years;systolic_bp;pregnancy_status;breastfeeding,\"(row): QuestionnaireResponse 3: this QuestionnaireResponse answers version 0.1.0 of 'urn:ketascreen:questionnaire:interview-test', but the ruleset is version 1.0.0: screen it with the ruleset version it was made for (--rules FILE); none of this record's answers were read\",interview-test@1.0.0,true,\n",
    );
    // Pretty-printed on stdin: the first line is no whole document, so it is one JSON document.
    let pretty = serde_json::to_string_pretty(&bundle).expect("json");
    let run = batch(&["-", "--format", "csv"], Some(&pretty));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, format!("{HEADER}{records}"));
    assert_eq!(
        timeless(&run.stderr),
        concat!(
            "ketascreen: note: <stdin>: 1 Bundle entry is not a QuestionnaireResponse, not screened\n",
            "ketascreen: 3 rows screened: 1 ineligible, 1 incomplete, 0 review, 1 eligible; 0 urgent; 1 urgent not known; 1 row with input errors\n",
        )
    );

    // The same responses as NDJSON, as FHIR bulk data exports them.
    let ndjson: String = bundle["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .skip(1)
        .map(|e| format!("{}\n", e["resource"]))
        .collect();
    let run = batch(&["-", "--format", "csv"], Some(&ndjson));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "{HEADER}{}",
            records.replace("QuestionnaireResponse 3: this", "line 3: this")
        )
    );
}

#[test]
fn csv_only_options_are_refused_for_json_input() {
    let run = batch(
        &["-", "--input-format", "ndjson", "--map", "a=age_years"],
        Some("{}\n"),
    );
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "ketascreen: --map, --id-column and --delimiter apply to CSV input; JSON answers are keyed by question id (or alias) and carry their id in `id` or `patient_id`\n"
    );
    // CSV stays CSV, whatever its first character.
    let run = batch(&["-", "--format", "csv"], Some("id,age_years\nP-9,15\n"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("1,P-9,ineligible,false,under_18,"),
        "{}",
        run.stdout
    );
}
