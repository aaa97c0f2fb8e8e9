//! What every front end (`check`, the interview, `batch`, the `rules` toolkit) shares, in one
//! place: what the process learnt about its terminal, bad usage (exit status 2), reading a
//! ruleset file (the core takes text and reads no files), and the choice of output format.
//! No clap types here: `app` resolves the command line and hands the front ends plain values.

use std::io::IsTerminal;
use std::path::Path;

use crate::output::Format;
use crate::ruleset::{self, Diagnostic, LoadError, Ruleset};

/// Bad usage, reported with exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// What the process learnt about its surroundings, once.
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

impl Terminal {
    pub fn detect() -> Self {
        Terminal {
            stdin: std::io::stdin().is_terminal(),
            stdout: std::io::stdout().is_terminal(),
            stderr: std::io::stderr().is_terminal(),
        }
    }
}

/// Reads a ruleset file's text, and how the file is named in messages.
pub fn read_ruleset(path: &Path) -> Result<(String, String), LoadError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
        path: shown.clone(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| LoadError::Read {
        path: shown.clone(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text: {e}"),
        ),
    })?;
    Ok((text, shown))
}

/// Loads the ruleset named by `--rules`/`KETASCREEN_RULES`, or the built-in one.
pub fn load_ruleset(path: Option<&Path>) -> Result<Ruleset, LoadError> {
    match path {
        Some(p) => {
            let (text, shown) = read_ruleset(p)?;
            ruleset::load_str(&text, &shown)
        }
        None => ruleset::builtin(),
    }
}

/// Loads and lints the ruleset file named, or the built-in one.
pub fn lint_ruleset(path: Option<&Path>) -> Result<(Ruleset, Vec<Diagnostic>), LoadError> {
    match path {
        Some(p) => {
            let (text, shown) = read_ruleset(p)?;
            ruleset::lint_str(&text, &shown)
        }
        None => ruleset::lint_builtin(),
    }
}

/// The output format: as asked, else a table on a terminal, else `piped_default`.
pub fn format_of(asked: Option<Format>, stdout_is_terminal: bool, piped_default: Format) -> Format {
    match asked {
        Some(format) => format,
        None if stdout_is_terminal => Format::Table,
        None => piped_default,
    }
}
