//! Patients as JSON, many at a time, for `batch`: NDJSON (one document per line, streamed), a
//! JSON array of documents, or a FHIR `Bundle` of QuestionnaireResponses. Each document is
//! one patient — an answers object (as `check` reads) or a QuestionnaireResponse — and comes
//! out as a `Patient` or as the reason it could not be read, numbered, so that the batch writes
//! exactly one record per document and a bad line costs only its own record. This module
//! reads and classifies; it decides nothing and writes nothing.

use std::io::{self, BufRead, Read};

use serde_json::Value as Json;

use crate::fhir;
use crate::patient::{self, Patient};
use crate::ruleset::Ruleset;

/// How a batch input is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Csv,
    /// One JSON document per line.
    Ndjson,
    /// One JSON document: an array of patients, a Bundle, or a single patient.
    Json,
}

/// The layout a file's name says (`.ndjson`, `.jsonl`, `.json`), if it says one.
pub fn layout_of_name(name: &str) -> Option<Layout> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".ndjson") || lower.ends_with(".jsonl") {
        Some(Layout::Ndjson)
    } else if lower.ends_with(".json") {
        Some(Layout::Json)
    } else if lower.ends_with(".csv") || lower.ends_with(".tsv") || lower.ends_with(".txt") {
        Some(Layout::Csv)
    } else {
        None
    }
}

/// The layout the first bytes of an input show: `[` a JSON array; `{` NDJSON when the first
/// line is a whole JSON document, else one JSON document spread over lines; anything else CSV.
pub fn layout_of_content(start: &[u8]) -> Layout {
    let start = start.strip_prefix(b"\xef\xbb\xbf").unwrap_or(start);
    let Some(at) = start.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Layout::Csv;
    };
    match start[at] {
        b'[' => Layout::Json,
        b'{' => {
            let rest = &start[at..];
            let line = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(rest, |end| &rest[..end]);
            if serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok() {
                Layout::Ndjson
            } else {
                Layout::Json
            }
        }
        _ => Layout::Csv,
    }
}

/// One patient document of a JSON input, before it is read as answers.
#[derive(Debug)]
pub struct Item {
    /// 1-based record number: the n-th patient of the input, with no gaps.
    pub row: u64,
    /// Where it is: `line 7`, `item 3`, `entry 2`.
    pub place: String,
    /// The document, or why this line or item is not one.
    pub doc: Result<Json, String>,
}

/// Reads NDJSON line by line (memory stays flat), handing each non-blank line to `each`.
/// Blank lines are not patients and are skipped. Stops at the first error `each` returns.
pub fn ndjson<R: BufRead, E: From<io::Error>>(
    mut input: R,
    mut each: impl FnMut(Item) -> Result<(), E>,
) -> Result<u64, E> {
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut row = 0u64;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(row);
        }
        number += 1;
        let mut text: &[u8] = &line;
        if number == 1 {
            text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        row += 1;
        let doc = match std::str::from_utf8(text) {
            Err(e) => Err(format!(
                "not UTF-8 text (invalid byte at column {})",
                e.valid_up_to() + 1
            )),
            Ok(text) => serde_json::from_str::<Json>(text.trim_end_matches(['\n', '\r']))
                .map_err(|e| format!("not a JSON document: {}", json_error(&e))),
        };
        each(Item {
            row,
            place: format!("line {number}"),
            doc,
        })?;
    }
}

/// serde_json's message without its " at line 1 column N" when the line is all there is.
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(cut) => format!("{} (column {})", &text[..cut], e.column()),
        None => text,
    }
}

/// What a whole JSON document holds.
#[derive(Debug)]
pub enum Document {
    /// An array: its items, each one patient.
    Array(Vec<Json>),
    /// A Bundle: its QuestionnaireResponses, and how many other entries it has.
    Bundle { responses: Vec<Json>, others: usize },
    /// One patient.
    One(Json),
}

/// Reads one JSON document (an array of patients, a Bundle, or a single patient) whole.
/// A document that is not JSON stops the batch: there is no line to pin a record on.
pub fn document<R: Read>(input: R) -> Result<Document, String> {
    let mut reader = io::BufReader::new(input);
    // A BOM is not JSON; Excel and Windows tools put one in front.
    if reader
        .fill_buf()
        .is_ok_and(|b| b.starts_with(b"\xef\xbb\xbf"))
    {
        reader.consume(3);
    }
    let doc: Json = serde_json::from_reader(reader).map_err(|e| {
        format!(
            "not a JSON document (line {}, column {}): {}",
            e.line(),
            e.column(),
            json_error(&e)
        )
    })?;
    Ok(match doc {
        Json::Array(items) => Document::Array(items),
        doc if fhir::resource_type(&doc) == Some("Bundle") => {
            let total = doc
                .get("entry")
                .and_then(Json::as_array)
                .map_or(0, Vec::len);
            let responses: Vec<Json> = fhir::response::bundle_responses(&doc)
                .into_iter()
                .cloned()
                .collect();
            Document::Bundle {
                others: total - responses.len(),
                responses,
            }
        }
        doc => Document::One(doc),
    })
}

/// Reads one document as one patient: an answers object or a QuestionnaireResponse (to this
/// ruleset's Questionnaire). Anything else is an error for this record alone.
pub fn patient_of(ruleset: &Ruleset, doc: &Json) -> Result<Patient, String> {
    match (fhir::resource_type(doc), doc) {
        (Some("QuestionnaireResponse"), _) => {
            fhir::response::read(ruleset, doc).map_err(|e| e.to_string())
        }
        (Some(other), _) => Err(format!(
            "a FHIR {} resource, not one patient's answers (an answers object or a \
             QuestionnaireResponse)",
            crate::answers::echo(other).escape_debug()
        )),
        (None, Json::Object(_)) => patient::from_document(ruleset, doc).map_err(|e| e.to_string()),
        (None, Json::Array(_)) => {
            Err("a list, not one patient's answers (an answers object)".to_string())
        }
        (None, _) => Err(format!(
            "{}, not one patient's answers (an answers object)",
            match doc {
                Json::Null => "null",
                Json::Bool(_) => "a boolean",
                Json::Number(_) => "a number",
                _ => "a string",
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_from_names_and_from_content() {
        assert_eq!(layout_of_name("a.NDJSON"), Some(Layout::Ndjson));
        assert_eq!(layout_of_name("a.jsonl"), Some(Layout::Ndjson));
        assert_eq!(layout_of_name("bundle.json"), Some(Layout::Json));
        assert_eq!(layout_of_name("intake.csv"), Some(Layout::Csv));
        assert_eq!(layout_of_name("-"), None);
        assert_eq!(
            layout_of_content(b"\xef\xbb\xbf[{\"id\": 1}]"),
            Layout::Json
        );
        assert_eq!(
            layout_of_content(b"  {\"id\": 1}\n{\"id\": 2}\n"),
            Layout::Ndjson
        );
        assert_eq!(
            layout_of_content(b"{\n  \"resourceType\": \"Bundle\"\n}\n"),
            Layout::Json
        );
        assert_eq!(layout_of_content(b"id,age_years\n1,40\n"), Layout::Csv);
        assert_eq!(layout_of_content(b""), Layout::Csv);
    }

    #[test]
    fn ndjson_numbers_records_without_gaps_and_keeps_bad_lines() {
        let input = "\u{feff}{\"id\": \"a\"}\n\n{\"id\": \nnot json\n[1]\n";
        let mut items = Vec::new();
        let rows = ndjson::<_, io::Error>(input.as_bytes(), |item| {
            items.push(item);
            Ok(())
        })
        .expect("reads");
        assert_eq!(rows, 4);
        let summary: Vec<(u64, &str, bool)> = items
            .iter()
            .map(|i| (i.row, i.place.as_str(), i.doc.is_ok()))
            .collect();
        assert_eq!(
            summary,
            [
                (1, "line 1", true),
                (2, "line 3", false),
                (3, "line 4", false),
                (4, "line 5", true)
            ]
        );
        assert_eq!(
            items[1].doc.as_ref().err().map(String::as_str),
            Some("not a JSON document: EOF while parsing a value (column 7)")
        );
    }
}
