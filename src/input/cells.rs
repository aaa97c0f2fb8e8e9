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

/// How many rows a list on stderr names before it sums the rest up (without `--verbose`).
pub const NAMED: usize = 20;

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
}
