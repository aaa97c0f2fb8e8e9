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
