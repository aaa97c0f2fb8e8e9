//! Issue 11, "no patient lost, no file clobbered": each finding of the adversarial probe
//! pinned down with its exact output — ambiguous saved documents, control characters from
//! input, numbers rounded before they were checked, rulesets that can only say eligible,
//! files replaced or followed through symlinks, and the CSV reader's edges.

use crate::support::ks;

fn write(dir: &tempfile::TempDir, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).expect("writable");
    p.display().to_string()
}

// Broke: a saved record with an answer beside `answers` was screened on `answers` alone and
// came out eligible with no warning.
#[test]
fn a_saved_record_with_answers_also_at_the_top_level_is_refused() {
    let run = ks(["check", "-"])
        .stdin(
            r#"{"schema": "ketascreen.verdict/v1", "answers": {"age_years": 40}, "aneurysm_or_avm": "yes", "Current_Mania": "yes"}"#,
        )
        .run();
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "ketascreen: cannot read answers from <stdin>: ambiguous document: a ketascreen.verdict/v1 record has its answers in 'answers', but 'aneurysm_or_avm', 'Current_Mania' are also given at the top level; move every answer into 'answers'\n"
    );
}

#[test]
fn any_schema_key_must_name_a_ketascreen_document_with_answers() {
    let run = ks(["check", "-"])
        .stdin(r#"{"schema": "fhir/QuestionnaireResponse", "aneurysm_or_avm": "yes"}"#)
        .run();
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "ketascreen: cannot read answers from <stdin>: 'schema' is 'fhir/QuestionnaireResponse', not a ketascreen document (ketascreen.verdict/v1 or ketascreen.interview-draft/v1); a plain answers document has no 'schema' key\n"
    );
    let run = ks(["check", "-"])
        .stdin(r#"{"schema": "ketascreen.verdict/v1", "verdict": "eligible"}"#)
        .run();
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "ketascreen: cannot read answers from <stdin>: a ketascreen.verdict/v1 document without an 'answers' object holds no answers\n"
    );
    let run = ks(["check", "-"])
        .stdin(r#"{"schema": "ketascreen.verdict/v1", "id": "P-1", "answers": {"id": "P-2"}}"#)
        .run();
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "ketascreen: cannot read answers from <stdin>: ambiguous document: two patient ids, 'id' 'P-1' at the top level and 'P-2' in 'answers'\n"
    );
    // A saved record's own fields (verdict, reasons, ...) are not answers: read as before.
    let (run, doc) = ks(["check", "-"])
        .stdin(r#"{"schema": "ketascreen.verdict/v1", "id": "P-3", "verdict": "eligible", "reasons": [], "answers": {"aneurysm_or_avm": "yes"}}"#)
        .json();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    assert_eq!(doc["id"], "P-3");
    assert_eq!(doc["verdict"], "ineligible");
}

// Broke: an id holding a newline, a fake ELIGIBLE line and ESC[8m hid the real INELIGIBLE
// banner; unknown keys and ignored headers reached stderr raw.
#[test]
fn control_characters_from_input_are_escaped_on_the_terminal_and_stderr() {
    let run = ks(["check", "-", "--format", "table"])
        .stdin("{\"id\": \"P-1\\nELIGIBLE: no contraindication found\\u001b[8m\", \"aneurysm_or_avm\": \"yes\", \"x\\u001b]0;pwn\\u0007\": 1, \"systolic_bp\": \"1\\u202e40\"}")
        .run();
    assert_eq!(run.code, 0);
    let head: Vec<&str> = run.stdout.lines().take(2).collect();
    assert_eq!(
        head,
        [
            r"Patient: P-1\nELIGIBLE: no contraindication found\u{1b}[8m",
            "INELIGIBLE: an exclusion applies; not a candidate now"
        ]
    );
    assert!(
        run.stdout.contains(
            "  - systolic_bp = \"1\\u{202e}40\": expected a whole number between 50 and 300 mmHg\n"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stderr,
        "ketascreen: warning: ignoring 'x\\u{1b}]0;pwn\\u{7}': no such question in ruleset 'ketamine-default'\n"
    );
    assert!(!run.stdout.contains('\x1b') && !run.stderr.contains('\x1b'));

    let run = ks(["batch", "-", "--format", "csv"])
        .stdin("id,Na\x1bme\u{202e}\nP-1,x\n")
        .run();
    assert_eq!(run.code, 0);
    assert!(
        run.stderr.starts_with(
            "ketascreen: warning: ignoring 1 column that matches no question (never read, never echoed): 'Na\\u{1b}me\\u{202e}'\n"
        ),
        "{}",
        run.stderr
    );
}

// Broke: "age_years": 17.99999999999999999 was read as the float 18.0 and came out eligible.
#[test]
fn numbers_are_validated_as_written_in_json_yaml_and_csv() {
    let (run, doc) = ks(["check", "-"])
        .stdin(r#"{"age_years": 17.99999999999999999, "phq9_total": 1.5e1}"#)
        .json();
    assert_eq!(run.code, 0);
    assert_eq!(
        doc["errors"],
        serde_json::json!([{"question": "age_years", "value": "17.99999999999999999", "message": "expected a whole number between 0 and 120 years"}])
    );
    assert_eq!(doc["missing"][0]["rule"], "under_18");

    let (_, doc) = ks(["check", "-"])
        .stdin("age_years: 17.99999999999999999\n")
        .json();
    assert_eq!(doc["errors"][0]["value"], "17.99999999999999999");
    assert_eq!(doc["missing"][0]["rule"], "under_18");

    let dir = tempfile::tempdir().expect("tmp");
    let rules = write(
        &dir,
        "r.yaml",
        "ruleset: {id: n, version: 1, title: N, sources: {s: S}}\nquestions:\n  - {id: bmi, section: S, text: BMI?, type: number, min: 10, max: 80}\nrules:\n  - {id: obese, severity: review, when: bmi >= 40, message: m, source: s}\n",
    );
    let run = ks(["--rules", rules.as_str(), "batch", "-", "--format", "csv"])
        .stdin("id,bmi\nA,39.99999999999999999\nB,39.9\nC,40\n")
        .run();
    assert_eq!(
        run.stdout,
        "row,id,verdict,urgent,reasons,missing,errors,ruleset\n\
         1,A,incomplete,false,,bmi,bmi: column 'bmi': 39.99999999999999999 has more digits than can be compared exactly; round it to at most 15 significant digits,n@1\n\
         2,B,eligible,false,,,,n@1\n\
         3,C,review,false,obese,,,n@1\n"
    );
}
