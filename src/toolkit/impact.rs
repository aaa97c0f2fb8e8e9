//! `ketascreen rules impact OLD NEW INTAKES`: what a ruleset change does to real patients. Each
//! past intake is decided under both rulesets (by the one engine; the rows come from the batch
//! reader, so whatever `batch` reads, impact reads) and tallied here: the verdict transition
//! matrix, the urgent changes, and for each changed cell the rules behind it (each rule whose
//! outcome moved, e.g. `low_oxygen_saturation: not fired -> undecided`) and the rows by id.
//! A transition towards a less cautious verdict — down the precedence ineligible > incomplete >
//! review > eligible, or down urgent > not known > not urgent — is listed first and called out.
//!
//! Memory stays flat: a cell keeps at most `keep_rows` row ids (the CSV form, written as the
//! rows stream past, lists every changed row). Pure: tallies verdicts and renders text; reading
//! the intakes and writing the output belong to the command layer.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::show::{cell as md_cell, code};
use crate::engine::{Status, Verdict};
use crate::ruleset::{Ruleset, Severity};

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Json,
    Csv,
}

/// Whether a rule fired, for one patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Fired,
    Undecided,
    NotFired,
    /// The rule is not in this ruleset.
    Absent,
}

/// What a rule came to for one patient: fired or undecided (with the rule's severity and
/// urgency), not fired, or absent from the ruleset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Outcome {
    pub result: State,
    /// The rule's severity when it fired or is undecided (`None` otherwise).
    pub severity: Option<Severity>,
    /// Whether it fired, or is undecided, as an urgent rule.
    pub urgent: bool,
}

impl Outcome {
    const NOT_FIRED: Outcome = Outcome {
        result: State::NotFired,
        severity: None,
        urgent: false,
    };
    const ABSENT: Outcome = Outcome {
        result: State::Absent,
        severity: None,
        urgent: false,
    };

    fn text(self) -> String {
        match self.result {
            State::Fired => match (self.severity, self.urgent) {
                (Some(s), true) => format!("fired ({s}, urgent)"),
                (Some(s), false) => format!("fired ({s})"),
                (None, _) => "fired".into(),
            },
            State::Undecided => match (self.severity, self.urgent) {
                (Some(s), true) => format!("undecided ({s}, urgent)"),
                _ => "undecided".into(),
            },
            State::NotFired => "not fired".into(),
            State::Absent => "absent".into(),
        }
    }

    /// Absent and not fired say the same about a patient: neither is behind a change.
    fn quiet(self) -> bool {
        matches!(self.result, State::NotFired | State::Absent)
    }

    /// Whether this outcome weighs on the verdict: an exclude or review rule fired or
    /// undecided (a note never changes the verdict).
    fn weighs(self) -> bool {
        match self.result {
            State::Fired => matches!(self.severity, Some(Severity::Exclude | Severity::Review)),
            State::Undecided => true,
            State::NotFired | State::Absent => false,
        }
    }
}

impl Cell {
    /// Whether a rule's change of outcome can be behind this cell: for a verdict change, one
    /// side weighs on the verdict; for an urgent change, one side is an urgent rule that fired
    /// or is undecided.
    fn explained_by(self, old: Outcome, new: Outcome) -> bool {
        match self {
            Cell::Verdict(..) => old.weighs() || new.weighs(),
            Cell::Urgent(..) => old.urgent || new.urgent,
        }
    }
}

/// Whether the patient needs same-day attention: urgent (an urgent rule fired), not known (no
/// urgent rule fired but one is undecided), or not urgent. In order of caution, most first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Urgency {
    Urgent,
    NotKnown,
    NotUrgent,
}

impl Urgency {
    pub const ALL: [Urgency; 3] = [Urgency::Urgent, Urgency::NotKnown, Urgency::NotUrgent];

    pub fn of(v: &Verdict) -> Urgency {
        if v.urgent {
            Urgency::Urgent
        } else if v.urgent_undecided {
            Urgency::NotKnown
        } else {
            Urgency::NotUrgent
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Urgent => "urgent",
            Urgency::NotKnown => "not known",
            Urgency::NotUrgent => "not urgent",
        }
    }
}

/// One cell of the report: a verdict transition, or an urgency change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cell {
    Verdict(Status, Status),
    Urgent(Urgency, Urgency),
}

impl Cell {
    /// Towards a less cautious verdict (down ineligible > incomplete > review > eligible), or
    /// down urgent > not known > not urgent.
    pub fn less_cautious(self) -> bool {
        match self {
            Cell::Verdict(old, new) => new > old,
            Cell::Urgent(old, new) => new > old,
        }
    }

    pub fn label(self) -> String {
        match self {
            Cell::Verdict(old, new) => format!("{old} -> {new}"),
            Cell::Urgent(old, new) => format!("urgency: {} -> {}", old.as_str(), new.as_str()),
        }
    }

    /// Report order: less cautious first, the biggest step first; then more cautious ones.
    fn order(self) -> (bool, u8, i8, i8) {
        let lc = !self.less_cautious();
        match self {
            Cell::Verdict(old, new) => (lc, 0, old as i8, -(new as i8)),
            Cell::Urgent(old, new) => (lc, 1, old as i8, -(new as i8)),
        }
    }
}

/// A row as the report names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowRef {
    /// 1-based data row, header not counted.
    pub row: u64,
    pub id: Option<String>,
}

/// How often one rule's outcome moved one way among a cell's rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleShift {
    pub rule: String,
    pub old: Outcome,
    pub new: Outcome,
    pub rows: u64,
}

/// One changed cell with its rows.
#[derive(Debug, Clone, Serialize)]
pub struct CellReport {
    #[serde(skip)]
    pub cell: Cell,
    pub kind: &'static str,
    pub old: String,
    pub new: String,
    pub less_cautious: bool,
    pub count: u64,
    /// The rules whose outcome moved, most rows first.
    pub rules: Vec<RuleShift>,
    /// The first `keep_rows` rows, in input order.
    pub rows: Vec<RowRef>,
    /// Rows in the cell beyond those listed.
    pub more_rows: u64,
}

/// Which ruleset a side is.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub id: String,
    pub version: String,
    pub sha256: String,
    pub file: String,
}

impl Side {
    fn of(rs: &Ruleset) -> Self {
        Side {
            id: rs.id.clone(),
            version: rs.version.clone(),
            sha256: rs.sha256.clone(),
            file: rs.origin.clone(),
        }
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Impact {
    pub schema: &'static str,
    pub old: Side,
    pub new: Side,
    pub input: String,
    pub rows: u64,
    /// Rows whose verdict or urgency changed.
    pub changed: u64,
    /// Of those, rows with a less cautious transition.
    pub less_cautious: u64,
    /// `matrix[old][new]`, verdicts in `Status::ALL` order.
    pub matrix: [[u64; 4]; 4],
    /// `urgent[old][new]`: urgent, not known, not urgent.
    pub urgent: [[u64; 3]; 3],
    /// Rows with input errors under each ruleset (their bad answers count as unanswered).
    pub rows_with_errors: [u64; 2],
    /// Questions (not free text) that no column of the intakes answers, under each ruleset:
    /// unanswered in every row.
    pub no_column: [Vec<String>; 2],
    pub cells: Vec<CellReport>,
}

/// One changed row, as the CSV form lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct RowChange {
    pub row: u64,
    pub id: Option<String>,
    pub old: (Status, Urgency),
    pub new: (Status, Urgency),
    pub less_cautious: bool,
    pub rules: Vec<(String, Outcome, Outcome)>,
}

#[derive(Debug, Default)]
struct CellTally {
    count: u64,
    rules: BTreeMap<(usize, Outcome, Outcome), u64>,
    rows: Vec<RowRef>,
}

/// Accumulates decided rows into the report.
#[derive(Debug)]
pub struct Tally {
    old: Side,
    new: Side,
    /// Every rule id of either ruleset (new ones first, then those only in old), with its
    /// index in old and in new.
    rules: Vec<(String, Option<usize>, Option<usize>)>,
    keep_rows: usize,
    rows: u64,
    changed: u64,
    less_cautious: u64,
    matrix: [[u64; 4]; 4],
    urgent: [[u64; 3]; 3],
    /// Each rule's severity and urgent flag in the old and the new ruleset.
    flags: [Vec<(Severity, bool)>; 2],
    rows_with_errors: [u64; 2],
    no_column: [Vec<String>; 2],
    cells: BTreeMap<Cell, CellTally>,
    outcomes: [Vec<Outcome>; 2],
}

fn outcomes(v: &Verdict, flags: &[(Severity, bool)], out: &mut Vec<Outcome>) {
    out.clear();
    out.resize(flags.len(), Outcome::NOT_FIRED);
    for r in &v.reasons {
        out[r.rule] = Outcome {
            result: State::Fired,
            severity: Some(r.severity),
            urgent: r.urgent,
        };
    }
    for m in &v.missing {
        let (severity, urgent) = flags[m.rule];
        out[m.rule] = Outcome {
            result: State::Undecided,
            severity: Some(severity),
            urgent,
        };
    }
}

impl Tally {
    pub fn new(old: &Ruleset, new: &Ruleset, keep_rows: usize) -> Self {
        let mut rules: Vec<(String, Option<usize>, Option<usize>)> = new
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                (
                    r.id.clone(),
                    old.rules.iter().position(|o| o.id == r.id),
                    Some(i),
                )
            })
            .collect();
        for (i, r) in old.rules.iter().enumerate() {
            if !new.rules.iter().any(|n| n.id == r.id) {
                rules.push((r.id.clone(), Some(i), None));
            }
        }
        Tally {
            old: Side::of(old),
            new: Side::of(new),
            rules,
            keep_rows,
            rows: 0,
            changed: 0,
            less_cautious: 0,
            matrix: [[0; 4]; 4],
            urgent: [[0; 3]; 3],
            flags: [
                old.rules.iter().map(|r| (r.severity, r.urgent)).collect(),
                new.rules.iter().map(|r| (r.severity, r.urgent)).collect(),
            ],
            rows_with_errors: [0; 2],
            no_column: [Vec::new(), Vec::new()],
            cells: BTreeMap::new(),
            outcomes: [Vec::new(), Vec::new()],
        }
    }

    /// Notes the questions of the old (0) or new (1) ruleset that no column answers.
    pub fn no_column(&mut self, side: usize, questions: Vec<String>) {
        self.no_column[side] = questions;
    }

    /// Adds one row decided under both rulesets; returns what changed, if anything.
    pub fn add(
        &mut self,
        row: u64,
        id: Option<&str>,
        (old, old_errors): (&Verdict, bool),
        (new, new_errors): (&Verdict, bool),
    ) -> Option<RowChange> {
        let (old_urgency, new_urgency) = (Urgency::of(old), Urgency::of(new));
        self.rows += 1;
        self.matrix[old.status as usize][new.status as usize] += 1;
        self.urgent[old_urgency as usize][new_urgency as usize] += 1;
        self.rows_with_errors[0] += u64::from(old_errors);
        self.rows_with_errors[1] += u64::from(new_errors);
        let mut cells = Vec::with_capacity(2);
        if old.status != new.status {
            cells.push(Cell::Verdict(old.status, new.status));
        }
        if old_urgency != new_urgency {
            cells.push(Cell::Urgent(old_urgency, new_urgency));
        }
        if cells.is_empty() {
            return None;
        }
        self.changed += 1;
        let less = cells.iter().any(|c| c.less_cautious());
        self.less_cautious += u64::from(less);

        let [o, n] = &mut self.outcomes;
        outcomes(old, &self.flags[0], o);
        outcomes(new, &self.flags[1], n);
        let shifts: Vec<(usize, Outcome, Outcome)> = self
            .rules
            .iter()
            .enumerate()
            .filter_map(|(k, (_, oi, ni))| {
                let before = oi.map_or(Outcome::ABSENT, |i| o[i]);
                let after = ni.map_or(Outcome::ABSENT, |i| n[i]);
                (before != after && !(before.quiet() && after.quiet()))
                    .then_some((k, before, after))
            })
            .collect();
        let row_ref = RowRef {
            row,
            id: id.map(str::to_string),
        };
        for &cell in &cells {
            let t = self.cells.entry(cell).or_default();
            t.count += 1;
            for &(k, b, a) in shifts.iter().filter(|(_, b, a)| cell.explained_by(*b, *a)) {
                *t.rules.entry((k, b, a)).or_default() += 1;
            }
            if t.rows.len() < self.keep_rows {
                t.rows.push(row_ref.clone());
            }
        }
        Some(RowChange {
            row,
            id: row_ref.id,
            old: (old.status, old_urgency),
            new: (new.status, new_urgency),
            less_cautious: less,
            rules: shifts
                .into_iter()
                .filter(|(_, b, a)| cells.iter().any(|c| c.explained_by(*b, *a)))
                .map(|(k, b, a)| (self.rules[k].0.clone(), b, a))
                .collect(),
        })
    }

    /// The report, once every row is in.
    pub fn finish(self, input: &str) -> Impact {
        let mut cells: Vec<CellReport> = self
            .cells
            .into_iter()
            .map(|(cell, t)| {
                let mut rules: Vec<RuleShift> = t
                    .rules
                    .into_iter()
                    .map(|((k, old, new), rows)| RuleShift {
                        rule: self.rules[k].0.clone(),
                        old,
                        new,
                        rows,
                    })
                    .collect();
                rules.sort_by_key(|r| std::cmp::Reverse(r.rows));
                let (kind, old, new) = match cell {
                    Cell::Verdict(o, n) => ("verdict", o.to_string(), n.to_string()),
                    Cell::Urgent(o, n) => ("urgent", o.as_str().into(), n.as_str().into()),
                };
                CellReport {
                    cell,
                    kind,
                    old,
                    new,
                    less_cautious: cell.less_cautious(),
                    count: t.count,
                    more_rows: t.count - t.rows.len() as u64,
                    rules,
                    rows: t.rows,
                }
            })
            .collect();
        cells.sort_by_key(|c| c.cell.order());
        Impact {
            schema: "ketascreen.rules-impact/v1",
            old: self.old,
            new: self.new,
            input: input.to_string(),
            rows: self.rows,
            changed: self.changed,
            less_cautious: self.less_cautious,
            matrix: self.matrix,
            urgent: self.urgent,
            rows_with_errors: self.rows_with_errors,
            no_column: self.no_column,
            cells,
        }
    }
}

/// Text from input or a ruleset for a terminal: control characters escaped.
fn clean(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

fn row_name(r: &RowRef) -> String {
    match &r.id {
        Some(id) => format!("{} (row {})", clean(id), r.row),
        None => format!("row {}", r.row),
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Renders the report (not the CSV form, which is written row by row).
pub fn render(i: &Impact, format: Format) -> String {
    match format {
        Format::Text | Format::Csv => text(i),
        Format::Markdown => markdown(i),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(i).unwrap_or_default();
            s.push('\n');
            s
        }
    }
}

fn shift_text(s: &RuleShift) -> String {
    format!(
        "{}: {} -> {} ({})",
        clean(&s.rule),
        s.old.text(),
        s.new.text(),
        plural(s.rows, "row", "rows")
    )
}

/// The urgency matrix as aligned text lines.
fn urgent_text(i: &Impact, out: &mut String) {
    let _ = writeln!(
        out,
        "  {:<12}{}{:>12}",
        "old",
        Urgency::ALL
            .iter()
            .map(|u| format!("{:>12}", u.as_str()))
            .collect::<String>(),
        "total"
    );
    for (o, u) in Urgency::ALL.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {:<12}{}{:>12}",
            u.as_str(),
            i.urgent[o]
                .iter()
                .map(|n| format!("{n:>12}"))
                .collect::<String>(),
            i.urgent[o].iter().sum::<u64>()
        );
    }
}

/// The verdict matrix as aligned text lines.
fn matrix_text(i: &Impact, out: &mut String) {
    let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    let _ = writeln!(
        out,
        "  {:<12}{}{:>12}",
        "old",
        names.iter().map(|n| format!("{n:>12}")).collect::<String>(),
        "total"
    );
    for (o, name) in names.iter().enumerate() {
        let row: u64 = i.matrix[o].iter().sum();
        let _ = writeln!(
            out,
            "  {:<12}{}{:>12}",
            name,
            i.matrix[o]
                .iter()
                .map(|n| format!("{n:>12}"))
                .collect::<String>(),
            row
        );
    }
    let totals: Vec<u64> = (0..4)
        .map(|n| (0..4).map(|o| i.matrix[o][n]).sum())
        .collect();
    let _ = writeln!(
        out,
        "  {:<12}{}{:>12}",
        "total",
        totals
            .iter()
            .map(|n| format!("{n:>12}"))
            .collect::<String>(),
        i.rows
    );
}

fn text(i: &Impact) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Impact of ruleset {} {} -> {} {} on {} ({})",
        clean(&i.old.id),
        clean(&i.old.version),
        clean(&i.new.id),
        clean(&i.new.version),
        clean(&i.input),
        plural(i.rows, "row", "rows")
    );
    let _ = writeln!(
        out,
        "  old: {} (sha256 {})",
        clean(&i.old.file),
        i.old.sha256
    );
    let _ = writeln!(
        out,
        "  new: {} (sha256 {})",
        clean(&i.new.file),
        i.new.sha256
    );
    out.push_str("\nVerdicts (rows: the old verdict; columns: the new verdict):\n");
    matrix_text(i, &mut out);
    out.push_str("\nUrgency (rows: old; columns: new):\n");
    urgent_text(i, &mut out);
    if i.rows_with_errors != [0, 0] || i.no_column.iter().any(|q| !q.is_empty()) {
        out.push('\n');
    }
    if i.rows_with_errors != [0, 0] {
        let _ = writeln!(
            out,
            "Rows with input errors: {} under the old ruleset, {} under the new (a bad answer counts as unanswered)",
            i.rows_with_errors[0], i.rows_with_errors[1]
        );
    }
    for (side, which) in [(0, "old"), (1, "new")] {
        let qs = &i.no_column[side];
        if !qs.is_empty() {
            let names: Vec<String> = qs.iter().map(|q| clean(q)).collect();
            let _ = writeln!(
                out,
                "No column for {} of the {which} ruleset (unanswered in every row): {}",
                plural(qs.len() as u64, "question", "questions"),
                names.join(", ")
            );
        }
    }
    let _ = writeln!(
        out,
        "\nChanged: {} of {}; {} less cautious",
        i.changed,
        plural(i.rows, "row", "rows"),
        i.less_cautious
    );
    if i.changed == 0 {
        out.push_str("No verdict and no urgency changes.\n");
    }
    for c in &i.cells {
        let flag = if c.less_cautious {
            "LESS CAUTIOUS: "
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "\n{flag}{} ({})",
            c.cell.label(),
            plural(c.count, "row", "rows")
        );
        if c.rules.is_empty() {
            out.push_str("  rules: no rule outcome changed\n");
        }
        for (k, s) in c.rules.iter().enumerate() {
            let lead = if k == 0 { "  rules: " } else { "         " };
            let _ = writeln!(out, "{lead}{}", shift_text(s));
        }
        let names: Vec<String> = c.rows.iter().map(row_name).collect();
        let more = if c.more_rows > 0 {
            format!(", and {} more (all of them: --format csv)", c.more_rows)
        } else {
            String::new()
        };
        let _ = writeln!(out, "  rows: {}{more}", names.join(", "));
    }
    out
}

fn markdown(i: &Impact) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Impact of ruleset {} {} → {} {}\n",
        md_cell(&i.old.id),
        md_cell(&i.old.version),
        md_cell(&i.new.id),
        md_cell(&i.new.version)
    );
    out.push_str("| | Old | New |\n|---|---|---|\n");
    let _ = writeln!(
        out,
        "| Ruleset | {} {} | {} {} |",
        code(&i.old.id),
        md_cell(&i.old.version),
        code(&i.new.id),
        md_cell(&i.new.version)
    );
    let _ = writeln!(
        out,
        "| SHA-256 | {} | {} |",
        code(&i.old.sha256),
        code(&i.new.sha256)
    );
    let _ = writeln!(
        out,
        "\nIntakes: {} ({}). Changed: {}, of which **{} less cautious**.\n",
        md_cell(&i.input),
        plural(i.rows, "row", "rows"),
        i.changed,
        i.less_cautious
    );
    out.push_str("## Verdicts\n\nRows: the old verdict; columns: the new verdict.\n\n| old |");
    for s in Status::ALL {
        let _ = write!(out, " {s} |");
    }
    out.push_str(" total |\n|---|---:|---:|---:|---:|---:|\n");
    for (o, s) in Status::ALL.iter().enumerate() {
        let _ = write!(out, "| {s} |");
        for n in 0..4 {
            let _ = write!(out, " {} |", i.matrix[o][n]);
        }
        let _ = writeln!(out, " {} |", i.matrix[o].iter().sum::<u64>());
    }
    out.push_str("| total |");
    for n in 0..4 {
        let _ = write!(out, " {} |", (0..4).map(|o| i.matrix[o][n]).sum::<u64>());
    }
    let _ = writeln!(out, " {} |", i.rows);
    out.push_str("\n## Urgency\n\nRows: old; columns: new. Not known: no urgent rule fired, but one is undecided.\n\n| old |");
    for u in Urgency::ALL {
        let _ = write!(out, " {} |", u.as_str());
    }
    out.push_str(" total |\n|---|---:|---:|---:|---:|\n");
    for (o, u) in Urgency::ALL.iter().enumerate() {
        let _ = write!(out, "| {} |", u.as_str());
        for n in 0..3 {
            let _ = write!(out, " {} |", i.urgent[o][n]);
        }
        let _ = writeln!(out, " {} |", i.urgent[o].iter().sum::<u64>());
    }
    if i.rows_with_errors != [0, 0] {
        let _ = writeln!(
            out,
            "\nRows with input errors: {} under the old ruleset, {} under the new.",
            i.rows_with_errors[0], i.rows_with_errors[1]
        );
    }
    for (side, which) in [(0, "old"), (1, "new")] {
        let qs = &i.no_column[side];
        if !qs.is_empty() {
            let names: Vec<String> = qs.iter().map(|q| code(q)).collect();
            let _ = writeln!(
                out,
                "\nNo column for {} of the {which} ruleset (unanswered in every row): {}.",
                plural(qs.len() as u64, "question", "questions"),
                names.join(", ")
            );
        }
    }
    if !i.cells.is_empty() {
        out.push_str("\n## Transitions\n\nLess cautious transitions first.\n");
    }
    for c in &i.cells {
        let flag = if c.less_cautious {
            "⚠ LESS CAUTIOUS: "
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "\n### {flag}{} ({})\n",
            c.cell.label().replace("->", "→"),
            plural(c.count, "row", "rows")
        );
        if c.rules.is_empty() {
            out.push_str("No rule outcome changed.\n");
        } else {
            out.push_str("| Rule | Old | New | Rows |\n|---|---|---|---:|\n");
            for s in &c.rules {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    code(&s.rule),
                    s.old.text(),
                    s.new.text(),
                    s.rows
                );
            }
        }
        let names: Vec<String> = c.rows.iter().map(|r| md_cell(&row_name(r))).collect();
        let more = if c.more_rows > 0 {
            format!(", and {} more", c.more_rows)
        } else {
            String::new()
        };
        let _ = writeln!(out, "\nRows: {}{more}", names.join(", "));
    }
    out
}

/// The header of the CSV form: one line per changed row.
pub const CSV_HEADER: [&str; 8] = [
    "row",
    "id",
    "old_verdict",
    "new_verdict",
    "old_urgency",
    "new_urgency",
    "less_cautious",
    "rules",
];

/// A cell for a spreadsheet: text that a spreadsheet would run as a formula is quoted with `'`.
fn sheet_safe(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// The CSV fields of one changed row, in `CSV_HEADER` order.
pub fn csv_fields(c: &RowChange) -> [String; 8] {
    let rules: Vec<String> = c
        .rules
        .iter()
        .map(|(r, o, n)| format!("{r}: {} -> {}", o.text(), n.text()))
        .collect();
    [
        c.row.to_string(),
        c.id.as_deref().map(sheet_safe).unwrap_or_default(),
        c.old.0.to_string(),
        c.new.0.to_string(),
        c.old.1.as_str().to_string(),
        c.new.1.as_str().to_string(),
        c.less_cautious.to_string(),
        rules.join("; "),
    ]
}
