//! Rendering batch records, one per input row: NDJSON (one compact record per line), a JSON
//! array (written record by record), CSV (the `output::csv` columns), or a compact table for a
//! terminal. Only presentation: the verdicts arrive decided. Records are rendered into byte
//! buffers (so several screening threads can render while one writes) with reused scratch
//! space; nothing here echoes an answer or an ignored column.

use crate::answers::InputError;
use crate::engine::{Detail, Status, Verdict};
use crate::output::{fast_json::RecordWriter, Format};
use crate::ruleset::{Ruleset, Severity, Slot};

/// One screened row, as the writers see it.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// 1-based data row (the header is not counted).
    pub number: u64,
    pub id: Option<&'a str>,
    pub verdict: &'a Verdict,
    pub errors: &'a [InputError],
}

/// Renders batch records in one format into byte buffers. One renderer per thread that
/// screens rows; what goes before the first record and after the last (`head`, `tail`) is
/// written once by whoever owns the output.
pub struct Renderer<'r> {
    ruleset: &'r Ruleset,
    kind: Kind,
}

enum Kind {
    Ndjson(Box<RecordWriter>),
    Json(Box<RecordWriter>),
    Csv(Box<CsvCells>),
    Table {
        color: bool,
        line: String,
        missing: Vec<Slot>,
    },
}

/// The reused cell buffers of one CSV row.
struct CsvCells {
    row: Vec<u8>,
    id: Vec<u8>,
    reasons: Vec<u8>,
    missing: Vec<u8>,
    errors: Vec<u8>,
    ruleset: Vec<u8>,
    slots: Vec<Slot>,
    /// No rule or question id contains a character CSV must quote, so cells made of ids are
    /// written as they are.
    plain_ids: bool,
}

fn needs_quotes(cell: &[u8]) -> bool {
    cell.iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
}

impl<'r> Renderer<'r> {
    /// A renderer for `format`; for a table, `color` allows ANSI colour.
    pub fn new(ruleset: &'r Ruleset, format: Format, color: bool) -> Self {
        let kind = match format {
            Format::Ndjson => Kind::Ndjson(Box::new(RecordWriter::new(ruleset))),
            Format::Json => Kind::Json(Box::new(RecordWriter::new(ruleset))),
            Format::Csv => Kind::Csv(Box::new(CsvCells {
                row: Vec::new(),
                id: Vec::new(),
                reasons: Vec::new(),
                missing: Vec::new(),
                errors: Vec::new(),
                ruleset: crate::output::csv::defused(format!("{}@{}", ruleset.id, ruleset.version))
                    .into_bytes(),
                slots: Vec::new(),
                plain_ids: !ruleset
                    .rules
                    .iter()
                    .map(|r| &r.id)
                    .chain(ruleset.questions.iter().map(|q| &q.id))
                    .any(|id| needs_quotes(id.as_bytes())),
            })),
            Format::Table => Kind::Table {
                color,
                line: String::new(),
                missing: Vec::new(),
            },
        };
        Renderer { ruleset, kind }
    }

    /// What the engine must fill in for this format: CSV and the table show rule ids only.
    pub fn detail(&self) -> Detail {
        match self.kind {
            Kind::Csv(_) | Kind::Table { .. } => Detail::Outline,
            Kind::Ndjson(_) | Kind::Json(_) => Detail::Full,
        }
    }

    /// What comes before the first record: a CSV or table header, a JSON array's `[`.
    pub fn head(&mut self, out: &mut Vec<u8>) {
        match &mut self.kind {
            Kind::Ndjson(_) => {}
            Kind::Json(_) => out.push(b'['),
            Kind::Csv(_) => {
                for (i, name) in crate::output::csv::HEADER.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    csv_field(out, name.as_bytes(), false);
                }
                out.push(b'\n');
            }
            Kind::Table { line, .. } => {
                table_line(
                    line,
                    "row",
                    "id",
                    ("verdict", None),
                    ("urgent", None),
                    "reasons",
                );
                out.extend_from_slice(line.as_bytes());
            }
        }
    }

    /// What comes after the last record, given how many records there were.
    pub fn tail(&mut self, out: &mut Vec<u8>, records: u64) {
        if let Kind::Json(_) = self.kind {
            out.extend_from_slice(if records == 0 { b"]\n" } else { b"\n]\n" });
        }
    }

    /// Appends one record to `out`. Rows are numbered from 1 with no gaps, so row 1 is the
    /// first record of the output (which matters for the JSON array's commas).
    pub fn record(&mut self, out: &mut Vec<u8>, row: &Row<'_>) {
        let ruleset = self.ruleset;
        match &mut self.kind {
            Kind::Ndjson(json) => {
                // Writing into a Vec cannot fail.
                let _ = json.write(out, Some(row.number), row.id, row.verdict, row.errors);
                out.push(b'\n');
            }
            Kind::Json(json) => {
                out.extend_from_slice(if row.number == 1 { b"\n" } else { b",\n" });
                let _ = json.write(out, Some(row.number), row.id, row.verdict, row.errors);
            }
            Kind::Csv(cells) => {
                cells.fill(ruleset, row);
                let plain = cells.plain_ids;
                let verdict = row.verdict;
                csv_field(out, &cells.row, true);
                out.push(b',');
                csv_field(out, &cells.id, false);
                out.push(b',');
                out.extend_from_slice(verdict.status.as_str().as_bytes());
                out.extend_from_slice(if verdict.urgent {
                    b",true,"
                } else {
                    b",false,"
                });
                csv_field(out, &cells.reasons, plain);
                out.push(b',');
                csv_field(out, &cells.missing, plain);
                out.push(b',');
                csv_field(out, &cells.errors, false);
                out.push(b',');
                csv_field(out, &cells.ruleset, false);
                out.push(b'\n');
            }
            Kind::Table {
                color,
                line,
                missing,
            } => {
                table_row(ruleset, row, *color, line, missing);
                out.extend_from_slice(line.as_bytes());
            }
        }
    }
}

/// One CSV field as the csv crate writes it by default: quoted (with quotes doubled) only when
/// it holds a comma, a quote or a line break. `plain` says the caller knows it holds none.
fn csv_field(out: &mut Vec<u8>, cell: &[u8], plain: bool) {
    if plain || !needs_quotes(cell) {
        out.extend_from_slice(cell);
        return;
    }
    out.push(b'"');
    for &b in cell {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Writes a row number in decimal into `out` (cleared first).
fn decimal(out: &mut Vec<u8>, mut n: u64) {
    out.clear();
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

impl CsvCells {
    /// The cells of `output::csv::fields`, into reused buffers.
    fn fill(&mut self, ruleset: &Ruleset, row: &Row<'_>) {
        decimal(&mut self.row, row.number);
        self.id.clear();
        let id = row.id.unwrap_or("").as_bytes();
        if crate::output::csv::is_formula(id) {
            self.id.push(b'\'');
        }
        self.id.extend_from_slice(id);
        self.reasons.clear();
        for (i, reason) in row.verdict.reasons.iter().enumerate() {
            if i > 0 {
                self.reasons.push(b';');
            }
            self.reasons
                .extend_from_slice(ruleset.rules[reason.rule].id.as_bytes());
        }
        missing_questions(row.verdict, &mut self.slots);
        self.missing.clear();
        for (i, &slot) in self.slots.iter().enumerate() {
            if i > 0 {
                self.missing.push(b';');
            }
            self.missing
                .extend_from_slice(ruleset.questions[slot].id.as_bytes());
        }
        self.errors.clear();
        for (i, e) in row.errors.iter().enumerate() {
            if i > 0 {
                self.errors.extend_from_slice(b"; ");
            }
            self.errors.extend_from_slice(e.question.as_bytes());
            self.errors.extend_from_slice(b": ");
            self.errors.extend_from_slice(e.message.as_bytes());
        }
        if crate::output::csv::is_formula(&self.errors) {
            self.errors.insert(0, b'\'');
        }
    }
}

/// `Verdict::missing_questions`, into a reused vector.
fn missing_questions(verdict: &Verdict, out: &mut Vec<Slot>) {
    out.clear();
    out.extend(
        verdict
            .missing
            .iter()
            .flat_map(|m| m.questions.iter().copied()),
    );
    out.sort_unstable();
    out.dedup();
}

fn status_color(status: Status) -> &'static str {
    match status {
        Status::Ineligible => "1;31",
        Status::Incomplete => "1;33",
        Status::Review => "1;35",
        Status::Eligible => "1;32",
    }
}

/// One table line; a cell given with a colour code is painted after it is padded.
fn table_line(
    line: &mut String,
    row: &str,
    id: &str,
    verdict: (&str, Option<&str>),
    urgent: (&str, Option<&str>),
    reasons: &str,
) {
    use std::fmt::Write as _;
    line.clear();
    let _ = write!(line, "{row:>6}  {id:<12}  ");
    for ((text, code), width) in [(verdict, 10), (urgent, 6)] {
        match code {
            Some(code) => {
                let _ = write!(line, "\x1b[{code}m{text:<width$}\x1b[0m  ");
            }
            None => {
                let _ = write!(line, "{text:<width$}  ");
            }
        }
    }
    line.push_str(reasons);
    line.truncate(line.trim_end().len());
    line.push('\n');
}

/// How many missing questions a table row names.
const NEEDS_SHOWN: usize = 5;

/// A table row: fired rules (exclusions and referrals first, then notes), the questions that
/// would decide an incomplete verdict, and how many input errors the row had.
fn table_row(
    ruleset: &Ruleset,
    row: &Row<'_>,
    color: bool,
    line: &mut String,
    missing: &mut Vec<Slot>,
) {
    let v = row.verdict;
    let mut details = String::new();
    for (i, r) in v.reasons.iter().enumerate() {
        if i > 0 {
            details.push_str(", ");
        }
        if r.severity == Severity::Note && (i == 0 || v.reasons[i - 1].severity != Severity::Note) {
            details.push_str("note: ");
        }
        details.push_str(&ruleset.rules[r.rule].id);
    }
    missing_questions(v, missing);
    if v.status == Status::Incomplete {
        if !details.is_empty() {
            details.push_str("; ");
        }
        details.push_str("needs ");
        for (i, &slot) in missing.iter().take(NEEDS_SHOWN).enumerate() {
            if i > 0 {
                details.push_str(", ");
            }
            details.push_str(&ruleset.questions[slot].id);
        }
        if missing.len() > NEEDS_SHOWN {
            details.push_str(&format!(" and {} more", missing.len() - NEEDS_SHOWN));
        }
    }
    if !row.errors.is_empty() {
        if !details.is_empty() {
            details.push_str("; ");
        }
        let n = row.errors.len();
        details.push_str(&format!("{n} input error{}", if n == 1 { "" } else { "s" }));
    }
    if details.is_empty() {
        details.push('-');
    }
    let id: String = row
        .id
        .unwrap_or("-")
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    let number = row.number.to_string();
    let status = v.status.as_str();
    let paint = |code: &'static str| color.then_some(code);
    table_line(
        line,
        &number,
        &id,
        (status, paint(status_color(v.status))),
        if v.urgent {
            ("URGENT", paint("1;41;97"))
        } else {
            ("", None)
        },
        &details,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::{parse_text, Answers};
    use crate::engine::evaluate;
    use crate::output::Record;
    use crate::ruleset::builtin;

    fn records(rs: &Ruleset) -> Vec<Record> {
        let patients: [&[(&str, &str)]; 4] = [
            &[("systolic_bp", "190"), ("current_psychosis", "yes")],
            &[("age_years", "70"), ("phq9_total", "5")],
            &[],
            &[("substance_use_disorder", "in_remission")],
        ];
        patients
            .iter()
            .enumerate()
            .map(|(i, values)| {
                let mut answers = Answers::new(rs);
                for (id, raw) in values.iter() {
                    let slot = rs.slot(id).expect("known");
                    answers.set(slot, parse_text(&rs.questions[slot], raw).expect("valid"));
                }
                Record {
                    id: [Some("P,1\"x".to_string()), None, Some("a\r\nb\"".into())][i % 3].clone(),
                    row: Some(i as u64 + 1),
                    verdict: evaluate(rs, &answers),
                    errors: vec![
                        InputError {
                            question: "systolic_bp".into(),
                            value: "400".into(),
                            message: "column 'sbp': 400 is out of range".into(),
                        };
                        i % 3
                    ],
                }
            })
            .collect()
    }

    fn write_all(rs: &Ruleset, format: Format, records: &[Record]) -> String {
        let mut renderer = Renderer::new(rs, format, false);
        let mut out = Vec::new();
        renderer.head(&mut out);
        for r in records {
            renderer.record(
                &mut out,
                &Row {
                    number: r.row.unwrap_or(0),
                    id: r.id.as_deref(),
                    verdict: &r.verdict,
                    errors: &r.errors,
                },
            );
        }
        renderer.tail(&mut out, records.len() as u64);
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn csv_rows_are_output_csv_fields() {
        let rs = builtin().expect("loads");
        let mut records = records(&rs);
        records[0].row = Some(1234567890);
        records[1].errors[0].message = "a, \"quoted\"\nmessage".into();
        let mut expected = csv::Writer::from_writer(Vec::new());
        expected
            .write_record(crate::output::csv::HEADER)
            .expect("header");
        for r in &records {
            expected
                .write_record(crate::output::csv::fields(&rs, r))
                .expect("row");
        }
        let expected = String::from_utf8(expected.into_inner().expect("flush")).expect("UTF-8");
        assert_eq!(write_all(&rs, Format::Csv, &records), expected);
    }

    #[test]
    fn json_array_and_ndjson_carry_the_same_records() {
        let rs = builtin().expect("loads");
        let records = records(&rs);
        let ndjson = write_all(&rs, Format::Ndjson, &records);
        let array = write_all(&rs, Format::Json, &records);
        let lines: Vec<serde_json::Value> = ndjson
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        let parsed: serde_json::Value = serde_json::from_str(&array).expect("a JSON array");
        assert_eq!(parsed, serde_json::Value::Array(lines.clone()));
        for (line, r) in lines.iter().zip(&records) {
            assert_eq!(line, &crate::output::json::to_value(&rs, r, None));
        }
        assert!(array.starts_with("[\n{\"schema\""));
        assert!(array.ends_with("}\n]\n"));
        assert_eq!(write_all(&rs, Format::Json, &[]), "[]\n");
        assert_eq!(write_all(&rs, Format::Ndjson, &[]), "");
    }

    #[test]
    fn table_shows_verdicts_reasons_and_what_is_missing() {
        let rs = builtin().expect("loads");
        let table = write_all(&rs, Format::Table, &records(&rs)[..2]);
        let expected = concat!(
            "   row  id            verdict     urgent  reasons\n",
            "     1  P,1\"x         ineligible  URGENT  severe_hypertension, current_psychosis\n",
            "     2  -             incomplete          note: older_adult, below_moderate_severity; ",
            "needs primary_diagnosis, failed_antidepressant_trials, consent_capacity, systolic_bp, ",
            "diastolic_bp and 23 more; 1 input error\n",
        );
        assert_eq!(table, expected);
    }
}
