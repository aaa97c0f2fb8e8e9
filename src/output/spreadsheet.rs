//! Text from the input on its way into a spreadsheet: a cell that starts like a formula
//! (`=`, `+`, `-`, `@`, a tab or a carriage return) would be run by Excel or LibreOffice when a
//! CSV is opened (`=HYPERLINK(...)`, `+cmd|...`), so it gets the usual leading `'`, which
//! spreadsheets show as text. A plain number (`-5`, `+3.2`) is left alone. The one rule for
//! every CSV writer; the workbook writer needs none, as it stores cells as typed strings.

use std::borrow::Cow;

/// Whether a cell starting with this byte may be run by a spreadsheet (`formula_safe` then
/// decides): most cells start otherwise, and need no further look.
pub fn may_be_formula(first: Option<&u8>) -> bool {
    matches!(first, Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'))
}

/// `text`, made safe to open in a spreadsheet.
pub fn formula_safe(text: &str) -> Cow<'_, str> {
    let first = text.as_bytes().first();
    let number =
        matches!(first, Some(b'+' | b'-')) && text[1..].parse::<f64>().is_ok_and(f64::is_finite);
    if may_be_formula(first) && !number {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_quoted() {
        for (cell, safe) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("@SUM(1)", "'@SUM(1)"),
            ("-2+3", "'-2+3"),
            ("\t=1", "'\t=1"),
        ] {
            assert_eq!(formula_safe(cell), safe, "{cell}");
        }
    }

    #[test]
    fn plain_text_and_numbers_are_left() {
        for cell in ["P-0042", "", "-5", "+3.2", "a=b", "'quoted"] {
            assert_eq!(formula_safe(cell), Cow::Borrowed(cell), "{cell}");
        }
    }
}
