//! `ketascreen batch`: a CSV export of intake forms in, one verdict record per row out, in
//! input order, streamed — one pass, the same few buffers reused for every row, so memory stays
//! flat however many rows there are. The header is resolved to question slots once
//! (`columns`); each cell then goes through `answers::parse_text`, the same parsing as every
//! other front end, and each row through `engine::evaluate_with`, the same decision.
//!
//! A bad cell or a ragged row is reported in that row's own record (`errors`) and the batch
//! goes on; only unreadable input stops it. Rendering lives in `sink`; the command-line glue
//! (which file, which format, warnings and the summary on stderr) in `command`.

pub mod columns;
pub mod command;
pub mod duplicates;
mod memo;
mod scan;
pub mod sink;

use std::io::{self, Read, Write};

use crate::answers::{Answers, InputError};
use crate::engine::{evaluate_with, Scratch, Status};
use crate::ruleset::{Ruleset, Slot};

pub use columns::{Columns, Mapping, Role};
pub use duplicates::Duplicates;
pub use sink::{Row, Sink};

/// The `question` of an error about the whole row (a wrong number of fields).
pub const ROW_ERROR: &str = "(row)";
/// The `question` of an error about the patient id (a duplicate, bad bytes).
pub const ID_ERROR: &str = "(id)";

/// What a batch came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub rows: u64,
    /// Rows per verdict, in `Status::ALL` order.
    pub by_status: [u64; 4],
    pub urgent: u64,
    pub with_errors: u64,
}

impl Summary {
    pub fn count(&self, status: Status) -> u64 {
        self.by_status[status as usize]
    }
}

/// Why a batch stopped.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("cannot read row {row}")]
    Read {
        row: u64,
        #[source]
        source: csv::Error,
    },
    #[error("cannot write the output")]
    Write(#[source] io::Error),
}

/// How often (in rows) the progress callback hears the byte position.
pub const TICK_ROWS: u64 = 1 << 14;

/// The per-row state of the loop, kept between rows.
struct RowState {
    /// One per question, by slot.
    memos: Vec<memo::Memo>,
    answers: Answers,
    scratch: Scratch,
    errors: Vec<InputError>,
    id: String,
}

/// One record's cells: text when the whole record is valid UTF-8 (checked once, not per
/// cell), bytes otherwise.
#[derive(Clone, Copy)]
enum Cells<'a> {
    Text(&'a csv::StringRecord),
    Bytes(&'a csv::ByteRecord),
}

impl<'a> Cells<'a> {
    fn len(self) -> usize {
        match self {
            Cells::Text(r) => r.len(),
            Cells::Bytes(r) => r.len(),
        }
    }

    /// The cell as text, or its bytes when they are not UTF-8.
    fn get(self, i: usize) -> Option<Result<&'a str, &'a [u8]>> {
        match self {
            Cells::Text(r) => r.get(i).map(Ok),
            Cells::Bytes(r) => r.get(i).map(|b| std::str::from_utf8(b).map_err(|_| b)),
        }
    }

    /// Reads every question cell into `answers` (each mapped question is set, to its value or
    /// to unanswered), and reports the bad ones in `errors`.
    fn read_answers(
        self,
        ruleset: &Ruleset,
        columns: &Columns,
        memos: &mut [memo::Memo],
        answers: &mut Answers,
        errors: &mut Vec<InputError>,
    ) {
        match self {
            Cells::Text(r) => {
                for (column, text) in r.iter().enumerate() {
                    if let Some(&Role::Question(slot)) = columns.roles.get(column) {
                        read_cell(
                            ruleset,
                            columns,
                            column,
                            slot,
                            Ok(text),
                            memos,
                            answers,
                            errors,
                        );
                    }
                }
            }
            Cells::Bytes(r) => {
                for (column, bytes) in r.iter().enumerate() {
                    if let Some(&Role::Question(slot)) = columns.roles.get(column) {
                        let cell = std::str::from_utf8(bytes).map_err(|_| bytes);
                        read_cell(ruleset, columns, column, slot, cell, memos, answers, errors);
                    }
                }
            }
        }
    }

    fn line(self) -> u64 {
        match self {
            Cells::Text(r) => r.position().map(|p| p.line()),
            Cells::Bytes(r) => r.position().map(|p| p.line()),
        }
        .unwrap_or(0)
    }
}

/// Screens every record left in `reader` (its header already resolved to `columns`), writing
/// one record per row to `sink`. `progress` hears the input byte position now and then.
pub fn screen<R: Read, W: Write>(
    ruleset: &Ruleset,
    reader: &mut csv::Reader<R>,
    columns: &Columns,
    duplicates: &mut Duplicates,
    sink: &mut Sink<'_, W>,
    mut progress: impl FnMut(u64),
) -> Result<Summary, BatchError> {
    let mut record = csv::ByteRecord::new();
    let mut state = RowState {
        memos: ruleset.questions.iter().map(memo::Memo::new).collect(),
        answers: Answers::new(ruleset),
        scratch: Scratch::with_detail(sink.detail()),
        errors: Vec::new(),
        id: String::new(),
    };
    let mut summary = Summary::default();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(source) => {
                return Err(BatchError::Read {
                    row: summary.rows + 1,
                    source,
                })
            }
        }
        summary.rows += 1;
        let number = summary.rows;
        // The record moves into a StringRecord and back: no copy, no allocation.
        record = match csv::StringRecord::from_byte_record(record) {
            Ok(text) => {
                read_row(
                    ruleset,
                    columns,
                    duplicates,
                    Cells::Text(&text),
                    number,
                    &mut state,
                );
                text.into_byte_record()
            }
            Err(e) => {
                let bytes = e.into_byte_record();
                read_row(
                    ruleset,
                    columns,
                    duplicates,
                    Cells::Bytes(&bytes),
                    number,
                    &mut state,
                );
                bytes
            }
        };
        let verdict = evaluate_with(ruleset, &state.answers, &mut state.scratch);
        summary.by_status[verdict.status as usize] += 1;
        summary.urgent += u64::from(verdict.urgent);
        summary.with_errors += u64::from(!state.errors.is_empty());
        sink.row(&Row {
            number,
            id: (!state.id.is_empty()).then_some(state.id.as_str()),
            verdict,
            errors: &state.errors,
        })
        .map_err(BatchError::Write)?;
        if number % TICK_ROWS == 0 {
            progress(reader.position().byte());
        }
    }
    Ok(summary)
}

/// Reads one record into the answers, the id and the row's errors.
fn read_row(
    ruleset: &Ruleset,
    columns: &Columns,
    duplicates: &mut Duplicates,
    cells: Cells<'_>,
    number: u64,
    state: &mut RowState,
) {
    let RowState {
        memos,
        answers,
        errors,
        id,
        ..
    } = state;
    // No `answers.clear()`: a well-formed row sets every question it has a column for, and
    // the others are never set.
    errors.clear();
    id.clear();

    let raw_id: &[u8] = match columns.id.and_then(|i| cells.get(i)) {
        None => b"",
        Some(Ok(text)) => {
            id.push_str(text.trim());
            text.as_bytes()
        }
        Some(Err(bytes)) => {
            id.push_str(String::from_utf8_lossy(bytes).trim());
            errors.push(InputError {
                question: ID_ERROR.to_string(),
                value: id.clone(),
                message: format!(
                    "column '{}': not valid UTF-8 text (re-export the file as UTF-8)",
                    columns.names[columns.id.unwrap_or(0)]
                ),
            });
            bytes
        }
    };
    if let Some(message) = duplicates.check(number, raw_id) {
        errors.push(InputError {
            question: ID_ERROR.to_string(),
            value: id.clone(),
            message,
        });
    }

    if cells.len() != columns.len() {
        answers.clear();
        memos.iter_mut().for_each(memo::Memo::forget_last);
        errors.push(InputError {
            question: ROW_ERROR.to_string(),
            value: format!("{} fields", cells.len()),
            message: format!(
                "line {}: {} fields where the header has {}; none of this row's answers \
                 were read, as its cells may be in the wrong columns",
                cells.line(),
                cells.len(),
                columns.len()
            ),
        });
        return;
    }
    cells.read_answers(ruleset, columns, memos, answers, errors);
}

/// Reads one question's cell: its value, or unanswered and an error.
#[allow(clippy::too_many_arguments)]
#[inline]
fn read_cell(
    ruleset: &Ruleset,
    columns: &Columns,
    column: usize,
    slot: Slot,
    cell: Result<&str, &[u8]>,
    memos: &mut [memo::Memo],
    answers: &mut Answers,
    errors: &mut Vec<InputError>,
) {
    let question = &ruleset.questions[slot];
    let problem = match cell {
        Ok(text) => match memos[slot].read_into(question, slot, text, answers) {
            Ok(()) => return,
            Err(e) => (text.trim().to_string(), e.message),
        },
        Err(bytes) => {
            memos[slot].forget_last();
            answers.set(slot, None);
            (
                String::from_utf8_lossy(bytes).trim().to_string(),
                "not valid UTF-8 text (re-export the file as UTF-8); treated as unanswered"
                    .to_string(),
            )
        }
    };
    errors.push(InputError {
        question: question.id.clone(),
        value: problem.0,
        message: format!("column '{}': {}", columns.names[column], problem.1),
    });
}
