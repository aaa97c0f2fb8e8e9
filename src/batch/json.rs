//! `batch` over JSON input: NDJSON (streamed line by line), a JSON array, or a FHIR Bundle of
//! QuestionnaireResponses (`json_input` reads and numbers the documents). Each document is one
//! patient and gets exactly one record, in input order, rendered by the same `Renderer` as CSV
//! rows and decided by the same `evaluate`; a line or item that cannot be read is reported in
//! its own record's `errors` (`(row)`) with every answer unanswered, and the batch goes on.
//! One thread: JSON input is parsed per document, and the CSV pipeline's threads would only
//! shuffle them.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

use serde_json::Value as Json;

use super::{Duplicates, Renderer, Row, Summary, ID_ERROR, ROW_ERROR};
use crate::answers::{Answers, InputError};
use crate::engine::evaluate;
use crate::json_input::{self, Document, Item, Layout};
use crate::output::Format;
use crate::patient::{Patient, ID_KEYS};
use crate::ruleset::Ruleset;

/// Output is handed to the writer in pieces of about this size.
const FLUSH_BYTES: usize = 1 << 16;

/// What a JSON batch came to, beyond the summary: for the warnings on stderr.
#[derive(Debug, Default)]
pub struct Outcome {
    pub summary: Summary,
    /// Keys (or linkIds) that matched no question, with how many records had them.
    pub ignored: BTreeMap<String, u64>,
    /// Entries of a Bundle that were not QuestionnaireResponses (a Patient, an Observation…).
    pub other_entries: usize,
}

/// Why a JSON batch stopped.
#[derive(Debug, thiserror::Error)]
pub enum JsonBatchError {
    #[error("cannot read the input")]
    Read(#[source] io::Error),
    #[error("cannot write the output")]
    Write(#[source] io::Error),
    /// A JSON document (not NDJSON) that is not JSON: there is no line to pin a record on.
    #[error("{0}")]
    Document(String),
}

impl From<io::Error> for JsonBatchError {
    fn from(e: io::Error) -> Self {
        JsonBatchError::Read(e)
    }
}

struct Screen<'a, W> {
    ruleset: &'a Ruleset,
    renderer: Renderer<'a>,
    duplicates: Duplicates,
    out: &'a mut W,
    buffer: Vec<u8>,
    outcome: Outcome,
}

impl<W: Write> Screen<'_, W> {
    fn flush(&mut self) -> Result<(), JsonBatchError> {
        self.out
            .write_all(&self.buffer)
            .map_err(JsonBatchError::Write)?;
        self.buffer.clear();
        Ok(())
    }

    fn item(&mut self, item: Item) -> Result<(), JsonBatchError> {
        let ruleset = self.ruleset;
        let blank = |id: Option<String>| Patient {
            id,
            answers: Answers::new(ruleset),
            errors: Vec::new(),
            unknown_keys: Vec::new(),
        };
        let (mut patient, row_error) = match item.doc {
            Err(message) => (blank(None), Some(message)),
            Ok(doc) => match json_input::patient_of(ruleset, &doc) {
                Ok(patient) => (patient, None),
                Err(message) => (blank(id_of(&doc)), Some(message)),
            },
        };
        if let Some(message) = row_error {
            patient.errors.insert(
                0,
                InputError {
                    form: None,
                    question: ROW_ERROR.to_string(),
                    value: item.place.clone(),
                    message: format!(
                        "{}: {message}; none of this record's answers were read",
                        item.place
                    ),
                },
            );
        }
        for (key, _) in &patient.unknown_keys {
            *self.outcome.ignored.entry(key.clone()).or_default() += 1;
        }
        if let Some(id) = &patient.id {
            if let Some(message) = self.duplicates.check(item.row, id.as_bytes()) {
                patient.errors.insert(
                    0,
                    InputError {
                        form: None,
                        question: ID_ERROR.to_string(),
                        value: id.clone(),
                        message,
                    },
                );
            }
        }
        let verdict = evaluate(ruleset, &patient.answers);
        self.outcome
            .summary
            .count_row(&verdict, !patient.errors.is_empty());
        self.renderer.record(
            &mut self.buffer,
            &Row {
                number: item.row,
                id: patient.id.as_deref(),
                verdict: &verdict,
                errors: &patient.errors,
            },
        );
        if self.buffer.len() >= FLUSH_BYTES {
            self.flush()?;
        }
        Ok(())
    }
}

/// The id a document carries, even when it cannot be read as answers (so that its record
/// still says whose it is): `id` / `patient_id` of an answers object.
fn id_of(doc: &Json) -> Option<String> {
    ID_KEYS
        .iter()
        .find_map(|k| doc.get(*k))
        .and_then(|v| match v {
            Json::String(s) => Some(s.clone()),
            Json::Number(n) => Some(n.to_string()),
            _ => None,
        })
}

/// Screens a JSON input laid out as `layout` (NDJSON or JSON), writing one record per patient
/// document to `out` in `format`.
pub fn screen<R: BufRead, W: Write>(
    ruleset: &Ruleset,
    layout: Layout,
    input: R,
    format: Format,
    color: bool,
    out: &mut W,
) -> Result<Outcome, JsonBatchError> {
    let mut screen = Screen {
        ruleset,
        renderer: Renderer::new(ruleset, format, color),
        duplicates: Duplicates::online(),
        out,
        buffer: Vec::with_capacity(FLUSH_BYTES * 2),
        outcome: Outcome::default(),
    };
    screen.renderer.head(&mut screen.buffer);
    match layout {
        Layout::Ndjson | Layout::Csv => {
            json_input::ndjson(input, |item| screen.item(item))?;
        }
        Layout::Json => {
            let (items, place) =
                match json_input::document(input).map_err(JsonBatchError::Document)? {
                    Document::Array(items) => (items, "item"),
                    Document::Bundle { responses, others } => {
                        screen.outcome.other_entries = others;
                        (responses, "QuestionnaireResponse")
                    }
                    Document::One(doc) => (vec![doc], "document"),
                };
            for (i, doc) in items.into_iter().enumerate() {
                let row = i as u64 + 1;
                screen.item(Item {
                    row,
                    place: format!("{place} {row}"),
                    doc: Ok(doc),
                })?;
            }
        }
    }
    let rows = screen.outcome.summary.rows;
    screen.renderer.tail(&mut screen.buffer, rows);
    screen.flush()?;
    screen.out.flush().map_err(JsonBatchError::Write)?;
    Ok(screen.outcome)
}
