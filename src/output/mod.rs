//! Rendering verdicts — a terminal table, JSON (schema `ketascreen.verdict/v1`), NDJSON and
//! CSV. Renderers only present: every decision was already made by the engine.

pub mod csv;
pub mod escape;
pub mod explain;
pub mod json;
pub mod stream;
pub mod table;

use crate::answers::InputError;
use crate::engine::Verdict;

/// The JSON schema id every verdict record carries.
pub const SCHEMA: &str = "ketascreen.verdict/v1";

/// One patient's verdict with what surrounds it: who, which row, what input was wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: Option<String>,
    /// 1-based data row, for batch output.
    pub row: Option<u64>,
    pub verdict: Verdict,
    pub errors: Vec<InputError>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Ndjson,
    Csv,
}

/// Whether terminal styling may be used: only on a terminal, and never with `NO_COLOR` set.
pub fn color_allowed(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
