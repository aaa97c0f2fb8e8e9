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
        .stdin("id,Na\x1bme\u{202e},age_years\nP-1,x,40\n")
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
        "row,id,verdict,urgent,reasons,missing,errors,ruleset,urgent_undecided,ignored,exclude,review,note,error_count\n\
         1,A,incomplete,false,,bmi,bmi: column 'bmi': 39.99999999999999999 has more digits than can be compared exactly; round it to at most 15 significant digits,n@1,false,,,,,1\n\
         2,B,eligible,false,,,,n@1,false,,,,,0\n\
         3,C,review,false,obese,,,n@1,false,,,obese,,0\n"
    );
}

/// `rules lint` on a small ruleset: (exit status, headlines of the diagnostics, summary).
fn lint_small(questions: &str, rules: &str) -> (i32, Vec<String>) {
    let dir = tempfile::tempdir().expect("tmp");
    let sources = if rules.contains("source: s") {
        "{s: S}"
    } else {
        "{}"
    };
    let text = format!(
        "ruleset: {{id: t, version: 1, title: T, sources: {sources}}}\nquestions:\n{questions}rules:{rules}"
    );
    let file = write(&dir, "t.yaml", text);
    let run = ks(["rules", "lint", file.as_str(), "--format", "json"]).run();
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let lines = doc
        .as_array()
        .expect("array")
        .iter()
        .map(|d| {
            format!(
                "{}:{}: {}: {}",
                d["line"],
                d["column"],
                d["level"].as_str().unwrap_or(""),
                d["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    (run.code, lines)
}

// Broke: each of these rulesets could only ever say eligible, and linted clean.
#[test]
fn rulesets_that_can_only_say_eligible_do_not_lint_clean() {
    let sbp = "  - {id: sbp, section: S, text: SBP?, type: integer, min: 50, max: 300}\n";
    // No rule at all.
    assert_eq!(
        lint_small(sbp, " []\n"),
        (
            1,
            vec![
                "3:10: warning: question 'sbp' is not read by any rule or ask_if: its answer never changes a verdict".to_string(),
                "4:1: error: ruleset 't' has no exclude or review rule: it can only ever say eligible".to_string(),
            ]
        )
    );
    // Notes only.
    let (code, lines) = lint_small(
        sbp,
        "\n  - {id: n, severity: note, when: sbp > 140, message: m, source: s}\n",
    );
    assert_eq!(code, 1);
    assert_eq!(
        lines,
        ["4:1: error: ruleset 't' has no exclude or review rule: it can only ever say eligible"]
    );
    // A contradiction: each comparison can be true, the two together never.
    let (code, lines) = lint_small(
        sbp,
        "\n  - {id: high, severity: exclude, when: sbp >= 180 and sbp < 180, message: m, source: s}\n",
    );
    assert_eq!(code, 1);
    assert_eq!(lines, ["5:41: error: condition 'sbp >= 180 and sbp < 180' of rule 'high' can never be true: the rule never fires (exclude rule)"]);
    // One comparison that can never be true: the error, not also the warning.
    let (code, lines) = lint_small(
        sbp,
        "\n  - {id: low, severity: review, when: sbp < 10, message: m, source: s}\n",
    );
    assert_eq!(code, 1);
    assert_eq!(lines, ["5:39: error: condition 'sbp < 10' of rule 'low' can never be true: the rule never fires (review rule)"]);
    // An ask_if that is never true hides the exclusion that reads its question.
    let (code, lines) = lint_small(
        "  - {id: flag, section: S, text: F?, type: yes_no}\n  - {id: avm, section: S, text: AVM?, type: yes_no, ask_if: flag and not flag}\n",
        "\n  - {id: avm, severity: exclude, when: avm or flag, message: m, source: s}\n",
    );
    assert_eq!(code, 1);
    assert_eq!(lines, ["4:61: error: ask_if 'flag and not flag' of question 'avm' can never be true: the question is never asked, so it never counts in rule avm"]);
}

// Broke: option labels that differ only in case, and a question named `id`, linted clean.
#[test]
fn case_only_labels_and_reserved_question_names_are_errors() {
    let (code, lines) = lint_small(
        "  - {id: dx, section: S, text: Dx?, type: choice, options: [{id: a, label: Major depression}, {id: b, label: major Depression}]}\n  - {id: patient_id, section: S, text: Id?, type: yes_no, aliases: [ID]}\n",
        "\n  - {id: r, severity: exclude, when: dx == b or patient_id, message: m, source: s}\n",
    );
    assert_eq!(code, 1);
    assert_eq!(
        lines,
        [
            "3:110: error: options 'a' and 'b' of question 'dx' are told apart only by case ('Major depression' / 'major Depression'): an answer written that way could mean either; make the labels differ",
            "4:10: error: question 'patient_id' is named 'patient_id', which names the patient id or a saved record's field in answers files and CSV headers: its answers would not be read as answers; rename it",
            "4:69: error: question 'patient_id' is named 'ID', which names the patient id or a saved record's field in answers files and CSV headers: its answers would not be read as answers; rename it",
        ]
    );
}

// Broke: `batch --output` onto the `--rules` file replaced the ruleset.
#[test]
fn batch_output_never_replaces_the_ruleset_under_any_name() {
    let dir = tempfile::tempdir().expect("tmp");
    let rules_text =
        std::fs::read_to_string(crate::support::path("rules/ketamine.yaml")).expect("reads");
    let rules = write(&dir, "rules.yaml", &rules_text);
    let input = write(&dir, "in.csv", "id,systolic_bp\nP1,120\n");
    let hard = dir.path().join("hard.csv");
    std::fs::hard_link(&rules, &hard).expect("hard link");
    let soft = dir.path().join("soft.csv");
    std::os::unix::fs::symlink(&rules, &soft).expect("symlink");
    for out in [
        rules.clone(),
        hard.display().to_string(),
        soft.display().to_string(),
    ] {
        let run = ks([
            "--rules",
            rules.as_str(),
            "batch",
            input.as_str(),
            "--output",
            out.as_str(),
        ])
        .run();
        assert_eq!(run.code, 2, "{run:?}");
        assert_eq!(
            run.stderr,
            format!("ketascreen: refusing to write the output over the ruleset file {out}: choose another --output\n")
        );
    }
    // The same through KETASCREEN_RULES.
    let run = ks([
        "batch",
        input.as_str(),
        "--output",
        hard.to_str().expect("utf8"),
    ])
    .env("KETASCREEN_RULES", &rules)
    .run();
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(std::fs::read_to_string(&rules).expect("reads"), rules_text);
}

// Broke: `man --dir` wrote through a symlink and replaced existing pages.
#[test]
fn man_pages_never_replace_a_file_or_follow_a_symlink() {
    let dir = tempfile::tempdir().expect("tmp");
    let pages = dir.path().join("man");
    std::fs::create_dir(&pages).expect("mkdir");
    let victim = dir.path().join("victim");
    std::os::unix::fs::symlink(&victim, pages.join("ketascreen-check.1")).expect("symlink");
    let run = ks(["man", "--dir", "man"]).dir(dir.path()).run();
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "ketascreen: cannot write man pages to man: ketascreen-check.1 already exists there and would be replaced; remove the old pages or choose an empty directory\n"
    );
    assert!(!victim.exists(), "nothing written through the symlink");
    assert_eq!(
        std::fs::read_dir(&pages).expect("dir").count(),
        1,
        "nothing written at all"
    );
    std::fs::remove_file(pages.join("ketascreen-check.1")).expect("rm");
    let run = ks(["man", "--dir", "man"]).dir(dir.path()).run();
    assert_eq!(run.code, 0, "{run:?}");
    let fresh = tempfile::tempdir().expect("tmp");
    let run = ks(["man", "--dir", "."]).dir(fresh.path()).run();
    assert_eq!(run.code, 0, "{run:?}");
    let count = |d: &std::path::Path| std::fs::read_dir(d).expect("dir").count();
    assert_eq!(
        count(&pages),
        count(fresh.path()),
        "every page, once the name is free"
    );
    assert!(pages.join("ketascreen-check.1").is_file() && pages.join("ketascreen.1").is_file());
}

// Broke: ids such as `=HYPERLINK(...)`, `+cmd|...`, `@SUM(1)` were written to CSV as they
// were, for a spreadsheet to run.
#[test]
fn csv_cells_a_spreadsheet_would_run_get_a_leading_quote() {
    let run = ks(["batch", "-", "--format", "csv"])
        .stdin("id,systolic_bp\n\"=HYPERLINK(\"\"http://x\"\",\"\"click\"\")\",120\n+cmd|' /C calc'!A0,120\n@SUM(1),120\n-12,120\n\"\tP\",120\nP-1,120\n")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let ids: Vec<&str> = run
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap_or(""))
        .collect();
    assert!(
        run.stdout.lines().nth(1).unwrap_or("").starts_with(
            "1,\"'=HYPERLINK(\"\"http://x\"\",\"\"click\"\")\",incomplete,false,,age_years;"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(
        ids[1..],
        ["'+cmd|' /C calc'!A0", "'@SUM(1)", "-12", "P", "P-1"]
    );
    // (The id "\tP" is trimmed as every id is; a cell of errors or a ruleset id starting with
    // a tab would get the quote too: see the unit test in `output::csv`.)
    // `check --format csv` writes through the same rule; JSON keeps the id as it was.
    let run = ks(["check", "-", "--format", "csv"])
        .stdin(r#"{"id": "@SUM(1)"}"#)
        .run();
    assert!(
        run.stdout
            .lines()
            .nth(1)
            .unwrap_or("")
            .starts_with(",'@SUM(1),incomplete,"),
        "{}",
        run.stdout
    );
    let (_, doc) = ks(["check", "-"]).stdin(r#"{"id": "@SUM(1)"}"#).json();
    assert_eq!(doc["id"], "@SUM(1)");
}

/// An exact decimal for comparisons, independent of the code under test: sign, then the
/// digits in fixed point with 400 places on either side of the point.
fn fixed(written: &str) -> (bool, String) {
    let (neg, rest) = match written.as_bytes().first() {
        Some(b'-') => (true, &written[1..]),
        Some(b'+') => (false, &written[1..]),
        _ => (false, written),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().expect("exponent")),
        None => (rest, 0),
    };
    let (whole, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{frac}");
    // Digit i has weight 10^(whole.len() - 1 - i + exp); weight w goes in cell 399 - w.
    let mut cells = vec![b'0'; 800];
    for (i, d) in digits.bytes().enumerate() {
        let weight = whole.len() as i64 - 1 - i as i64 + exp;
        let cell = 399 - weight;
        if (0..800).contains(&cell) {
            cells[cell as usize] = d;
        }
    }
    let text = String::from_utf8(cells).expect("digits");
    let zero = text.bytes().all(|b| b == b'0');
    (neg && !zero, text)
}

/// `a` compared with `b`, both written decimals, exactly.
fn exact_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let ((na, da), (nb, db)) = (fixed(a), fixed(b));
    match (na, nb) {
        (false, true) => std::cmp::Ordering::Greater,
        (true, false) => std::cmp::Ordering::Less,
        (false, false) => da.cmp(&db),
        (true, true) => db.cmp(&da),
    }
}

fn decimal_text() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["", "-", "+"]),
        "[0-9]{1,22}",
        prop::option::of("[0-9]{0,22}"),
        prop::option::of(-30i32..30),
    )
        .prop_map(|(sign, whole, frac, exp)| {
            let mut s = format!("{sign}{whole}");
            if let Some(f) = frac {
                s.push('.');
                s.push_str(&f);
            }
            if let Some(e) = exp {
                s.push_str(&format!("e{e}"));
            }
            s
        })
}

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    // The class behind "17.99999999999999999 became 18": whatever is written, a number is
    // accepted only if it is exactly the value decided on, and a bound is applied to the
    // written value, never to a rounding of it.
    #[test]
    fn a_number_is_accepted_only_as_written_and_bounds_hold_exactly(
        written in decimal_text(),
        bound_whole in 0u32..200,
        bound_frac in prop::option::of(0u32..100),
    ) {
        let bound = match bound_frac {
            Some(f) => format!("{bound_whole}.{f:02}"),
            None => bound_whole.to_string(),
        };
        let rules = format!(
            "ruleset: {{id: p, version: 1, title: P, sources: {{s: S}}}}\nquestions:\n  - {{id: x, section: S, text: X?, type: number, min: {bound}}}\n  - {{id: n, section: S, text: N?, type: integer, min: {bound_whole}}}\nrules:\n  - {{id: r, severity: review, when: x > 1 or n > 1, message: m, source: s}}\n"
        );
        let rs = ketascreen::ruleset::load_str(&rules, "p.yaml").expect("loads");
        match ketascreen::answers::parse_text(&rs.questions[0], &written) {
            Ok(Some(ketascreen::answers::Value::Number(x))) => {
                prop_assert_eq!(exact_cmp(&format!("{x:e}"), &written), std::cmp::Ordering::Equal, "{} read as {}", written, x);
                prop_assert_ne!(exact_cmp(&written, &bound), std::cmp::Ordering::Less, "{} is below {}", written, bound);
            }
            Ok(other) => prop_assert!(false, "{} read as {:?}", written, other),
            Err(e) => prop_assert!(
                e.message.contains("more digits than can be compared exactly")
                    || (e.message.contains("out of range") && exact_cmp(&written, &bound) == std::cmp::Ordering::Less)
                    || e.message == "expected a number greater than or equal to 0",
                "{} refused: {}", written, e.message
            ),
        }
        match ketascreen::answers::parse_text(&rs.questions[1], &written) {
            Ok(Some(ketascreen::answers::Value::Integer(n))) => {
                prop_assert_eq!(exact_cmp(&n.to_string(), &written), std::cmp::Ordering::Equal, "{} read as {}", written, n);
                prop_assert!(n >= i64::from(bound_whole));
            }
            Ok(other) => prop_assert!(false, "{} read as {:?}", written, other),
            Err(_) => {}
        }
    }
}

#[test]
fn the_exact_decimal_oracle_tells_rounding_apart() {
    use std::cmp::Ordering::*;
    assert_eq!(exact_cmp("17.99999999999999999", "18"), Less);
    assert_eq!(exact_cmp("1.8e1", "18.000"), Equal);
    assert_eq!(exact_cmp("-0.0", "0"), Equal);
    assert_eq!(exact_cmp("-1e-30", "0"), Less);
    assert_eq!(exact_cmp("180e-1", "17.99"), Greater);
}

/// Every row read back by the batch's CSV reader: (cells, malformed), and how many empty rows
/// it skipped.
fn read_back(csv: &[u8]) -> (Vec<(Vec<String>, bool)>, u64) {
    use ketascreen::batch::reader::RowReader;
    let mut reader = RowReader::new(csv, b',');
    let mut record = csv::ByteRecord::new();
    reader.read_header(&mut record).expect("header");
    let mut rows = Vec::new();
    while let Some(info) = reader.read_row(&mut record).expect("rows") {
        let cells = record
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        rows.push((cells, info.malformed.is_some()));
    }
    (rows, reader.empty_rows().count)
}

fn header(width: usize) -> String {
    let names: Vec<String> = (0..width).map(|i| format!("c{i}")).collect();
    names.join(",") + "\n"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    // Any well-formed CSV (cells with quotes, commas, line breaks, written as CSV writes them)
    // reads back row for row, none taken as malformed — a note over several lines included.
    // (Its notes over several lines hold no delimiter here: with them, each line can read as
    // a row of its own, which the reader takes as a stray quote at work, by design.)
    #[test]
    fn well_formed_csv_reads_back_row_for_row(
        width in 2usize..6,
        cells in prop::collection::vec(prop::collection::vec(prop_oneof!["[a-z \"]{0,6}(,[a-z \"]{0,4})?", "[a-z \"]{0,6}(\r?\n[a-z \"]{0,6}){1,2}"], 5), 1..15),
    ) {
        let mut writer = csv::Writer::from_writer(header(width).into_bytes());
        let mut rows = Vec::new();
        for (i, row) in cells.iter().enumerate() {
            let mut row: Vec<String> = row[..width - 1].to_vec();
            row.insert(0, format!("P{i}"));
            writer.write_record(&row).expect("writes");
            rows.push(row);
        }
        let bytes = writer.into_inner().expect("flushes");
        let (read, empty) = read_back(&bytes);
        prop_assert_eq!(empty, 0);
        let expected: Vec<(Vec<String>, bool)> = rows.into_iter().map(|r| (r, false)).collect();
        prop_assert_eq!(read, expected);
    }

    // The class behind "a stray quote swallows patients": stray quotes anywhere at the start
    // of a cell (and an unclosed one at the end). Every patient's id comes back exactly once,
    // in order, and a row read as clean with all its cells is exactly the row written.
    #[test]
    fn stray_quotes_never_lose_a_patient_or_pass_another_rows_cells_as_clean(
        width in 2usize..6,
        cells in prop::collection::vec(prop::collection::vec("[a-z]{0,5}", 5), 1..15),
        quotes in prop::collection::vec((0usize..15, 1usize..5), 1..4),
        crlf in any::<bool>(),
        final_newline in any::<bool>(),
    ) {
        let mut lines = Vec::new();
        let mut originals = Vec::new();
        for (i, row) in cells.iter().enumerate() {
            let mut row: Vec<String> = row[..width - 1].to_vec();
            row.insert(0, format!("P{i}"));
            originals.push(row.clone());
            lines.push(row);
        }
        let mut touched = vec![false; lines.len()];
        for &(r, c) in &quotes {
            if r < lines.len() && c < width {
                lines[r][c].insert(0, '"');
                touched[r] = true;
            }
        }
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut text = header(width).replace('\n', eol);
        let body: Vec<String> = lines.iter().map(|l| l.join(",")).collect();
        text.push_str(&body.join(eol));
        if final_newline {
            text.push_str(eol);
        }
        let (read, empty) = read_back(text.as_bytes());
        prop_assert_eq!(empty, 0);
        let ids: Vec<&str> = read.iter().map(|(cells, _)| cells.first().map_or("", String::as_str).trim_start_matches('"')).collect();
        let expected: Vec<String> = (0..lines.len()).map(|i| format!("P{i}")).collect();
        prop_assert_eq!(ids, expected, "{:?} -> {:?}", text, read);
        for (i, (cells, malformed)) in read.iter().enumerate() {
            if !malformed && cells.len() == width && !touched[i] {
                prop_assert_eq!(cells, &originals[i]);
            }
            if !malformed && cells.len() == width && touched[i] {
                // A quote that took effect could only have shifted cells: never silently.
                let unquoted: Vec<String> = lines[i].iter().map(|c| c.trim_start_matches('"').to_string()).collect();
                prop_assert_eq!(cells, &unquoted, "{:?} -> {:?}", text, read);
            }
        }
    }
}

/// A ruleset of two exclusions, for short exact batch output.
const TWO_EXCLUSIONS: &str = "ruleset: {id: two, version: 1, title: Two, sources: {s: S}}\nquestions:\n  - {id: aneurysm, section: S, text: A?, type: yes_no}\n  - {id: mania, section: S, text: M?, type: yes_no}\nrules:\n  - {id: aneurysm, severity: exclude, when: aneurysm, message: a, source: s}\n  - {id: mania, severity: exclude, when: mania, message: m, source: s}\n";

fn batch_two(csv: &[u8]) -> crate::support::Run {
    let dir = tempfile::tempdir().expect("tmp");
    let rules = write(&dir, "two.yaml", TWO_EXCLUSIONS);
    let input = write(&dir, "in.csv", csv);
    ks([
        "--rules",
        rules.as_str(),
        "batch",
        input.as_str(),
        "--format",
        "csv",
    ])
    .run()
}

// Broke: an opening quote in the ignored Name column merged the next line into that cell: the
// next patient vanished, and the patient with the stray quote — aneurysm and mania — was
// screened on the next patient's cells and came out eligible, exit 0, no error.
#[test]
fn a_stray_quote_never_swallows_a_patient_or_passes_as_clean() {
    let run = batch_two(
        b"id,Name,aneurysm,mania\nP1,\"Smith,yes,yes\nP2,\"Jones\",no,no\nP3,Lee,no,no\n",
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "row,id,verdict,urgent,reasons,missing,errors,ruleset,urgent_undecided,ignored,exclude,review,note,error_count\n\
         1,P1,incomplete,false,,aneurysm;mania,\"(row): line 2: a quoted cell runs over its line break into what reads as another row (line 3); none of this row's answers were read, and the lines after its first are read again as rows of their own\",two@1,false,,,,,1\n\
         2,P2,eligible,false,,,,two@1,false,,,,,0\n\
         3,P3,eligible,false,,,,two@1,false,,,,,0\n"
    );
    // A quote never closed: the rest of the file is not one cell.
    let run =
        batch_two(b"id,Name,aneurysm,mania\nP1,\"Smith,yes,yes\nP2,Jones,no,no\nP3,Lee,yes,no");
    assert_eq!(
        run.stdout,
        "row,id,verdict,urgent,reasons,missing,errors,ruleset,urgent_undecided,ignored,exclude,review,note,error_count\n\
         1,P1,incomplete,false,,aneurysm;mania,\"(row): line 2: a quote opened in this row is never closed: its cell runs on to the end of the file (line 4); none of this row's answers were read, and the lines after its first are read again as rows of their own\",two@1,false,,,,,1\n\
         2,P2,eligible,false,,,,two@1,false,,,,,0\n\
         3,P3,ineligible,false,aneurysm,,,two@1,false,,aneurysm,,,0\n"
    );
    // A note that really spans lines stays one cell.
    let run =
        batch_two(b"id,Note,aneurysm,mania\nP1,\"called twice,\nno answer\",yes,no\nP2,,no,no\n");
    assert_eq!(
        run.stdout,
        "row,id,verdict,urgent,reasons,missing,errors,ruleset,urgent_undecided,ignored,exclude,review,note,error_count\n\
         1,P1,ineligible,false,aneurysm,,,two@1,false,,aneurysm,,,0\n\
         2,P2,eligible,false,,,,two@1,false,,,,,0\n"
    );
}

// Broke: an unterminated quote at the end swallowed the rest of the file (1.3M rows -> 1
// record, 725 MB of memory). Memory stays bounded: the cell is cut after 1 MiB, and every line
// after it is a row again.
#[test]
fn an_unterminated_quote_before_many_rows_keeps_every_row() {
    let mut csv = b"id,Name,aneurysm,mania\nP0,\"runaway,no,no\n".to_vec();
    for i in 1..=60_000 {
        csv.extend_from_slice(format!("P{i},name {i},no,no\n").as_bytes());
    }
    let run = batch_two(&csv);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows: Vec<&str> = run.stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 60_001);
    assert!(rows[0].starts_with("1,P0,incomplete,false,,aneurysm;mania,\"(row): line 2: a quoted cell runs on for more than 1 MiB (from line 2 to line "), "{}", rows[0]);
    assert_eq!(rows[1], "2,P1,eligible,false,,,,two@1,false,,,,,0");
    assert_eq!(
        rows[60_000],
        "60001,P60000,eligible,false,,,,two@1,false,,,,,0"
    );
}

// Broke: a UTF-16 file screened as garbage with every column ignored.
#[test]
fn utf16_input_is_named_not_screened_as_garbage() {
    let text = "id,aneurysm,mania\nP1,yes,no\n";
    // With its byte-order mark, UTF-16 is read as the text it is (the input layer decodes it).
    let mut le = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let run = batch_two(&le);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.lines().nth(1),
        Some("1,P1,ineligible,false,aneurysm,,,two@1,false,,aneurysm,,,0")
    );
    // Without one, it is named, never screened as garbage.
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let run = batch_two(&be);
    assert_ne!(run.code, 0);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("UTF-16"), "{}", run.stderr);
}

// Broke: blank lines and all-empty rows vanished without a word (a one-column file lost them
// silently).
#[test]
fn blank_lines_and_empty_rows_are_counted_and_named() {
    let run = batch_two(b"id,aneurysm,mania\nP1,no,no\n\n,,\n  ,\t,\nP2,yes,no\n\n");
    assert_eq!(
        run.stdout,
        "row,id,verdict,urgent,reasons,missing,errors,ruleset,urgent_undecided,ignored,exclude,review,note,error_count\n1,P1,eligible,false,,,,two@1,false,,,,,0\n2,P2,ineligible,false,aneurysm,,,two@1,false,,aneurysm,,,0\n"
    );
    assert!(
        run.stderr.contains("ketascreen: note: 4 empty rows skipped (blank or every cell empty: not patients): lines 3, 4, 5, 7\n"),
        "{}",
        run.stderr
    );
    let run = ks(["batch", "-", "--format", "csv"])
        .stdin("age_years\n40\n\n\n41\n")
        .run();
    assert_eq!(run.stdout.lines().count(), 3);
    assert!(
        run.stderr.contains("ketascreen: note: 2 empty rows skipped (blank or every cell empty: not patients): lines 3, 4\n"),
        "{}",
        run.stderr
    );
}
