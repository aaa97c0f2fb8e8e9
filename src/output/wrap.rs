//! Fitting text to a terminal's width: wrap at word boundaries with a hanging indent, so a
//! line never breaks inside a word or an id (`lung_disease_or_sleep_apnea` stays whole), and
//! shorten a text to a width with an ellipsis. Widths are display columns (`unicode-width`).
//! Every screen of the interview and the verdict table put their free text through here; it
//! knows nothing of colour (wrap plain text, paint afterwards).

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The width used when the terminal's is unknown or absurd (0 or 1 column, or not a terminal).
pub const FALLBACK_WIDTH: usize = 80;
/// Below this, wrapping makes no sense: lines are laid out for this width anyway.
pub const MIN_WIDTH: usize = 20;

/// Text from input made safe for a terminal: `output::escape::text`, the one escaping
/// function (control characters, escape sequences and bidirectional overrides shown as `\n`,
/// `\u{1b}`...), so a value read from a file can never drive the terminal.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    super::escape::text(text)
}

/// Display width of a text, in terminal columns.
pub fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// A usable width from what the terminal reported (`None`: not a terminal, or unknown).
pub fn usable(columns: Option<u16>) -> usize {
    match columns.map(usize::from) {
        Some(c) if c >= MIN_WIDTH => c,
        Some(c) if c > 1 => MIN_WIDTH,
        _ => FALLBACK_WIDTH,
    }
}

/// Wraps `text` to `width` columns. The first line starts with `first` (a bullet, a label),
/// every following line with `hanging` (spaces, usually as wide as `first`). Line breaks in
/// the text are kept. A word longer than a whole line is the only thing ever cut.
pub fn wrap(text: &str, width: usize, first: &str, hanging: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut prefix = first;
    for paragraph in text.split('\n') {
        let mut line = prefix.to_string();
        let mut empty = true;
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let room = width.saturating_sub(self::width(&line));
            let need = self::width(word) + usize::from(!empty);
            if !empty && need > room {
                lines.push(line);
                line = hanging.to_string();
                empty = true;
            }
            if !empty {
                line.push(' ');
            }
            // A word wider than a whole line: cut it, the only break inside a word.
            let mut rest = word;
            while self::width(&line) + self::width(rest) > width
                && self::width(&line) < width
                && empty
            {
                let room = width - self::width(&line);
                let (head, tail) = split_at_width(rest, room);
                if head.is_empty() {
                    break;
                }
                line.push_str(head);
                lines.push(line);
                line = hanging.to_string();
                rest = tail;
            }
            line.push_str(rest);
            empty = false;
        }
        lines.push(line);
        prefix = hanging;
    }
    lines
}

/// `wrap`, joined into one string with a newline after every line.
pub fn wrap_block(text: &str, width: usize, first: &str, hanging: &str) -> String {
    let mut out = String::new();
    for line in wrap(text, width, first, hanging) {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The longest head of `text` no wider than `columns`, and the rest.
fn split_at_width(text: &str, columns: usize) -> (&str, &str) {
    let mut used = 0;
    for (i, c) in text.char_indices() {
        used += c.width().unwrap_or(0);
        if used > columns {
            return text.split_at(i);
        }
    }
    (text, "")
}

/// `text` cut to at most `columns` columns, at a word boundary where one is near, ending in
/// `…` when cut.
pub fn shorten(text: &str, columns: usize) -> String {
    if width(text) <= columns {
        return text.to_string();
    }
    if columns == 0 {
        return String::new();
    }
    let (head, _) = split_at_width(text, columns - 1);
    // Back up to the last space when that keeps most of the room.
    let head = match head.rfind(' ') {
        Some(i) if width(&head[..i]) * 3 >= (columns - 1) * 2 => &head[..i],
        _ => head,
    };
    format!("{}…", head.trim_end_matches([' ', ',', ';', ':', '(', '/']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_word_boundaries_with_a_hanging_indent() {
        let text = "continue_antihypertensives: Takes blood-pressure medicine; keep taking it \
                    on the day of treatment [lung_disease_or_sleep_apnea]";
        let lines = wrap(text, 40, "  - ", "    ");
        assert_eq!(
            lines,
            [
                "  - continue_antihypertensives: Takes",
                "    blood-pressure medicine; keep taking",
                "    it on the day of treatment",
                "    [lung_disease_or_sleep_apnea]",
            ]
        );
        assert!(lines.iter().all(|l| width(l) <= 40));
    }

    #[test]
    fn keeps_line_breaks_and_cuts_only_a_word_wider_than_a_line() {
        assert_eq!(wrap("a b\nc", 10, "", "  "), ["a b", "  c"]);
        assert_eq!(
            wrap("x abcdefghijkl", 8, "> ", "  "),
            ["> x", "  abcdef", "  ghijkl"]
        );
        assert_eq!(wrap("", 10, "- ", "  "), ["- "]);
        assert_eq!(wrap_block("one two three", 9, "", " "), "one two\n three\n");
    }

    #[test]
    fn shortens_at_a_word_with_an_ellipsis() {
        assert_eq!(shorten("Short", 10), "Short");
        assert_eq!(
            shorten("Does the patient have lung disease or sleep apnea?", 30),
            "Does the patient have lung…"
        );
        assert_eq!(shorten("Supercalifragilistic", 8), "Superca…");
        assert_eq!(shorten("Héllo wörld ünïcode text", 12), "Héllo wörld…");
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(printable("P-1"), "P-1");
        assert_eq!(printable("a\u{1b}[2Jb\n"), "a\\u{1b}[2Jb\\n");
    }

    #[test]
    fn unusable_widths_fall_back() {
        assert_eq!(usable(None), 80);
        assert_eq!(usable(Some(0)), 80);
        assert_eq!(usable(Some(1)), 80);
        assert_eq!(usable(Some(10)), 20);
        assert_eq!(usable(Some(132)), 132);
    }
}
