//! The toolkit for the clinician who owns the rules: linting, rule cases and their coverage,
//! boundary cases, showing, diffing, impact on past intakes, templates and exports. Each piece
//! takes plain values and returns text or data; `app::rules` turns the command line into calls
//! to them, so nothing here sees clap types.

pub mod boundaries;
pub mod conditions;
pub mod diff;
pub mod impact;
pub mod intakes;
pub mod lint;
pub mod show;
pub mod template;
pub mod testing;
