//! Walks the shipped rule case files: every case's exact verdict, fired rules, urgency and
//! missing questions, against the built-in ruleset.

use ketascreen::cases;
use ketascreen::ruleset;

use crate::support::path;

fn walk(rules: &ketascreen::ruleset::Ruleset, case_file: &str) {
    let text = std::fs::read_to_string(path(case_file)).expect("case file readable");
    let file = cases::parse(&text, case_file).expect("case file parses");
    assert!(!file.cases.is_empty());
    let failures: Vec<String> = cases::run_all(rules, &file)
        .into_iter()
        .filter(|o| !o.passed())
        .map(|o| format!("{}:\n    {}", o.name, o.problems.join("\n    ")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn default_ruleset_cases_all_pass() {
    let rules = ruleset::builtin().expect("built-in ruleset loads");
    walk(&rules, "rules/ketamine.tests.yaml");
}

#[test]
fn the_built_in_ruleset_is_the_file_in_rules() {
    let on_disk = std::fs::read_to_string(path("rules/ketamine.yaml")).expect("readable");
    assert_eq!(on_disk, ruleset::BUILTIN_TEXT);
}

#[test]
fn every_exclude_and_review_rule_is_seen_firing_silent_and_undecided() {
    use std::collections::HashSet;
    let rules = ruleset::builtin().expect("loads");
    let text = std::fs::read_to_string(path("rules/ketamine.tests.yaml")).expect("readable");
    let file = cases::parse(&text, "rules/ketamine.tests.yaml").expect("parses");
    let (mut fired, mut silent, mut undecided) = (HashSet::new(), HashSet::new(), HashSet::new());
    for outcome in cases::run_all(&rules, &file) {
        let v = &outcome.verdict;
        for (i, _) in rules.rules.iter().enumerate() {
            if v.reasons.iter().any(|r| r.rule == i) {
                fired.insert(i);
            } else if v.missing.iter().any(|m| m.rule == i) {
                undecided.insert(i);
            } else {
                silent.insert(i);
            }
        }
    }
    let gaps: Vec<String> = rules
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.severity != ketascreen::ruleset::Severity::Note)
        .filter(|(i, _)| !(fired.contains(i) && silent.contains(i) && undecided.contains(i)))
        .map(|(_, r)| r.id.clone())
        .collect();
    assert!(
        gaps.is_empty(),
        "rules not seen firing, silent and undecided: {gaps:?}"
    );
}

#[test]
fn a_wrong_expectation_fails_with_a_readable_difference() {
    let rules = ruleset::builtin().expect("loads");
    let file = cases::parse(
        "defaults: {}\ncases:\n  - name: wrong\n    answers: {systolic_bp: 141, diastolic_bp: 90, aneurysm_or_avm: maybe}\n    verdict: eligible\n    fired: [severe_hypertension]\n    urgent: true\n",
        "inline.yaml",
    )
    .expect("parses");
    let outcome = cases::run(&rules, &file, &file.cases[0]);
    assert_eq!(
        outcome.problems,
        vec![
            "answers: aneurysm_or_avm = \"maybe\": expected yes or no (y/n, true/false, 1/0)".to_string(),
            "verdict: expected eligible, got incomplete".to_string(),
            "fired: expected but not found: severe_hypertension; found but not expected: elevated_blood_pressure".to_string(),
            "urgent: expected true, got false".to_string(),
        ]
    );
}
