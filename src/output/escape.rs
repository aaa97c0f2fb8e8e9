//! The one function that makes text from input safe to show: on a terminal (table, stderr
//! warnings, the interview's review screen) an id or a header holding a newline, an escape
//! sequence or a bidirectional override could forge or hide lines (a fake `ELIGIBLE`, `ESC[8m`
//! hiding the real banner). Such characters are shown as Rust-style escapes (`\n`, `\u{1b}`)
//! instead. It is for display only: JSON output escapes by its own rules, and values are never
//! changed before they are decided on.

use std::borrow::Cow;

/// Whether a character must not reach a terminal raw: C0 and C1 controls, DEL, the line and
/// paragraph separators, and the invisible marks and overrides that reorder what is shown.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// Input text as it may be shown: unchanged when it holds nothing unsafe (the usual case,
/// without allocating), otherwise with every unsafe character escaped.
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_debug());
            // escape_debug leaves some format characters as they are; spell those out.
            if out.ends_with(c) {
                out.pop();
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Multi-line text (an error message with a source line and a caret under it): every line
/// escaped as by `text`, the line breaks kept.
pub fn lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_unsafe(c)) {
        return Cow::Borrowed(s);
    }
    let parts: Vec<Cow<'_, str>> = s.split('\n').map(text).collect();
    Cow::Owned(parts.join("\n"))
}

/// Input text in single quotes, escaped: `'Smith\n'`.
pub fn quoted(s: &str) -> String {
    format!("'{}'", text(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(text("P-0042 Zoë"), Cow::Borrowed("P-0042 Zoë")));
    }

    // Broke: an id holding a newline, a fake ELIGIBLE line and ESC[8m hid the real banner.
    #[test]
    fn controls_and_overrides_are_escaped() {
        assert_eq!(
            text("P-1\nELIGIBLE\x1b[8m\r\t\u{7f}\u{85}"),
            r"P-1\nELIGIBLE\u{1b}[8m\r\t\u{7f}\u{85}"
        );
        assert_eq!(
            text("a\u{202e}b\u{2066}c\u{200b}"),
            r"a\u{202e}b\u{2066}c\u{200b}"
        );
        assert_eq!(quoted("x\n"), r"'x\n'");
        assert_eq!(lines("a\x1b[2J\n  ^"), "a\\u{1b}[2J\n  ^");
    }
}
