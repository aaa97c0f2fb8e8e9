//! Located diagnostics for ruleset files, printed the way compilers print them:
//! `FILE:LINE:COL: what is wrong`, then the source line with carets under the culprit.

use std::fmt;

use super::locate::Pos;
use crate::suggest::did_you_mean;

/// How serious a finding is: errors stop the ruleset from loading, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
}

/// One finding in a ruleset file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub level: Level,
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Number of characters to underline (at least 1).
    #[serde(skip)]
    pub width: usize,
    pub message: String,
    /// The text of the line, for the snippet.
    #[serde(skip)]
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// The one-line form: `FILE:LINE:COL: message` (warnings say so).
    pub fn headline(&self) -> String {
        let level = match self.level {
            Level::Error => "",
            Level::Warning => "warning: ",
        };
        format!(
            "{}:{}:{}: {level}{}",
            self.file, self.line, self.column, self.message
        )
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())?;
        if let Some(text) = &self.source_line {
            // Long lines are shown as a window around the column, so the caret stays in view.
            const WINDOW: usize = 120;
            let chars: Vec<char> = text.chars().collect();
            let at = self.column.saturating_sub(1).min(chars.len());
            let start = if chars.len() > WINDOW {
                at.saturating_sub(WINDOW / 2)
            } else {
                0
            };
            let end = (start + WINDOW).min(chars.len());
            let lead = if start > 0 { "..." } else { "" };
            let tail = if end < chars.len() { "..." } else { "" };
            let shown: String = chars[start..end].iter().collect();
            let indent: String = chars[start..at]
                .iter()
                .map(|&c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let number = self.line.to_string();
            let pad = " ".repeat(number.len());
            let carets = "^".repeat(self.width.clamp(1, WINDOW));
            write!(
                f,
                "\n {pad} |\n {number} | {lead}{shown}{tail}\n {pad} | {}{indent}{carets}",
                " ".repeat(lead.len())
            )?;
        }
        Ok(())
    }
}

/// A YAML deserializing error as a diagnostic's message and place: serde's own text without
/// its trailing " at line L column C" (the place goes in front instead), and for an unknown
/// field or variant the likeliest of the expected names as a "did you mean". Shared by every
/// YAML file we load (rulesets, intake profiles).
pub fn serde_message(e: &serde_yaml::Error) -> (String, Option<Pos>) {
    let mut message = e.to_string();
    if let Some(cut) = message.rfind(" at line ") {
        message.truncate(cut);
    }
    // "unknown field `tyep`, expected one of `id`, `type`": add the likeliest one.
    if let Some(rest) = message
        .split("unknown field `")
        .nth(1)
        .or_else(|| message.split("unknown variant `").nth(1))
    {
        if let Some((bad, expected)) = rest.split_once('`') {
            let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            message.push_str(&did_you_mean(bad, names.iter().copied()));
        }
    }
    let pos = e.location().map(|l| Pos {
        line: l.line(),
        column: l.column(),
    });
    (message, pos)
}
