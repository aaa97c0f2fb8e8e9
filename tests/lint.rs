//! `ketascreen rules lint`: located errors with "did you mean", exactly as printed — each a
//! copy of the default ruleset with one mistake, named `clinic.yaml` — and the deeper lint:
//! warnings, `--deny-warnings`, `--format json`, and a built-in ruleset with no warnings.

use ketascreen::ruleset::BUILTIN_TEXT;

use crate::support::{ks, Run};

/// The default ruleset with `from` replaced by `to` (exactly once).
fn edited(from: &str, to: &str) -> String {
    assert_eq!(
        BUILTIN_TEXT.matches(from).count(),
        1,
        "'{from}' should occur once in the default ruleset"
    );
    BUILTIN_TEXT.replacen(from, to, 1)
}

/// Runs `ketascreen rules lint clinic.yaml [ARGS]` on `text`.
fn lint(text: &str, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("clinic.yaml"), text).expect("written");
    let mut all = vec!["rules", "lint", "clinic.yaml"];
    all.extend_from_slice(args);
    ks(all).dir(dir.path()).run()
}

/// The 1-based line of the (only) line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    let hits: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(hits.len(), 1, "'{needle}' should be on exactly one line");
    hits[0]
}

/// A located diagnostic as printed: headline, then the line with carets under the culprit.
fn located(line: usize, column: usize, message: &str, source: &str, width: usize) -> String {
    let pad = " ".repeat(line.to_string().len());
    format!(
        "clinic.yaml:{line}:{column}: {message}\n {pad} |\n {line} | {source}\n {pad} | {}{}\n",
        " ".repeat(column - 1),
        "^".repeat(width)
    )
}

#[test]
fn unknown_question_in_a_condition_with_did_you_mean() {
    let text = edited(
        "when: systolic_bp >= 180 or diastolic_bp >= 110",
        "when: systolic_bpp >= 180 or diastolic_bp >= 110",
    );
    let run = lint(&text, &[]);
    assert_eq!(run.code, 1);
    let line = line_of(&text, "systolic_bpp");
    assert_eq!(
        run.stdout,
        located(
            line,
            11,
            "unknown question 'systolic_bpp' in rule 'severe_hypertension' (did you mean 'systolic_bp'?)",
            "    when: systolic_bpp >= 180 or diastolic_bp >= 110",
            12
        ) + "clinic.yaml: 1 error\n"
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn the_same_error_when_the_ruleset_is_used_by_check() {
    let text = edited(
        "when: systolic_bp >= 180 or diastolic_bp >= 110",
        "when: systolic_bpp >= 180 or diastolic_bp >= 110",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("clinic.yaml"), &text).expect("written");
    let run = ks(["--rules", "clinic.yaml", "check", "-"])
        .stdin("{}")
        .dir(dir.path())
        .run();
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    let line = line_of(&text, "systolic_bpp");
    assert_eq!(
        run.stderr,
        format!(
            "ketascreen: {}clinic.yaml: 1 error found; the ruleset was not loaded\n",
            located(
                line,
                11,
                "unknown question 'systolic_bpp' in rule 'severe_hypertension' (did you mean 'systolic_bp'?)",
                "    when: systolic_bpp >= 180 or diastolic_bp >= 110",
                12
            )
        )
    );
}

#[test]
fn unknown_option_with_did_you_mean() {
    let text = edited(
        "when: substance_use_disorder == current",
        "when: substance_use_disorder == curent",
    );
    let run = lint(&text, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        located(
            line_of(&text, "== curent"),
            37,
            "unknown option 'curent' for choice question 'substance_use_disorder' in rule 'active_substance_use_disorder' (did you mean 'current'?)",
            "    when: substance_use_disorder == curent",
            6
        ) + "clinic.yaml: 1 error\n"
    );
}

#[test]
fn yes_no_question_compared_with_a_number() {
    let text = edited(
        "    when: current_mania\n",
        "    when: current_mania == 1\n",
    );
    let run = lint(&text, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        located(
            line_of(&text, "current_mania == 1"),
            28,
            "cannot compare yes/no question 'current_mania' with a number (use yes or no) in rule 'current_mania'",
            "    when: current_mania == 1",
            1
        ) + "clinic.yaml: 1 error\n"
    );
}

#[test]
fn ordering_a_choice_question() {
    let text = edited(
        "when: primary_diagnosis == other",
        "when: primary_diagnosis < other",
    );
    let run = lint(&text, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        located(
            line_of(&text, "primary_diagnosis < other"),
            29,
            "'<' does not apply to choice question 'primary_diagnosis' (use ==, != or in) in rule 'diagnosis_outside_indication'",
            "    when: primary_diagnosis < other",
            1
        ) + "clinic.yaml: 1 error\n"
    );
}

#[test]
fn unknown_source_with_did_you_mean() {
    let text = edited(
        "    when: glaucoma\n    message: \"Untreated glaucoma, raised eye pressure, a penetrating eye injury or planned eye surgery: refer to the prescriber (ketamine may raise eye pressure).\"\n    source: trial-criteria\n",
        "    when: glaucoma\n    message: \"Untreated glaucoma, raised eye pressure, a penetrating eye injury or planned eye surgery: refer to the prescriber (ketamine may raise eye pressure).\"\n    source: trial-critera\n",
    );
    let run = lint(&text, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        located(
            line_of(&text, "trial-critera"),
            13,
            "unknown source 'trial-critera' in rule 'glaucoma' (did you mean 'trial-criteria'?)",
            "    source: trial-critera",
            13
        ) + "clinic.yaml: 1 error\n"
    );
}

#[test]
fn unused_source() {
    let text = edited(
        "  sources:\n",
        "  sources:\n    old-guideline: \"An old guideline no rule cites.\"\n",
    );
    let run = lint(&text, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        located(
            line_of(&text, "old-guideline"),
            5,
            "source 'old-guideline' is not cited by any rule",
            "    old-guideline: \"An old guideline no rule cites.\"",
            13
        ) + "clinic.yaml: 1 error\n"
    );
}

#[test]
fn ask_if_cycle() {
    let text = edited(
        "  - id: current_psychosis\n    section: Psychiatric\n",
        "  - id: current_psychosis\n    section: Psychiatric\n    ask_if: psychosis_history == no\n",
    );
    let run = lint(&text, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        located(
            line_of(&text, "ask_if: current_psychosis == no"),
            13,
            "ask_if cycle: current_psychosis -> psychosis_history -> current_psychosis",
            "    ask_if: current_psychosis == no",
            1
        ) + "clinic.yaml: 1 error\n"
    );
}

#[test]
fn duplicate_rule_id() {
    let text = edited(
        "  - id: glaucoma\n    severity: review\n",
        "  - id: glaucoma\n    severity: review\n    when: glaucoma\n    message: Glaucoma.\n    source: trial-criteria\n\n  - id: glaucoma\n    severity: review\n",
    );
    let run = lint(&text, &[]);
    assert_eq!(run.code, 1);
    let second = text
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "  - id: glaucoma")
        .map(|(i, _)| i + 1)
        .nth(2)
        .expect("a question and two rules named glaucoma");
    let first_index = BUILTIN_TEXT
        .split("\nrules:\n")
        .nth(1)
        .expect("rules")
        .lines()
        .filter(|l| l.starts_with("  - id: "))
        .position(|l| l == "  - id: glaucoma")
        .expect("glaucoma rule")
        + 1;
    assert_eq!(
        run.stdout,
        located(
            second,
            9,
            &format!("duplicate rule id 'glaucoma' (first defined as rule {first_index})"),
            "  - id: glaucoma",
            1
        ) + "clinic.yaml: 1 error\n"
    );
}

#[test]
fn unknown_yaml_field_with_did_you_mean() {
    let text = edited(
        "  - id: glaucoma\n    severity: review\n",
        "  - id: glaucoma\n    severty: review\n",
    );
    let run = lint(&text, &[]);
    assert_eq!(run.code, 1);
    let index = BUILTIN_TEXT
        .split("\nrules:\n")
        .nth(1)
        .expect("rules")
        .lines()
        .filter(|l| l.starts_with("  - id: "))
        .position(|l| l == "  - id: glaucoma")
        .expect("glaucoma rule");
    assert_eq!(
        run.stdout,
        located(
            line_of(&text, "severty: review"),
            5,
            &format!("rules[{index}]: unknown field `severty`, expected one of `id`, `severity`, `urgent`, `when`, `message`, `source` (did you mean 'severity'?)"),
            "    severty: review",
            1
        ) + "clinic.yaml: 1 error\n"
    );
}

#[test]
fn condition_parse_error_at_its_column() {
    let text = edited(
        "when: systolic_bp >= 180 or diastolic_bp >= 110",
        "when: systolic_bp >= 180 or or diastolic_bp >= 110",
    );
    let run = lint(&text, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        located(
            line_of(&text, "or or"),
            33,
            "expected a question id but found 'or' in rule 'severe_hypertension'",
            "    when: systolic_bp >= 180 or or diastolic_bp >= 110",
            2
        ) + "clinic.yaml: 1 error\n"
    );
}

// ------------------------------------------------------------------ warnings

#[test]
fn the_built_in_ruleset_lints_without_warnings() {
    let run = ks(["rules", "lint", "--deny-warnings"]).run();
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout,
        "rules/ketamine.yaml (built-in): ok (43 questions, 46 rules, 9 sources)\n"
    );
    let (_, warnings) = ketascreen::ruleset::lint_builtin().expect("loads");
    assert_eq!(warnings, vec![]);
    let run = ks([
        "rules",
        "lint",
        "examples/clinic-ruleset.yaml",
        "--deny-warnings",
    ])
    .run();
    assert_eq!(run.code, 0, "{run:?}");
}

/// The default ruleset with three things lint warns about.
fn with_warnings() -> String {
    // (Alone, `age_years < 0` would be an error: an exclude rule that can never fire.)
    let text = edited(
        "    when: age_years < 18\n",
        "    when: age_years < 0 or age_years < 18\n",
    );
    let text = text.replacen(
        "    when: phq9_total < 10\n",
        "    when: phq9_total < 10 or phq9_total <= 27\n",
        1,
    );
    // psychosis_history asked only if a later question says so; and a question no one reads.
    let text = text.replacen(
        "    ask_if: current_psychosis == no\n",
        "    ask_if: current_psychosis == no and intoxicated_today == no\n",
        1,
    );
    text.replacen(
        "  - id: glaucoma\n    section: Other medical\n",
        "  - id: eye_colour\n    section: Other medical\n    text: Eye colour?\n    type: yes_no\n\n  - id: glaucoma\n    section: Other medical\n",
        1,
    )
}

#[test]
fn warnings_are_located_and_do_not_fail_unless_denied() {
    let text = with_warnings();
    let run = lint(&text, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let expected = [
        located(
            line_of(&text, "intoxicated_today == no"),
            41,
            "warning: ask_if of question 'psychosis_history' reads 'intoxicated_today', which is asked later (move 'intoxicated_today' above 'psychosis_history')",
            "    ask_if: current_psychosis == no and intoxicated_today == no",
            17,
        ),
        located(
            line_of(&text, "id: eye_colour"),
            9,
            "warning: question 'eye_colour' is not read by any rule or ask_if: its answer never changes a verdict",
            "  - id: eye_colour",
            10,
        ),
        located(
            line_of(&text, "age_years < 0"),
            11,
            "warning: comparison 'age_years < 0' can never be true: 'age_years' is a whole number between 0 and 120 years in rule 'under_18'",
            "    when: age_years < 0 or age_years < 18",
            13,
        ),
        located(
            line_of(&text, "phq9_total <= 27"),
            30,
            "warning: comparison 'phq9_total <= 27' is always true when answered: 'phq9_total' is a whole number between 0 and 27 in rule 'below_moderate_severity'",
            "    when: phq9_total < 10 or phq9_total <= 27",
            16,
        ),
    ]
    .concat();
    assert_eq!(
        run.stdout,
        expected.clone() + "clinic.yaml: ok (44 questions, 46 rules, 9 sources), 4 warnings\n"
    );

    let denied = lint(&text, &["--deny-warnings"]);
    assert_eq!(denied.code, 1);
    assert_eq!(
        denied.stdout,
        expected + "clinic.yaml: 4 warnings, denied by --deny-warnings\n"
    );
}

#[test]
fn lint_json_is_an_array_of_located_diagnostics() {
    let text = with_warnings();
    let run = lint(&text, &["--format", "json"]);
    assert_eq!(run.code, 0);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        v[2],
        serde_json::json!({
            "level": "warning",
            "file": "clinic.yaml",
            "line": line_of(&text, "age_years < 0"),
            "column": 11,
            "message": "comparison 'age_years < 0' can never be true: 'age_years' is a whole number between 0 and 120 years in rule 'under_18'"
        })
    );
    assert_eq!(v.as_array().map(Vec::len), Some(4));
    let denied = lint(&text, &["--format", "json", "--deny-warnings"]);
    assert_eq!(denied.code, 1);

    let broken = edited(
        "when: systolic_bp >= 180 or diastolic_bp >= 110",
        "when: systolic_bpp >= 180 or diastolic_bp >= 110",
    );
    let run = lint(&broken, &["--format", "json"]);
    assert_eq!(run.code, 1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        v,
        serde_json::json!([{
            "level": "error",
            "file": "clinic.yaml",
            "line": line_of(&broken, "systolic_bpp"),
            "column": 11,
            "message": "unknown question 'systolic_bpp' in rule 'severe_hypertension' (did you mean 'systolic_bp'?)"
        }])
    );

    let clean = ks(["rules", "lint", "--format", "json"]).run();
    assert_eq!((clean.code, clean.stdout.as_str()), (0, "[]\n"));
}
