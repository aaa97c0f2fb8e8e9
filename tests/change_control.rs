//! The clinician's change control: `rules diff`, `rules impact`, boundary coverage in
//! `rules test --coverage`, `rules cases --boundaries`, and the threshold analysis of
//! `rules lint`, on small rulesets in tests/fixtures (mini 0.1.0 -> 0.2.0) and on the default
//! ruleset's own history (tests/fixtures/ketamine-1.0.0.yaml). Exact output, or checked-in
//! snapshots under tests/snapshots/ (rewrite with `KETASCREEN_BLESS=1 cargo test`).

use crate::support::{ks, path};

const MINI: &str = "tests/fixtures/mini.yaml";
const MINI2: &str = "tests/fixtures/mini-0.2.0.yaml";

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

// ------------------------------------------------------------------ rules diff

#[test]
fn rules_diff_shows_each_change_as_a_reviewer_reads_it() {
    let run = ks(["rules", "diff", MINI, MINI2]).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stderr, "");
    assert_eq!(
        run.stdout,
        r#"ruleset mini 0.1.0 -> mini 0.2.0
  old: tests/fixtures/mini.yaml (sha256 6cfdc11297c7222d031900e236764629e9ba0998042b6cf878e6020a09c488ab)
  new: tests/fixtures/mini-0.2.0.yaml (sha256 d40355c8961939b95620b946065fdac32bfe0c98a4cc7c68ef500635e2d00084)
questions: 1 added, 0 removed, 2 changed; rules: 1 added, 0 removed, 3 changed; sources: 1 added, 0 removed, 1 changed

What can change a verdict:
  rules added: low_spo2
  conditions changed: under_18, high_bp
  severities changed: breastfeeding
  urgent flags changed: high_bp
  questions added: spo2_percent
  questions read differently (type, bounds, unit, options, aliases, ask_if): age_years, pregnancy_status

Questions added (1):
  + spo2_percent (Basics; whole number, between 50 and 100 %): Resting oxygen saturation (pulse oximetry)

Questions changed (2):
  ~ age_years
      max: 120 -> 110
  ~ pregnancy_status
      option pregnant label: Pregnant -> Pregnant (confirmed or suspected)

Rules added (1):
  + low_spo2 (review): spo2_percent < 93  [source oximetry]

Rules changed (3):
  ~ under_18
      when:
        - age_years < 18
        + age_years < 16
  ~ high_bp
      when:
        - systolic_bp > 140 and not (age_years >= 80)
        + systolic_bp > 150 and not (age_years >= 80)
        moved:   systolic_bp > 140 -> systolic_bp > 150
      urgent: true -> false
  ~ breastfeeding
      severity: note -> review

Sources added (1):
  + oximetry: Clinic convention: resting pulse oximetry below 93% is reviewed.

Sources changed (1):
  ~ clinic
      - Clinic convention | agreed 2026.
      + Clinic convention | agreed 2027.
"#
    );
}

#[test]
fn rules_diff_markdown_is_a_change_request() {
    let run = ks(["rules", "diff", MINI, MINI2, "--format", "markdown"]).run();
    assert_eq!(run.code, 0, "{run:?}");
    snapshot("diff-mini.md", &run.stdout);
}

#[test]
fn rules_diff_json_names_every_change() {
    let (run, v) = ks(["rules", "diff", MINI, MINI2, "--format", "json"]).json();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(v["schema"], "ketascreen.rules-diff/v1");
    assert_eq!(v["old"]["version"], "0.1.0");
    assert_eq!(v["new"]["version"], "0.2.0");
    let high_bp = &v["rules"]["changed"][1];
    assert_eq!(high_bp["id"], "high_bp");
    assert_eq!(high_bp["condition"]["moved"][0]["old"], "systolic_bp > 140");
    assert_eq!(high_bp["condition"]["moved"][0]["new"], "systolic_bp > 150");
    assert_eq!(
        high_bp["changes"],
        serde_json::json!([{"field": "urgent", "old": "true", "new": "false"}])
    );
    assert_eq!(v["questions"]["added"][0]["id"], "spo2_percent");
    assert_eq!(v["sources"]["added"][0]["key"], "oximetry");
}

#[test]
fn rules_diff_of_a_ruleset_with_itself_says_so() {
    let run = ks(["rules", "diff", MINI, MINI]).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "ruleset mini 0.1.0 -> mini 0.1.0\n  old: tests/fixtures/mini.yaml (sha256 6cfdc11297c7222d031900e236764629e9ba0998042b6cf878e6020a09c488ab)\n  new: tests/fixtures/mini.yaml (sha256 6cfdc11297c7222d031900e236764629e9ba0998042b6cf878e6020a09c488ab)\nNo differences in questions, rules or sources.\n"
    );
}

#[test]
fn rules_diff_names_an_unreadable_ruleset() {
    let run = ks(["rules", "diff", "tests/fixtures/nope.yaml", MINI]).run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("tests/fixtures/nope.yaml"),
        "{}",
        run.stderr
    );
}

// ------------------------------------------------------------------ boundary coverage

const K1: &str = "tests/fixtures/ketamine-1.0.0.yaml";
const K1_CASES: &str = "tests/fixtures/ketamine-1.0.0.tests.yaml";
const K1_CUT: &str = "tests/fixtures/ketamine-1.0.0-cut.tests.yaml";

/// The case file without the named cases.
fn without_cases(text: &str, names: &[&str]) -> String {
    let mut text = text.to_string();
    for name in names {
        let start = text
            .find(&format!("  - name: {name}\n"))
            .unwrap_or_else(|| panic!("case {name}"));
        let end = text[start + 4..]
            .find("  - name: ")
            .map_or(text.len(), |i| start + 4 + i);
        text.replace_range(start..end, "");
    }
    text
}

// Outcome coverage stayed at 100% with the 140/141 cases gone: it counts outcomes, not
// thresholds. The threshold sides now show the hole.
#[test]
fn removing_the_blood_pressure_boundary_cases_shows_as_gaps() {
    let full = ks(["--rules", K1, "rules", "test", K1_CASES, "--coverage", "-q"]).run();
    assert_eq!(full.code, 0, "{full:?}");
    assert!(full.stdout.ends_with("Gaps: none\nCoverage: 93 of 93 rule outcomes, 20 of 20 threshold sides, 4 of 4 skip outcomes: 117 of 117 (100.0%)\n103 passed, 0 failed\n"), "{}", full.stdout);
    assert!(
        full.stdout.contains(
            "\n  elevated_blood_pressure  systolic_bp > 140                   141      1\n"
        ),
        "{}",
        full.stdout
    );

    // The fixture is the same cases without "BP 140/90 is eligible" and "BP 141/90 is review".
    let text = std::fs::read_to_string(path(K1_CASES)).expect("cases");
    let cut = without_cases(&text, &["BP 140/90 is eligible", "BP 141/90 is review"]);
    let fixture = std::fs::read_to_string(path(K1_CUT)).expect("cut cases");
    assert_eq!(
        fixture.lines().skip(2).collect::<Vec<_>>(),
        cut.lines().skip(2).collect::<Vec<_>>()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = K1_CUT.to_string();
    let run = ks([
        "--rules",
        K1,
        "rules",
        "test",
        &file,
        "--coverage",
        "--fail-under",
        "100",
        "-q",
    ])
    .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.ends_with(
            "\
Gaps (3):
  elevated_blood_pressure: no passing case at systolic_bp = 141 deciding 'systolic_bp > 140'
  elevated_blood_pressure: no passing case at systolic_bp = 140 deciding 'systolic_bp > 140'
  elevated_blood_pressure: no passing case at diastolic_bp = 90 deciding 'diastolic_bp > 90'
  (`ketascreen rules cases --boundaries` drafts the missing threshold and skip cases)
Coverage: 93 of 93 rule outcomes, 17 of 20 threshold sides, 4 of 4 skip outcomes: 114 of 117 (97.4%)
101 passed, 0 failed
"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stderr,
        "ketascreen: coverage 97.4% is below --fail-under 100%\n"
    );

    // The drafted cases put the three sides back.
    let drafted = ks(["--rules", K1, "rules", "cases", "--boundaries", &file]).run();
    assert_eq!(drafted.code, 0, "{drafted:?}");
    assert_eq!(
        drafted.stderr,
        "ketascreen: 3 boundary cases drafted, 0 gaps left to write by hand\n"
    );
    assert!(drafted.stdout.contains("- name: elevated_blood_pressure at systolic_bp = 141 (systolic_bp > 140 is true)\n  status: unconfirmed\n  answers:\n    systolic_bp: 141\n  verdict: review\n  fired:\n  - elevated_blood_pressure\n"), "{}", drafted.stdout);
    let confirmed = dir.path().join("drafted.tests.yaml");
    std::fs::write(
        &confirmed,
        drafted
            .stdout
            .replace("status: unconfirmed", "status: confirmed"),
    )
    .expect("written");
    let confirmed = confirmed.display().to_string();
    let run = ks([
        "--rules",
        K1,
        "rules",
        "test",
        &file,
        &confirmed,
        "--coverage",
        "--fail-under",
        "100",
        "-q",
    ])
    .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.ends_with("Gaps: none\nCoverage: 93 of 93 rule outcomes, 20 of 20 threshold sides, 4 of 4 skip outcomes: 117 of 117 (100.0%)\n104 passed, 0 failed\n"), "{}", run.stdout);
}

#[test]
fn rules_cases_boundaries_drafts_unconfirmed_cases_with_todays_verdict() {
    let run = ks(["--rules", MINI, "rules", "cases", "--boundaries"]).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stderr,
        "ketascreen: 3 boundary cases drafted, 0 gaps left to write by hand\n"
    );
    assert_eq!(
        run.stdout,
        r#"# Boundary cases drafted by `ketascreen rules cases --boundaries` for ruleset mini 0.1.0
# (sha256 6cfdc11297c7222d031900e236764629e9ba0998042b6cf878e6020a09c488ab).
# Each case stands on one side of a threshold (or skip condition) that no passing case covered.
# The verdict, fired rules and missing questions are what the ruleset gives TODAY, not what is
# right: check each case against the criteria, correct the expectation where it is wrong, and
# change `status: unconfirmed` to `status: confirmed`. Unconfirmed cases run, but do not count
# towards coverage.
defaults:
  age_years: 40
  systolic_bp: 120
  pregnancy_status: not_pregnant
  breastfeeding: no
cases:
- name: under_18 at age_years = 18 (age_years < 18 is false)
  status: unconfirmed
  answers:
    age_years: 18
  verdict: eligible
  fired: []
  urgent: false
  missing: []
- name: high_bp at systolic_bp = 140 (systolic_bp > 140 is false)
  status: unconfirmed
  answers:
    systolic_bp: 140
  verdict: eligible
  fired: []
  urgent: false
  missing: []
- name: high_bp at age_years = 79 (age_years >= 80 is false)
  status: unconfirmed
  answers:
    systolic_bp: 141
    age_years: 79
  verdict: review
  fired:
  - high_bp
  urgent: true
  missing: []
"#
    );
}

#[test]
fn unconfirmed_cases_run_but_do_not_count_as_coverage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let drafted = ks(["--rules", MINI, "rules", "cases", "--boundaries"]).run();
    let file = dir.path().join("drafted.tests.yaml");
    std::fs::write(&file, &drafted.stdout).expect("written");
    let shown = file.display().to_string();
    let run = ks([
        "--rules",
        MINI,
        "rules",
        "test",
        "tests/fixtures/mini.tests.yaml",
        &shown,
        "--coverage",
    ])
    .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(
            "\npass  under_18 at age_years = 18 (age_years < 18 is false)  (unconfirmed)\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.ends_with(
            "\
Coverage: 6 of 9 rule outcomes, 3 of 6 threshold sides, 2 of 2 skip outcomes: 11 of 17 (64.7%)
10 passed, 0 failed (3 unconfirmed: not counted as coverage until a person confirms them)
"
        ),
        "{}",
        run.stdout
    );

    std::fs::write(
        &file,
        drafted
            .stdout
            .replacen("  status: unconfirmed", "  status: maybe", 1),
    )
    .expect("written");
    let run = ks(["--rules", MINI, "rules", "test", &shown]).run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.ends_with(":15:11: status 'maybe' of case 'under_18 at age_years = 18 (age_years < 18 is false)' is neither 'confirmed' nor 'unconfirmed'\n"), "{}", run.stderr);
}

#[test]
fn rules_cases_needs_to_be_told_what_to_draft() {
    let run = ks(["--rules", MINI, "rules", "cases"]).run();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--boundaries"), "{}", run.stderr);
}

// ------------------------------------------------------------------ threshold analysis in lint

#[test]
fn lint_warns_where_numeric_ranges_overlap_or_leave_a_gap() {
    let run = ks(["rules", "lint", "tests/fixtures/thresholds.yaml"]).run();
    assert_eq!(run.code, 0, "warnings alone do not fail: {run:?}");
    assert_eq!(
        run.stdout,
        r#"tests/fixtures/thresholds.yaml:19:51: warning: numeric ranges overlap: 'systolic_bp > 140' in rule 'raised_systolic' (review) and 'systolic_bp >= 180' in rule 'severe_systolic' (exclude) at tests/fixtures/thresholds.yaml:20:52 both fire for systolic_bp from 180 to 300, and their conditions do not exclude each other (the stricter severity wins there); if the ranges should not overlap, add 'and not (...)' to one of them
    |
 19 |   - {id: raised_systolic, severity: review, when: systolic_bp > 140, message: m, source: s}
    |                                                   ^^^^^^^^^^^^^^^^^
tests/fixtures/thresholds.yaml:22:74: warning: numeric ranges leave a gap: 'diastolic_bp < 109' in rule 'raised_diastolic' (review) and 'diastolic_bp >= 110' in rule 'severe_diastolic' (exclude) at tests/fixtures/thresholds.yaml:23:53 look meant to meet, but diastolic_bp = 109 decides neither rule
    |
 22 |   - {id: raised_diastolic, severity: review, when: diastolic_bp > 90 and diastolic_bp < 109, message: m, source: s}
    |                                                                          ^^^^^^^^^^^^^^^^^^
tests/fixtures/thresholds.yaml:25:63: warning: numeric ranges leave a gap: 'temperature < 39.5' in rule 'fever' (review) and 'temperature > 39.5' in rule 'high_fever' (exclude) at tests/fixtures/thresholds.yaml:26:47 look meant to meet, but temperature = 39.5 decides neither rule
    |
 25 |   - {id: fever, severity: review, when: temperature >= 38 and temperature < 39.5, message: m, source: s}
    |                                                               ^^^^^^^^^^^^^^^^^^
tests/fixtures/thresholds.yaml: ok (5 questions, 8 rules, 1 sources), 3 warnings
"#
    );
    let run = ks([
        "rules",
        "lint",
        "--deny-warnings",
        "tests/fixtures/thresholds.yaml",
    ])
    .run();
    assert_eq!(run.code, 1, "{run:?}");
}

// The default ruleset's blood-pressure rules exclude each other with `not (...)`, and
// `age_years < 18` (exclude) beside `age_years >= 65` (note) is neither an overlap nor a gap.
#[test]
fn the_default_ruleset_has_no_threshold_warnings_then_and_now() {
    for file in [K1, "rules/ketamine.yaml"] {
        let run = ks(["rules", "lint", "--deny-warnings", file]).run();
        assert_eq!(run.code, 0, "{run:?}");
        assert!(
            run.stdout.starts_with(&format!("{file}: ok (")),
            "{}",
            run.stdout
        );
        assert!(!run.stdout.contains("warning"), "{}", run.stdout);
    }
}

// Without the `not (...)` the review band runs on into the exclude band.
#[test]
fn dropping_the_exclusion_from_the_blood_pressure_review_rule_is_an_overlap() {
    let text = std::fs::read_to_string(path(K1)).expect("1.0.0");
    let cut = text.replace(
        "when: (systolic_bp > 140 or diastolic_bp > 90) and not (systolic_bp >= 180 or diastolic_bp >= 110)",
        "when: systolic_bp > 140 or diastolic_bp > 90",
    );
    assert_ne!(cut, text);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("k.yaml"), cut).expect("written");
    let run = ks(["rules", "lint", "--format", "json", "k.yaml"])
        .dir(dir.path())
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let messages: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|d| d["message"].as_str().expect("message"))
        .collect();
    assert_eq!(messages, [
        "numeric ranges overlap: 'systolic_bp >= 180' in rule 'severe_hypertension' (exclude) and 'systolic_bp > 140' in rule 'elevated_blood_pressure' (review) at k.yaml:363:11 both fire for systolic_bp from 180 to 300, and their conditions do not exclude each other (the stricter severity wins there); if the ranges should not overlap, add 'and not (...)' to one of them",
        "numeric ranges overlap: 'diastolic_bp >= 110' in rule 'severe_hypertension' (exclude) and 'diastolic_bp > 90' in rule 'elevated_blood_pressure' (review) at k.yaml:363:32 both fire for diastolic_bp from 110 to 200, and their conditions do not exclude each other (the stricter severity wins there); if the ranges should not overlap, add 'and not (...)' to one of them",
    ]);
}

// ------------------------------------------------------------------ rules impact

const INTAKES: &str = "tests/fixtures/impact.csv";

#[test]
fn rules_impact_reports_transitions_less_cautious_first() {
    let run = ks(["rules", "impact", MINI, MINI2, INTAKES]).run();
    assert_eq!(run.code, 0, "{run:?}");
    // The header is read as `batch` reads it, with its warnings, against the new ruleset.
    assert_eq!(
        run.stderr,
        "ketascreen: warning: no column for 1 question, unanswered in every row: comments\n"
    );
    assert_eq!(
        run.stdout,
        r#"Impact of ruleset mini 0.1.0 -> mini 0.2.0 on tests/fixtures/impact.csv (10 rows)
  old: tests/fixtures/mini.yaml (sha256 6cfdc11297c7222d031900e236764629e9ba0998042b6cf878e6020a09c488ab)
  new: tests/fixtures/mini-0.2.0.yaml (sha256 d40355c8961939b95620b946065fdac32bfe0c98a4cc7c68ef500635e2d00084)

Verdicts (rows: the old verdict; columns: the new verdict):
  old           ineligible  incomplete      review    eligible       total
  ineligible             1           0           0           1           2
  incomplete             0           1           0           0           1
  review                 0           0           1           1           2
  eligible               0           2           2           1           5
  total                  1           3           3           3          10

Urgency (rows: old; columns: new):
  old               urgent   not known  not urgent       total
  urgent                 0           0           2           2
  not known              0           0           1           1
  not urgent             0           0           7           7

Rows with input errors: 0 under the old ruleset, 1 under the new (a bad answer counts as unanswered)

Changed: 8 of 10 rows; 4 less cautious

LESS CAUTIOUS: ineligible -> eligible (1 row)
  rules: under_18: fired (exclude) -> not fired (1 row)
  rows: P-02 (row 2)

LESS CAUTIOUS: review -> eligible (1 row)
  rules: high_bp: fired (review, urgent) -> not fired (1 row)
  rows: P-04 (row 4)

LESS CAUTIOUS: urgency: urgent -> not urgent (2 rows)
  rules: high_bp: fired (review, urgent) -> fired (review) (1 row)
         high_bp: fired (review, urgent) -> not fired (1 row)
  rows: P-04 (row 4), P-05 (row 5)

LESS CAUTIOUS: urgency: not known -> not urgent (1 row)
  rules: high_bp: undecided (review, urgent) -> undecided (1 row)
  rows: P-10 (row 10)

eligible -> review (2 rows)
  rules: breastfeeding: fired (note) -> fired (review) (1 row)
         low_spo2: absent -> fired (review) (1 row)
  rows: P-06 (row 6), P-07 (row 7)

eligible -> incomplete (2 rows)
  rules: under_18: not fired -> undecided (1 row)
         low_spo2: absent -> undecided (1 row)
  rows: P-08 (row 8), P-09 (row 9)
"#
    );
}

#[test]
fn rules_impact_csv_lists_every_changed_row_less_cautious_first() {
    let run = ks(["rules", "impact", MINI, MINI2, INTAKES, "--format", "csv"]).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        r#"row,id,old_verdict,new_verdict,old_urgency,new_urgency,less_cautious,rules
2,P-02,ineligible,eligible,not urgent,not urgent,true,under_18: fired (exclude) -> not fired
4,P-04,review,eligible,urgent,not urgent,true,"high_bp: fired (review, urgent) -> not fired"
5,P-05,review,review,urgent,not urgent,true,"high_bp: fired (review, urgent) -> fired (review)"
10,P-10,incomplete,incomplete,not known,not urgent,true,"high_bp: undecided (review, urgent) -> undecided"
6,P-06,eligible,review,not urgent,not urgent,false,breastfeeding: fired (note) -> fired (review)
7,P-07,eligible,review,not urgent,not urgent,false,low_spo2: absent -> fired (review)
8,P-08,eligible,incomplete,not urgent,not urgent,false,low_spo2: absent -> undecided
9,P-09,eligible,incomplete,not urgent,not urgent,false,under_18: not fired -> undecided
"#
    );
    assert_eq!(
        run.stderr,
        r#"ketascreen: warning: no column for 1 question, unanswered in every row: comments
ketascreen: 8 of 10 rows changed, 4 less cautious (listed first)
"#
    );
}

#[test]
fn rules_impact_markdown_and_json() {
    let run = ks([
        "rules", "impact", MINI, MINI2, INTAKES, "--format", "markdown",
    ])
    .run();
    assert_eq!(run.code, 0, "{run:?}");
    snapshot("impact-mini.md", &run.stdout);

    let (run, v) = ks(["rules", "impact", MINI, MINI2, INTAKES, "--format", "json"]).json();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(v["schema"], "ketascreen.rules-impact/v1");
    assert_eq!(v["rows"], 10);
    assert_eq!(v["changed"], 8);
    assert_eq!(v["less_cautious"], 4);
    assert_eq!(v["matrix"][0], serde_json::json!([1, 0, 0, 1]));
    let first = &v["cells"][0];
    assert_eq!(first["kind"], "verdict");
    assert_eq!(first["old"], "ineligible");
    assert_eq!(first["new"], "eligible");
    assert_eq!(first["less_cautious"], true);
    assert_eq!(first["rows"], serde_json::json!([{"row": 2, "id": "P-02"}]));
    assert_eq!(
        first["rules"],
        serde_json::json!([{
            "rule": "under_18",
            "old": {"result": "fired", "severity": "exclude", "urgent": false},
            "new": {"result": "not_fired", "severity": null, "urgent": false},
            "rows": 1
        }])
    );
}

#[test]
fn rules_impact_lists_at_most_rows_ids_per_cell() {
    let run = ks(["rules", "impact", MINI, MINI2, INTAKES, "--rows", "1"]).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("\n  rows: P-04 (row 4), and 1 more (all of them: --format csv)\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn rules_impact_reads_stdin_and_says_when_nothing_changed() {
    let csv = std::fs::read_to_string(path(INTAKES)).expect("intakes");
    let run = ks(["rules", "impact", MINI, MINI, "-"]).stdin(csv).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .starts_with("Impact of ruleset mini 0.1.0 -> mini 0.1.0 on <stdin> (10 rows)\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.ends_with(
            "\nChanged: 0 of 10 rows; 0 less cautious\nNo verdict and no urgency changes.\n"
        ),
        "{}",
        run.stdout
    );
}

// A comparison that decides only once another answer has moved (age 80 matters to
// `systolic_bp > 140 and not (age_years >= 80)` only at a high systolic) is drafted from a drafted
// case; a skip outcome by answering the question its ask_if reads.
#[test]
fn rules_cases_boundaries_builds_on_its_own_drafts_and_skip_conditions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("base.tests.yaml");
    std::fs::write(
        &file,
        "defaults: {age_years: 40, systolic_bp: 120, pregnancy_status: not_pregnant, breastfeeding: no}\ncases:\n  - {name: baseline, verdict: eligible, fired: []}\n",
    )
    .expect("written");
    let file = file.display().to_string();
    let run = ks(["--rules", MINI, "rules", "cases", "--boundaries", &file]).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stderr,
        "ketascreen: 7 boundary cases drafted, 0 gaps left to write by hand\n"
    );
    let names: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("- name: "))
        .collect();
    assert_eq!(
        names,
        [
            "under_18 at age_years = 17 (age_years < 18 is true)",
            "under_18 at age_years = 18 (age_years < 18 is false)",
            "high_bp at systolic_bp = 141 (systolic_bp > 140 is true)",
            "high_bp at systolic_bp = 140 (systolic_bp > 140 is false)",
            "high_bp at age_years = 80 (age_years >= 80 is true)",
            "high_bp at age_years = 79 (age_years >= 80 is false)",
            "breastfeeding skipped (ask_if pregnancy_status != not_applicable)",
        ]
    );
    assert!(run.stdout.contains("- name: high_bp at age_years = 80 (age_years >= 80 is true)\n  status: unconfirmed\n  answers:\n    systolic_bp: 141\n    age_years: 80\n  verdict: eligible\n  fired: []\n"), "{}", run.stdout);
    assert!(run.stdout.contains("- name: breastfeeding skipped (ask_if pregnancy_status != not_applicable)\n  status: unconfirmed\n  answers:\n    pregnancy_status: not_applicable\n  verdict: eligible\n"), "{}", run.stdout);
}

#[test]
fn rules_impact_writes_its_output_privately_and_names_bad_input() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("impact.csv");
    let shown = out.display().to_string();
    let run = ks([
        "rules", "impact", MINI, MINI2, INTAKES, "--format", "csv", "-o", &shown,
    ])
    .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "");
    let written = std::fs::read_to_string(&out).expect("written");
    assert!(written.starts_with("row,id,old_verdict,new_verdict,old_urgency,new_urgency,less_cautious,rules\n2,P-02,ineligible,eligible,"), "{written}");
    let mode = std::fs::metadata(&out)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let run = ks(["rules", "impact", MINI, MINI2, "tests/fixtures/nope.csv"]).run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stderr,
        "ketascreen: cannot read tests/fixtures/nope.csv: No such file or directory (os error 2)\n"
    );
    // --map applies to both rulesets: a question only the new one has is refused.
    let run = ks([
        "rules",
        "impact",
        MINI,
        MINI2,
        INTAKES,
        "--map",
        "spo2_percent=spo2_percent",
    ])
    .run();
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stderr, "ketascreen: --map 'spo2_percent=spo2_percent': no question 'spo2_percent' in ruleset 'mini'\n");
    // A delimiter under which no column names a question, where another would, is refused
    // (as `batch` refuses it), never read as one unmapped column.
    let run = ks(["rules", "impact", MINI, MINI2, INTAKES, "--delimiter", ";"]).run();
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stderr, "ketascreen: cannot read tests/fixtures/impact.csv: the header names no question when split at ';', but 5 columns when split at ',': give --delimiter ',' (or leave --delimiter out to detect it)\n");
}

// A ruleset that adds a question makes every row of an export without its column undecided on
// the new rule: the report says why, not only stderr.
#[test]
fn rules_impact_names_the_questions_no_column_answers() {
    let csv = "id,age_years,systolic_bp,pregnancy_status,breastfeeding\nA,40,120,not_pregnant,no\n";
    let run = ks(["rules", "impact", MINI, MINI2, "-"]).stdin(csv).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("\nNo column for 1 question of the new ruleset (unanswered in every row): spo2_percent\n\nChanged: 1 of 1 row; 0 less cautious\n\neligible -> incomplete (1 row)\n  rules: low_spo2: absent -> undecided (1 row)\n  rows: A (row 1)\n"), "{}", run.stdout);
    let (_, v) = ks(["rules", "impact", MINI, MINI2, "-", "--format", "json"])
        .stdin(csv)
        .json();
    assert_eq!(v["no_column"], serde_json::json!([[], ["spo2_percent"]]));
}

// NDJSON, as `batch` reads it: one patient document per line, keys by id or alias.
#[test]
fn rules_impact_reads_ndjson_as_batch_does() {
    let ndjson = "{\"id\": \"N-1\", \"age\": 17, \"systolic_bp\": 120, \"pregnancy_status\": \"not_applicable\", \"spo2_percent\": 98}\n\n{\"id\": \"N-2\", \"age_years\": 40, \"systolic_bp\": 120, \"pregnancy_status\": \"not_applicable\", \"spo2_percent\": 98}\nnot json\n";
    let run = ks([
        "rules",
        "impact",
        MINI,
        MINI2,
        "-",
        "--input-format",
        "ndjson",
        "--format",
        "csv",
    ])
    .stdin(ndjson)
    .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "row,id,old_verdict,new_verdict,old_urgency,new_urgency,less_cautious,rules\n1,N-1,ineligible,eligible,not urgent,not urgent,true,under_18: fired (exclude) -> not fired\n3,,incomplete,incomplete,not known,not urgent,true,\"high_bp: undecided (review, urgent) -> undecided\"\n"
    );
    assert_eq!(
        run.stderr,
        "ketascreen: 2 of 3 rows changed, 2 less cautious (listed first)\n"
    );
    let run = ks([
        "rules",
        "impact",
        MINI,
        MINI2,
        "-",
        "--input-format",
        "ndjson",
        "--id-column",
        "x",
    ])
    .stdin(ndjson)
    .run();
    assert_eq!(run.code, 2, "{run:?}");
}

// ------------------------------------------------------------------ the default ruleset, 1.0.0 -> 2.0.0

// The real change the clinician signs off: exact output, checked in (rewrite with
// KETASCREEN_BLESS=1 and review the diff).
#[test]
fn the_default_ruleset_1_0_0_to_2_0_0() {
    let run = ks(["rules", "diff", K1]).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .starts_with("ruleset ketamine-default 1.0.0 -> ketamine-default 2.0.0\n"),
        "{}",
        run.stdout
    );
    snapshot("diff-1.0.0-2.0.0.txt", &run.stdout);
    let run = ks([
        "rules",
        "diff",
        K1,
        "rules/ketamine.yaml",
        "--format",
        "markdown",
    ])
    .run();
    snapshot("diff-1.0.0-2.0.0.md", &run.stdout);

    let run = ks([
        "rules",
        "impact",
        K1,
        "rules/ketamine.yaml",
        "examples/intake.csv",
    ])
    .run();
    assert_eq!(run.code, 0, "{run:?}");
    snapshot("impact-1.0.0-2.0.0-intake.txt", &run.stdout);
    let run = ks([
        "rules",
        "impact",
        K1,
        "rules/ketamine.yaml",
        "examples/intake.csv",
        "--format",
        "csv",
    ])
    .run();
    snapshot("impact-1.0.0-2.0.0-intake.csv", &run.stdout);

    // 2.0.0's shipped cases stand on every threshold and skip outcome.
    let run = ks(["rules", "test", "--coverage", "--fail-under", "100", "-q"]).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("\nGaps: none\n"), "{}", run.stdout);
}

// Broke: `rules impact` read CSV with the plain csv crate, so a stray quote merged the next
// patient into a row (and a `;` export or a workbook could not be read): it reads as `batch`.
#[test]
fn rules_impact_reads_a_stray_quote_and_a_semicolon_export_as_batch_does() {
    let csv = "id;Name;age_years;systolic_bp;pregnancy_status;breastfeeding;spo2_percent\nA;\"Smith;40;120;not_pregnant;no;98\nB;Jones;17;120;not_pregnant;no;98\n";
    let run = ks(["rules", "impact", MINI, MINI2, "-", "--format", "csv"])
        .stdin(csv)
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("columns separated by ';'"),
        "{}",
        run.stderr
    );
    // Row A's answers are not used (its quote runs into row B), and B is read as its own row.
    let (_, v) = ks(["rules", "impact", MINI, MINI2, "-", "--format", "json"])
        .stdin(csv)
        .json();
    assert_eq!(v["rows"], 2, "{v}");
}

// `rules impact --profile`: the REDCap example export screened through its profile under 1.0.0
// and 2.0.0, as `batch --profile` screens it (events left out, forms gated, codes recoded);
// the old ruleset reads the profile without the questions it does not have, and says so.
#[test]
fn rules_impact_reads_an_export_through_its_profile_for_both_rulesets() {
    let run = ks([
        "rules",
        "impact",
        "tests/fixtures/ketamine-1.0.0.yaml",
        "rules/ketamine.yaml",
        "examples/redcap/export.csv",
        "--profile",
        "examples/redcap/profile.yaml",
    ])
    .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stderr.lines().next(),
        Some("ketascreen: note: examples/redcap/profile.yaml: for the old ruleset (ketamine-default 1.0.0), left out the columns of questions it does not have: hypertensive_encephalopathy, recent_suicidal_behavior, cognitive_impairment, uses_contraception, moderate_liver_disease, takes_oral_antidepressant, spo2_percent, takes_opioid_or_sedative")
    );
    assert!(
        run.stdout
            .starts_with("Impact of ruleset ketamine-default 1.0.0 -> ketamine-default 2.0.0 on examples/redcap/export.csv (6 rows)\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\nRows with input errors: 2 under the old ruleset, 2 under the new (a bad answer counts as unanswered)\n\nChanged: 0 of 6 rows; 0 less cautious\n"),
        "{}",
        run.stdout
    );
    // The same six patients, and the same verdicts, as batch gives under 2.0.0.
    let batch = ks([
        "batch",
        "examples/redcap/export.csv",
        "--profile",
        "examples/redcap/profile.yaml",
        "--format",
        "csv",
    ])
    .run();
    let verdicts: Vec<&str> = batch
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap_or_default())
        .collect();
    assert_eq!(
        verdicts,
        [
            "eligible",
            "incomplete",
            "incomplete",
            "ineligible",
            "incomplete",
            "review"
        ]
    );
    assert!(run.stdout.contains(
        "  ineligible             1           0           0           0           1\n  incomplete             0           3           0           0           3\n  review                 0           0           1           0           1\n  eligible               0           0           0           1           1\n"
    ), "{}", run.stdout);
}
