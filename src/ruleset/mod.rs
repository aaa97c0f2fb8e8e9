//! The ruleset: its typed model (`model`), the YAML as written (`raw`), loading with located
//! errors (`load`, `locate`, `diag`), and lint warnings (`warn`). The engine reads only the model.

mod diag;
mod load;
mod locate;
mod model;
mod raw;
mod warn;

pub use diag::{serde_message, Diagnostic, Level};
pub use load::{builtin, load_str, LoadError, BUILTIN_NAME, BUILTIN_TEXT};
pub use locate::{Locations, Pos};
pub use model::{ChoiceOption, Kind, Piece, Question, Rule, Ruleset, Severity, Slot};
pub use warn::{lint_builtin, lint_str, warnings};
