//! `ketascreen batch` on the files clinics really have, one test per input shape, each
//! asserting the exact records row by row: an Excel CSV (`;`, Windows-1252, CRLF, human
//! labels, units in cells, decimal commas, `="00123"` ids, trailing `;;;;` rows), the same
//! patients as an .xlsx workbook and as an .ods sheet, and a `;` file with our own ids. The
//! records also equal the verdicts of the same patients given as clean JSON to `check`.

use serde_json::{json, Value};

use crate::support::{ks, path, Run};

const RULES: &str = "tests/data/files-rules.yaml";

/// The export's labels mapped to question ids (until a profile does it).
const MAP: [&str; 12] = [
    "--id-column",
    "N° dossier",
    "--map",
    "Âge=age_years",
    "--map",
    "Tension systolique=systolic_bp",
    "--map",
    "Poids (kg)=weight_kg",
    "--map",
    "Grossesse=pregnancy_status",
    "--map",
    "Manie actuelle=current_mania",
];

/// The Excel CSV as text (encoded to Windows-1252 by `excel_csv`).
const EXCEL_TEXT: &str =
    "N° dossier;Nom;Âge;Tension systolique;Poids (kg);Grossesse;Manie actuelle\r\n\
=\"00123\";Lefèvre, Chloé;41;122 mmHg;63,5;Pas enceinte;0\r\n\
=\"00124\";Müller;67;146 mmHg;48,2;Non concernée;0\r\n\
=\"00125\";Ødegård;29;118;70;Enceinte;0\r\n\
=\"00126\";Núñez;35;185 mmHg;80;Pas enceinte;1\r\n\
=\"00127\";Dupré;52;;71,0;Pas enceinte;0\r\n\
=\"00128\";Zoë;44;130 kg;60;Pas enceinte;0\r\n\
;;;;;;\r\n\
;;;;;;\r\n\
;;;;;;\r\n";

fn excel_csv() -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(EXCEL_TEXT);
    assert!(!unmappable);
    bytes.into_owned()
}

type Brief = (
    u64,
    String,
    String,
    bool,
    Vec<String>,
    Vec<String>,
    Vec<String>,
);

/// A record in brief: row, id, verdict, urgent, fired rule ids, missing question ids, and
/// errors as "question | value | message".
fn brief(record: &Value) -> Brief {
    let list = |v: &Value, key: &str| -> Vec<String> {
        v.as_array()
            .expect("a list")
            .iter()
            .map(|x| x[key].as_str().expect("a string").to_string())
            .collect()
    };
    let mut missing: Vec<String> = record["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .flat_map(|m| m["questions"].as_array().expect("questions").clone())
        .map(|q| q.as_str().expect("id").to_string())
        .collect();
    missing.sort();
    missing.dedup();
    (
        record["row"].as_u64().expect("row"),
        record["id"].as_str().unwrap_or("").to_string(),
        record["verdict"].as_str().expect("verdict").to_string(),
        record["urgent"].as_bool().expect("urgent"),
        list(&record["reasons"], "rule"),
        missing,
        record["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| {
                format!(
                    "{} | {} | {}",
                    e["question"].as_str().unwrap_or(""),
                    e["value"].as_str().unwrap_or(""),
                    e["message"].as_str().expect("message")
                )
            })
            .collect(),
    )
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The six patients' records, whatever the file's shape.
fn expected() -> Vec<Brief> {
    let none = Vec::new;
    vec![
        (1, "00123".into(), "eligible".into(), false, none(), none(), none()),
        (
            2,
            "00124".into(),
            "review".into(),
            false,
            strings(&["elevated_blood_pressure", "low_weight"]),
            none(),
            none(),
        ),
        (3, "00125".into(), "ineligible".into(), false, strings(&["pregnancy"]), none(), none()),
        (
            4,
            "00126".into(),
            "ineligible".into(),
            true,
            strings(&["severe_hypertension", "current_mania"]),
            none(),
            none(),
        ),
        (5, "00127".into(), "incomplete".into(), false, none(), strings(&["systolic_bp"]), none()),
        (
            6,
            "00128".into(),
            "incomplete".into(),
            false,
            none(),
            strings(&["systolic_bp"]),
            strings(&["systolic_bp | 130 kg | column 'Tension systolique': expected a whole number between 50 and 300 mmHg"]),
        ),
    ]
}

/// The same six patients as clean answers, for `check`.
fn clean_answers() -> Vec<Value> {
    vec![
        json!({"id": "00123", "age_years": 41, "systolic_bp": 122, "weight_kg": 63.5, "pregnancy_status": "not_pregnant", "current_mania": "no"}),
        json!({"id": "00124", "age_years": 67, "systolic_bp": 146, "weight_kg": 48.2, "pregnancy_status": "not_applicable", "current_mania": "no"}),
        json!({"id": "00125", "age_years": 29, "systolic_bp": 118, "weight_kg": 70, "pregnancy_status": "pregnant", "current_mania": "no"}),
        json!({"id": "00126", "age_years": 35, "systolic_bp": 185, "weight_kg": 80, "pregnancy_status": "not_pregnant", "current_mania": "yes"}),
        json!({"id": "00127", "age_years": 52, "weight_kg": 71.0, "pregnancy_status": "not_pregnant", "current_mania": "no"}),
        json!({"id": "00128", "age_years": 44, "weight_kg": 60, "pregnancy_status": "not_pregnant", "current_mania": "no"}),
    ]
}

fn ndjson(run: &Run) -> Vec<Value> {
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Each record's decision equals `check`'s on the same patient given as clean JSON.
fn agrees_with_check(records: &[Value]) {
    let dir = tempfile::tempdir().expect("tmp");
    for (record, answers) in records.iter().zip(clean_answers()) {
        let file = dir.path().join("answers.json");
        std::fs::write(&file, answers.to_string()).expect("write");
        let (run, verdict) = ks([
            "--rules".as_ref(),
            path(RULES).as_os_str(),
            "check".as_ref(),
            file.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ])
        .json();
        assert_eq!(run.code, 0, "{run:?}");
        for key in ["id", "verdict", "urgent", "reasons", "missing", "ruleset"] {
            assert_eq!(record[key], verdict[key], "{key} of {answers}");
        }
    }
}

fn batch(file: &std::path::Path, extra: &[&str]) -> Run {
    let mut args: Vec<std::ffi::OsString> = vec![
        "--rules".into(),
        path(RULES).into(),
        "batch".into(),
        file.into(),
        "--format".into(),
        "ndjson".into(),
    ];
    args.extend(MAP.iter().map(Into::into));
    args.extend(extra.iter().map(Into::into));
    ks(args).run()
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let file = dir.path().join(name);
    std::fs::write(&file, bytes).expect("write test input");
    file
}

#[test]
fn excel_semicolon_windows_1252_csv_with_labels_units_and_empty_rows() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = write(&dir, "export.csv", &excel_csv());
    let run = batch(&file, &["--encoding", "windows-1252", "--decimal", ","]);
    assert_eq!(run.code, 0, "{run:?}");
    let records = ndjson(&run);
    assert_eq!(records.iter().map(brief).collect::<Vec<_>>(), expected());
    assert_eq!(
        records[1]["reasons"][1],
        json!({"rule": "low_weight", "severity": "note", "urgent": false,
               "message": "Weight 48.2 kg is under 50: dose by weight.",
               "answers": {"weight_kg": 48.2}, "source": "test"})
    );
    let name = file.display();
    let stderr: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        stderr[..3],
        [
            format!("ketascreen: note: {name}: columns separated by ';' (detected; --delimiter to choose another)").as_str(),
            "ketascreen: warning: ignoring 1 column that matches no question (never read, never echoed): 'Nom'",
            "ketascreen: note: 3 empty rows skipped (blank or every cell empty: not patients): lines 8, 9, 10",
        ]
    );
    assert!(
        stderr[3].starts_with("ketascreen: 6 rows screened in "),
        "{}",
        stderr[3]
    );
    assert_eq!(stderr.len(), 4);
    for secret in ["Lef", "Müller", "Zo"] {
        assert!(
            !run.stderr.contains(secret) && !run.stdout.contains(secret),
            "{secret}"
        );
    }
    agrees_with_check(&records);
}

#[test]
fn excel_csv_without_its_encoding_or_decimal_comma_says_so() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = write(&dir, "export.csv", &excel_csv());
    let run = batch(&file, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stderr,
        format!("ketascreen: cannot read {}: not UTF-8 text (byte 0xB0 on line 1): if Excel or another Windows program saved it, give --encoding windows-1252 (or save it as \"CSV UTF-8\")\n", file.display())
    );
    assert_eq!(run.stdout, "");
    // Decimal commas are read only when asked: otherwise they are input errors.
    let run = batch(&file, &["--encoding", "windows-1252"]);
    assert_eq!(run.code, 0, "{run:?}");
    let errors: Vec<String> = ndjson(&run)
        .iter()
        .flat_map(|r| brief(r).6)
        .filter(|e| e.starts_with("weight_kg"))
        .collect();
    assert_eq!(
        errors,
        [
            "weight_kg | 63,5 | column 'Poids (kg)': expected a number between 20 and 400 kg",
            "weight_kg | 48,2 | column 'Poids (kg)': expected a number between 20 and 400 kg",
            "weight_kg | 71,0 | column 'Poids (kg)': expected a number between 20 and 400 kg",
        ]
    );
}

/// The same patients as an Excel workbook, written here with rust_xlsxwriter as Excel types
/// them: ids as text, ages and weights as numbers (41.0 is 41), TRUE/FALSE, a date.
fn workbook() -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let lists = book.add_worksheet();
    lists.set_name("Listes").expect("name");
    lists.write_string(0, 0, "Pas enceinte").expect("cell");
    let sheet = book.add_worksheet();
    sheet.set_name("Intake").expect("name");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let header = [
        "N° dossier",
        "Nom",
        "Âge",
        "Tension systolique",
        "Poids (kg)",
        "Grossesse",
        "Manie actuelle",
        "Date de visite",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("cell");
    }
    // id, name, age, blood pressure as text or as a number, weight, pregnancy, mania.
    type Row<'a> = (
        &'a str,
        &'a str,
        f64,
        Option<&'a str>,
        Option<f64>,
        f64,
        &'a str,
        bool,
    );
    let rows: [Row<'_>; 6] = [
        (
            "00123",
            "Lefèvre, Chloé",
            41.0,
            Some("122 mmHg"),
            None,
            63.5,
            "Pas enceinte",
            false,
        ),
        (
            "00124",
            "Müller",
            67.0,
            Some("146 mmHg"),
            None,
            48.2,
            "Non concernée",
            false,
        ),
        (
            "00125",
            "Ødegård",
            29.0,
            None,
            Some(118.0),
            70.0,
            "Enceinte",
            false,
        ),
        (
            "00126",
            "Núñez",
            35.0,
            Some("185 mmHg"),
            None,
            80.0,
            "Pas enceinte",
            true,
        ),
        (
            "00127",
            "Dupré",
            52.0,
            None,
            None,
            71.0,
            "Pas enceinte",
            false,
        ),
        (
            "00128",
            "Zoë",
            44.0,
            Some("130 kg"),
            None,
            60.0,
            "Pas enceinte",
            false,
        ),
    ];
    for (i, (id, name, age, bp_text, bp, weight, pregnancy, mania)) in rows.into_iter().enumerate()
    {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, id).expect("cell");
        sheet.write_string(r, 1, name).expect("cell");
        sheet.write_number(r, 2, age).expect("cell");
        if let Some(text) = bp_text {
            sheet.write_string(r, 3, text).expect("cell");
        }
        if let Some(n) = bp {
            sheet.write_number(r, 3, n).expect("cell");
        }
        sheet.write_number(r, 4, weight).expect("cell");
        sheet.write_string(r, 5, pregnancy).expect("cell");
        sheet.write_boolean(r, 6, mania).expect("cell");
        let day = ExcelDateTime::from_ymd(2024, 3, 1).expect("date");
        sheet
            .write_datetime_with_format(r, 7, &day, &date)
            .expect("cell");
    }
    // Rows once used and cleared but for a space, as a sheet edited by hand keeps them.
    for r in 7..9 {
        sheet.write_string(r, 1, " ").expect("cell");
    }
    book.save_to_buffer().expect("workbook")
}

#[test]
fn xlsx_workbook_reads_like_its_csv() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = write(&dir, "export.xlsx", &workbook());
    let run = batch(&file, &["--sheet", "intake"]);
    assert_eq!(run.code, 0, "{run:?}");
    let records = ndjson(&run);
    assert_eq!(records.iter().map(brief).collect::<Vec<_>>(), expected());
    let name = file.display();
    let stderr: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        stderr[..2],
        [
            "ketascreen: warning: ignoring 2 columns that match no question (never read, never echoed): 'Nom', 'Date de visite'",
            "ketascreen: note: 2 empty rows skipped (blank or every cell empty: not patients): lines 8, 9",
        ]
    );
    agrees_with_check(&records);
    // The first sheet is read unless told, and the note names the others.
    let run = batch(&file, &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.stderr,
        format!("ketascreen: note: {name}: read sheet 'Listes', the first of 2 (--sheet to choose another: 'Listes', 'Intake')\n\
                 ketascreen: {name}: --map: no column 'Âge' in the header\n")
    );
    let run = batch(&file, &["--sheet", "Patients"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.stderr,
        format!("ketascreen: cannot read {name}: no sheet 'Patients' in the workbook (its sheets: 'Listes', 'Intake')\n")
    );
}

#[test]
fn ods_sheet_reads_like_its_csv() {
    // tests/data/make_intake_ods.py wrote it: typed cells, a second sheet, trailing empty rows.
    let file = path("tests/data/intake.ods");
    let run = batch(&file, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let records = ndjson(&run);
    assert_eq!(records.iter().map(brief).collect::<Vec<_>>(), expected());
    let name = file.display();
    assert_eq!(
        run.stderr.lines().take(3).collect::<Vec<_>>(),
        [
            format!("ketascreen: note: {name}: read sheet 'Intake', the first of 2 (--sheet to choose another: 'Intake', 'Lists')").as_str(),
            "ketascreen: warning: ignoring 2 columns that match no question (never read, never echoed): 'Nom', 'Date de visite'",
            "ketascreen: note: 2 empty rows skipped (blank or every cell empty: not patients): lines 8, 9",
        ]
    );
    agrees_with_check(&records);
}

const OWN_IDS: &str = "id;age_years;systolic_bp;weight_kg;pregnancy_status;current_mania
P1;41;122;63.5;not_pregnant;no
;;;;;
P2;67;146;48.2;not_applicable;no
P3;17;118;70;not_pregnant;yes
";

#[test]
fn semicolon_file_with_our_ids_needs_no_flags() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = write(&dir, "intake.csv", OWN_IDS.as_bytes());
    let run = ks([
        "--rules".as_ref(),
        path(RULES).as_os_str(),
        "batch".as_ref(),
        file.as_os_str(),
        "--format".as_ref(),
        "csv".as_ref(),
    ])
    .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "row,id,verdict,urgent,reasons,missing,errors,ruleset,urgent_undecided,ignored,exclude,review,note,error_count\n\
         1,P1,eligible,false,,,,files-test@1.0.0,false,,,,,0\n\
         2,P2,review,false,elevated_blood_pressure;low_weight,,,files-test@1.0.0,false,,,elevated_blood_pressure,low_weight,0\n\
         3,P3,ineligible,true,under_18;current_mania,,,files-test@1.0.0,false,,under_18;current_mania,,,0\n"
    );
    let name = file.display();
    assert_eq!(
        run.stderr.lines().take(2).collect::<Vec<_>>(),
        [
            format!("ketascreen: note: {name}: columns separated by ';' (detected; --delimiter to choose another)"),
            "ketascreen: note: 1 empty row skipped (blank or every cell empty: not patients): line 3".to_string(),
        ]
    );
}

#[test]
fn a_delimiter_that_names_no_question_is_never_screened_silently() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = write(&dir, "intake.csv", OWN_IDS.as_bytes());
    let run = ks([
        "--rules".as_ref(),
        path(RULES).as_os_str(),
        "batch".as_ref(),
        file.as_os_str(),
        "--delimiter".as_ref(),
        ",".as_ref(),
        "--strict".as_ref(),
    ])
    .run();
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(
        run.stderr,
        format!("ketascreen: cannot read {}: the header names no question when split at ',', but 5 columns when split at ';': give --delimiter ';' (or leave --delimiter out to detect it)\n", file.display())
    );
    assert_eq!(run.stdout, "");
    // A header that names no question whichever way it is split is an error, not a run of
    // all-incomplete records.
    let other = write(&dir, "other.csv", b"Name;Ward\nDoe;3\n");
    let run = ks([
        "--rules".as_ref(),
        path(RULES).as_os_str(),
        "batch".as_ref(),
        other.as_os_str(),
    ])
    .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stderr.lines().last(),
        Some(format!("ketascreen: {}: no column names a question of ruleset 'files-test', so no row could be screened: name the columns with --map COLUMN=QUESTION", other.display()).as_str())
    );
}

#[test]
fn utf16_exports_are_read_by_their_byte_order_mark() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(OWN_IDS.encode_utf16().flat_map(u16::to_le_bytes));
    let file = write(&dir, "intake.txt", &bytes);
    let run = ks([
        "--rules".as_ref(),
        path(RULES).as_os_str(),
        "batch".as_ref(),
        file.as_os_str(),
        "--format".as_ref(),
        "ndjson".as_ref(),
    ])
    .run();
    assert_eq!(run.code, 0, "{run:?}");
    let rows: Vec<(u64, String, String)> = ndjson(&run)
        .iter()
        .map(brief)
        .map(|b| (b.0, b.1, b.2))
        .collect();
    assert_eq!(
        rows,
        [
            (1, "P1".to_string(), "eligible".to_string()),
            (2, "P2".to_string(), "review".to_string()),
            (3, "P3".to_string(), "ineligible".to_string()),
        ]
    );
    assert!(run.stderr.starts_with(&format!(
        "ketascreen: note: {}: read as UTF-16LE (byte-order mark)\n",
        file.display()
    )));
}

#[test]
fn xlsx_output_is_a_workbook_of_verdicts_reasons_and_summary() {
    use calamine::Reader;
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    let input = write(&dir, "export.csv", &excel_csv());
    let out = dir.path().join("verdicts.xlsx");
    let mut args: Vec<std::ffi::OsString> = vec![
        "--rules".into(),
        path(RULES).into(),
        "batch".into(),
        input.clone().into(),
        "--encoding".into(),
        "windows-1252".into(),
        "--decimal".into(),
        ",".into(),
        "--output".into(),
        out.clone().into(),
    ];
    args.extend(MAP.iter().map(Into::into));
    let run = ks(args).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "");
    let mode = std::fs::metadata(&out)
        .expect("written")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let mut book = calamine::open_workbook_auto(&out).expect("a workbook");
    assert_eq!(book.sheet_names(), ["Verdicts", "Reasons", "Summary"]);
    let rows = |book: &mut calamine::Sheets<_>, name: &str| -> Vec<String> {
        book.worksheet_range(name)
            .expect("sheet")
            .rows()
            .map(|r| {
                r.iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect()
    };
    assert_eq!(
        rows(&mut book, "Verdicts"),
        [
            "row|id|verdict|urgent|urgent_undecided|exclude|review|note|missing|error_count|errors|ruleset",
            "1|00123|eligible|false|false|||||0||files-test@1.0.0",
            "2|00124|review|false|false||elevated_blood_pressure|low_weight||0||files-test@1.0.0",
            "3|00125|ineligible|false|false|pregnancy||||0||files-test@1.0.0",
            "4|00126|ineligible|true|false|severe_hypertension;current_mania||||0||files-test@1.0.0",
            "5|00127|incomplete|false|true||||systolic_bp|0||files-test@1.0.0",
            "6|00128|incomplete|false|true||||systolic_bp|1|systolic_bp: column 'Tension systolique': expected a whole number between 50 and 300 mmHg|files-test@1.0.0",
        ]
    );
    assert_eq!(
        rows(&mut book, "Reasons"),
        [
            "row|id|rule|severity|urgent|message|source",
            "2|00124|elevated_blood_pressure|review|false|Systolic 146 mmHg is above 140.|test",
            "2|00124|low_weight|note|false|Weight 48.2 kg is under 50: dose by weight.|test",
            "3|00125|pregnancy|exclude|false|Pregnant.|test",
            "4|00126|severe_hypertension|exclude|true|Systolic 185 mmHg is at or above 180.|test",
            "4|00126|current_mania|exclude|true|Current mania.|test",
        ]
    );
    let summary = rows(&mut book, "Summary");
    let sha = summary
        .iter()
        .find_map(|l| l.strip_prefix("ruleset sha256|"))
        .expect("sha256")
        .to_string();
    assert_eq!(sha.len(), 64);
    assert_eq!(
        summary,
        [
            "run|".to_string(),
            format!("input|{}", input.display()),
            format!("ketascreen|{}", env!("CARGO_PKG_VERSION")),
            "ruleset|files-test".into(),
            "ruleset version|1.0.0".into(),
            format!("ruleset sha256|{sha}"),
            "profile|(none)".into(),
            "rows screened|6".into(),
            "ineligible|2".into(),
            "incomplete|2".into(),
            "review|1".into(),
            "eligible|1".into(),
            "urgent|1".into(),
            "urgent undecided|2".into(),
            "rows with input errors|1".into(),
            "empty rows not screened|3".into(),
        ]
    );
}

/// The documented examples (docs/exports.md): the Excel CSV and the workbook give the records
/// of examples/intake.csv, the same patients.
#[test]
fn the_examples_excel_csv_and_workbook_screen_like_intake_csv() {
    let records = |args: &[&str]| {
        let run = ks(args.iter().copied().chain(["--format", "ndjson"])).run();
        assert_eq!(run.code, 0, "{run:?}");
        ndjson(&run)
    };
    let plain = records(&["batch", "examples/intake.csv"]);
    assert_eq!(plain.len(), 12);
    assert_eq!(records(&["batch", "examples/intake.xlsx"]), plain);
    let excel = records(&[
        "batch",
        "examples/excel-export.csv",
        "--encoding",
        "windows-1252",
        "--id-column",
        "Patient ID",
        "--map",
        "Âge (ans)=age_years",
        "--map",
        "Systolic BP=systolic_bp",
        "--map",
        "Diastolic BP=diastolic_bp",
    ]);
    // The same records, but for row 9's error, which names the column and the cell as given.
    let renamed = |mut r: Value| {
        if let Some(errors) = r["errors"].as_array_mut() {
            for e in errors {
                let m = e["message"]
                    .as_str()
                    .unwrap_or("")
                    .replace("'SBP'", "'Systolic BP'");
                e["message"] = m.into();
                e["value"] = format!("{} mmHg", e["value"].as_str().unwrap_or("")).into();
            }
        }
        r
    };
    assert_eq!(excel.len(), plain.len());
    for (got, want) in excel.into_iter().zip(plain.into_iter().map(renamed)) {
        assert_eq!(got, want);
    }
}

#[test]
fn excel_csv_output_has_a_bom_and_the_chosen_separator() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = write(&dir, "intake.csv", OWN_IDS.as_bytes());
    let with = |extra: &[&str]| {
        let mut args: Vec<std::ffi::OsString> = vec![
            "--rules".into(),
            path(RULES).into(),
            "batch".into(),
            file.clone().into(),
        ];
        args.extend(extra.iter().map(Into::into));
        ks(args).run()
    };
    let run = with(&["--excel=semicolon"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "\u{FEFF}row;id;verdict;urgent;reasons;missing;errors;ruleset;urgent_undecided;ignored;exclude;review;note;error_count\n\
         1;P1;eligible;false;;;;files-test@1.0.0;false;;;;;0\n\
         2;P2;review;false;\"elevated_blood_pressure;low_weight\";;;files-test@1.0.0;false;;;elevated_blood_pressure;low_weight;0\n\
         3;P3;ineligible;true;\"under_18;current_mania\";;;files-test@1.0.0;false;;\"under_18;current_mania\";;;0\n"
    );
    let comma = with(&["--excel"]).stdout;
    assert!(comma.starts_with("\u{FEFF}row,id,verdict,"), "{comma}");
    // A bare --excel follows the input's decimal mark.
    let semicolon = with(&["--excel", "--decimal", ","]).stdout;
    assert!(
        semicolon.starts_with("\u{FEFF}row;id;verdict;"),
        "{semicolon}"
    );
    let run = with(&["--excel", "--format", "ndjson"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "ketascreen: --excel writes CSV for Excel, not --format ndjson: leave one of them out\n"
    );
}

#[test]
fn ids_that_a_spreadsheet_would_run_are_written_as_text() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = write(
        &dir,
        "intake.csv",
        b"id,age_years\n=HYPERLINK(\"http://x\"),40\n+cmd|' /C calc'!A0,41\n-7,42\n",
    );
    let run = ks([
        "--rules".as_ref(),
        path(RULES).as_os_str(),
        "batch".as_ref(),
        file.as_os_str(),
        "--format".as_ref(),
        "csv".as_ref(),
    ])
    .run();
    assert_eq!(run.code, 0, "{run:?}");
    let ids: Vec<String> = csv::Reader::from_reader(run.stdout.as_bytes())
        .records()
        .map(|r| r.expect("row")[1].to_string())
        .collect();
    assert_eq!(
        ids,
        ["'=HYPERLINK(\"http://x\")", "'+cmd|' /C calc'!A0", "-7"]
    );
}

/// A profile's `input:` (delimiter, encoding) feeds the reader as the flags do: the example
/// Excel export screens the same with examples/excel-profile.yaml as with the flags and maps.
#[test]
fn a_profiles_input_settings_read_the_file_as_the_flags_do() {
    let with_profile = ks([
        "batch",
        "examples/excel-export.csv",
        "--profile",
        "examples/excel-profile.yaml",
        "--format",
        "csv",
    ])
    .run();
    assert_eq!(with_profile.code, 0, "{with_profile:?}");
    let with_flags = ks([
        "batch",
        "examples/excel-export.csv",
        "--encoding",
        "windows-1252",
        "--delimiter",
        ";",
        "--id-column",
        "Patient ID",
        "--map",
        "Âge (ans)=age_years",
        "--map",
        "Systolic BP=systolic_bp",
        "--map",
        "Diastolic BP=diastolic_bp",
        "--format",
        "csv",
    ])
    .run();
    assert_eq!(with_flags.code, 0, "{with_flags:?}");
    assert_eq!(with_profile.stdout, with_flags.stdout);
    assert_eq!(
        with_profile.stdout.lines().count(),
        13,
        "{}",
        with_profile.stdout
    );
    assert!(
        with_profile
            .stdout
            .contains("\n8,P-1008,ineligible,false,under_18,"),
        "the age column, read as Windows-1252: {}",
        with_profile.stdout
    );
}
