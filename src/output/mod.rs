//! Rendering verdicts — a terminal table, JSON (schema `ketascreen.verdict/v1`), NDJSON and
//! CSV. Renderers only present: every decision was already made by the engine.

pub mod compact_json;
pub mod csv;
pub mod escape;
pub mod explain;
pub mod json;
pub mod spreadsheet;
pub mod stream;
pub mod table;
pub mod wrap;
pub mod xlsx;

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
    /// The intake profile the answers were read through, if any.
    pub profile: Option<ProfileId>,
}

/// Which intake profile a record was read through: its id and the sha256 of its file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProfileId {
    pub id: String,
    pub sha256: String,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Ndjson,
    Csv,
}

/// Whether terminal styling may be used on a stream that is (or is not) a terminal: the one
/// colour policy of `crate::color` (`--color`, `NO_COLOR`, `CLICOLOR`, `CLICOLOR_FORCE`,
/// `TERM=dumb`).
pub fn color_allowed(is_terminal: bool) -> bool {
    crate::color::enabled(is_terminal)
}

/// The width to lay a table out in when the terminal reports none that can hold it: a
/// terminal that says it has 0 or 1 columns (some consoles and CI pseudo-terminals do) would
/// otherwise get one letter per line.
pub const FALLBACK_WIDTH: u16 = 80;

/// Fixes a table's width: the terminal's when it reports a usable one, `FALLBACK_WIDTH` when it
/// reports 0 or 1 columns, `off_terminal` when the output is not a terminal.
pub fn fit_width(table: &mut comfy_table::Table, off_terminal: u16) {
    match table.width() {
        Some(w) if w >= 2 => {}
        Some(_) => {
            table.set_width(FALLBACK_WIDTH);
        }
        None => {
            table.set_width(off_terminal);
        }
    }
}
