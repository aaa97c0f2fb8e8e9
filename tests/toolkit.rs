//! The clinician's rules toolkit: `rules test` (with coverage and a readable failure),
//! `check --explain`, `rules show`, `rules template`, lint warnings and JSON, completions and
//! the man page. Exact text, or checked-in snapshots under tests/snapshots/ (rewrite them with
//! `KETASCREEN_BLESS=1 cargo test` and review the diff).

use std::collections::BTreeSet;

use clap::CommandFactory;
use ketascreen::cases;
use ketascreen::cli::Cli;
use ketascreen::engine;
use ketascreen::expr::trace;
use ketascreen::ruleset::{self, Ruleset};
use ketascreen::toolkit::testing::{BUILTIN_CASES, BUILTIN_CASES_NAME};

use crate::support::{ks, path};

const MINI: &str = "tests/fixtures/mini.yaml";

/// Compares with a checked-in snapshot (or writes it under KETASCREEN_BLESS).
fn snapshot(name: &str, actual: &str) {
    let file = path(&format!("tests/snapshots/{name}"));
    if std::env::var_os("KETASCREEN_BLESS").is_some() {
        std::fs::write(&file, actual).expect("snapshot written");
        return;
    }
    let expected = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (KETASCREEN_BLESS=1 writes it)", file.display()));
    assert_eq!(actual, expected, "output differs from {}", file.display());
}

fn builtin() -> Ruleset {
    ruleset::builtin().expect("built-in ruleset loads")
}

// ------------------------------------------------------------------ rules test

#[test]
fn rules_test_runs_the_built_in_cases_from_any_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = ks(["rules", "test"]).dir(dir.path()).run();
    assert_eq!(run.code, 0, "{run:?}");
    let n = cases::parse(BUILTIN_CASES, BUILTIN_CASES_NAME)
        .expect("parses")
        .cases
        .len();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0],
        format!("{n} cases from rules/ketamine.tests.yaml (built-in) against ruleset ketamine-default 2.0.0")
    );
    assert_eq!(lines[1], "pass  baseline is eligible");
    assert_eq!(lines.len(), n + 2);
    assert!(lines[1..=n].iter().all(|l| l.starts_with("pass  ")));
    assert_eq!(lines[n + 1], format!("{n} passed, 0 failed"));
    assert_eq!(run.stderr, "");
}

#[test]
fn the_embedded_cases_are_the_file_in_rules() {
    let on_disk = std::fs::read_to_string(path("rules/ketamine.tests.yaml")).expect("readable");
    assert_eq!(on_disk, BUILTIN_CASES);
}

#[test]
fn rules_test_defaults_to_the_sibling_case_file_of_rules() {
    let run = ks(["rules", "test", "--rules", MINI]).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "7 cases from tests/fixtures/mini.tests.yaml against ruleset mini 0.1.0\n\
         pass  baseline is eligible\n\
         pass  age 17 is ineligible\n\
         pass  systolic 141 is urgent review\n\
         pass  systolic 141 at 80 is eligible\n\
         pass  pregnant is ineligible\n\
         pass  not applicable skips breastfeeding\n\
         pass  breastfeeding is a note\n\
         7 passed, 0 failed\n"
    );
}

#[test]
fn rules_test_follows_ketascreen_rules_too() {
    let run = ks(["rules", "test", "-q"])
        .env("KETASCREEN_RULES", MINI)
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "7 cases from tests/fixtures/mini.tests.yaml against ruleset mini 0.1.0\n7 passed, 0 failed\n"
    );
}

#[test]
fn rules_test_without_a_sibling_case_file_says_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(path(MINI), dir.path().join("clinic.yaml")).expect("copied");
    let run = ks(["rules", "test", "--rules", "clinic.yaml"])
        .dir(dir.path())
        .run();
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "ketascreen: no CASES given, and clinic.tests.yaml (next to the ruleset) does not exist: name the case files\n"
    );
}

const WRONG: &str = "\
defaults:
  age_years: 40
  systolic_bp: 120
  pregnancy_status: not_pregnant
  breastfeeding: no
cases:
  - name: baseline is eligible
    verdict: eligible
    fired: []
  - name: systolic 141 wrongly expected eligible
    answers: {systolic_bp: 141, pregnancy_status: not_applicable}
    verdict: eligible
    fired: [breastfeeding]
    urgent: false
  - name: missing mismatch
    answers: {systolic_bp: null, age_years: null}
    verdict: incomplete
    fired: []
    missing: [systolic_bp]
";

#[test]
fn a_wrong_case_fails_with_expected_actual_and_what_each_rule_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("wrong.tests.yaml"), WRONG).expect("written");
    let run = ks([
        "rules",
        "test",
        "--rules",
        path(MINI).to_str().expect("utf-8 path"),
        "wrong.tests.yaml",
    ])
    .dir(dir.path())
    .run();
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "\
3 cases from wrong.tests.yaml against ruleset mini 0.1.0
pass  baseline is eligible
FAIL  systolic 141 wrongly expected eligible  (wrong.tests.yaml:10)
      verdict: expected eligible, got review
      fired: expected but not found: breastfeeding; found but not expected: high_bp
      urgent: expected false, got true
      what the involved rules read:
        high_bp (review, urgent): fired (not expected to fire)
          read: systolic_bp = 141, age_years = 40
          and → true
            systolic_bp (141) > 140 → true
            not → true
              age_years (40) >= 80 → false
        breastfeeding (note): not fired (expected to fire)
          read: breastfeeding = skipped
          breastfeeding (skipped) == yes → false
          breastfeeding was skipped (asked only if pregnancy_status != not_applicable, which is false): a skipped question is not applicable, equals no value, and never counts as unanswered
FAIL  missing mismatch  (wrong.tests.yaml:15)
      missing: found but not expected: age_years
      what the involved rules read:
        under_18 (exclude): undecided, needs age_years (not expected to fire)
          read: age_years = unanswered
          age_years (unanswered) < 18 → unknown
        high_bp (review, urgent): undecided, needs systolic_bp, age_years (not expected to fire)
          read: systolic_bp = unanswered, age_years = unanswered
          and → unknown
            systolic_bp (unanswered) > 140 → unknown
            not → unknown
              age_years (unanswered) >= 80 → unknown
1 passed, 2 failed
"
    );
    // --quiet keeps only the failures and the summary.
    let quiet = ks([
        "rules",
        "test",
        "-q",
        "--rules",
        path(MINI).to_str().expect("utf-8 path"),
        "wrong.tests.yaml",
    ])
    .dir(dir.path())
    .run();
    assert_eq!(quiet.code, 1);
    assert!(!quiet.stdout.contains("pass  "));
    assert!(quiet.stdout.ends_with("1 passed, 2 failed\n"));
}

#[test]
fn a_malformed_case_file_is_reported_at_its_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("bad.tests.yaml"),
        "cases:\n  - name: a\n    verdict: eligible\n    fired: []\n  - name: a\n    verdict: eligible\n    fired: []\n",
    )
    .expect("written");
    std::fs::write(
        dir.path().join("typo.tests.yaml"),
        "cases:\n  - name: a\n    verdict: eligible\n    fird: []\n",
    )
    .expect("written");
    let run = ks(["rules", "test", "bad.tests.yaml"])
        .dir(dir.path())
        .run();
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "ketascreen: bad.tests.yaml:5:11: duplicate case name 'a'\n"
    );
    let run = ks(["rules", "test", "typo.tests.yaml"])
        .dir(dir.path())
        .run();
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "ketascreen: typo.tests.yaml:4:5: cases[0]: unknown field `fird`, expected one of `name`, `answers`, `verdict`, `fired`, `urgent`, `urgent_undecided`, `missing`, `ignored`\n"
    );
}

#[test]
fn coverage_of_the_shipped_cases_has_no_gaps() {
    let run = ks(["rules", "test", "--coverage", "--fail-under", "100", "-q"]).run();
    assert_eq!(run.code, 0, "{run:?}");
    let rs = builtin();
    let decisive = rs
        .rules
        .iter()
        .filter(|r| r.severity != ruleset::Severity::Note)
        .count();
    assert!(run.stdout.contains("\nGaps: none\n"), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!(
            "\nCoverage: {0} of {0} rule outcomes (100.0%)\n",
            decisive * 3
        )),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("\n  severe_hypertension            exclude       6        117          8\n"));
}

#[test]
fn coverage_lists_gaps_and_fail_under_fails_ci() {
    let run = ks(["rules", "test", "--rules", MINI, "--coverage"]).run();
    assert_eq!(run.code, 0, "gaps alone do not fail: {run:?}");
    let report = "
Coverage of exclude and review rules (number of passing cases per outcome):
  rule       severity  fired  not fired  undecided
  under_18   exclude       1          6          0
  high_bp    review        1          6          0
  pregnancy  exclude       1          6          0
Gaps (3):
  under_18: never undecided
  high_bp: never undecided
  pregnancy: never undecided
Coverage: 6 of 9 rule outcomes (66.7%)
7 passed, 0 failed
";
    assert!(run.stdout.ends_with(report), "{}", run.stdout);

    let run = ks(["rules", "test", "--rules", MINI, "--fail-under", "90"]).run();
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.ends_with(report),
        "--fail-under implies --coverage"
    );
    assert_eq!(
        run.stderr,
        "ketascreen: coverage 66.7% is below --fail-under 90%\n"
    );
    let run = ks(["rules", "test", "--rules", MINI, "--fail-under", "60"]).run();
    assert_eq!(run.code, 0);

    let run = ks(["rules", "test", "--fail-under", "101"]).run();
    assert_eq!(run.code, 2);
    assert!(run
        .stderr
        .contains("'101' is not a percentage from 0 to 100"));
}

// ------------------------------------------------------------------ mutations

/// Every way a clinic might edit a threshold, an operator, a severity or an urgent flag in the
/// default ruleset, as (what was changed, the mutated text).
fn mutants(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let rules_at = lines
        .iter()
        .position(|l| *l == "rules:")
        .expect("a rules: section");
    let rebuild = |i: usize, new: &str| -> String {
        let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        out[i] = new.to_string();
        out.join("\n") + "\n"
    };
    let mut out = Vec::new();
    let mut rule_id = String::new();
    for (i, line) in lines.iter().enumerate().skip(rules_at) {
        if let Some(id) = line.strip_prefix("  - id: ") {
            rule_id = id.to_string();
            // Flip urgent: add `urgent: true` where the rule has no urgent line.
            let has_urgent = lines[i + 1..]
                .iter()
                .take_while(|l| !l.starts_with("  - id: "))
                .any(|l| l.starts_with("    urgent: "));
            if !has_urgent {
                out.push((
                    format!("{rule_id}: urgent added"),
                    rebuild(i, &format!("{line}\n    urgent: true")),
                ));
            }
        }
        if let Some(value) = line.strip_prefix("    urgent: ") {
            let flipped = if value == "true" { "false" } else { "true" };
            out.push((
                format!("{rule_id}: urgent {value} -> {flipped}"),
                rebuild(i, &format!("    urgent: {flipped}")),
            ));
        }
        if let Some(severity) = line.strip_prefix("    severity: ") {
            for other in ["exclude", "review", "note"] {
                if other != severity {
                    out.push((
                        format!("{rule_id}: severity {severity} -> {other}"),
                        rebuild(i, &format!("    severity: {other}")),
                    ));
                }
            }
        }
        if let Some(cond) = line.strip_prefix("    when: ") {
            let bytes = cond.as_bytes();
            let mut j = 0;
            while j < bytes.len() {
                let starts_number = bytes[j].is_ascii_digit()
                    && (j == 0 || !(bytes[j - 1].is_ascii_alphanumeric() || bytes[j - 1] == b'_'));
                if starts_number {
                    let end = (j..bytes.len())
                        .find(|&k| !bytes[k].is_ascii_digit())
                        .unwrap_or(bytes.len());
                    let n: i64 = cond[j..end].parse().expect("a whole number");
                    for m in [n - 1, n + 1] {
                        let new = format!("{}{m}{}", &cond[..j], &cond[end..]);
                        out.push((
                            format!("{rule_id}: {cond} -> {new}"),
                            rebuild(i, &format!("    when: {new}")),
                        ));
                    }
                    j = end;
                } else {
                    j += 1;
                }
            }
            for (from, to) in [
                (" >= ", " > "),
                (" > ", " >= "),
                (" <= ", " < "),
                (" < ", " <= "),
                (" == ", " != "),
            ] {
                let mut at = 0;
                while let Some(k) = cond[at..].find(from) {
                    let k = at + k;
                    let new = format!("{}{to}{}", &cond[..k], &cond[k + from.len()..]);
                    out.push((
                        format!("{rule_id}: {cond} -> {new}"),
                        rebuild(i, &format!("    when: {new}")),
                    ));
                    at = k + from.len();
                }
            }
        }
    }
    out
}

#[test]
fn every_threshold_operator_severity_and_urgent_change_fails_a_shipped_case() {
    let file = cases::parse(BUILTIN_CASES, BUILTIN_CASES_NAME).expect("parses");
    let mutants = mutants(ruleset::BUILTIN_TEXT);
    assert!(mutants.len() >= 100, "{} mutants", mutants.len());
    assert!(mutants.iter().any(|(w, _)| w == "severe_hypertension: systolic_bp >= 180 or diastolic_bp >= 110 -> systolic_bp >= 181 or diastolic_bp >= 110"));
    assert!(mutants
        .iter()
        .any(|(w, _)| w == "acute_suicide_risk: severity review -> exclude"));
    let mut survivors = Vec::new();
    for (what, text) in &mutants {
        let rs = ruleset::load_str(text, "mutant.yaml")
            .unwrap_or_else(|e| panic!("{what}: mutant does not load: {e}"));
        if cases::run_all(&rs, &file).iter().all(|o| o.passed()) {
            survivors.push(what.clone());
        }
    }
    assert!(
        survivors.is_empty(),
        "{} of {} changes to the default ruleset pass every shipped case:\n  {}",
        survivors.len(),
        mutants.len(),
        survivors.join("\n  ")
    );
}

// ------------------------------------------------------------------ check --explain

#[test]
fn explain_agrees_with_eval_on_every_shipped_case() {
    let rs = builtin();
    let file = cases::parse(BUILTIN_CASES, BUILTIN_CASES_NAME).expect("parses");
    let mut checked = 0;
    for outcome in cases::run_all(&rs, &file) {
        let fields = engine::seen(&rs, &outcome.answers);
        for rule in &rs.rules {
            assert_eq!(
                trace(&rule.when, &fields).truth,
                rule.when.eval(&fields),
                "{}: {}",
                outcome.name,
                rule.id
            );
            checked += 1;
        }
        for q in &rs.questions {
            if let Some(cond) = &q.ask_if {
                assert_eq!(trace(cond, &fields).truth, cond.eval(&fields));
            }
        }
        // And the explanation's results are the verdict's: fired rules are the reasons.
        let (verdict, ex) = engine::explain(&rs, &outcome.answers);
        assert_eq!(verdict, outcome.verdict, "{}", outcome.name);
        let fired: BTreeSet<usize> = ex
            .rules
            .iter()
            .filter(|r| r.trace.truth == ketascreen::expr::Truth::True)
            .map(|r| r.rule)
            .collect();
        let reasons: BTreeSet<usize> = outcome.verdict.reasons.iter().map(|r| r.rule).collect();
        assert_eq!(fired, reasons, "{}", outcome.name);
    }
    assert!(checked > 1000);
}

#[test]
fn check_explain_shows_each_comparison_with_its_value_and_why_skips_do_not_count() {
    let run = ks(["--rules", MINI, "check", "--explain", "--format", "table", "-"])
        .stdin(r#"{"id": "P-7", "systolic_bp": 146, "pregnancy_status": "not_applicable", "breastfeeding": "yes"}"#)
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    snapshot("check-explain-mini.txt", &run.stdout);
    assert!(run
        .stdout
        .contains("\n  and → unknown\n    systolic_bp (146) > 140 → true\n    not → unknown\n      age_years (unanswered) >= 80 → unknown\n"));
}

#[test]
fn check_explain_json_keeps_schema_v1_and_adds_an_explain_field() {
    let stdin = r#"{"systolic_bp": 146, "diastolic_bp": null}"#;
    let (_, plain) = ks(["check", "--format", "json", "-"]).stdin(stdin).json();
    let (run, explained) = ks(["check", "--explain", "--format", "json", "-"])
        .stdin(stdin)
        .json();
    assert_eq!(run.code, 0);
    let mut without = explained.clone();
    let explain = without
        .as_object_mut()
        .expect("object")
        .remove("explain")
        .expect("an explain field");
    assert_eq!(without, plain, "every v1 field unchanged");
    let severe = &explain["rules"][6];
    assert_eq!(
        severe,
        &serde_json::json!({
            "rule": "severe_hypertension",
            "severity": "exclude",
            "urgent": false,
            "when": "systolic_bp >= 180 or diastolic_bp >= 110",
            "result": "undecided",
            "needs": ["diastolic_bp"],
            "trace": {"op": "or", "result": "unknown", "items": [
                {"question": "systolic_bp", "state": "answered", "value": 146, "test": ">= 180", "result": "false"},
                {"question": "diastolic_bp", "state": "unanswered", "value": null, "test": ">= 110", "result": "unknown"}
            ]}
        })
    );
    assert_eq!(
        explain["rules"].as_array().map(Vec::len),
        Some(builtin().rules.len())
    );
}

#[test]
fn check_explain_refuses_csv() {
    let run = ks(["check", "--explain", "--format", "csv", "-"])
        .stdin("{}")
        .run();
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "ketascreen: --explain works with --format table, json or ndjson, not csv\n"
    );
}

// ------------------------------------------------------------------ rules show

#[test]
fn rules_show_table_and_markdown() {
    let run = ks(["rules", "show", MINI]).run();
    assert_eq!(run.code, 0);
    snapshot("show-mini.txt", &run.stdout);
    let run = ks(["--rules", MINI, "rules", "show", "--format", "markdown"]).run();
    assert_eq!(run.code, 0);
    snapshot("show-mini.md", &run.stdout);
}

#[test]
fn rules_show_of_the_built_in_ruleset_names_everything_a_reviewer_signs() {
    let rs = builtin();
    for format in ["table", "markdown"] {
        let run = ks(["rules", "show", "--format", format]).run();
        assert_eq!(run.code, 0);
        assert!(run.stdout.contains(&rs.sha256), "{format}: sha256");
        for q in &rs.questions {
            assert!(run.stdout.contains(&q.id), "{format}: {}", q.id);
        }
        for r in &rs.rules {
            assert!(run.stdout.contains(&r.id), "{format}: {}", r.id);
        }
        for (key, _) in &rs.sources {
            assert!(run.stdout.contains(key.as_str()), "{format}: {key}");
        }
        assert!(run.stdout.contains("Reviewed and approved for use by"));
    }
}

// ------------------------------------------------------------------ rules template

#[test]
fn rules_template_csv_json_yaml() {
    let run = ks(["rules", "template", MINI, "--format", "csv"]).run();
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout,
        "id,age_years,systolic_bp,pregnancy_status,breastfeeding,comments\n"
    );
    let run = ks(["rules", "template", MINI, "--format", "json"]).run();
    assert_eq!(
        run.stdout,
        "{\n  \"id\": null,\n  \"age_years\": null,\n  \"systolic_bp\": null,\n  \"pregnancy_status\": null,\n  \"breastfeeding\": null,\n  \"comments\": null\n}\n"
    );
    let run = ks(["rules", "template", MINI, "--format", "yaml"]).run();
    snapshot("template-mini.yaml", &run.stdout);

    let rs = builtin();
    let run = ks(["rules", "template", "--format", "csv"]).run();
    let ids: Vec<&str> = std::iter::once("id")
        .chain(rs.questions.iter().map(|q| q.id.as_str()))
        .collect();
    assert_eq!(run.stdout, format!("{}\n", ids.join(",")));
}

#[test]
fn check_runs_on_a_blank_template_and_finds_everything_missing() {
    let rs = builtin();
    let decisive_reads: BTreeSet<String> = rs
        .rules
        .iter()
        .filter(|r| r.severity != ruleset::Severity::Note)
        .flat_map(|r| r.reads.iter().map(|&s| rs.questions[s].id.clone()))
        .collect();
    for format in ["json", "yaml"] {
        let template = ks(["rules", "template", "--format", format]).run();
        assert_eq!(template.code, 0);
        let (run, v) = ks(["check", "--format", "json", "-"])
            .stdin(template.stdout)
            .json();
        assert_eq!(run.code, 0, "{format}: {run:?}");
        assert_eq!(run.stderr, "", "{format}: no unknown keys");
        assert_eq!(v["verdict"], "incomplete", "{format}");
        assert_eq!(v["id"], serde_json::Value::Null);
        assert_eq!(v["errors"], serde_json::json!([]));
        assert_eq!(v["reasons"], serde_json::json!([]));
        let missing: BTreeSet<String> = v["missing"]
            .as_array()
            .expect("missing")
            .iter()
            .flat_map(|m| m["questions"].as_array().cloned().unwrap_or_default())
            .filter_map(|q| q.as_str().map(str::to_string))
            .collect();
        assert_eq!(missing, decisive_reads, "{format}");
    }
}

// ------------------------------------------------------------------ completions, man, CLI

#[test]
fn the_cli_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    for (shell, marker) in [
        ("bash", "_ketascreen()"),
        ("zsh", "#compdef ketascreen"),
        ("fish", "complete -c ketascreen"),
        ("elvish", "edit:completion:arg-completer[ketascreen]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let run = ks(["completions", shell]).run();
        assert_eq!(run.code, 0, "{shell}");
        assert!(run.stdout.contains(marker), "{shell}: {}", run.stdout);
        assert!(run.stdout.contains("template"), "{shell} knows subcommands");
    }
    let run = ks(["man"]).run();
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains(".TH ketascreen 1"));
    assert!(run.stdout.contains("completions"));

    let dir = tempfile::tempdir().expect("tempdir");
    let run = ks(["man", "--dir", "."]).dir(dir.path()).run();
    assert_eq!(run.code, 0, "{run:?}");
    for page in [
        "ketascreen.1",
        "ketascreen-check.1",
        "ketascreen-rules.1",
        "ketascreen-rules-test.1",
    ] {
        assert!(dir.path().join(page).exists(), "{page}");
    }
}
