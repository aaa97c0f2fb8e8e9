//! `ketascreen batch`: a CSV export of intake forms in, one verdict record per row out, in
//! input order, streamed — one pass, the same few buffers reused for every row, so memory stays
//! flat however many rows there are. The header is resolved to question slots once
//! (`columns`); each cell then goes through `answers::parse_text`, the same parsing as every
//! other front end, and each row through `engine::evaluate`, the same decision.
//!
//! A bad cell, a ragged row or a malformed one (a stray quote, told by `reader`) is reported
//! in that row's own record (`errors`) and the batch goes on; only unreadable input stops it.
//! Blank lines and rows with every cell empty are not patients: no record, counted on stderr. Rows travel in jobs of a few hundred: one thread
//! reads them (`pipeline`), screeners decide and render them — on several threads when the
//! machine has the cores, every screener with its own buffers — and the records are written
//! strictly in input order. Rendering lives in `output::stream`; the command-line glue (which file,
//! which format, warnings and the summary on stderr) in `command`.

pub mod columns;
pub mod command;
pub mod duplicates;
pub mod json;
pub mod pipeline;
pub mod reader;
mod recent_cells;

use std::io;

use crate::answers::{Answers, InputError};
use crate::engine::{evaluate, evaluate_into, Detail, Status, Verdict};
use crate::ruleset::Ruleset;

pub use crate::output::stream::{Renderer, Row};
pub use columns::{Columns, Mapping, Role};
pub use duplicates::Duplicates;
pub use pipeline::{screen, Feeder, Plan};

/// The `question` of an error about the whole row (a wrong number of fields).
pub const ROW_ERROR: &str = "(row)";
/// The `question` of an error about the patient id (a duplicate, bad bytes).
pub const ID_ERROR: &str = "(id)";

/// What a batch came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub rows: u64,
    /// Rows per verdict, in `Status::ALL` order.
    pub by_status: [u64; 4],
    pub urgent: u64,
    /// Rows where an urgent rule is undecided and none fired: urgency not known.
    pub urgent_undecided: u64,
    pub with_errors: u64,
    /// Rows that the profile's `input.rows` says are not patients: no record.
    pub left_out: u64,
}

impl Summary {
    pub fn count(&self, status: Status) -> u64 {
        self.by_status[status as usize]
    }

    /// Counts one screened row: its verdict, urgency and whether it had input errors. Every
    /// input format counts through here, so the summary line means the same for each.
    pub fn count_row(&mut self, verdict: &crate::engine::Verdict, had_errors: bool) {
        self.rows += 1;
        self.by_status[verdict.status as usize] += 1;
        self.urgent += u64::from(verdict.urgent);
        self.urgent_undecided += u64::from(verdict.urgent_undecided);
        self.with_errors += u64::from(had_errors);
    }

    fn add(&mut self, other: &Summary) {
        self.rows += other.rows;
        for (mine, theirs) in self.by_status.iter_mut().zip(other.by_status) {
            *mine += theirs;
        }
        self.urgent += other.urgent;
        self.urgent_undecided += other.urgent_undecided;
        self.with_errors += other.with_errors;
        self.left_out += other.left_out;
    }
}

/// Why a batch stopped.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("cannot read row {row}")]
    Read {
        row: u64,
        #[source]
        source: io::Error,
    },
    #[error("cannot write the output")]
    Write(#[source] io::Error),
}

/// A run of consecutive rows on its way through the pipeline: read from the input, then
/// screened and rendered, then written. Its buffers go round and round.
#[derive(Debug, Default)]
pub struct Job {
    /// The number of the first row.
    first_row: u64,
    /// The rows as read; the first `len` are this job's.
    records: Vec<csv::ByteRecord>,
    len: usize,
    /// The line each row starts on.
    lines: Vec<u64>,
    /// Each row's data-row number (rows a profile leaves out keep their numbers).
    numbers: Vec<u64>,
    /// Rows the feeder left out (a profile's `input.rows`) while filling this job.
    left_out: u64,
    /// A duplicate-id message per row, found by the feeder (which sees rows in order).
    duplicates: Vec<Option<String>>,
    /// Why a row is malformed (a stray quote), per row: its answers are not read.
    malformed: Vec<Option<String>>,
    /// The rendered records.
    out: Vec<u8>,
    summary: Summary,
}

/// Screens jobs: everything one thread needs to read cells, decide and render rows, reused
/// row after row.
pub struct Screener<'r> {
    ruleset: &'r Ruleset,
    columns: &'r Columns,
    /// One per question column, in column order (none with a profile: it reads them).
    reads: Vec<recent_cells::Column>,
    /// With an intake profile, its plan's reader.
    profile: Option<crate::profile::plan::Reader<'r>>,
    answers: Answers,
    errors: Vec<InputError>,
    id: String,
    /// The verdict of the row at hand, overwritten row after row (`engine::evaluate_into`
    /// reusing its buffers): 471.5M -> 428.9M instructions (-9.0%) for 20k rows, `--format
    /// csv`, one thread, callgrind; ndjson 637.0M -> 594.0M (-6.8%).
    verdict: Verdict,
    /// Whether the format shows the verdict's wording — reasons' messages and read answers,
    /// why answers were ignored — (only JSON does). Leaving the messages out: 428.9M ->
    /// 404.9M instructions (-5.6%) for the same 20k rows as CSV.
    detail: Detail,
    renderer: Renderer<'r>,
    /// Read `36,6` as `36.6` in number columns.
    decimal_comma: bool,
    /// A number cell with its decimal comma made a point.
    cell: Vec<u8>,
}

impl<'r> Screener<'r> {
    pub fn new(plan: &Plan<'r>) -> Self {
        let (ruleset, columns) = (plan.ruleset, plan.columns);
        let renderer =
            Renderer::new(ruleset, plan.format, plan.color, plan.csv).with_profile(plan.profile_id);
        let profile = plan.profile.map(crate::profile::Plan::reader);
        Screener {
            ruleset,
            columns,
            reads: match profile {
                Some(_) => Vec::new(),
                None => columns
                    .questions
                    .iter()
                    .map(|&(column, slot)| {
                        recent_cells::Column::new(column, slot, &ruleset.questions[slot])
                    })
                    .collect(),
            },
            profile,
            answers: Answers::new(ruleset),
            errors: Vec::new(),
            id: String::new(),
            verdict: evaluate(ruleset, &Answers::new(ruleset)),
            detail: if renderer.shows_messages() {
                Detail::Full
            } else {
                Detail::IdsOnly
            },
            renderer,
            decimal_comma: plan.decimal_comma,
            cell: Vec::new(),
        }
    }

    /// Reads, decides and renders every row of the job into `job.out`, and counts them.
    fn screen_job(&mut self, job: &mut Job) {
        job.out.clear();
        job.summary = Summary {
            left_out: job.left_out,
            ..Summary::default()
        };
        for i in 0..job.len {
            let record = &job.records[i];
            let number = job.numbers[i];
            let duplicate = job.duplicates.get_mut(i).and_then(Option::take);
            let malformed = job.malformed.get_mut(i).and_then(Option::take);
            let clean = malformed.is_none();
            let line = || job.lines[i];
            read_row(
                self.ruleset,
                self.columns,
                record,
                line,
                duplicate,
                malformed,
                &mut RowState {
                    reads: &mut self.reads,
                    answers: &mut self.answers,
                    errors: &mut self.errors,
                    id: &mut self.id,
                    decimal: self.decimal_comma.then_some(&mut self.cell),
                },
            );
            if let Some(reader) = &mut self.profile {
                // A ragged or malformed row was already reported, with none of its answers read.
                if clean && record.len() == self.columns.len() {
                    reader.read(
                        self.ruleset,
                        |c| record.get(c).unwrap_or_default(),
                        &mut self.answers,
                        &mut self.errors,
                    );
                }
            }
            evaluate_into(self.ruleset, &self.answers, &mut self.verdict, self.detail);
            let verdict = &self.verdict;
            job.summary.count_row(verdict, !self.errors.is_empty());
            self.renderer.record(
                &mut job.out,
                &Row {
                    number,
                    id: (!self.id.is_empty()).then_some(self.id.as_str()),
                    verdict,
                    errors: &self.errors,
                },
            );
        }
    }
}

/// The per-row state a screener keeps between rows, borrowed for one row.
struct RowState<'s> {
    reads: &'s mut [recent_cells::Column],
    answers: &'s mut Answers,
    errors: &'s mut Vec<InputError>,
    id: &'s mut String,
    /// With decimal commas: a buffer for a number cell with its comma made a point.
    decimal: Option<&'s mut Vec<u8>>,
}

/// Reads one record into the answers, the id and the row's errors.
fn read_row(
    ruleset: &Ruleset,
    columns: &Columns,
    record: &csv::ByteRecord,
    line: impl Fn() -> u64,
    duplicate: Option<String>,
    malformed: Option<String>,
    state: &mut RowState<'_>,
) {
    let RowState {
        reads,
        answers,
        errors,
        id,
        decimal,
    } = state;
    // No `answers.clear()`: a well-formed row sets every question it has a column for, and
    // the others are never set.
    errors.clear();
    id.clear();

    if let Some(column) = columns.id {
        let raw = crate::input::excel_text(record.get(column).unwrap_or(b"").trim_ascii());
        let raw = raw.trim_ascii();
        match std::str::from_utf8(raw) {
            Ok(text) => id.push_str(text),
            Err(_) => {
                id.push_str(&String::from_utf8_lossy(raw));
                errors.push(InputError {
                    form: None,
                    question: ID_ERROR.to_string(),
                    value: id.to_string(),
                    message: format!(
                        "column '{}': not valid UTF-8 text (re-export the file as UTF-8)",
                        columns.names[column]
                    ),
                });
            }
        }
    }
    if let Some(message) = duplicate {
        errors.push(InputError {
            form: None,
            question: ID_ERROR.to_string(),
            value: id.to_string(),
            message,
        });
    }

    // A stray quote: the record's cells are not this row's as written; none is read as an
    // answer (`record` holds its first line, for the id).
    if let Some(message) = malformed {
        answers.clear();
        reads.iter_mut().for_each(recent_cells::Column::forget_last);
        errors.push(InputError {
            question: ROW_ERROR.to_string(),
            form: None,
            value: "malformed".to_string(),
            message,
        });
        return;
    }

    if record.len() != columns.len() {
        answers.clear();
        reads.iter_mut().for_each(recent_cells::Column::forget_last);
        let line = line();
        errors.push(InputError {
            form: None,
            question: ROW_ERROR.to_string(),
            value: format!("{} fields", record.len()),
            message: format!(
                "line {line}: {} fields where the header has {}; none of this row's answers \
                 were read, as its cells may be in the wrong columns",
                record.len(),
                columns.len()
            ),
        });
        return;
    }

    let buf = record.as_slice();
    for read in reads.iter_mut() {
        let Some(range) = record.range(read.column) else {
            continue; // cannot happen: the row has every column
        };
        // Most cells are the one above, whose answer is still set: that test alone stays in
        // the loop, the rest is out of line. Reading the cells (this loop with `read_cell`
        // and `recent_cells`) took 70.7M instructions for 20k rows of ruleset 1.0.0 with it
        // all inline, 62.8M so (one thread, `--format csv`, callgrind; whole run -2.4%).
        if !read.is_last(buf, range.start, range.end) {
            read_cell(ruleset, columns, read, buf, range, decimal, answers, errors);
        }
    }
}

/// Reads the cell `buf[range]` of a well-formed row into the answers (or its error).
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn read_cell(
    ruleset: &Ruleset,
    columns: &Columns,
    read: &mut recent_cells::Column,
    buf: &[u8],
    range: std::ops::Range<usize>,
    decimal: &mut Option<&mut Vec<u8>>,
    answers: &mut Answers,
    errors: &mut Vec<InputError>,
) {
    let question = &ruleset.questions[read.slot];
    // Only with `--decimal ,`: the usual run pays one test per cell.
    let read_result = match decimal.as_deref_mut() {
        Some(point)
            if matches!(
                question.kind,
                crate::ruleset::Kind::Integer { .. } | crate::ruleset::Kind::Number { .. }
            ) && buf[range.clone()].contains(&b',') =>
        {
            point.clear();
            point.extend_from_slice(&crate::input::decimal_point(&buf[range.clone()]));
            read.read_into(question, point, 0, point.len(), answers)
        }
        _ => read.read_new(question, buf, range.start, range.end, answers),
    };
    if let Err(problem) = read_result {
        let cell = &buf[range];
        let message = match problem {
            recent_cells::CellProblem::Invalid(e) => e.message,
            recent_cells::CellProblem::NotUtf8 => {
                "not valid UTF-8 text (re-export the file as UTF-8); treated as unanswered"
                    .to_string()
            }
        };
        errors.push(InputError {
            form: None,
            question: question.id.clone(),
            value: crate::answers::echo(&String::from_utf8_lossy(cell)),
            message: format!("column '{}': {message}", columns.names[read.column]),
        });
    }
}

/// Reads rows for one ruleset exactly as a batch screener does — the same per-column read
/// state, cell parsing and row errors — without deciding or rendering them. `rules impact`
/// reads every row with two of these, one per ruleset, over the same records.
pub struct RowReader<'r> {
    ruleset: &'r Ruleset,
    columns: &'r Columns,
    reads: Vec<recent_cells::Column>,
    answers: Answers,
    errors: Vec<InputError>,
    id: String,
    /// With an intake profile: its reader, applied after the cells are read, as in a screener.
    profile: Option<crate::profile::plan::Reader<'r>>,
}

impl<'r> RowReader<'r> {
    /// Reads through an intake profile compiled against the header (`columns` being its
    /// `command::columns_of`).
    pub fn with_profile(mut self, plan: Option<&'r crate::profile::Plan>) -> Self {
        if let Some(plan) = plan {
            // The profile reads the question columns (as in a screener): none read here.
            self.reads.clear();
            self.profile = Some(plan.reader());
        }
        self
    }

    pub fn new(ruleset: &'r Ruleset, columns: &'r Columns) -> Self {
        RowReader {
            ruleset,
            columns,
            reads: columns
                .questions
                .iter()
                .map(|&(column, slot)| {
                    recent_cells::Column::new(column, slot, &ruleset.questions[slot])
                })
                .collect(),
            answers: Answers::new(ruleset),
            errors: Vec::new(),
            id: String::new(),
            profile: None,
        }
    }

    /// Reads one record; `line` gives its line for a ragged-row message; a malformed row
    /// (the reader's message) has none of its answers read.
    pub fn read(
        &mut self,
        record: &csv::ByteRecord,
        line: impl Fn() -> u64,
        malformed: Option<String>,
    ) {
        let clean = malformed.is_none();
        read_row(
            self.ruleset,
            self.columns,
            record,
            line,
            None,
            malformed,
            &mut RowState {
                reads: &mut self.reads,
                answers: &mut self.answers,
                errors: &mut self.errors,
                id: &mut self.id,
                decimal: None,
            },
        );
        if let Some(reader) = &mut self.profile {
            // A ragged or malformed row was already reported, with none of its answers read.
            if clean && record.len() == self.columns.len() {
                reader.read(
                    self.ruleset,
                    |c| record.get(c).unwrap_or_default(),
                    &mut self.answers,
                    &mut self.errors,
                );
            }
        }
    }

    /// The answers of the row last read.
    pub fn answers(&self) -> &Answers {
        &self.answers
    }

    /// The input errors of the row last read.
    pub fn errors(&self) -> &[InputError] {
        &self.errors
    }

    /// The patient id of the row last read, if the file has an id column and it is not blank.
    pub fn id(&self) -> Option<&str> {
        (!self.id.is_empty()).then_some(self.id.as_str())
    }
}
