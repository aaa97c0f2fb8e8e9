//! Writing batch records as they are decided, one per input row and in input order: NDJSON
//! (one compact record per line), a JSON array streamed record by record, CSV (the `output::csv`
//! columns), or a compact table for a terminal. Only presentation: the verdicts arrive decided.
//! Every writer reuses its buffers and propagates I/O errors (a closed pipe ends the run quietly
//! further up); none of them echoes an answer or an ignored column.

use std::io::{self, BufWriter, Write};

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

const BUFFER: usize = 1 << 16;

/// A streaming writer of batch records in one format.
pub struct Sink<'r, W: Write> {
    ruleset: &'r Ruleset,
    kind: Kind<W>,
}

enum Kind<W: Write> {
    Ndjson {
        out: BufWriter<W>,
        json: Box<RecordWriter>,
    },
    Json {
        out: BufWriter<W>,
        json: Box<RecordWriter>,
        first: bool,
    },
    Csv {
        out: BufWriter<W>,
        cells: Box<CsvCells>,
    },
    Table {
        out: BufWriter<W>,
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
}

impl<'r, W: Write> Sink<'r, W> {
    /// Starts writing `format` to `out` (for a table, `color` allows ANSI colour) and writes
    /// what comes before the first record (a CSV or table header, a JSON array's `[`).
    pub fn start(ruleset: &'r Ruleset, format: Format, out: W, color: bool) -> io::Result<Self> {
        let kind = match format {
            Format::Ndjson => Kind::Ndjson {
                out: BufWriter::with_capacity(BUFFER, out),
                json: Box::new(RecordWriter::new(ruleset)),
            },
            Format::Json => {
                let mut out = BufWriter::with_capacity(BUFFER, out);
                out.write_all(b"[")?;
                Kind::Json {
                    out,
                    json: Box::new(RecordWriter::new(ruleset)),
                    first: true,
                }
            }
            Format::Csv => {
                let mut out = BufWriter::with_capacity(BUFFER, out);
                for (i, name) in crate::output::csv::HEADER.iter().enumerate() {
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    csv_field(&mut out, name.as_bytes())?;
                }
                out.write_all(b"\n")?;
                Kind::Csv {
                    out,
                    cells: Box::new(CsvCells {
                        row: Vec::new(),
                        id: Vec::new(),
                        reasons: Vec::new(),
                        missing: Vec::new(),
                        errors: Vec::new(),
                        ruleset: format!("{}@{}", ruleset.id, ruleset.version).into_bytes(),
                        slots: Vec::new(),
                    }),
                }
            }
            Format::Table => {
                let mut out = BufWriter::with_capacity(BUFFER, out);
                let mut line = String::new();
                table_line(
                    &mut line,
                    "row",
                    "id",
                    ("verdict", None),
                    ("urgent", None),
                    "reasons",
                );
                out.write_all(line.as_bytes())?;
                Kind::Table {
                    out,
                    color,
                    line,
                    missing: Vec::new(),
                }
            }
        };
        Ok(Sink { ruleset, kind })
    }

    /// Writes one record.
    pub fn row(&mut self, row: &Row<'_>) -> io::Result<()> {
        let ruleset = self.ruleset;
        match &mut self.kind {
            Kind::Ndjson { out, json } => {
                json.write(out, Some(row.number), row.id, row.verdict, row.errors)?;
                out.write_all(b"\n")
            }
            Kind::Json { out, json, first } => {
                out.write_all(if *first { b"\n" } else { b",\n" })?;
                *first = false;
                json.write(out, Some(row.number), row.id, row.verdict, row.errors)
            }
            Kind::Csv { out, cells } => {
                cells.fill(ruleset, row);
                let CsvCells {
                    row: number,
                    id,
                    reasons,
                    missing,
                    errors,
                    ruleset: rs,
                    ..
                } = &**cells;
                let verdict = row.verdict;
                for (i, cell) in [
                    &number[..],
                    &id[..],
                    verdict.status.as_str().as_bytes(),
                    if verdict.urgent { b"true" } else { b"false" },
                    &reasons[..],
                    &missing[..],
                    &errors[..],
                    &rs[..],
                ]
                .into_iter()
                .enumerate()
                {
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    csv_field(out, cell)?;
                }
                out.write_all(b"\n")
            }
            Kind::Table {
                out,
                color,
                line,
                missing,
            } => {
                table_row(ruleset, row, *color, line, missing);
                out.write_all(line.as_bytes())
            }
        }
    }

    /// Writes what follows the last record, flushes, and gives the destination back.
    pub fn finish(self) -> io::Result<W> {
        match self.kind {
            Kind::Ndjson { out, .. } | Kind::Table { out, .. } => {
                out.into_inner().map_err(|e| e.into_error())
            }
            Kind::Json { mut out, first, .. } => {
                out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
                out.into_inner().map_err(|e| e.into_error())
            }
            Kind::Csv { out, .. } => out.into_inner().map_err(|e| e.into_error()),
        }
    }

    /// What the engine must fill in for this format: CSV and the table show rule ids only.
    pub fn detail(&self) -> Detail {
        match self.kind {
            Kind::Csv { .. } | Kind::Table { .. } => Detail::Outline,
            Kind::Ndjson { .. } | Kind::Json { .. } => Detail::Full,
        }
    }
}

/// One CSV field as the csv crate writes it by default: quoted (with quotes doubled) only when
/// it holds a comma, a quote or a line break.
fn csv_field<W: Write>(out: &mut W, cell: &[u8]) -> io::Result<()> {
    if !cell
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        return out.write_all(cell);
    }
    out.write_all(b"\"")?;
    for piece in cell.split_inclusive(|&b| b == b'"') {
        out.write_all(piece)?;
        if piece.last() == Some(&b'"') {
            out.write_all(b"\"")?;
        }
    }
    out.write_all(b"\"")
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
        self.id.extend_from_slice(row.id.unwrap_or("").as_bytes());
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
        let mut sink = Sink::start(rs, format, Vec::new(), false).expect("starts");
        for r in records {
            sink.row(&Row {
                number: r.row.unwrap_or(0),
                id: r.id.as_deref(),
                verdict: &r.verdict,
                errors: &r.errors,
            })
            .expect("writes");
        }
        String::from_utf8(sink.finish().expect("finishes")).expect("UTF-8")
    }

    #[test]
    fn csv_rows_are_output_csv_fields() {
        let rs = builtin().expect("loads");
        let mut records = records(&rs);
        records[0].row = Some(1234567890);
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
