//! `ketascreen rules test`: runs rule case files (the format and runner of `crate::cases`) and
//! reports them for a person — one line per case, and for a failing case what was expected,
//! what happened, and what each involved rule read and why it came out as it did. Also the
//! coverage report: for every exclude and review rule, how many passing cases made it fire,
//! not fire and stay undecided. Pure: returns text, prints nothing.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::boundaries::{self, Boundaries};
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
    let mark = if report.file.cases[index].is_confirmed() {
        ""
    } else {
        "  (unconfirmed)"
    };
    if outcome.passed() {
        return format!("pass  {}{mark}\n", outcome.name);
    }
    let place = match report.lines.get(index).copied().flatten() {
        Some(line) => format!("  ({}:{line})", report.name),
        None => String::new(),
    };
    let mut out = format!("FAIL  {}{place}{mark}\n", outcome.name);
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
    let unconfirmed = reports
        .iter()
        .flat_map(|r| &r.file.cases)
        .filter(|c| !c.is_confirmed())
        .count();
    if unconfirmed > 0 {
        format!(
            "{} passed, {failed} failed ({unconfirmed} unconfirmed: not counted as coverage until a person confirms them)\n",
            total - failed
        )
    } else {
        format!("{} passed, {failed} failed\n", total - failed)
    }
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

/// Coverage by the passing cases of some case files: the outcomes of every exclude and review
/// rule, both sides of every numeric threshold, and both outcomes of every skip condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    pub rules: Vec<RuleCoverage>,
    pub boundaries: Boundaries,
}

impl Coverage {
    /// Rule outcomes seen (fired, not fired, undecided: three per rule) out of all.
    pub fn outcomes_seen(&self) -> (usize, usize) {
        let seen = self.rules.iter().map(|r| 3 - r.gaps().len()).sum::<usize>();
        (seen, self.rules.len() * 3)
    }

    /// Everything seen (rule outcomes, threshold sides, skip outcomes) out of all.
    pub fn seen(&self) -> (usize, usize) {
        let (o, oa) = self.outcomes_seen();
        let ((b, ba), (a, aa)) = self.boundaries.seen();
        (o + b + a, oa + ba + aa)
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

/// Counts, over the passing, confirmed cases only (a failing or unconfirmed case pins nothing
/// down), what each exclude and review rule did, and which thresholds and skip conditions the
/// cases stand on.
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
    for (case, outcome) in reports
        .iter()
        .flat_map(|r| r.file.cases.iter().zip(&r.outcomes))
    {
        if !outcome.passed() || !case.is_confirmed() {
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
    Coverage {
        rules,
        boundaries: boundaries::coverage(ruleset, reports),
    }
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
    let b = &cov.boundaries;
    if !b.sides.is_empty() {
        out.push_str(
            "\nThreshold sides (passing cases with the answer on that side, deciding the rule):\n",
        );
        let rw = b
            .sides
            .iter()
            .map(|s| ruleset.rules[s.rule].id.len())
            .max()
            .unwrap_or(4)
            .max(4);
        let cw = b
            .sides
            .iter()
            .map(|s| s.comparison.len())
            .max()
            .unwrap_or(10)
            .max(10);
        let _ = writeln!(
            out,
            "  {:<rw$}  {:<cw$}  {:>5}  {:>5}",
            "rule", "comparison", "value", "cases"
        );
        for s in &b.sides {
            let _ = writeln!(
                out,
                "  {:<rw$}  {:<cw$}  {:>5}  {:>5}",
                ruleset.rules[s.rule].id,
                s.comparison,
                side_value(s),
                s.cases
            );
        }
    }
    if !b.ask_if.is_empty() {
        out.push_str("\nSkip conditions (passing cases per outcome):\n");
        let qw = b
            .ask_if
            .iter()
            .map(|a| ruleset.questions[a.question].id.len())
            .max()
            .unwrap_or(8)
            .max(8);
        let _ = writeln!(
            out,
            "  {:<qw$}  {:>5}  {:>7}  ask_if",
            "question", "asked", "skipped"
        );
        for a in &b.ask_if {
            let q = &ruleset.questions[a.question];
            let _ = writeln!(
                out,
                "  {:<qw$}  {:>5}  {:>7}  {}",
                q.id,
                a.asked,
                a.skipped,
                q.ask_if_text
                    .as_deref()
                    .map(super::conditions::canonical)
                    .unwrap_or_default()
            );
        }
    }
    let mut gaps: Vec<String> = cov
        .rules
        .iter()
        .filter(|r| !r.gaps().is_empty())
        .map(|r| format!("{}: {}", ruleset.rules[r.rule].id, r.gaps().join(", ")))
        .collect();
    gaps.extend(b.sides.iter().filter(|s| s.cases == 0).map(|s| {
        format!(
            "{}: no passing case at {} = {} deciding '{}'",
            ruleset.rules[s.rule].id,
            ruleset.questions[s.question].id,
            side_value(s),
            s.comparison
        )
    }));
    for a in &b.ask_if {
        let id = &ruleset.questions[a.question].id;
        if a.asked == 0 {
            gaps.push(format!("{id}: never asked"));
        }
        if a.skipped == 0 {
            gaps.push(format!("{id}: never skipped"));
        }
    }
    if gaps.is_empty() {
        out.push_str("Gaps: none\n");
    } else {
        let _ = writeln!(out, "Gaps ({}):", gaps.len());
        for g in &gaps {
            let _ = writeln!(out, "  {g}");
        }
        if b.sides.iter().any(|s| s.cases == 0)
            || b.ask_if.iter().any(|a| a.asked == 0 || a.skipped == 0)
        {
            out.push_str("  (`ketascreen rules cases --boundaries` drafts the missing threshold and skip cases)\n");
        }
    }
    let (o, oa) = cov.outcomes_seen();
    let ((s, sa), (a, aa)) = b.seen();
    let (seen, all) = cov.seen();
    let _ = writeln!(
        out,
        "Coverage: {o} of {oa} rule outcomes, {s} of {sa} threshold sides, {a} of {aa} skip outcomes: {seen} of {all} ({:.1}%)",
        cov.percent()
    );
    out
}

fn side_value(s: &boundaries::SidePoint) -> String {
    match &s.value {
        crate::answers::Value::Integer(n) => n.to_string(),
        crate::answers::Value::Number(x) => super::conditions::number(*x),
        _ => String::new(),
    }
}
