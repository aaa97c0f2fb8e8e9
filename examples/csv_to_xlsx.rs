//! Turns a UTF-8 CSV into a one-sheet .xlsx workbook the way Excel would hold it: numbers as
//! number cells (`41` as 41.0), `true`/`false` as booleans, everything else as text. It made
//! examples/intake.xlsx from examples/intake.csv; handy to try `ketascreen batch` on a
//! workbook. Not part of ketascreen.
//!
//! Usage: cargo run --example csv_to_xlsx -- IN.csv OUT.xlsx [SHEET]

use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output, rest @ ..] = args.as_slice() else {
        return Err("usage: csv_to_xlsx IN.csv OUT.xlsx [SHEET]".into());
    };
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(rest.first().map_or("Intake", String::as_str))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(input)?;
    for (r, record) in reader.records().enumerate() {
        for (c, cell) in record?.iter().enumerate() {
            let (r, c) = (u32::try_from(r)?, u16::try_from(c)?);
            match (cell.parse::<f64>(), cell) {
                (Ok(x), _) if r > 0 => sheet.write_number(r, c, x)?,
                (_, "true" | "TRUE") => sheet.write_boolean(r, c, true)?,
                (_, "false" | "FALSE") => sheet.write_boolean(r, c, false)?,
                _ if cell.is_empty() => continue,
                _ => sheet.write_string(r, c, cell)?,
            };
        }
    }
    book.save(output)?;
    Ok(())
}
