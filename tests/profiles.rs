//! Intake profiles: `profile lint` with located errors, `profile redcap` and `profile init`
//! drafts, `rules template --format redcap` and its round trip, and exports screened through a
//! profile — a synthetic REDCap project (tests/fixtures/redcap) and REDCap's own demo projects
//! (../shared/external-suites/redcap, skipped when absent) — each record asserted exactly and
//! equal to the record of the same patient given as clean JSON to `check`.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::{ks, path, Run};

const DEMO_RULES: &str = "tests/fixtures/redcap-demo.yaml";

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A CSV file as a header and rows of cells.
fn read_csv(file: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(file).expect("readable CSV");
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("record").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// One export row as the JSON object REDCap's API would give for it (every value a string).
fn row_json(header: &[String], row: &[String]) -> Value {
    Value::Object(
        header
            .iter()
            .zip(row)
            .map(|(h, c)| (h.clone(), Value::String(c.clone())))
            .collect(),
    )
}

/// Writes a profile drafted by `profile redcap` (checked to succeed) into `dir`.
fn draft_redcap(dir: &Path, rules: Option<&str>, dictionary: &Path, events: &[&str]) -> PathBuf {
    let mut args: Vec<String> = Vec::new();
    if let Some(r) = rules {
        args.extend(["--rules".into(), r.into()]);
    }
    args.extend(["profile".into(), "redcap".into()]);
    args.push(dictionary.display().to_string());
    for e in events {
        args.extend(["--event".into(), e.to_string()]);
    }
    let run = ks(&args).run();
    assert_eq!(run.code, 0, "{run:?}");
    let file = dir.join("profile.yaml");
    std::fs::write(&file, &run.stdout).expect("written");
    file
}

/// `check --format json` of one document, through a profile or not.
fn check(rules: Option<&str>, profile: Option<&Path>, doc: &Value) -> (Run, Value) {
    let mut args: Vec<String> = Vec::new();
    if let Some(r) = rules {
        args.extend(["--rules".into(), r.into()]);
    }
    args.extend(["check".into(), "-".into(), "--format".into(), "json".into()]);
    if let Some(p) = profile {
        args.extend(["--profile".into(), p.display().to_string()]);
    }
    ks(&args).stdin(doc.to_string()).json()
}

/// A record without the parts that name the profile or the ruleset build, and without the
/// profile's form errors: what a clean `check` of the same patient must also say.
fn decision(record: &Value) -> Value {
    let mut r = record.clone();
    if let Some(o) = r.as_object_mut() {
        o.remove("profile");
        o.remove("ruleset");
        if let Some(Value::Array(errors)) = o.get_mut("errors") {
            errors.retain(|e| e.get("form").is_none());
        }
    }
    r
}

/// A record as the reviewed snapshots hold it: without `ruleset` (which changes with every
/// ruleset edit), after checking that it names the profile by id and sha256.
fn record_of(actual: &Value, profile_id: &str, profile_sha: &str) -> Value {
    assert_eq!(
        actual["profile"],
        json!({"id": profile_id, "sha256": profile_sha}),
        "{actual}"
    );
    let mut got = actual.clone();
    if let Some(o) = got.as_object_mut() {
        o.remove("ruleset");
        o.remove("profile");
    }
    got
}

/// Exact records, one per line, compared with a reviewed file `tests/snapshots/NAME.ndjson`;
/// `KETASCREEN_UPDATE_SNAPSHOTS=1` rewrites it (review the diff).
fn assert_golden(name: &str, records: &[Value]) {
    let file = path(&format!("tests/snapshots/{name}.ndjson"));
    let text: String = records.iter().map(|r| format!("{r}\n")).collect();
    if std::env::var_os("KETASCREEN_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&file, &text).expect("snapshot written");
    }
    let expected = std::fs::read_to_string(&file).expect("snapshot");
    for (got, want) in text.lines().zip(expected.lines()) {
        assert_eq!(got, want, "{name}");
    }
    assert_eq!(text.lines().count(), expected.lines().count(), "{name}");
}

// --- profile lint -----------------------------------------------------------------------------

/// Runs `profile lint clinic.yaml` on `text` with the built-in ruleset.
fn lint(text: &str) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("clinic.yaml"), text).expect("written");
    ks(["profile", "lint", "clinic.yaml"]).dir(dir.path()).run()
}

#[test]
fn lint_places_every_problem_with_did_you_mean() {
    let text = "\
profile: {id: riverside, ruleset: ketamine-default}
input:
  encoding: windows1251
  rows: {column: redcap_event_name, equals: [screening_arm_1]}
forms:
  intake: {status_column: intake_complete}
columns:
  systolic_bpp: {column: \"Systolic BP\", form: intake}
  primary_diagnosis: {column: dx, values: {\"1\": major_depresive_disorder, \"2\": bipolar_depression}, form: intak}
  takes_maoi: {checkbox: meds___3}
  age_years: {column: Age, unit: years, form: intake}
  glaucoma: {column: Age}
";
    let run = lint(text);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stderr, "");
    assert_eq!(
        run.stdout,
        "\
clinic.yaml:3:13: unknown encoding 'windows1251': expected one of auto, utf-8, windows-1252, iso-8859-1, utf-16le, utf-16be (did you mean 'windows-1252'?)
   |
 3 |   encoding: windows1251
   |             ^
clinic.yaml:8:3: no question 'systolic_bpp' in ruleset 'ketamine-default' (did you mean 'systolic_bp'?)
   |
 8 |   systolic_bpp: {column: \"Systolic BP\", form: intake}
   |   ^
clinic.yaml:9:49: code '1' reads as 'major_depresive_disorder', not an answer to 'primary_diagnosis': expected one of: major_depressive_disorder, bipolar_depression, other (did you mean 'major_depressive_disorder'?)
   |
 9 |   primary_diagnosis: {column: dx, values: {\"1\": major_depresive_disorder, \"2\": bipolar_depression}, form: intak}
   |                                                 ^
clinic.yaml:9:107: question 'primary_diagnosis': no form 'intak' (did you mean 'intake'?)
   |
 9 |   primary_diagnosis: {column: dx, values: {\"1\": major_depresive_disorder, \"2\": bipolar_depression}, form: intak}
   |                                                                                                           ^
clinic.yaml:10:26: checkbox 'takes_maoi' needs 'form': an unfilled form exports its checkboxes as 0, which must not read as 'no' (without a completion status, use {column: ..., values: {\"1\": yes, \"0\": no}} and accept that risk)
    |
 10 |   takes_maoi: {checkbox: meds___3}
    |                          ^
clinic.yaml:12:13: column 'Age' already answers question 'age_years'
    |
 12 |   glaucoma: {column: Age}
    |             ^
clinic.yaml: 6 errors found; the profile was not loaded
"
    );
}

#[test]
fn lint_reports_unknown_keys_like_the_ruleset_loader() {
    let run = lint("profile: {id: x}\ncolums: {}\n");
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "\
clinic.yaml:2:1: unknown field `colums`, expected one of `profile`, `input`, `missing_codes`, `forms`, `columns` (did you mean 'columns'?)
   |
 2 | colums: {}
   | ^
clinic.yaml: 1 error found; the profile was not loaded
"
    );
}

#[test]
fn lint_of_a_good_profile_names_it_and_its_hash_and_checks_it_against_an_export() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = draft_redcap(
        dir.path(),
        None,
        &path("tests/fixtures/redcap/dictionary.csv"),
        &["screening_arm_1"],
    );
    let sha = sha256_hex(&std::fs::read(&profile).expect("read"));
    let run = ks([
        "profile",
        "lint",
        &profile.display().to_string(),
        "--against",
        "tests/fixtures/redcap/export.csv",
    ])
    .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        format!(
            "{}: ok: profile 'dictionary' for ruleset 'ketamine-default' 2.0.0: 43 questions mapped, 3 forms, 18 missing-data codes\n\
             sha256 {sha}\n\
             fits tests/fixtures/redcap/export.csv: 43 questions read, id column 'record_id'\n\
             2 columns left out (never read): 'first_name', 'meds___5'\n",
            profile.display()
        )
    );
}

#[test]
fn a_profile_for_another_ruleset_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("p.yaml"),
        "profile: {id: x, ruleset: redcap-demo}\n",
    )
    .expect("written");
    let run = ks(["check", "-", "--profile", "p.yaml"])
        .dir(dir.path())
        .stdin("{}")
        .run();
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "ketascreen: p.yaml:1:27: this profile is for ruleset 'redcap-demo', and the ruleset in use is 'ketamine-default' (rules/ketamine.yaml (built-in))\n   |\n 1 | profile: {id: x, ruleset: redcap-demo}\n   |                           ^\np.yaml: 1 error found; the profile was not loaded\n"
    );
}

// --- the synthetic REDCap project -------------------------------------------------------------

/// The synthetic export's screening rows, each checked through the drafted profile (and the
/// same through `KETASCREEN_PROFILE`), equal exactly the expected records, and — form errors
/// aside — the record of the same patient as clean JSON.
#[test]
fn synthetic_redcap_export_screens_row_by_row_as_clean_json_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = draft_redcap(
        dir.path(),
        None,
        &path("tests/fixtures/redcap/dictionary.csv"),
        &["screening_arm_1"],
    );
    let sha = sha256_hex(&std::fs::read(&profile).expect("read"));
    let (header, rows) = read_csv(&path("tests/fixtures/redcap/export.csv"));
    let screening: Vec<Value> = rows
        .iter()
        .map(|r| row_json(&header, r))
        .filter(|r| r["redcap_event_name"] == "screening_arm_1")
        .collect();
    let patients: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(path("tests/fixtures/redcap/patients.json")).expect("read"),
    )
    .expect("JSON");
    assert_eq!(screening.len(), patients.len());

    let mut got = Vec::new();
    for (row, patient) in screening.iter().zip(&patients) {
        let (run, record) = check(None, Some(&profile), row);
        assert_eq!(run.code, 0, "{run:?}");
        got.push(record_of(&record, "dictionary", &sha));
        let (_, clean) = check(None, None, patient);
        assert_eq!(
            decision(&record),
            decision(&clean),
            "row {}",
            row["record_id"]
        );
    }

    // KETASCREEN_PROFILE does what --profile does.
    let run = ks(["check", "-", "--format", "json"])
        .env("KETASCREEN_PROFILE", &profile)
        .stdin(screening[1].to_string())
        .run();
    let record: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(record_of(&record, "dictionary", &sha), got[1]);
    assert_golden("profiles-synthetic-redcap", &got);

    // A follow-up event's row is no patient by this profile.
    let followup = rows
        .iter()
        .map(|r| row_json(&header, r))
        .find(|r| r["redcap_event_name"] == "followup_arm_1")
        .expect("a follow-up row");
    let run = check_run(&profile, &followup);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "ketascreen: <stdin>: not a patient by the profile's input.rows: 'redcap_event_name' is 'followup_arm_1'\n"
    );
}

fn check_run(profile: &Path, doc: &Value) -> Run {
    ks([
        "check",
        "-",
        "--format",
        "json",
        "--profile",
        &profile.display().to_string(),
    ])
    .stdin(doc.to_string())
    .run()
}

#[test]
fn redcap_draft_of_the_synthetic_dictionary_is_as_reviewed() {
    let run = ks([
        "profile",
        "redcap",
        "tests/fixtures/redcap/dictionary.csv",
        "--event",
        "screening_arm_1",
    ])
    .run();
    assert_eq!(run.code, 0, "{run:?}");
    let expected = std::fs::read_to_string(path("tests/snapshots/profile-redcap-synthetic.yaml"))
        .expect("snapshot");
    assert_eq!(run.stdout, expected);
}

// --- the round trip ---------------------------------------------------------------------------

/// A clean patient's answer as the REDCap field built from its question would export it.
fn redcap_cell(field_type: &str, choices: &str, answer: &Value) -> String {
    match (field_type, answer) {
        (_, Value::Null) => String::new(),
        ("yesno", Value::String(s)) => if s == "yes" { "1" } else { "0" }.to_string(),
        ("radio", Value::String(s)) => {
            // Choices are `1, label | 2, label`, in option order; find the option by its id
            // through the ruleset's option order, as written in the choices' labels.
            let ruleset = ketascreen::ruleset::builtin().expect("built-in");
            let q = ruleset
                .questions
                .iter()
                .find(|q| q.kind.option_index(s).is_some())
                .expect("a choice question with this option");
            let i = q.kind.option_index(s).expect("option");
            let code = choices.split('|').nth(i).expect("choice").trim();
            code.split(',').next().expect("code").trim().to_string()
        }
        (_, Value::Number(n)) => n.to_string(),
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

/// template → dictionary → an export of clean patients → profile redcap → check: every
/// patient's record equals its clean record, with no edit to the drafted profile.
#[test]
fn redcap_round_trip_from_the_ruleset_to_verdicts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = ks(["rules", "template", "--format", "redcap"]).run();
    assert_eq!(run.code, 0);
    let dictionary = dir.path().join("dictionary.csv");
    std::fs::write(&dictionary, &run.stdout).expect("written");
    let (dict_header, fields) = read_csv(&dictionary);
    assert_eq!(dict_header.len(), 18);
    let form = fields[0][1].clone();

    // The export REDCap would give: record_id, every field, the form's status.
    let patients: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(path("tests/fixtures/redcap/patients.json")).expect("read"),
    )
    .expect("JSON");
    let profile = draft_redcap(dir.path(), None, &dictionary, &[]);
    let draft = std::fs::read_to_string(&profile).expect("read");
    assert!(!draft.contains("Fields left out"), "{draft}");
    assert!(!draft.contains("Questions no field answers"), "{draft}");
    let sha = sha256_hex(draft.as_bytes());
    for patient in &patients {
        let mut row = serde_json::Map::new();
        for f in &fields {
            let value = if f[0] == "record_id" {
                patient["id"].as_str().unwrap_or_default().to_string()
            } else {
                redcap_cell(&f[3], &f[5], patient.get(&f[0]).unwrap_or(&Value::Null))
            };
            row.insert(f[0].clone(), Value::String(value));
        }
        row.insert(format!("{form}_complete"), json!("2"));
        let (run, record) = check(None, Some(&profile), &Value::Object(row));
        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(
            record["profile"],
            json!({"id": "dictionary", "sha256": sha})
        );
        let (_, clean) = check(None, None, patient);
        assert_eq!(
            decision(&record),
            decision(&clean),
            "patient {}",
            patient["id"]
        );
    }
}

#[test]
fn redcap_template_is_a_data_dictionary_with_types_bounds_and_branching() {
    let run = ks(["rules", "template", "--format", "redcap"]).run();
    let (header, fields) = {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("d.csv");
        std::fs::write(&f, &run.stdout).expect("written");
        read_csv(&f)
    };
    assert_eq!(header[0], "Variable / Field Name");
    assert_eq!(header[17], "Field Annotation");
    let field = |name: &str| {
        fields
            .iter()
            .find(|f| f[0] == name)
            .unwrap_or_else(|| panic!("no field {name}"))
            .clone()
    };
    assert_eq!(field("record_id")[3], "text");
    let sbp = field("systolic_bp");
    assert_eq!(
        (&sbp[3][..], &sbp[7][..], &sbp[8][..], &sbp[9][..]),
        ("text", "integer", "50", "300")
    );
    assert_eq!(field("glaucoma")[3], "yesno");
    let preg = field("pregnancy_status");
    assert_eq!(preg[3], "radio");
    assert_eq!(
        preg[5],
        "1, Not applicable (the patient cannot become pregnant) | 2, Not pregnant | 3, Pregnant"
    );
    assert_eq!(field("breastfeeding")[11], "[pregnancy_status] <> '1'");
    assert_eq!(field("psychosis_history")[11], "[current_psychosis] = '0'");
    // Every field name is a valid REDCap variable name, on one instrument.
    for f in &fields {
        assert!(
            f[0].chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && f[0].len() <= 100,
            "{}",
            f[0]
        );
        assert_eq!(f[1], "ketamine_default");
    }
}

// --- profile init -----------------------------------------------------------------------------

#[test]
fn init_matches_headers_says_how_sure_and_lists_what_it_left_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("Riverside Intake.csv");
    std::fs::write(
        &file,
        "Patient ID;Name;Age;Systolic BP;Diastolic  BP;Glaucoma?;Takes an MAOI antidepressant;Notes\n\
         P1;Ann;45;146 mm[Hg];UNK;Y;N;x\n\
         P2;Bo;52;130;-999;N;UNK;y\n",
    )
    .expect("written");
    let run = ks(["profile", "init", "Riverside Intake.csv"])
        .dir(dir.path())
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let expected =
        std::fs::read_to_string(path("tests/snapshots/profile-init.yaml")).expect("snapshot");
    assert_eq!(run.stdout, expected);
}

// --- REDCap's own demo projects (public test data, not in this repository) -------------------

/// A file of the shared REDCap suites: `$KETASCREEN_EXTERNAL_SUITES`, else `../shared` beside
/// the checkout (or beside the worktrees' folder); `None`, and the test skips, when absent.
fn external(relative: &str) -> Option<PathBuf> {
    let mut roots: Vec<PathBuf> = std::env::var_os("KETASCREEN_EXTERNAL_SUITES")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    roots.push(path("../shared/external-suites"));
    roots.push(path("../../shared/external-suites"));
    let found = roots
        .iter()
        .map(|r| r.join("redcap").join(relative))
        .find(|p| p.exists());
    if found.is_none() {
        eprintln!("skipped: the shared REDCap suites are absent ({relative})");
    }
    found
}

/// REDCap's longitudinal demo project: 18 rows over 3 records and 12 events, 125 columns,
/// checkboxes. Only the enrollment events are patients.
#[test]
fn redcap_longitudinal_demo_export_screens_row_by_row() {
    let (Some(dictionary), Some(data)) = (
        external("longitudinal/dictionary.csv"),
        external("longitudinal/data.csv"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = draft_redcap(
        dir.path(),
        Some(DEMO_RULES),
        &dictionary,
        &["enrollment_arm_1", "enrollment_arm_2"],
    );
    let sha = sha256_hex(&std::fs::read(&profile).expect("read"));
    let (header, rows) = read_csv(&data);
    assert_eq!((header.len(), rows.len()), (125, 18));
    let patients: Vec<Value> = rows
        .iter()
        .map(|r| row_json(&header, r))
        .filter(|r| {
            r["redcap_event_name"]
                .as_str()
                .is_some_and(|e| e.starts_with("enrollment_"))
        })
        .collect();
    let clean = [
        json!({"id": "100", "age_years": 31, "sex": "male", "takes_lexapro": "no", "takes_celexa": "yes",
                   "takes_prozac": "no", "height_cm": 160, "weight_kg": 80}),
        json!({"id": "220", "age_years": 4, "sex": "female", "given_birth": "no", "takes_lexapro": "yes",
                   "takes_celexa": "yes", "takes_prozac": "no", "height_cm": 156, "weight_kg": 66}),
        json!({"id": "304", "age_years": 9, "sex": "female", "given_birth": "no", "takes_lexapro": "yes",
                   "takes_celexa": "yes", "takes_prozac": "no", "height_cm": 199, "weight_kg": 88}),
    ];
    assert_eq!(patients.len(), clean.len());
    let mut got = Vec::new();
    for (row, clean_answers) in patients.iter().zip(&clean) {
        let (run, record) = check(Some(DEMO_RULES), Some(&profile), row);
        assert_eq!(run.code, 0, "{run:?}");
        got.push(record_of(&record, "dictionary", &sha));
        let (_, clean) = check(Some(DEMO_RULES), None, clean_answers);
        assert_eq!(decision(&record), decision(&clean));
    }
    assert_golden("profiles-redcap-longitudinal", &got);
}

/// REDCap's blank-for-gray-status project: forms never opened export blank cells and 0
/// checkboxes; Unverified (1) and Incomplete (0) forms make their questions unanswered.
#[test]
fn redcap_gray_status_forms_are_unanswered_never_no() {
    let (Some(dictionary), Some(data)) = (
        external("blank-for-gray-status/dictionary.csv"),
        external("blank-for-gray-status/data.csv"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = draft_redcap(dir.path(), Some(DEMO_RULES), &dictionary, &[]);
    let sha = sha256_hex(&std::fs::read(&profile).expect("read"));
    let (header, rows) = read_csv(&data);
    let clean = [
        json!({"id": "1", "age_years": 11, "sex": "female", "asian": "no", "interpreter_needed": "no"}),
        json!({"id": "2", "age_years": 11, "sex": "male"}),
        json!({"id": "3", "age_years": 80, "sex": "male", "height_cm": 180, "weight_kg": 80, "asian": "no", "interpreter_needed": "yes"}),
        json!({"id": "4", "age_years": 61, "sex": "female", "height_cm": 165, "weight_kg": 54, "asian": "yes"}),
        json!({"id": "5", "age_years": 59, "sex": "male", "asian": "no", "interpreter_needed": "no"}),
        json!({"id": "6"}),
    ];
    assert_eq!(rows.len(), clean.len());
    let mut got = Vec::new();
    for (row, clean_answers) in rows.iter().zip(&clean) {
        let doc = row_json(&header, row);
        let (run, record) = check(Some(DEMO_RULES), Some(&profile), &doc);
        assert_eq!(run.code, 0, "{run:?}");
        got.push(record_of(&record, "dictionary", &sha));
        let (_, clean) = check(Some(DEMO_RULES), None, clean_answers);
        assert_eq!(
            decision(&record),
            decision(&clean),
            "record {}",
            doc["record_id"]
        );
    }
    assert_golden("profiles-redcap-gray-status", &got);
}

// --- batch --profile ----------------------------------------------------------------------------

/// `batch FILE --profile P --format ndjson`: the records, one per line, and stderr.
fn batch(rules: Option<&str>, file: &Path, profile: &Path, extra: &[&str]) -> (Run, Vec<Value>) {
    let mut args: Vec<String> = Vec::new();
    if let Some(r) = rules {
        args.extend(["--rules".into(), r.into()]);
    }
    args.extend(["batch".into(), file.display().to_string()]);
    args.extend(["--profile".into(), profile.display().to_string()]);
    args.extend(["--format".into(), "ndjson".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = ks(&args).run();
    let records = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (run, records)
}

/// The summary line with its time blanked.
fn without_time(stderr: &str) -> String {
    stderr
        .lines()
        .map(|l| match (l.find(" screened in "), l.find(" s: ")) {
            (Some(a), Some(b)) if a < b => format!("{} screened in _{}", &l[..a], &l[b..]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The synthetic REDCap export through `batch --profile`: follow-up events are no patients
/// (counted on stderr, no record, their repeated ids no duplicates), each screening row's
/// record is the one `check --profile` gives for it, with its data-row number.
#[test]
fn batch_through_a_redcap_profile_equals_check_row_by_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = draft_redcap(
        dir.path(),
        None,
        &path("tests/fixtures/redcap/dictionary.csv"),
        &["screening_arm_1"],
    );
    let export = path("tests/fixtures/redcap/export.csv");
    let (run, records) = batch(None, &export, &profile, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        without_time(&run.stderr),
        "ketascreen: warning: ignoring 2 columns that match no question (never read, never echoed): 'first_name', 'meds___5'\n\
         ketascreen: 3 rows left out by the profile ('redcap_event_name' not screening_arm_1): not patients, no records\n\
         ketascreen: 6 rows screened in _ s: 1 ineligible, 3 incomplete, 1 review, 1 eligible; 1 urgent; 0 urgent not known; 2 rows with input errors"
    );
    let (header, rows) = read_csv(&export);
    let screening: Vec<(u64, Value)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (i as u64 + 1, row_json(&header, r)))
        .filter(|(_, r)| r["redcap_event_name"] == "screening_arm_1")
        .collect();
    assert_eq!(records.len(), screening.len());
    for (record, (number, row)) in records.iter().zip(&screening) {
        let (_, mut checked) = check(None, Some(&profile), row);
        checked["row"] = json!(number);
        let mut want = serde_json::Map::new();
        // `row` comes second in a batch record, as the contract orders it.
        for (k, v) in checked.as_object().expect("object") {
            want.insert(k.clone(), v.clone());
        }
        assert_eq!(record, &Value::Object(want), "row {number}");
        assert_eq!(record["row"], json!(number));
    }
}

/// REDCap's longitudinal demo through `batch`: 18 rows, 3 patients; ids repeat across events
/// and are no duplicates.
#[test]
fn batch_of_the_redcap_longitudinal_demo_screens_the_enrollment_events() {
    let (Some(dictionary), Some(data)) = (
        external("longitudinal/dictionary.csv"),
        external("longitudinal/data.csv"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = draft_redcap(
        dir.path(),
        Some(DEMO_RULES),
        &dictionary,
        &["enrollment_arm_1", "enrollment_arm_2"],
    );
    let (run, records) = batch(Some(DEMO_RULES), &data, &profile, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let summary: Vec<(u64, &str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["row"].as_u64().unwrap_or(0),
                r["id"].as_str().unwrap_or(""),
                r["verdict"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, "100", "eligible"),
            (7, "220", "ineligible"),
            (13, "304", "ineligible")
        ]
    );
    assert!(
        records.iter().all(|r| r["errors"] == json!([])),
        "{records:?}"
    );
    assert!(
        run.stderr.contains(
            "ketascreen: 15 rows left out by the profile ('redcap_event_name' not enrollment_arm_1 or enrollment_arm_2): not patients, no records\n"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn batch_refuses_map_with_a_profile_and_a_profile_that_does_not_fit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = draft_redcap(
        dir.path(),
        None,
        &path("tests/fixtures/redcap/dictionary.csv"),
        &["screening_arm_1"],
    );
    let export = path("tests/fixtures/redcap/export.csv");
    let (run, _) = batch(None, &export, &profile, &["--map", "sbp=systolic_bp"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "ketascreen: --map and --profile do not go together: map the columns under the profile's 'columns:'\n"
    );
    let other = dir.path().join("other.csv");
    std::fs::write(
        &other,
        "record_id,redcap_event_name,age_year\n1,screening_arm_1,40\n",
    )
    .expect("written");
    let (run, records) = batch(None, &other, &profile, &[]);
    assert_eq!(run.code, 1);
    assert!(records.is_empty());
    assert!(
        run.stderr.starts_with(&format!(
            "ketascreen: {}:15:27: the status column 'intake_complete' is not in the header of ",
            profile.display()
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("column 'age_years' is not in the header of ")
            && run.stderr.contains(" (did you mean 'age_year'?)")
            && run
                .stderr
                .ends_with("errors found; the profile does not fit this file\n"),
        "{}",
        run.stderr
    );
}

/// The round trip through `batch`: an export of the template's dictionary, screened with the
/// drafted profile, gives each clean patient's verdict.
#[test]
fn redcap_round_trip_through_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = ks(["rules", "template", "--format", "redcap"]).run();
    let dictionary = dir.path().join("dictionary.csv");
    std::fs::write(&dictionary, &run.stdout).expect("written");
    let (_, fields) = read_csv(&dictionary);
    let form = fields[0][1].clone();
    let patients: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(path("tests/fixtures/redcap/patients.json")).expect("read"),
    )
    .expect("JSON");
    let mut w = csv::Writer::from_path(dir.path().join("export.csv")).expect("export");
    let mut header: Vec<String> = fields.iter().map(|f| f[0].clone()).collect();
    header.push(format!("{form}_complete"));
    w.write_record(&header).expect("header");
    for patient in &patients {
        let mut row: Vec<String> = fields
            .iter()
            .map(|f| {
                if f[0] == "record_id" {
                    patient["id"].as_str().unwrap_or_default().to_string()
                } else {
                    redcap_cell(&f[3], &f[5], patient.get(&f[0]).unwrap_or(&Value::Null))
                }
            })
            .collect();
        row.push("2".into());
        w.write_record(&row).expect("row");
    }
    w.flush().expect("flushed");
    drop(w);
    let profile = draft_redcap(dir.path(), None, &dictionary, &[]);
    let (run, records) = batch(None, &dir.path().join("export.csv"), &profile, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(records.len(), patients.len());
    for (record, patient) in records.iter().zip(&patients) {
        let (_, clean) = check(None, None, patient);
        let mut got = decision(record);
        if let Some(o) = got.as_object_mut() {
            o.remove("row");
        }
        assert_eq!(got, decision(&clean), "patient {}", patient["id"]);
    }
}
