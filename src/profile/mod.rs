//! Intake profiles: how one clinic's export maps onto a ruleset — which column answers which
//! question, how its codes read (`1` → `major_depressive_disorder`, `Checked` → yes), which
//! cells mean "not known" (`UNK`, `-999`), which forms must be complete for their answers to
//! count, which column is the patient id and which rows are patients. A profile is YAML owned
//! by the clinic's data staff, kept apart from the ruleset so the ruleset's sha256 stays put.
//!
//! `load` reads and checks a profile against the ruleset it will be used with, every problem
//! located (file:line:col, "did you mean") with the ruleset's own locating machinery; `plan`
//! compiles a loaded profile against one file's header into a per-column plan that the batch
//! loop and `check` apply row after row; `draft` and `redcap` write profiles (and REDCap data
//! dictionaries) for people to review. Those read no files and print nothing; `command` is
//! the command layer that does (`profile lint|init|redcap`, and loading `--profile`).

pub mod command;
pub mod draft;
mod load;
pub mod plan;
pub mod redcap;

pub use load::{load_str, ProfileError};
pub use plan::{HeaderMismatch, Plan};

use crate::answers::Value;
use crate::ruleset::Slot;

/// The environment variable naming a profile, as `--profile` does.
pub const PROFILE_ENV: &str = "KETASCREEN_PROFILE";

/// REDCap's standard missing-data codes (Project Setup → Missing Data Codes), which
/// `profile redcap` puts in `missing_codes`.
pub const REDCAP_MISSING_CODES: [&str; 18] = [
    "NI", "INV", "UNK", "NASK", "ASKU", "NAV", "MSK", "NA", "NAVU", "NP", "QS", "QI", "TRC", "UNC",
    "DER", "PINF", "NINF", "OTH",
];

/// The text encodings an input file may be declared in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// UTF-8, or UTF-8/UTF-16 announced by a byte-order mark.
    #[default]
    Auto,
    Utf8,
    Windows1252,
    Iso8859_1,
    Utf16Le,
    Utf16Be,
}

impl Encoding {
    /// The names a profile may use, as written in profiles.
    pub const NAMES: [(&'static str, Encoding); 6] = [
        ("auto", Encoding::Auto),
        ("utf-8", Encoding::Utf8),
        ("windows-1252", Encoding::Windows1252),
        ("iso-8859-1", Encoding::Iso8859_1),
        ("utf-16le", Encoding::Utf16Le),
        ("utf-16be", Encoding::Utf16Be),
    ];

    /// The encoding a name means, in any case (`utf8`, `cp1252` and `latin1` too).
    pub fn from_name(name: &str) -> Option<Encoding> {
        let n = name.trim().to_ascii_lowercase();
        let n = match n.as_str() {
            "utf8" => "utf-8",
            "cp1252" | "windows1252" => "windows-1252",
            "latin1" | "latin-1" | "iso8859-1" => "iso-8859-1",
            other => other,
        };
        Self::NAMES.iter().find(|(k, _)| *k == n).map(|(_, e)| *e)
    }
}

/// Which rows of the file are patients: those whose `column` holds one of `equals`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rows {
    pub column: String,
    pub equals: Vec<String>,
}

/// How the file is read (`input:`). `delimiter`, `encoding`, `sheet` and `decimal` are
/// applied where files are read; `id_column` and `rows` by the plan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Input {
    /// `None` is `auto`: detected.
    pub delimiter: Option<u8>,
    pub encoding: Encoding,
    /// For .xlsx/.ods: the sheet to read (default: the first).
    pub sheet: Option<String>,
    pub id_column: Option<String>,
    pub rows: Option<Rows>,
    /// The decimal separator of number cells: `b'.'` (default) or `b','`.
    pub decimal: u8,
}

/// A form whose answers count only when it is complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub name: String,
    pub status_column: String,
    /// Status values that mean complete (REDCap: `2`).
    pub complete: Vec<String>,
}

/// Where a question's answer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A column whose cells are the answer.
    Column(String),
    /// A checkbox column: `1`/`Checked` is yes, `0`/`Unchecked` is no.
    Checkbox(String),
}

impl Source {
    pub fn column(&self) -> &str {
        match self {
            Source::Column(c) | Source::Checkbox(c) => c,
        }
    }
}

/// One `columns:` entry, checked against the ruleset.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    pub slot: Slot,
    pub source: Source,
    /// A unit text the export writes after numbers (`146 mm Hg`), stripped before reading.
    pub unit: Option<String>,
    /// Recodes: a cell equal (trimmed, any case) to a code reads as its value; `None` is
    /// unanswered. When present, a cell that is no code is an input error.
    pub values: Option<Vec<(String, Option<Value>)>>,
    /// Index into `Profile::forms`.
    pub form: Option<usize>,
    /// The entry's key in the file (`columns.<key>`), to place errors found later.
    pub key: String,
}

/// A loaded, checked profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub id: String,
    /// The ruleset it was written for, when it says.
    pub ruleset: Option<String>,
    /// Hex SHA-256 of the profile file's bytes.
    pub sha256: String,
    /// How the file is named in messages.
    pub origin: String,
    pub input: Input,
    pub missing_codes: Vec<String>,
    pub forms: Vec<Form>,
    pub columns: Vec<ColumnSpec>,
    /// The file's text, to place errors found when it meets a header.
    text: String,
}

impl Profile {
    /// The file's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether a trimmed cell is one of the missing-data codes (any case).
    pub fn is_missing_code(&self, cell: &str) -> bool {
        self.missing_codes
            .iter()
            .any(|c| c.eq_ignore_ascii_case(cell))
    }
}
