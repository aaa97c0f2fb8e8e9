//! `ketascreen batch`: a deliberately messy CSV export in, one exact record per row out, in
//! every format, from a file and from stdin; `--output`, `--strict`, `--map`, `--id-column`,
//! `--delimiter`; what goes to stderr (and what never does); several screening threads giving
//! the same bytes as one.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::support::{ks, path, Run};

/// The messy file's header: re-cased and reordered question ids, aliases (`SBP`, `dbp`, `Age`,
/// `failed_trials`, `PHQ9`, `SUD`), and two identifying columns that match no question.
const HEADER: [&str; 46] = [
    "Name",
    "Patient_ID",
    "SBP",
    "dbp",
    "Age",
    "Primary_Diagnosis",
    "failed_trials",
    "CONSENT_CAPACITY",
    "hypertension_treated",
    "SpO2",
    "aneurysm_or_avm",
    "intracerebral_hemorrhage",
    "recent_cardiac_event",
    "unstable_heart_disease",
    "stroke_or_tia",
    "hypertensive_encephalopathy",
    "raised_intracranial_pressure",
    "ketamine_allergy",
    "current_psychosis",
    "psychosis_history",
    "current_mania",
    "suicidal_intent_or_plan",
    "recent_suicidal_behavior",
    "cognitive_impairment",
    "PHQ9",
    "SUD",
    "nonmedical_ketamine_use",
    "intoxicated_today",
    "Pregnancy_Status",
    "breastfeeding",
    "uses_contraception",
    "severe_liver_disease",
    "moderate_liver_disease",
    "uncontrolled_hyperthyroidism",
    "glaucoma",
    "bladder_symptoms",
    "lung_disease_or_sleep_apnea",
    "takes_oral_antidepressant",
    "takes_maoi",
    "takes_stimulant",
    "takes_opioid_or_sedative",
    "takes_benzodiazepine",
    "takes_lamotrigine",
    "has_ride_home",
    "can_stay_two_hours",
    "Notes",
];

/// A patient for whom no rule fires at all.
fn clean(id: &str) -> Vec<Vec<u8>> {
    HEADER
        .iter()
        .map(|column| {
            let cell: &str = match *column {
                "Name" => "Doe, Jane",
                "Patient_ID" => id,
                "SBP" => "120",
                "dbp" => "80",
                "Age" => "40",
                "Primary_Diagnosis" => "major_depressive_disorder",
                "failed_trials" => "2",
                "CONSENT_CAPACITY"
                | "has_ride_home"
                | "can_stay_two_hours"
                | "uses_contraception"
                | "takes_oral_antidepressant" => "yes",
                "SpO2" => "97",
                "PHQ9" => "18",
                "SUD" => "none",
                "Pregnancy_Status" => "not_pregnant",
                "Notes" => "",
                _ => "no",
            };
            cell.as_bytes().to_vec()
        })
        .collect()
}

fn set(row: &mut [Vec<u8>], column: &str, cell: &[u8]) {
    let i = HEADER
        .iter()
        .position(|c| *c == column)
        .unwrap_or_else(|| panic!("no column {column}"));
    row[i] = cell.to_vec();
}

/// One CSV line, quoting what needs it, ended with CRLF.
fn line(cells: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if cell
            .iter()
            .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
        {
            out.push(b'"');
            for &b in cell {
                if b == b'"' {
                    out.push(b'"');
                }
                out.push(b);
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(cell);
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The messy export: a UTF-8 BOM, CRLF line ends, and one row for each kind of mess.
pub(crate) fn messy() -> Vec<u8> {
    let header: Vec<Vec<u8>> = HEADER.iter().map(|h| h.as_bytes().to_vec()).collect();
    let mut file = b"\xef\xbb\xbf".to_vec();
    file.extend(line(&header));

    // 1: clean; its id comes back on row 9.
    file.extend(line(&clean("P-01")));
    // 2: every spelling of yes and no.
    let mut row = clean("P-02");
    for (column, cell) in [
        ("CONSENT_CAPACITY", "Y"),
        ("hypertension_treated", "N"),
        ("aneurysm_or_avm", "0"),
        ("intracerebral_hemorrhage", "FALSE"),
        ("recent_cardiac_event", "n"),
        ("unstable_heart_disease", "No"),
        ("stroke_or_tia", " false "),
        ("has_ride_home", "TRUE"),
        ("can_stay_two_hours", "1"),
    ] {
        set(&mut row, column, cell.as_bytes());
    }
    file.extend(line(&row));
    // 3: choices by label, one with a comma in it.
    let mut row = clean("P-03");
    set(
        &mut row,
        "Primary_Diagnosis",
        b"Major depressive disorder (unipolar depression)",
    );
    set(&mut row, "SUD", b"Yes, in remission");
    file.extend(line(&row));
    // 4: quoted commas, quotes and a line break in identifying columns; aged 70.
    let mut row = clean("P-04");
    set(&mut row, "Name", b"O'Brien, \"Pat\"");
    set(&mut row, "Notes", b"called twice,\nno answer");
    set(&mut row, "Age", b"70");
    file.extend(line(&row));
    // 5: ragged: the export cut the row short.
    file.extend(line(&clean("P-05")[..10]));
    // 6: a value out of range.
    let mut row = clean("P-06");
    set(&mut row, "SBP", b"400");
    file.extend(line(&row));
    // 7: a name that is not UTF-8 (Latin-1), in a column that is never read.
    let mut row = clean("P-07");
    set(&mut row, "Name", b"Zo\xeb Martin");
    file.extend(line(&row));
    // 8: a mapped cell that is not UTF-8.
    let mut row = clean("P-08");
    set(&mut row, "glaucoma", b"n\xf3");
    file.extend(line(&row));
    // 9: the id of row 1 again, and current mania.
    let mut row = clean("P-01");
    set(&mut row, "current_mania", b"yes");
    file.extend(line(&row));
    // Then an empty row (every field blank): not a patient, so no record; stderr names its line.
    file.extend(line(&vec![Vec::new(); HEADER.len()]));
    file
}

/// Writes `bytes` to a file in a new temporary directory (kept alive by the returned guard).
fn file_with(name: &str, bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join(name);
    std::fs::write(&file, bytes).expect("write test input");
    (dir, file)
}

fn ndjson(run: &Run) -> Vec<Value> {
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn ids(list: &Value, key: Option<&str>) -> Vec<String> {
    list.as_array()
        .expect("an array")
        .iter()
        .map(|item| {
            let v = key.map_or(item, |k| &item[k]);
            v.as_str().expect("a string").to_string()
        })
        .collect()
}

/// A record in brief: row, id, verdict, urgent, fired rule ids, missing question ids (in
/// ruleset order, once each), and errors as "question | value | message".
fn brief(
    record: &Value,
) -> (
    u64,
    Value,
    String,
    bool,
    Vec<String>,
    Vec<String>,
    Vec<String>,
) {
    let mut missing: Vec<String> = record["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .flat_map(|m| ids(&m["questions"], None))
        .collect();
    let order: Vec<&str> = QUESTION_ORDER.to_vec();
    missing.sort_by_key(|q| order.iter().position(|o| o == q));
    missing.dedup();
    (
        record["row"].as_u64().expect("row"),
        record["id"].clone(),
        record["verdict"].as_str().expect("verdict").to_string(),
        record["urgent"].as_bool().expect("urgent"),
        ids(&record["reasons"], Some("rule")),
        missing,
        record["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| {
                format!(
                    "{} | {} | {}",
                    e["question"].as_str().expect("question"),
                    e["value"].as_str().expect("value"),
                    e["message"].as_str().expect("message")
                )
            })
            .collect(),
    )
}

const QUESTION_ORDER: [&str; 43] = [
    "age_years",
    "primary_diagnosis",
    "failed_antidepressant_trials",
    "consent_capacity",
    "systolic_bp",
    "diastolic_bp",
    "hypertension_treated",
    "spo2_percent",
    "aneurysm_or_avm",
    "intracerebral_hemorrhage",
    "recent_cardiac_event",
    "unstable_heart_disease",
    "stroke_or_tia",
    "hypertensive_encephalopathy",
    "raised_intracranial_pressure",
    "ketamine_allergy",
    "current_psychosis",
    "psychosis_history",
    "current_mania",
    "suicidal_intent_or_plan",
    "recent_suicidal_behavior",
    "cognitive_impairment",
    "phq9_total",
    "substance_use_disorder",
    "nonmedical_ketamine_use",
    "intoxicated_today",
    "pregnancy_status",
    "breastfeeding",
    "uses_contraception",
    "severe_liver_disease",
    "moderate_liver_disease",
    "uncontrolled_hyperthyroidism",
    "glaucoma",
    "bladder_symptoms",
    "lung_disease_or_sleep_apnea",
    "takes_oral_antidepressant",
    "takes_maoi",
    "takes_stimulant",
    "takes_opioid_or_sedative",
    "takes_benzodiazepine",
    "takes_lamotrigine",
    "has_ride_home",
    "can_stay_two_hours",
];

/// Every question an incomplete record with no answers at all needs: those of the exclude and
/// review rules (the logistics questions only feed notes).
fn every_decisive_question() -> Vec<String> {
    QUESTION_ORDER
        .iter()
        .filter(|q| {
            !matches!(
                **q,
                "hypertension_treated"
                    | "phq9_total"
                    | "uses_contraception"
                    | "moderate_liver_disease"
                    | "takes_oral_antidepressant"
                    | "takes_benzodiazepine"
                    | "takes_lamotrigine"
                    | "has_ride_home"
                    | "can_stay_two_hours"
            )
        })
        .map(|q| q.to_string())
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const DUPLICATE_OF_9: &str =
    "(id) | P-01 | duplicate id: also on row 9; each row is screened on its own answers";
const DUPLICATE_OF_1: &str =
    "(id) | P-01 | duplicate id: also on row 1; each row is screened on its own answers";

/// The messy file's records, row by row, as a file (both duplicate rows marked).
#[allow(clippy::type_complexity)]
fn expected_messy(
    first_duplicate: Option<&str>,
) -> Vec<(
    u64,
    Value,
    String,
    bool,
    Vec<String>,
    Vec<String>,
    Vec<String>,
)> {
    let none: Vec<String> = vec![];
    vec![
        (
            1,
            json!("P-01"),
            "eligible".into(),
            false,
            none.clone(),
            none.clone(),
            first_duplicate.map(|d| vec![d.to_string()]).unwrap_or_default(),
        ),
        (2, json!("P-02"), "eligible".into(), false, none.clone(), none.clone(), none.clone()),
        (
            3,
            json!("P-03"),
            "review".into(),
            false,
            strings(&["substance_use_history"]),
            none.clone(),
            none.clone(),
        ),
        (
            4,
            json!("P-04"),
            "eligible".into(),
            false,
            strings(&["older_adult"]),
            none.clone(),
            none.clone(),
        ),
        (
            5,
            json!("P-05"),
            "incomplete".into(),
            false,
            none.clone(),
            every_decisive_question(),
            strings(&["(row) | 10 fields | line 7: 10 fields where the header has 46; none of this row's answers were read, as its cells may be in the wrong columns"]),
        ),
        (
            6,
            json!("P-06"),
            "incomplete".into(),
            false,
            none.clone(),
            strings(&["systolic_bp"]),
            strings(&["systolic_bp | 400 | column 'SBP': 400 is out of range: must be between 50 and 300 mmHg"]),
        ),
        (7, json!("P-07"), "eligible".into(), false, none.clone(), none.clone(), none.clone()),
        (
            8,
            json!("P-08"),
            "incomplete".into(),
            false,
            none.clone(),
            strings(&["glaucoma"]),
            strings(&["glaucoma | n\u{fffd} | column 'glaucoma': not valid UTF-8 text (re-export the file as UTF-8); treated as unanswered"]),
        ),
        (
            9,
            json!("P-01"),
            "ineligible".into(),
            true,
            strings(&["current_mania"]),
            none.clone(),
            vec![DUPLICATE_OF_1.to_string()],
        ),
    ]
}

const UNMAPPED: &str = "ketascreen: warning: ignoring 2 columns that match no question (never read, never echoed): 'Name', 'Notes'";

/// The summary line with its elapsed time taken out.
fn summary(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| l.contains(" screened in "))
        .unwrap_or_else(|| panic!("no summary in {stderr:?}"));
    let (before, after) = line.split_once(" screened in ").expect("summary");
    let (_, after) = after.split_once(" s: ").expect("elapsed");
    format!("{before} screened: {after}")
}

#[test]
fn messy_file_gives_one_exact_record_per_row() {
    let (_dir, file) = file_with("messy.csv", &messy());
    let run = ks([
        "batch".as_ref(),
        file.as_os_str(),
        "--format".as_ref(),
        "ndjson".as_ref(),
    ])
    .run();
    assert_eq!(run.code, 0, "{run:?}");
    let records = ndjson(&run);
    // Ten data rows in (the quoted line break makes eleven lines), one of them empty: nine
    // records out.
    assert_eq!(records.len(), 9);
    let got: Vec<_> = records.iter().map(brief).collect();
    assert_eq!(got, expected_messy(Some(DUPLICATE_OF_9)));
    // The first record in full: the shape every record has.
    assert_eq!(
        records[0],
        json!({
            "schema": "ketascreen.verdict/v1",
            "row": 1,
            "id": "P-01",
            "verdict": "eligible",
            "urgent": false,
            "urgent_undecided": false,
            "reasons": [],
            "missing": [],
            "ignored": [],
            "errors": [{
                "question": "(id)",
                "value": "P-01",
                "message": "duplicate id: also on row 9; each row is screened on its own answers"
            }],
            "ruleset": records[0]["ruleset"].clone(),
        })
    );
    assert_eq!(records[0]["ruleset"]["id"], "ketamine-default");
    // A fired rule carries the answers it read, typed, and its source.
    assert_eq!(
        records[3]["reasons"][0],
        json!({
            "rule": "older_adult",
            "severity": "note",
            "urgent": false,
            "message": "Age 70 years (65 or over): tell the prescriber, who may choose a lower starting dose. Rises in blood pressure and falls are more likely.",
            "answers": {"age_years": 70},
            "source": "spravato-smpc"
        })
    );
    // Urgency is not known where an urgent rule's question is unanswered and none fired: the
    // row that was not read (5). (The empty row is no patient, so it has no record.)
    let not_known: Vec<u64> = records
        .iter()
        .filter(|r| r["urgent_undecided"] == true)
        .map(|r| r["row"].as_u64().expect("row"))
        .collect();
    assert_eq!(not_known, [5]);
    // A missing entry names the rule's severity and whether it is urgent.
    assert_eq!(
        records[4]["missing"]
            .as_array()
            .expect("missing")
            .iter()
            .find(|m| m["rule"] == "acute_suicide_risk"),
        Some(&json!({
            "rule": "acute_suicide_risk",
            "severity": "review",
            "urgent": true,
            "questions": ["suicidal_intent_or_plan"]
        }))
    );
}

#[test]
fn stderr_names_ignored_columns_but_never_their_values() {
    let (_dir, file) = file_with("messy.csv", &messy());
    let run = ks(["batch".as_ref(), file.as_os_str()]).run();
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stderr);
    assert_eq!(lines[0], UNMAPPED);
    // The empty row is no patient, but it is not dropped without a word.
    assert_eq!(
        lines[1],
        "ketascreen: note: 1 empty row skipped (blank or every cell empty: not patients): line 12"
    );
    assert_eq!(
        summary(&run.stderr),
        "ketascreen: 9 rows screened: 1 ineligible, 3 incomplete, 1 review, 4 eligible; 1 urgent; 1 urgent not known; 5 rows with input errors"
    );
    for secret in ["Doe", "Jane", "Brien", "Zo", "called twice"] {
        assert!(!run.stderr.contains(secret), "{secret} leaked to stderr");
        assert!(!run.stdout.contains(secret), "{secret} leaked to stdout");
    }
}

#[test]
fn stdin_gives_the_same_records_with_the_later_duplicate_naming_the_earlier() {
    let run = ks(["batch", "-", "--format", "ndjson"])
        .stdin(messy())
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let got: Vec<_> = ndjson(&run).iter().map(brief).collect();
    // Stdin is read once: row 1 was written before row 9 showed the repeat.
    assert_eq!(got, expected_messy(None));
    assert!(
        run.stderr.contains("ketascreen: warning: 1 row repeats an id from an earlier row; <stdin> can be read only once, so only the later row's record says so (naming the earlier row)\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_format_carries_the_same_records() {
    let (_dir, file) = file_with("messy.csv", &messy());
    let with = |format: &str| {
        let run = ks([
            "batch".as_ref(),
            file.as_os_str(),
            "--format".as_ref(),
            format.as_ref(),
        ])
        .run();
        assert_eq!(run.code, 0, "{run:?}");
        run.stdout
    };
    let lines: Vec<Value> = with("ndjson")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let (run, array) = ks([
        "batch".as_ref(),
        file.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ])
    .json();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("[\n{") && run.stdout.ends_with("}\n]\n"));
    assert_eq!(array, Value::Array(lines.clone()));

    let csv = with("csv");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        reader.headers().expect("header"),
        vec![
            "row",
            "id",
            "verdict",
            "urgent",
            "reasons",
            "missing",
            "errors",
            "ruleset",
            "urgent_undecided",
            "ignored",
            "exclude",
            "review",
            "note",
            "error_count"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 9);
    for (row, record) in rows.iter().zip(&lines) {
        let (number, id, verdict, urgent, reasons, missing, errors) = brief(record);
        assert_eq!(&row[0], number.to_string());
        assert_eq!(&row[1], id.as_str().unwrap_or(""));
        assert_eq!(&row[2], verdict);
        assert_eq!(&row[3], urgent.to_string());
        assert_eq!(&row[4], reasons.join(";"));
        assert_eq!(&row[5], {
            // CSV lists every missing question, also for ineligible rows.
            let mut all: Vec<String> = record["missing"]
                .as_array()
                .expect("missing")
                .iter()
                .flat_map(|m| ids(&m["questions"], None))
                .collect();
            all.sort_by_key(|q| QUESTION_ORDER.iter().position(|o| o == q));
            all.dedup();
            all.join(";")
        });
        let _ = missing;
        assert_eq!(
            &row[6],
            errors
                .iter()
                .map(|e| {
                    let mut parts = e.splitn(3, " | ");
                    let q = parts.next().unwrap_or("");
                    let _value = parts.next();
                    format!("{q}: {}", parts.next().unwrap_or(""))
                })
                .collect::<Vec<_>>()
                .join("; ")
        );
        assert_eq!(&row[7], "ketamine-default@2.0.0");
        assert_eq!(&row[8], record["urgent_undecided"].to_string());
        assert_eq!(&row[9], ids(&record["ignored"], Some("question")).join(";"));
    }
    assert!(!csv.contains("Doe"));
}

#[test]
fn example_intake_as_csv_and_table() {
    let run = ks(["batch", "examples/intake.csv", "--format", "csv"]).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "row,id,verdict,urgent,reasons,missing,errors,ruleset,urgent_undecided,ignored,exclude,review,note,error_count
1,P-1001,eligible,false,,,,ketamine-default@2.0.0,false,,,,,0
2,P-1002,eligible,false,older_adult;continue_antihypertensives;benzodiazepine_may_blunt_response,,,ketamine-default@2.0.0,false,,,,older_adult;continue_antihypertensives;benzodiazepine_may_blunt_response,0
3,P-1003,review,false,elevated_blood_pressure,,,ketamine-default@2.0.0,false,,,elevated_blood_pressure,,0
4,P-1004,review,true,acute_suicide_risk,,,ketamine-default@2.0.0,false,,,acute_suicide_risk,,0
5,P-1005,ineligible,true,current_psychosis,,,ketamine-default@2.0.0,false,,current_psychosis,,,0
6,P-1006,ineligible,false,pregnancy,breastfeeding,,ketamine-default@2.0.0,false,,pregnancy,,,0
7,P-1007,incomplete,false,,recent_suicidal_behavior;pregnancy_status,,ketamine-default@2.0.0,true,,,,,0
8,P-1008,ineligible,false,under_18,,,ketamine-default@2.0.0,false,,under_18,,,0
9,P-1009,incomplete,false,continue_antihypertensives,systolic_bp,systolic_bp: column 'SBP': 1200 is out of range: must be between 50 and 300 mmHg,ketamine-default@2.0.0,false,,,,continue_antihypertensives,1
10,P-1010,review,false,substance_use_history,,,ketamine-default@2.0.0,false,,,substance_use_history,,0
11,P-1011,eligible,false,no_ride_home,,,ketamine-default@2.0.0,false,breastfeeding,,,no_ride_home,0
12,P-1012,review,false,bipolar_depression,,,ketamine-default@2.0.0,false,,,bipolar_depression,,0
"
    );
    assert_eq!(
        run.stderr.lines().next(),
        Some("ketascreen: warning: ignoring 1 column that matches no question (never read, never echoed): 'Name'")
    );
    assert_eq!(
        summary(&run.stderr),
        "ketascreen: 12 rows screened: 3 ineligible, 2 incomplete, 4 review, 3 eligible; 2 urgent; 1 urgent not known; 1 row with input errors"
    );

    let run = ks(["batch", "examples/intake.csv", "--format", "table"]).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "   row  id            verdict     urgent     reasons
     1  P-1001        eligible               -
     2  P-1002        eligible               note: older_adult, continue_antihypertensives, benzodiazepine_may_blunt_response
     3  P-1003        review                 elevated_blood_pressure
     4  P-1004        review      URGENT     acute_suicide_risk
     5  P-1005        ineligible  URGENT     current_psychosis
     6  P-1006        ineligible             pregnancy
     7  P-1007        incomplete  NOT KNOWN  ask today: recent_suicidal_behavior; needs recent_suicidal_behavior, pregnancy_status
     8  P-1008        ineligible             under_18
     9  P-1009        incomplete             note: continue_antihypertensives; needs systolic_bp; 1 input error
    10  P-1010        review                 substance_use_history
    11  P-1011        eligible               note: no_ride_home; ignored: breastfeeding
    12  P-1012        review                 bipolar_depression
"
    );
}

#[test]
fn piped_output_defaults_to_ndjson() {
    let run = ks(["batch", "examples/intake.csv"]).run();
    assert_eq!(run.code, 0, "{run:?}");
    let records = ndjson(&run);
    assert_eq!(records.len(), 12);
    assert_eq!(records[11]["row"], 12);
    assert_eq!(records[11]["verdict"], "review");
}

#[cfg(unix)]
fn mode(file: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(file)
        .expect("output exists")
        .permissions()
        .mode()
        & 0o777
}

#[cfg(unix)]
#[test]
fn output_file_is_written_whole_with_mode_0600() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("verdicts.csv");
    // An older file there, world-readable, is replaced (not rewritten in place).
    std::fs::write(&out, "old").expect("write");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let run = ks([
        "batch".as_ref(),
        "examples/intake.csv".as_ref(),
        "--output".as_ref(),
        out.as_os_str(),
    ])
    .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "");
    assert_eq!(mode(&out), 0o600);
    // The extension chose CSV; the content is what stdout would have had.
    let stdout = ks(["batch", "examples/intake.csv", "--format", "csv"])
        .run()
        .stdout;
    assert_eq!(std::fs::read_to_string(&out).expect("read"), stdout);
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["verdicts.csv"]);

    // A relative --output, beside a relative input, in the working directory.
    std::fs::copy(path("examples/intake.csv"), dir.path().join("intake.csv")).expect("copy");
    let run = ks(["batch", "intake.csv", "-o", "verdicts.ndjson"])
        .dir(dir.path())
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let json_out = dir.path().join("verdicts.ndjson");
    assert_eq!(mode(&json_out), 0o600);
    assert_eq!(
        std::fs::read_to_string(&json_out)
            .expect("read")
            .lines()
            .count(),
        12
    );
}

#[test]
fn output_never_overwrites_the_input() {
    let (dir, file) = file_with(
        "intake.csv",
        &std::fs::read(path("examples/intake.csv")).expect("example"),
    );
    let before = std::fs::read(&file).expect("read");
    let same_file_other_name = dir.path().join(".").join("intake.csv");
    let hard_link = dir.path().join("link.csv");
    std::fs::hard_link(&file, &hard_link).expect("hard link");
    for out in [&file, &same_file_other_name, &hard_link] {
        let run = ks([
            "batch".as_ref(),
            file.as_os_str(),
            "--output".as_ref(),
            out.as_os_str(),
        ])
        .run();
        assert_eq!(run.code, 2, "{run:?}");
        assert_eq!(
            run.stderr,
            format!(
                "ketascreen: refusing to write the output over the input file {}: choose another --output\n",
                out.display()
            )
        );
    }
    // Nor when the input comes in on stdin, redirected from that file.
    let stdin = std::fs::File::open(&file).expect("open");
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("ketascreen"))
        .args([
            "batch".as_ref(),
            "-".as_ref(),
            "--output".as_ref(),
            file.as_os_str(),
        ])
        .env_remove("KETASCREEN_RULES")
        .stdin(stdin)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(std::fs::read(&file).expect("read"), before);
}

#[test]
fn strict_fails_when_any_row_had_errors() {
    let (_dir, file) = file_with("messy.csv", &messy());
    let run = ks(["batch".as_ref(), file.as_os_str(), "--strict".as_ref()]).run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(ndjson(&run).len(), 9, "the records are still written");
    assert_eq!(
        run.stderr.lines().last(),
        Some("ketascreen: error: 5 rows have input errors (--strict)")
    );

    let clean_file: Vec<u8> = [
        line(
            &HEADER
                .iter()
                .map(|h| h.as_bytes().to_vec())
                .collect::<Vec<_>>(),
        ),
        line(&clean("P-1")),
        line(&clean("P-2")),
    ]
    .concat();
    let (_dir, file) = file_with("clean.csv", &clean_file);
    let run = ks(["batch".as_ref(), file.as_os_str(), "--strict".as_ref()]).run();
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn semicolons_map_and_id_column() {
    // A European spreadsheet export: semicolons, a decimal comma nowhere near an answer, a
    // record number in "MRN", and headers that need --map.
    let file = "MRN;id;Alter;Blutdruck sys;Blutdruck dia;Bemerkung\n\
                A-1;x;70;150;85;\"Termin; verschoben\"\n\
                A-2;y;30;120;70;\n";
    let (_dir, path) = file_with("export.csv", file.as_bytes());
    let run = ks([
        "batch".as_ref(),
        path.as_os_str(),
        "--delimiter".as_ref(),
        ";".as_ref(),
        "--id-column".as_ref(),
        "mrn".as_ref(),
        "--map".as_ref(),
        "Alter=age_years".as_ref(),
        "--map".as_ref(),
        "Blutdruck sys=SBP".as_ref(),
        "--map".as_ref(),
        "blutdruck dia=diastolic_bp".as_ref(),
        "--map".as_ref(),
        "id=-".as_ref(),
        "--format".as_ref(),
        "csv".as_ref(),
    ])
    .run();
    assert_eq!(run.code, 0, "{run:?}");
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("row").iter().take(5).map(str::to_string).collect())
        .collect();
    // Only age and blood pressure are known, so both are incomplete; the first has raised
    // blood pressure (a referral) and the age note.
    assert_eq!(
        rows[0][..5],
        [
            "1",
            "A-1",
            "incomplete",
            "false",
            "elevated_blood_pressure;older_adult"
        ]
        .map(String::from)
    );
    assert_eq!(
        rows[1][..5],
        ["2", "A-2", "incomplete", "false", ""].map(String::from)
    );
    let missing = reader_missing(&run.stdout, 0);
    assert!(
        !missing.contains(&"systolic_bp".to_string())
            && !missing.contains(&"age_years".to_string())
    );
    // 'id' was ignored on purpose, so only 'Bemerkung' is reported as matching nothing.
    assert_eq!(
        run.stderr.lines().next(),
        Some("ketascreen: warning: ignoring 1 column that matches no question (never read, never echoed): 'Bemerkung'")
    );
    assert!(!run.stderr.contains("verschoben"));
}

fn reader_missing(csv_text: &str, row: usize) -> Vec<String> {
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let record = reader.records().nth(row).expect("row").expect("valid");
    record[5].split(';').map(str::to_string).collect()
}

#[test]
fn header_problems_are_clear_errors() {
    let cases: [(&[&str], &str, i32, &str); 5] = [
        (&[], "", 1, "ketascreen: <file>: no header row: the input is empty\n"),
        (
            &["--map", "BP=systolic_bpp"],
            "id,sbp\n",
            2,
            "ketascreen: --map 'BP=systolic_bpp': no question 'systolic_bpp' in ruleset 'ketamine-default' (did you mean 'systolic_bp'?)\n",
        ),
        (&["--map", "BP=systolic_bp"], "id,sbp\n", 2, "ketascreen: <file>: --map: no column 'BP' in the header\n"),
        (&["--id-column", "MRN"], "id,sbp\n", 2, "ketascreen: <file>: --id-column: no column 'MRN' in the header\n"),
        (
            &[],
            "id,sbp,Systolic_BP\n1,120,120\n",
            1,
            "ketascreen: <file>: columns 'sbp' and 'Systolic_BP' both answer question 'systolic_bp'; keep one with --map (e.g. --map 'Systolic_BP=-')\n",
        ),
    ];
    for (flags, content, code, message) in cases {
        let (_dir, file) = file_with("in.csv", content.as_bytes());
        let mut args: Vec<&std::ffi::OsStr> = vec!["batch".as_ref(), file.as_os_str()];
        args.extend(flags.iter().map(std::ffi::OsStr::new));
        let run = ks(args).run();
        assert_eq!(run.code, code, "{run:?}");
        assert_eq!(
            run.stderr,
            message.replace("<file>", &file.display().to_string())
        );
        assert_eq!(run.stdout, "");
    }
    let run = ks(["batch", "no/such/file.csv"]).run();
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .starts_with("ketascreen: cannot read no/such/file.csv: "),
        "{}",
        run.stderr
    );
    let run = ks(["batch", "x.csv", "--delimiter", ";;"]).run();
    assert_eq!(run.code, 2);
}

#[test]
fn no_id_column_and_missing_columns_are_named_once() {
    let (_dir, file) = file_with("in.csv", b"sbp,dbp\n120,80\n185,90\n");
    let run = ks(["batch".as_ref(), file.as_os_str()]).run();
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stderr);
    assert!(lines[0].starts_with("ketascreen: warning: no column for 41 questions, unanswered in every row: age_years, primary_diagnosis, "));
    assert_eq!(lines[1], "ketascreen: note: no id column ('id', 'patient_id' or --id-column): records are known by their row number only");
    let records = ndjson(&run);
    assert_eq!(records[0]["id"], Value::Null);
    assert_eq!(records[0]["verdict"], "incomplete");
    assert_eq!(records[1]["verdict"], "ineligible");
    assert_eq!(
        ids(&records[1]["reasons"], Some("rule")),
        ["severe_hypertension"]
    );
}

/// Many rows, so that they travel in many jobs: every thread count gives the same bytes.
#[test]
fn threads_give_the_same_bytes_in_the_same_order() {
    let mut file = messy();
    for i in 0..700 {
        let mut row = clean(&format!("Q-{i}"));
        set(&mut row, "SBP", format!("{}", 100 + i % 120).as_bytes());
        set(
            &mut row,
            "takes_benzodiazepine",
            if i % 7 == 0 { b"yes" } else { b"no" },
        );
        if i % 50 == 0 {
            row.truncate(5);
        }
        file.extend(line(&row));
    }
    let (_dir, path) = file_with("many.csv", &file);
    for format in ["ndjson", "csv", "json", "table"] {
        let outputs: Vec<String> = ["1", "2", "5"]
            .iter()
            .map(|threads| {
                let run = ks([
                    "batch".as_ref(),
                    path.as_os_str(),
                    "--format".as_ref(),
                    format.as_ref(),
                ])
                .env("KETASCREEN_THREADS", threads)
                .run();
                assert_eq!(run.code, 0, "{run:?}");
                run.stdout
            })
            .collect();
        assert_eq!(outputs[0], outputs[1], "{format}");
        assert_eq!(outputs[0], outputs[2], "{format}");
    }
    let run = ks(["batch".as_ref(), path.as_os_str()])
        .env("KETASCREEN_THREADS", "3")
        .run();
    let records = ndjson(&run);
    assert_eq!(
        records.len(),
        709,
        "the messy file's nine records and 700 more"
    );
    for (i, record) in records.iter().enumerate() {
        assert_eq!(record["row"], i as u64 + 1);
    }
}

#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut file = Vec::new();
    file.extend(line(
        &HEADER
            .iter()
            .map(|h| h.as_bytes().to_vec())
            .collect::<Vec<_>>(),
    ));
    for i in 0..5000 {
        file.extend(line(&clean(&format!("P-{i}"))));
    }
    let (_dir, path) = file_with("big.csv", &file);
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("ketascreen"))
        .args(["batch".as_ref(), path.as_os_str()])
        .env_remove("KETASCREEN_RULES")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("a line");
    // The reader is dropped here: `| head -1`.
    let out = child.wait_with_output().expect("exits");
    assert!(first.starts_with("{\"schema\":\"ketascreen.verdict/v1\",\"row\":1,"));
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn cells_as_people_type_them_read_as_in_check_and_the_interview() {
    // A unit after the number and "not sure" were input errors before; a decimal comma
    // stays one in a file (it is read only where it cannot be misread).
    let csv = "id,systolic_bp,diastolic_bp,consent_capacity,age_years\n\
               P1,146 mmHg,92mmhg,not sure,52\n\
               P2,146,92,yes,\"52,5\"\n";
    let run = ks(["batch", "-", "--format", "ndjson"]).stdin(csv).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let records = ndjson(&run);
    assert_eq!(records[0]["errors"], json!([]));
    assert_eq!(
        records[0]["reasons"][0]["answers"],
        json!({"systolic_bp": 146, "diastolic_bp": 92})
    );
    assert!(ids(&records[0]["missing"], Some("rule")).contains(&"no_consent_capacity".to_string()));
    assert_eq!(
        records[1]["errors"],
        json!([{"question": "age_years", "value": "52,5", "message": "column 'age_years': expected a whole number between 0 and 120 years"}])
    );
}
