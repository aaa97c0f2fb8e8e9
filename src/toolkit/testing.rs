//! `ketascreen rules test`: runs rule case files (the format and runner of `crate::cases`) and
//! reports them for a person — one line per case, and for a failing case what was expected,
//! what happened, and what each involved rule read and why it came out as it did. Also the
//! coverage report: for every exclude and review rule, how many passing cases made it fire,
//! not fire and stay undecided. Pure: returns text, prints nothing.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::cases::{self, CaseFile, CaseFileError, Outcome};
use crate::engine;
use crate::engine::Explanation;
use crate::expr::Truth;
use crate::output::explain::{rule_lines, shown};
use crate::ruleset::{Locations, Ruleset, Severity};

/// The case file shipped with the default ruleset, compiled into the binary.
pub const BUILTIN_CASES: &str = include_str!("../../rules/ketamine.tests.yaml");
/// How the built-in case file is named in messages.
pub const BUILTIN_CASES_NAME: &str = "rules/ketamine.tests.yaml (built-in)";

/// One case file, run.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub name: String,
    pub file: CaseFile,
    pub outcomes: Vec<Outcome>,
    /// The line each case starts on, by case index.
    pub lines: Vec<Option<usize>>,
}

impl FileReport {
    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|o| !o.passed()).count()
    }
}

/// Parses and runs one case file against a ruleset.
pub fn run_file(ruleset: &Ruleset, text: &str, name: &str) -> Result<FileReport, CaseFileError> {
    let file = cases::parse(text, name)?;
    let outcomes = cases::run_all(ruleset, &file);
    let loc = Locations::index(text);
    let lines = (0..file.cases.len())
        .map(|i| loc.value(&format!("cases[{i}]")).map(|p| p.line))
        .collect();
    Ok(FileReport {
        name: name.to_string(),
        file,
        outcomes,
        lines,
    })
}

/// The line a file's run starts with.
pub fn header(ruleset: &Ruleset, report: &FileReport) -> String {
    let n = report.outcomes.len();
    format!(
        "{n} case{} from {} against ruleset {} {}\n",
        if n == 1 { "" } else { "s" },
        report.name,
        ruleset.id,
        ruleset.version
    )
}

/// One case's report: `pass  NAME`, or `FAIL  NAME  (FILE:LINE)` with what went wrong.
pub fn case_text(ruleset: &Ruleset, report: &FileReport, index: usize) -> String {
    let outcome = &report.outcomes[index];
    if outcome.passed() {
        return format!("pass  {}\n", outcome.name);
    }
    let place = match report.lines.get(index).copied().flatten() {
        Some(line) => format!("  ({}:{line})", report.name),
        None => String::new(),
    };
    let mut out = format!("FAIL  {}{place}\n", outcome.name);
    for problem in &outcome.problems {
        let _ = writeln!(out, "      {problem}");
    }
    let case = &report.file.cases[index];
    let (_, ex) = engine::explain(ruleset, &outcome.answers);
    let expected: BTreeSet<&str> = case.fired.iter().map(String::as_str).collect();
    // Questions on which the expected and actual `missing` disagree: the undecided rules that
    // need one of them are involved too.
    let disputed: BTreeSet<usize> = match &case.missing {
        Some(expected_missing) => {
            let actual = outcome.verdict.missing_questions();
            let expected_slots: Vec<usize> = expected_missing
                .iter()
                .filter_map(|id| ruleset.slot(id))
                .collect();
            actual
                .iter()
                .filter(|s| !expected_slots.contains(s))
                .chain(expected_slots.iter().filter(|s| !actual.contains(s)))
                .copied()
                .collect()
        }
        None => BTreeSet::new(),
    };
    let involved: Vec<usize> = ruleset
        .rules
        .iter()
        .enumerate()
        .filter(|(i, rule)| {
            let rt = &ex.rules[*i];
            expected.contains(rule.id.as_str())
                || rt.trace.truth == Truth::True
                || (rt.trace.truth == Truth::Unknown && {
                    let mut needs = rt.needs.clone();
                    if needs.is_empty() {
                        rt.trace.slots(&mut needs);
                    }
                    needs.iter().any(|s| disputed.contains(s))
                })
        })
        .map(|(i, _)| i)
        .collect();
    if !involved.is_empty() {
        out.push_str("      what the involved rules read:\n");
    }
    for i in involved {
        involved_rule(
            ruleset,
            &ex,
            i,
            expected.contains(ruleset.rules[i].id.as_str()),
            &mut out,
        );
    }
    out
}

fn involved_rule(
    ruleset: &Ruleset,
    ex: &Explanation<'_>,
    index: usize,
    expected: bool,
    out: &mut String,
) {
    let rt = &ex.rules[index];
    let mut lines = String::new();
    rule_lines(ruleset, ex, rt, 8, &mut lines);
    let mut lines = lines.lines();
    if let Some(head) = lines.next() {
        let expectation = if expected {
            "expected to fire"
        } else {
            "not expected to fire"
        };
        let _ = writeln!(out, "{head} ({expectation})");
    }
    let mut read = Vec::new();
    rt.trace.slots(&mut read);
    let values: Vec<String> = read
        .iter()
        .map(|&slot| {
            let q = &ruleset.questions[slot];
            format!("{} = {}", q.id, shown(ex, ruleset, slot))
        })
        .collect();
    let _ = writeln!(out, "          read: {}", values.join(", "));
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
}

/// The last line: `N passed, M failed`.
pub fn summary(reports: &[FileReport]) -> String {
    let total: usize = reports.iter().map(|r| r.outcomes.len()).sum();
    let failed: usize = reports.iter().map(FileReport::failed).sum();
    format!("{} passed, {failed} failed\n", total - failed)
}

/// How often passing cases saw one exclude/review rule fire, not fire and stay undecided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCoverage {
    pub rule: usize,
    pub fired: usize,
    pub not_fired: usize,
    pub undecided: usize,
}

impl RuleCoverage {
    /// The outcomes no passing case showed.
    pub fn gaps(&self) -> Vec<&'static str> {
        [
            (self.fired, "never fired"),
            (self.not_fired, "never not fired"),
            (self.undecided, "never undecided"),
        ]
        .into_iter()
        .filter(|(n, _)| *n == 0)
        .map(|(_, what)| what)
        .collect()
    }
}

/// Coverage of every exclude and review rule by the passing cases of some case files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    pub rules: Vec<RuleCoverage>,
}

impl Coverage {
    /// Outcomes seen (fired, not fired, undecided: three per rule) out of all.
    pub fn seen(&self) -> (usize, usize) {
        let seen = self.rules.iter().map(|r| 3 - r.gaps().len()).sum::<usize>();
        (seen, self.rules.len() * 3)
    }

    /// Seen outcomes as a percentage; 100 when there is nothing to cover.
    pub fn percent(&self) -> f64 {
        let (seen, all) = self.seen();
        if all == 0 {
            100.0
        } else {
            seen as f64 * 100.0 / all as f64
        }
    }
}

/// Counts, over the passing cases only (a failing case pins nothing down), what each exclude
/// and review rule did.
pub fn coverage(ruleset: &Ruleset, reports: &[FileReport]) -> Coverage {
    let mut rules: Vec<RuleCoverage> = ruleset
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.severity != Severity::Note)
        .map(|(rule, _)| RuleCoverage {
            rule,
            fired: 0,
            not_fired: 0,
            undecided: 0,
        })
        .collect();
    for outcome in reports.iter().flat_map(|r| &r.outcomes) {
        if !outcome.passed() {
            continue;
        }
        let fields = engine::seen(ruleset, &outcome.answers);
        for rc in &mut rules {
            match ruleset.rules[rc.rule].when.eval(&fields) {
                Truth::True => rc.fired += 1,
                Truth::False => rc.not_fired += 1,
                Truth::Unknown => rc.undecided += 1,
            }
        }
    }
    Coverage { rules }
}

/// The coverage report: a table of counts, the gaps, and the percentage.
pub fn coverage_text(ruleset: &Ruleset, cov: &Coverage) -> String {
    let width = cov
        .rules
        .iter()
        .map(|r| ruleset.rules[r.rule].id.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = String::from(
        "\nCoverage of exclude and review rules (number of passing cases per outcome):\n",
    );
    let _ = writeln!(
        out,
        "  {:<width$}  {:<8}  {:>5}  {:>9}  {:>9}",
        "rule", "severity", "fired", "not fired", "undecided"
    );
    for r in &cov.rules {
        let rule = &ruleset.rules[r.rule];
        let _ = writeln!(
            out,
            "  {:<width$}  {:<8}  {:>5}  {:>9}  {:>9}",
            rule.id,
            rule.severity.as_str(),
            r.fired,
            r.not_fired,
            r.undecided
        );
    }
    let gaps: Vec<&RuleCoverage> = cov.rules.iter().filter(|r| !r.gaps().is_empty()).collect();
    if gaps.is_empty() {
        out.push_str("Gaps: none\n");
    } else {
        let _ = writeln!(out, "Gaps ({}):", gaps.len());
        for r in gaps {
            let _ = writeln!(
                out,
                "  {}: {}",
                ruleset.rules[r.rule].id,
                r.gaps().join(", ")
            );
        }
    }
    let (seen, all) = cov.seen();
    let _ = writeln!(
        out,
        "Coverage: {seen} of {all} rule outcomes ({:.1}%)",
        cov.percent()
    );
    out
}
