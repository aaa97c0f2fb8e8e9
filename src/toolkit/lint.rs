//! `ketascreen rules lint`: the report of a ruleset's problems — load errors, or the lint
//! warnings of a ruleset that loads — as text with source snippets (the way compilers print
//! them) or as a JSON array of diagnostics for editors and CI. Pure: renders text.

use std::fmt::Write as _;

use serde_json::json;

use crate::ruleset::{Diagnostic, Level, Ruleset};

/// The report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// What linting found: the diagnostics, and whether the ruleset loaded.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// How the file is named in the summary.
    pub name: &'a str,
    /// The loaded ruleset, when there were no errors.
    pub ruleset: Option<&'a Ruleset>,
    pub diagnostics: &'a [Diagnostic],
    pub deny_warnings: bool,
}

impl Report<'_> {
    fn count(&self, level: Level) -> usize {
        self.diagnostics.iter().filter(|d| d.level == level).count()
    }

    /// Whether lint fails: any error, or any warning when warnings are denied.
    pub fn failed(&self) -> bool {
        self.ruleset.is_none()
            || self.count(Level::Error) > 0
            || (self.deny_warnings && self.count(Level::Warning) > 0)
    }
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// Renders the report.
pub fn render(report: &Report<'_>, format: Format) -> String {
    match format {
        Format::Json => {
            let items: Vec<serde_json::Value> = report
                .diagnostics
                .iter()
                .map(|d| {
                    json!({
                        "level": d.level,
                        "file": d.file,
                        "line": d.line,
                        "column": d.column,
                        "message": d.message,
                    })
                })
                .collect();
            let mut text =
                serde_json::to_string_pretty(&serde_json::Value::Array(items)).unwrap_or_default();
            text.push('\n');
            text
        }
        Format::Text => {
            let mut out = String::new();
            for d in report.diagnostics {
                let _ = writeln!(out, "{d}");
            }
            let errors = report.count(Level::Error);
            let warnings = report.count(Level::Warning);
            match report.ruleset {
                Some(_) if errors == 0 && warnings > 0 && report.deny_warnings => {
                    let _ = writeln!(
                        out,
                        "{}: {}, denied by --deny-warnings",
                        report.name,
                        plural(warnings, "warning")
                    );
                }
                Some(rs) if errors == 0 => {
                    let _ = write!(
                        out,
                        "{}: ok ({} questions, {} rules, {} sources)",
                        report.name,
                        rs.questions.len(),
                        rs.rules.len(),
                        rs.sources.len()
                    );
                    if warnings > 0 {
                        let _ = write!(out, ", {}", plural(warnings, "warning"));
                    }
                    out.push('\n');
                }
                _ => {
                    let _ = writeln!(out, "{}: {}", report.name, plural(errors, "error"));
                }
            }
            out
        }
    }
}
