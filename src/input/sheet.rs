//! Spreadsheets (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`) read with calamine and turned into
//! the same text rows a CSV export of them gives, written as CSV so that everything after
//! reading is one path: a whole-number cell (`2111.0`) reads `2111`, a date `2024-03-01` (with
//! its time when it has one), TRUE/FALSE `true`/`false`, an error cell its code (`#N/A`, which
//! then fails as an answer like any other bad value). The sheet is the one asked for, else
//! the first. Not for CSV files: those stay streams.

use std::io::Cursor;

use calamine::{Data, Reader};

use super::InputError;

/// A workbook's first bytes: a zip archive (xlsx, xlsm, xlsb, ods) or an OLE2 file (xls).
pub fn is_workbook(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

/// One sheet of a workbook as UTF-8 CSV (`,`-delimited, `\n`-terminated), and a note for
/// stderr when the workbook has other sheets (which sheet was read, and the others' names).
pub fn to_csv(
    bytes: Vec<u8>,
    sheet: Option<&str>,
) -> Result<(Vec<u8>, Option<String>), InputError> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| InputError::Workbook(e.to_string()))?;
    let names = book.sheet_names();
    let quoted = || {
        names
            .iter()
            .map(|n| format!("'{}'", crate::answers::echo(n)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let name = match sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted)
            .or_else(|| {
                names
                    .iter()
                    .find(|n| n.trim().eq_ignore_ascii_case(wanted.trim()))
            })
            .ok_or_else(|| InputError::NoSheet {
                wanted: crate::answers::echo(wanted),
                sheets: quoted(),
            })?
            .clone(),
        None => names.first().cloned().ok_or_else(|| InputError::NoSheet {
            wanted: String::new(),
            sheets: String::new(),
        })?,
    };
    let note = (sheet.is_none() && names.len() > 1).then(|| {
        format!(
            "read sheet '{}', the first of {} (--sheet to choose another: {})",
            crate::answers::echo(&name),
            names.len(),
            quoted()
        )
    });
    let range = book
        .worksheet_range(&name)
        .map_err(|e| InputError::Workbook(e.to_string()))?;
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let mut row_text: Vec<String> = Vec::new();
    for row in range.rows() {
        row_text.clear();
        row_text.extend(row.iter().map(cell_text));
        out.write_record(&row_text)
            .map_err(|e| InputError::Workbook(e.to_string()))?;
    }
    let csv = out
        .into_inner()
        .map_err(|e| InputError::Workbook(e.to_string()))?;
    Ok((csv, note))
}

/// A cell as the text a CSV export would hold.
pub fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(n) => n.to_string(),
        Data::Float(x) => number(*x),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => {
            if d.is_duration() {
                return number(d.as_f64());
            }
            match d.as_datetime() {
                Some(t) if t.time() == chrono::NaiveTime::MIN => t.format("%Y-%m-%d").to_string(),
                Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
                None => number(d.as_f64()),
            }
        }
        Data::Error(e) => e.to_string(),
    }
}

/// A number as a person would type it: `2111.0` as `2111`, `36.6` as `36.6`.
fn number(x: f64) -> String {
    // Below 2^53 every whole float is an exact integer.
    if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_typed() {
        assert_eq!(number(2111.0), "2111");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(36.6), "36.6");
        assert_eq!(number(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(cell_text(&Data::Float(146.0)), "146");
        assert_eq!(cell_text(&Data::Int(7)), "7");
        assert_eq!(cell_text(&Data::Bool(true)), "true");
        assert_eq!(cell_text(&Data::Empty), "");
        assert_eq!(
            cell_text(&Data::DateTimeIso("2024-03-01".into())),
            "2024-03-01"
        );
        assert_eq!(cell_text(&Data::Error(calamine::CellErrorType::NA)), "#N/A");
    }

    #[test]
    fn dates_read_as_iso_dates() {
        let date =
            calamine::ExcelDateTime::new(45352.0, calamine::ExcelDateTimeType::DateTime, false);
        assert_eq!(cell_text(&Data::DateTime(date)), "2024-03-01");
        let with_time =
            calamine::ExcelDateTime::new(45352.5, calamine::ExcelDateTimeType::DateTime, false);
        assert_eq!(cell_text(&Data::DateTime(with_time)), "2024-03-01 12:00:00");
    }

    #[test]
    fn not_a_workbook() {
        assert!(!is_workbook(b"id,age\n"));
        assert!(is_workbook(b"PK\x03\x04rest"));
        assert!(matches!(
            to_csv(b"PK\x03\x04 broken".to_vec(), None),
            Err(InputError::Workbook(_))
        ));
    }
}
