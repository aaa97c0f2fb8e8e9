//! `ketascreen check`: one patient's answers in, the verdict out, as JSON and as a table.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::support::{ks, path};

fn sha256_of(relative: &str) -> String {
    let bytes = std::fs::read(path(relative)).expect("readable");
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn rule_ids(doc: &serde_json::Value) -> Vec<String> {
    doc["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .map(|r| r["rule"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn example_patient_is_review_with_its_basis() {
    let (run, doc) = ks(["check", "examples/patient.json", "--format", "json"]).json();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    assert_eq!(doc["schema"], "ketascreen.verdict/v1");
    assert_eq!(doc["id"], "P-0042");
    assert_eq!(doc["verdict"], "review");
    assert_eq!(doc["urgent"], false);
    assert_eq!(
        rule_ids(&doc),
        [
            "elevated_blood_pressure",
            "continue_antihypertensives",
            "benzodiazepine_may_blunt_response"
        ]
    );
    let first = &doc["reasons"][0];
    assert_eq!(first["severity"], "review");
    assert_eq!(
        first["answers"],
        json!({"systolic_bp": 146, "diastolic_bp": 92})
    );
    assert_eq!(first["source"], "spravato-pi");
    assert!(
        first["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("Blood pressure 146/92 mmHg"),
        "{first}"
    );
    assert_eq!(doc["missing"], json!([]));
    assert_eq!(doc["errors"], json!([]));
    assert_eq!(
        doc["ruleset"],
        json!({"id": "ketamine-default", "version": "2.0.0", "sha256": sha256_of("rules/ketamine.yaml")})
    );
}

#[test]
fn piped_output_defaults_to_json_and_reads_stdin() {
    let (run, doc) = ks(["check"])
        .stdin(r#"{"id": 7, "systolic_bp": 185, "aneurysm_or_avm": "Y"}"#)
        .json();
    assert_eq!(run.code, 0);
    assert_eq!(doc["id"], "7");
    assert_eq!(doc["verdict"], "ineligible");
    assert_eq!(rule_ids(&doc), ["severe_hypertension", "aneurysm_or_avm"]);
    // Missing answers cannot rescue an exclusion, but they are still listed.
    assert_eq!(
        doc["reasons"][0]["answers"],
        json!({"systolic_bp": 185, "diastolic_bp": null})
    );
}

#[test]
fn yaml_answers_with_unknowns_are_incomplete_and_name_the_questions() {
    let (run, doc) = ks([
        "check",
        "examples/patient-incomplete.yaml",
        "--format",
        "json",
    ])
    .json();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(doc["verdict"], "incomplete");
    let mut missing: Vec<String> = doc["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .flat_map(|m| m["questions"].as_array().cloned().unwrap_or_default())
        .map(|q| q.as_str().unwrap_or("").to_string())
        .collect();
    missing.sort();
    missing.dedup();
    assert_eq!(
        missing,
        [
            "diastolic_bp",
            "nonmedical_ketamine_use",
            "pregnancy_status"
        ]
    );
}

#[test]
fn invalid_values_become_errors_and_unknown_keys_are_named() {
    let input = r#"{"systolic_bp": 400, "diastolic_bp": "eighty", "consent_capacity": "maybe", "systolic_bpp": 120, "pregnancy_status": "Pregnant"}"#;
    let (run, doc) = ks(["check", "-", "--format", "json"]).stdin(input).json();
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stderr,
        "ketascreen: warning: ignoring 'systolic_bpp': no such question in ruleset 'ketamine-default' (did you mean 'systolic_bp'?)\n"
    );
    assert_eq!(
        doc["errors"],
        json!([
            {"question": "systolic_bp", "value": "400", "message": "400 is out of range: must be between 50 and 300 mmHg"},
            {"question": "diastolic_bp", "value": "eighty", "message": "expected a whole number between 20 and 200 mmHg"},
            {"question": "consent_capacity", "value": "maybe", "message": "expected yes or no (y/n, true/false, 1/0)"}
        ])
    );
    // Pregnancy given by a different case still counts, and excludes.
    assert_eq!(doc["verdict"], "ineligible");
    assert_eq!(rule_ids(&doc), ["pregnancy"]);
}

#[test]
fn table_shows_banner_urgent_reasons_missing_and_notes() {
    let input = "current_psychosis: yes\nsuicidal_intent_or_plan: yes\nage_years: 70\n";
    let run = ks(["check", "--format", "table"]).stdin(input).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "INELIGIBLE: an exclusion applies; not a candidate now"
    );
    assert_eq!(
        lines[1],
        "URGENT: same-day clinical attention needed (see the rules marked urgent)"
    );
    for needle in [
        "│ exclude  ┆ current_psychosis  ┆ Psychotic symptoms now: not a candidate now. │\n│ (urgent) ┆",
        "│ review   ┆ acute_suicide_risk ┆ Suicidal intent or plan in the past month.   │\n│ (urgent) ┆",
        "┆ read: suicidal_intent_or_plan=yes            │",
        "Missing answers (each could change the verdict):",
        "  - severe_hypertension: needs systolic_bp, diastolic_bp",
        "Notes:\n  - older_adult: ",
        "[trial-criteria] ",
        "Decision support only: the prescriber makes the treatment decision.",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    // psychosis_history is skipped when current psychosis is present: never missing.
    assert!(!out.contains("psychosis_history"), "{out}");
    assert!(!out.contains('\x1b'), "no colour when NO_COLOR is set");
    // Not a terminal: 80 columns, notes and sources wrapped with a hanging indent.
    assert!(
        out.contains("  - older_adult: Age 70 years (65 or over): tell the prescriber, who may choose\n    a lower starting dose."),
        "{out}"
    );
    for line in out.lines() {
        assert!(line.chars().count() <= 80, "{line:?}");
    }
}

#[test]
fn the_table_fits_the_columns_it_is_given_and_never_cuts_an_id() {
    let input = "current_psychosis: yes\nsuicidal_intent_or_plan: yes\nage_years: 70\n";
    for columns in [80, 100, 120] {
        let run = ks(["check", "--format", "table"])
            .stdin(input)
            .env("COLUMNS", columns.to_string())
            .run();
        assert_eq!(run.code, 0, "{}", run.stderr);
        for line in run.stdout.lines() {
            assert!(line.chars().count() <= columns, "{columns}: {line:?}");
        }
        for id in [
            "current_psychosis",
            "acute_suicide_risk",
            "suicidal_intent_or_plan=yes",
        ] {
            assert!(
                run.stdout.contains(id),
                "{columns}: {id} whole in\n{}",
                run.stdout
            );
        }
    }
    let wide = ks(["check", "--format", "table"])
        .stdin(input)
        .env("COLUMNS", "120")
        .run();
    assert!(wide.stdout.contains(
        "  - older_adult: Age 70 years (65 or over): tell the prescriber, who may choose a lower starting dose. Rises in blood\n    pressure"
    ), "{}", wide.stdout);
}

#[test]
fn csv_and_ndjson_formats() {
    let run = ks(["check", "examples/patient.json", "--format", "csv"]).run();
    assert_eq!(
        run.stdout,
        "row,id,verdict,urgent,reasons,missing,errors,ruleset,urgent_undecided,ignored,exclude,review,note,error_count\n,P-0042,review,false,elevated_blood_pressure;continue_antihypertensives;benzodiazepine_may_blunt_response,,,ketamine-default@2.0.0,false,,,elevated_blood_pressure,continue_antihypertensives;benzodiazepine_may_blunt_response,0\n"
    );
    let run = ks(["check", "examples/patient.json", "--format", "ndjson"]).run();
    assert_eq!(run.stdout.lines().count(), 1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json line");
    assert_eq!(doc["verdict"], "review");
}

#[test]
fn custom_ruleset_by_flag_and_by_environment() {
    let input = r#"{"sbp": 165, "diastolic_bp": 80}"#;
    let (_, by_flag) = ks(["--rules", "examples/clinic-ruleset.yaml", "check"])
        .stdin(input)
        .json();
    let (_, by_env) = ks(["check"])
        .env("KETASCREEN_RULES", "examples/clinic-ruleset.yaml")
        .stdin(input)
        .json();
    assert_eq!(by_flag, by_env);
    assert_eq!(by_flag["ruleset"]["id"], "riverside-ketamine");
    assert!(
        rule_ids(&by_flag).contains(&"severe_hypertension".to_string()),
        "{by_flag}"
    );
    assert_eq!(by_flag["verdict"], "ineligible");
}

#[test]
fn unreadable_inputs_exit_1_with_one_clear_line() {
    let run = ks(["check", "no/such/file.json"]).run();
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr
            .starts_with("ketascreen: cannot read no/such/file.json: "),
        "{}",
        run.stderr
    );

    let run = ks(["check"]).stdin("[1, 2]").run();
    assert_eq!(run.code, 1);
    // An array is several patients' answers, not one: say where they go.
    assert_eq!(run.stderr, "ketascreen: <stdin> holds a JSON array of 2 items, not one patient's answers: screen them with 'ketascreen batch FILE --input-format json'\n");

    let run = ks(["check"]).stdin("").run();
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "ketascreen: cannot read answers from <stdin>: the input is empty\n"
    );

    let run = ks(["--rules", "no/such/rules.yaml", "check"])
        .stdin("{}")
        .run();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .starts_with("ketascreen: cannot read ruleset no/such/rules.yaml: "),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(ks(["check", "--format", "xml"]).run().code, 2);
    assert_eq!(ks(["frobnicate"]).run().code, 2);
}

#[test]
fn built_in_ruleset_works_from_any_directory() {
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let example = path("examples/patient.json");
    let (run, doc) = ks([std::ffi::OsStr::new("check"), example.as_os_str()])
        .dir(elsewhere.path())
        .json();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(doc["verdict"], "review");
}

#[test]
fn duplicate_keys_are_refused_with_their_place() {
    // serde_json alone keeps the last of two equal keys; a contradiction must not hide that way.
    let run = ks(["check"])
        .stdin("{\"systolic_bp\": 120,\n \"systolic_bp\": 190}")
        .run();
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "ketascreen: cannot read answers from <stdin>: not valid JSON: duplicate key 'systolic_bp' at line 2 column 20\n"
    );
    let run = ks(["check"])
        .stdin("systolic_bp: 120\nsystolic_bp: 190\n")
        .run();
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "ketascreen: cannot read answers from <stdin>: not valid YAML (line 1, column 1): duplicate entry with key \"systolic_bp\"\n"
    );
}

#[test]
fn non_finite_numbers_are_input_errors_not_answers() {
    let (run, doc) = ks(["check"])
        .stdin("systolic_bp: .nan\ndiastolic_bp: .inf\n")
        .json();
    assert_eq!(run.code, 0);
    assert_eq!(
        doc["errors"],
        json!([
            {"question": "systolic_bp", "value": "NaN", "message": "expected a whole number between 50 and 300 mmHg"},
            {"question": "diastolic_bp", "value": "inf", "message": "expected a whole number between 20 and 200 mmHg"}
        ])
    );
    assert_eq!(doc["verdict"], "incomplete");
}

/// The example patient with some answers replaced (`null` unanswers one).
fn example_with(changes: serde_json::Value) -> String {
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path("examples/patient.json")).expect("readable"))
            .expect("JSON");
    for (key, value) in changes.as_object().expect("object") {
        doc[key] = value.clone();
    }
    doc.to_string()
}

// With the suicide-risk question unanswered the verdict said `"urgent": false` — "not urgent"
// when the truth is "not known".
#[test]
fn suicide_question_unanswered_makes_urgent_not_known_in_every_format() {
    let input = example_with(json!({"suicidal_intent_or_plan": null}));
    let (run, doc) = ks(["check", "-", "--format", "json"])
        .stdin(input.clone())
        .json();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(doc["verdict"], "incomplete");
    assert_eq!(doc["urgent"], false);
    assert_eq!(doc["urgent_undecided"], true);
    assert_eq!(
        doc["missing"],
        json!([{
            "rule": "acute_suicide_risk",
            "severity": "review",
            "urgent": true,
            "questions": ["suicidal_intent_or_plan"]
        }])
    );

    let run = ks(["check", "-", "--format", "table"])
        .stdin(input.clone())
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.starts_with(
            "Patient: P-0042\n\
             INCOMPLETE: answers are missing that could change the verdict\n\
             URGENT NOT KNOWN: suicidal_intent_or_plan unanswered — ask today\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "\nMissing answers (each could change the verdict):\n  \
             - acute_suicide_risk (urgent): needs suicidal_intent_or_plan\n"
        ),
        "{}",
        run.stdout
    );

    let run = ks(["check", "-", "--format", "csv"]).stdin(input).run();
    assert_eq!(
        run.stdout.lines().nth(1),
        Some(",P-0042,incomplete,false,elevated_blood_pressure;continue_antihypertensives;benzodiazepine_may_blunt_response,suicidal_intent_or_plan,,ketamine-default@2.0.0,true,,,elevated_blood_pressure,continue_antihypertensives;benzodiazepine_may_blunt_response,0")
    );

    // Once an urgent rule fires, urgency is known, whatever else is unanswered.
    let input = example_with(json!({"suicidal_intent_or_plan": null, "current_mania": "yes"}));
    let (_, doc) = ks(["check", "-", "--format", "json"]).stdin(input).json();
    assert_eq!(doc["urgent"], true);
    assert_eq!(doc["urgent_undecided"], false);
}

// `breastfeeding: yes` with `pregnancy_status: not_applicable` vanished without a trace.
#[test]
fn answers_to_questions_that_do_not_apply_are_listed_and_change_nothing() {
    let plain = example_with(
        json!({"pregnancy_status": "not_applicable", "breastfeeding": null, "uses_contraception": null}),
    );
    let input = example_with(
        json!({"pregnancy_status": "not_applicable", "breastfeeding": "yes", "uses_contraception": "no"}),
    );
    let (_, without) = ks(["check", "-", "--format", "json"]).stdin(plain).json();
    let (run, doc) = ks(["check", "-", "--format", "json"])
        .stdin(input.clone())
        .json();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        doc["ignored"],
        json!([
            {
                "question": "breastfeeding",
                "value": "yes",
                "because": "pregnancy_status is not_applicable; asked only if pregnancy_status != not_applicable"
            },
            {
                "question": "uses_contraception",
                "value": "no",
                "because": "pregnancy_status is not_applicable; asked only if pregnancy_status == not_pregnant"
            }
        ])
    );
    // The verdict is the one without those answers.
    let mut same = doc.clone();
    same["ignored"] = json!([]);
    assert_eq!(same, without);

    let run = ks(["check", "-", "--format", "table"])
        .stdin(input.clone())
        .run();
    assert!(
        run.stdout.contains(
            "\nIgnored answers (their questions do not apply to this patient; never used):\n  \
             - breastfeeding = yes: pregnancy_status is not_applicable; asked only if\n    \
             pregnancy_status != not_applicable\n  \
             - uses_contraception = no: pregnancy_status is not_applicable; asked only if\n    \
             pregnancy_status == not_pregnant\n"
        ),
        "{}",
        run.stdout
    );
    let run = ks(["check", "-", "--format", "csv"]).stdin(input).run();
    assert!(
        run.stdout
            .ends_with(",false,breastfeeding;uses_contraception,,elevated_blood_pressure,continue_antihypertensives;benzodiazepine_may_blunt_response,0\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_patient_id_with_control_characters_never_drives_the_terminal() {
    // An id read from a file reached the table with its escape sequence intact.
    let run = ks(["check", "--format", "table"])
        .stdin("{\"id\": \"P\\u001b[31mX\", \"age_years\": 40}")
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("Patient: P\\u{1b}[31mX\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains('\x1b'));
}
