//! Cell-level habits of spreadsheet exports, undone before a cell is parsed as an answer:
//! Excel's text-preserving `="00123"`, decimal commas (only where the caller says the file
//! uses them), and rows whose every cell is empty (Excel's trailing `;;;;`), which are not
//! patients. Pure functions over bytes; nothing here knows questions or prints anything.

use std::borrow::Cow;

pub use crate::answers::{excel_text, excel_text_str};

/// A decimal comma read as a point: `36,6` and `36,6 kg` become `36.6` / `36.6 kg`. Only a
/// single comma between digits, in a cell with no point, is changed, and not one followed by
/// exactly three digits (`1,000` may be a thousand, as `answers::Reading` has it too):
/// `1.234,5` and `1,2,3` are left for the number parser to refuse.
pub fn decimal_point(cell: &[u8]) -> Cow<'_, [u8]> {
    let Some(at) = memchr::memchr(b',', cell) else {
        return Cow::Borrowed(cell);
    };
    let digit_before = at > 0 && cell[at - 1].is_ascii_digit();
    let digits_after = cell[at + 1..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let another =
        memchr::memchr2(b',', b'.', &cell[at + 1..]).is_some() || cell[..at].contains(&b'.');
    if !digit_before || digits_after == 0 || digits_after == 3 || another {
        return Cow::Borrowed(cell);
    }
    let mut out = cell.to_vec();
    out[at] = b'.';
    Cow::Owned(out)
}

/// Whether every cell of a row is empty or white space: such a row is not a patient.
pub fn is_blank<'a>(cells: impl IntoIterator<Item = &'a [u8]>) -> bool {
    cells.into_iter().all(|c| c.trim_ascii().is_empty())
}

/// How many rows a list on stderr names before it sums the rest up (without `--verbose`).
pub const NAMED: usize = 20;

/// The all-empty rows of an input, for the note on stderr.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlankRows {
    pub count: u64,
    /// The first rows' numbers (data rows, as in the records), all of them when `verbose`.
    rows: Vec<u64>,
    verbose: bool,
}

impl BlankRows {
    pub fn new(verbose: bool) -> Self {
        BlankRows {
            verbose,
            ..Self::default()
        }
    }

    pub fn add(&mut self, row: u64) {
        self.count += 1;
        if self.verbose || self.rows.len() < NAMED {
            self.rows.push(row);
        }
    }

    /// Adds another part's rows (parts in input order).
    pub fn extend(&mut self, other: &BlankRows) {
        for &row in &other.rows {
            if self.verbose || self.rows.len() < NAMED {
                self.rows.push(row);
            }
        }
        self.count += other.count;
    }

    /// The note for stderr, when there were any: which rows, or the first of them and how to
    /// see them all.
    pub fn note(&self, input: &str) -> Option<String> {
        if self.count == 0 {
            return None;
        }
        let listed: Vec<String> = self.rows.iter().map(u64::to_string).collect();
        let rest = self.count - self.rows.len() as u64;
        let more = if rest > 0 {
            format!(", and {rest} more (--verbose names every one)")
        } else {
            String::new()
        };
        Some(format!(
            "ketascreen: note: {input}: {} not screened (no patient in {}): {} {}{more}",
            if self.count == 1 {
                "1 empty row".to_string()
            } else {
                format!("{} empty rows", self.count)
            },
            if self.count == 1 { "it" } else { "them" },
            if self.count == 1 { "row" } else { "rows" },
            listed.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(c: Cow<'_, [u8]>) -> String {
        String::from_utf8(c.into_owned()).expect("utf-8")
    }

    #[test]
    fn decimal_commas_only_between_digits() {
        assert_eq!(text(decimal_point(b"36,6")), "36.6");
        assert_eq!(text(decimal_point(b"36,6 kg")), "36.6 kg");
        assert_eq!(text(decimal_point(b"1,0005")), "1.0005");
        for cell in [
            &b"1,000"[..],
            b"36.6",
            b"1.234,5",
            b"1,2,3",
            b",5",
            b"5,",
            b"a,b",
            b"",
        ] {
            assert_eq!(decimal_point(cell), Cow::Borrowed(cell), "{cell:?}");
        }
    }

    #[test]
    fn blank_rows() {
        assert!(is_blank([&b""[..], b" ", b"\t"]));
        assert!(is_blank(std::iter::empty()));
        assert!(!is_blank([&b""[..], b"x"]));
    }

    #[test]
    fn blank_rows_note_names_them_or_says_how() {
        let mut one = BlankRows::new(false);
        one.add(7);
        assert_eq!(
            one.note("in.csv").as_deref(),
            Some("ketascreen: note: in.csv: 1 empty row not screened (no patient in it): row 7")
        );
        let mut many = BlankRows::new(false);
        for row in 1..=25 {
            many.add(row);
        }
        let note = many.note("in.csv").expect("note");
        assert!(
            note.ends_with("rows 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, and 5 more (--verbose names every one)"),
            "{note}"
        );
        let mut all = BlankRows::new(true);
        all.extend(&many);
        assert_eq!(all.count, 25);
        let mut verbose = BlankRows::new(true);
        for row in 1..=25 {
            verbose.add(row);
        }
        assert!(verbose.note("x").is_some_and(|n| n.ends_with("24, 25")));
        assert_eq!(BlankRows::new(false).note("x"), None);
    }
}
