//! Streamed output, for `batch`: verdict records rendered one per input row — NDJSON (one
//! compact record per line), a JSON array (written record by record), CSV (the `output::csv`
//! columns, through `csv::Writer` unless no cell of the record needs quoting), or a compact
//! table for a terminal. Only presentation: the verdicts arrive decided. Records are rendered
//! into byte buffers (so several screening threads can render while one writes) with reused
//! scratch space; nothing here echoes an answer or an ignored column.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use crate::answers::InputError;
use crate::engine::{Status, Verdict};
use crate::output::csv::CsvStyle;
use crate::output::spreadsheet::{formula_safe, may_be_formula};
use crate::output::{json, Format};
use crate::ruleset::{Ruleset, Severity, Slot};

/// One screened row, as the writers see it.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    /// 1-based data row (the header is not counted).
    pub number: u64,
    pub id: Option<&'a str>,
    pub verdict: &'a Verdict,
    pub errors: &'a [InputError],
}

/// Renders batch records in one format into byte buffers. One renderer per thread that
/// screens rows; what goes before the first record and after the last (`head`, `tail`) is
/// written once by whoever owns the output.
pub struct Renderer<'r> {
    ruleset: &'r Ruleset,
    /// The intake profile rows were read through, named in every JSON record.
    profile: Option<&'r crate::output::ProfileId>,
    kind: Kind,
    /// A reused buffer for one CSV cell, and one for the missing questions.
    cells: (Vec<u8>, Vec<Slot>),
}

enum Kind {
    /// NDJSON and the JSON array, with the parts of records remembered from earlier rows.
    Ndjson(RefCell<json::Remembered>),
    Json(RefCell<json::Remembered>),
    /// Records are built in `cells` and copied to `out` when no cell needs quoting, else
    /// written through the csv crate into a shared buffer and moved to `out` (`csv_write`);
    /// with a byte-order mark first when `bom` (for Excel).
    Csv {
        writer: Box<csv::Writer<Shared>>,
        buffer: Shared,
        bom: bool,
        /// The `ruleset` cell, the same in every record: made once.
        ruleset: String,
        /// What makes the writer quote a cell, and whether no cell made from the ruleset
        /// ever has it (then only the cells from the input are checked, record by record).
        special: Special,
        ruleset_plain: bool,
        cells: CsvCells,
    },
    Table {
        color: bool,
        line: String,
        missing: Vec<Slot>,
    },
}

impl<'r> Renderer<'r> {
    /// A renderer for `format`; for a table, `color` allows ANSI colour; CSV is written as
    /// `csv` says (separator, byte-order mark).
    pub fn new(ruleset: &'r Ruleset, format: Format, color: bool, csv: CsvStyle) -> Self {
        let kind = match format {
            Format::Ndjson => Kind::Ndjson(RefCell::new(json::Remembered::new(ruleset))),
            Format::Json => Kind::Json(RefCell::new(json::Remembered::new(ruleset))),
            Format::Csv => {
                let buffer = Shared::default();
                let writer = csv::WriterBuilder::new()
                    .delimiter(csv.delimiter)
                    .from_writer(buffer.clone());
                let ruleset_cell =
                    formula_safe(&format!("{}@{}", ruleset.id, ruleset.version)).into_owned();
                let special = Special::new(csv.delimiter);
                Kind::Csv {
                    writer: Box::new(writer),
                    buffer,
                    bom: csv.bom,
                    ruleset_plain: special.none_in_ruleset_cells(ruleset, &ruleset_cell),
                    ruleset: ruleset_cell,
                    special,
                    cells: CsvCells::new(csv.delimiter),
                }
            }
            Format::Table => Kind::Table {
                color,
                line: String::new(),
                missing: Vec::new(),
            },
        };
        Renderer {
            ruleset,
            profile: None,
            kind,
            cells: Default::default(),
        }
    }

    /// Whether records show the reasons' messages (JSON does; CSV and the table name the
    /// rules only), so that the screener can leave them unfilled.
    pub fn shows_messages(&self) -> bool {
        matches!(self.kind, Kind::Ndjson(_) | Kind::Json(_))
    }

    /// What comes before the first record: a CSV or table header, a JSON array's `[`.
    pub fn head(&mut self, out: &mut Vec<u8>) {
        match &mut self.kind {
            Kind::Ndjson(_) => {}
            Kind::Json(_) => out.push(b'['),
            Kind::Csv {
                writer,
                buffer,
                bom,
                ..
            } => {
                if *bom {
                    out.extend_from_slice(crate::output::csv::BOM);
                }
                // Writing into memory cannot fail.
                let _ = writer.write_record(crate::output::csv::HEADER);
                drain(writer, buffer, out);
            }
            Kind::Table { line, .. } => {
                table_line(
                    line,
                    "row",
                    "id",
                    ("verdict", None),
                    ("urgent", None),
                    "reasons",
                );
                out.extend_from_slice(line.as_bytes());
            }
        }
    }

    /// What comes after the last record, given how many records there were.
    pub fn tail(&mut self, out: &mut Vec<u8>, records: u64) {
        if let Kind::Json(_) = self.kind {
            out.extend_from_slice(if records == 0 { b"]\n" } else { b"\n]\n" });
        }
    }

    /// Appends one record to `out`. Rows are numbered from 1 with no gaps, so row 1 is the
    /// first record of the output (which matters for the JSON array's commas).
    /// Names the intake profile in every JSON record.
    pub fn with_profile(mut self, profile: Option<&'r crate::output::ProfileId>) -> Self {
        self.profile = profile;
        self
    }

    pub fn record(&mut self, out: &mut Vec<u8>, row: &Row<'_>) {
        let ruleset = self.ruleset;
        let profile = self.profile;
        let json = |out: &mut Vec<u8>, remembered: &RefCell<json::Remembered>| {
            json::write_compact(
                out,
                ruleset,
                Some(row.number),
                row.id,
                row.verdict,
                row.errors,
                profile,
                remembered,
            )
        };
        match &mut self.kind {
            Kind::Ndjson(remembered) => {
                json(out, remembered);
                out.push(b'\n');
            }
            Kind::Json(remembered) => {
                out.extend_from_slice(if row.number == 1 { b"\n" } else { b",\n" });
                json(out, remembered);
            }
            Kind::Csv {
                writer,
                buffer,
                ruleset: ruleset_cell,
                special,
                ruleset_plain,
                cells,
                ..
            } => {
                csv_cells(cells, ruleset, ruleset_cell, row, &mut self.cells);
                let plain = *ruleset_plain
                    && !special.any(cells.get(ID_CELL))
                    && !special.any(cells.get(ERRORS_CELL));
                csv_write(out, cells, plain, writer, buffer);
            }
            Kind::Table {
                color,
                line,
                missing,
            } => {
                table_row(ruleset, row, *color, line, missing);
                out.extend_from_slice(line.as_bytes());
            }
        }
    }
}

/// The cells of one CSV record (`output::csv::fields`, without a String per cell), built in one
/// reused buffer, each followed by the delimiter: when no cell needs quoting, the record as
/// written but for its end.
#[derive(Debug)]
struct CsvCells {
    delimiter: u8,
    bytes: Vec<u8>,
    /// Where each cell ends in `bytes` (its delimiter's place).
    ends: Vec<usize>,
}

/// Which cells come from the input: they are checked for quoting record by record.
const ID_CELL: usize = 1;
const ERRORS_CELL: usize = 6;

impl CsvCells {
    fn new(delimiter: u8) -> Self {
        CsvCells {
            delimiter,
            bytes: Vec::new(),
            ends: Vec::new(),
        }
    }

    fn end_cell(&mut self) {
        self.ends.push(self.bytes.len());
        self.bytes.push(self.delimiter);
    }

    fn push(&mut self, cell: &[u8]) {
        self.bytes.extend_from_slice(cell);
        self.end_cell();
    }

    /// `items` joined with `;`, as one cell.
    fn push_joined<'a>(&mut self, items: impl Iterator<Item = &'a String>) {
        for (i, item) in items.enumerate() {
            if i > 0 {
                self.bytes.push(b';');
            }
            self.bytes.extend_from_slice(item.as_bytes());
        }
        self.end_cell();
    }

    /// A cell from the input, with a leading quote when a spreadsheet would run it as a
    /// formula (`spreadsheet::formula_safe`, the one rule); most cells need no decoding for
    /// that.
    fn push_safe(&mut self, cell: &[u8]) {
        if may_be_formula(cell.first()) {
            let safe = formula_safe(&String::from_utf8_lossy(cell)).into_owned();
            self.push(safe.as_bytes());
        } else {
            self.push(cell);
        }
    }

    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] + 1 };
        &self.bytes[start..self.ends[i]]
    }

    /// The cells joined by the delimiter.
    fn joined(&self) -> &[u8] {
        &self.bytes[..self.bytes.len().saturating_sub(1)]
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.ends.len()).map(|i| self.get(i))
    }
}

/// Builds one record of the `output::csv` columns into `cells`.
fn csv_cells(
    cells: &mut CsvCells,
    ruleset: &Ruleset,
    ruleset_cell: &str,
    row: &Row<'_>,
    (errors, slots): &mut (Vec<u8>, Vec<Slot>),
) {
    use std::io::Write as _;
    let verdict = row.verdict;
    cells.bytes.clear();
    cells.ends.clear();
    cells.push(itoa::Buffer::new().format(row.number).as_bytes());
    cells.push_safe(row.id.unwrap_or_default().as_bytes());
    cells.push(verdict.status.as_str().as_bytes());
    cells.push(if verdict.urgent { b"true" } else { b"false" });
    cells.push_joined(verdict.reasons.iter().map(|r| &ruleset.rules[r.rule].id));
    missing_questions(verdict, slots);
    cells.push_joined(slots.iter().map(|&s| &ruleset.questions[s].id));
    errors.clear();
    for (i, e) in row.errors.iter().enumerate() {
        if i > 0 {
            errors.extend_from_slice(b"; ");
        }
        // Writing into memory cannot fail.
        let _ = write!(errors, "{}: {}", e.subject(), e.message);
    }
    cells.push_safe(errors);
    cells.push(ruleset_cell.as_bytes());
    cells.push(if verdict.urgent_undecided {
        b"true"
    } else {
        b"false"
    });
    cells.push_joined(
        verdict
            .ignored
            .iter()
            .map(|i| &ruleset.questions[i.question].id),
    );
    for severity in [Severity::Exclude, Severity::Review, Severity::Note] {
        cells.push_joined(
            verdict
                .reasons
                .iter()
                .filter(|r| r.severity == severity)
                .map(|r| &ruleset.rules[r.rule].id),
        );
    }
    cells.push(itoa::Buffer::new().format(row.errors.len()).as_bytes());
}

/// The bytes that make `csv::Writer` (as `Renderer::new` builds it) quote a cell: the
/// delimiter, the quote, and line breaks.
#[derive(Debug, Clone)]
struct Special(Box<[bool; 256]>);

impl Special {
    fn new(delimiter: u8) -> Self {
        let mut special = [false; 256];
        for b in [delimiter, b'"', b'\r', b'\n'] {
            special[b as usize] = true;
        }
        Special(Box::new(special))
    }

    fn any(&self, cell: &[u8]) -> bool {
        cell.iter().any(|&b| self.0[b as usize])
    }

    /// Whether every cell made from the ruleset (ids joined with `;`, the ruleset cell, the
    /// verdict words, `true`/`false`, numbers) is written as it is, for every verdict.
    fn none_in_ruleset_cells(&self, ruleset: &Ruleset, ruleset_cell: &str) -> bool {
        let words = Status::ALL.iter().map(|s| s.as_str());
        let fixed = ["true", "false", "0123456789", ";", ruleset_cell].into_iter();
        let ids = (ruleset.rules.iter().map(|r| r.id.as_str()))
            .chain(ruleset.questions.iter().map(|q| q.id.as_str()));
        !words
            .chain(fixed)
            .chain(ids)
            .any(|t| self.any(t.as_bytes()))
    }
}

/// Writes `cells` as one CSV record into `out`: joined by the delimiter, by hand when no cell
/// needs quoting, else through `writer`.
///
/// The hand-joined path is kept because it pays (issue 12's with/without run, `batch --format
/// csv`, every record through `csv::Writer` against this): callgrind, one thread, 20k rows of
/// the benchmark file, 16,012 -> 13,947 instructions a row on ruleset 1.0.0's file (-12.9%),
/// 18,522 -> 16,341 on 2.0.0's (-11.8%); `bench/batch.sh`-style 1M rows on 2 CPUs, 5
/// interleaved runs, median wall 1.75 -> 1.40 s, CPU 3.12 -> 2.42 s. Writing into memory
/// cannot fail.
fn csv_write(
    out: &mut Vec<u8>,
    cells: &CsvCells,
    plain: bool,
    writer: &mut csv::Writer<Shared>,
    buffer: &Shared,
) {
    if plain {
        out.extend_from_slice(cells.joined());
        out.push(b'\n');
    } else {
        let _ = writer.write_record(cells.iter());
        drain(writer, buffer, out);
    }
}

/// The buffer a renderer's csv writer writes into.
#[derive(Debug, Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Moves what the csv writer wrote to `out`.
fn drain(writer: &mut csv::Writer<Shared>, buffer: &Shared, out: &mut Vec<u8>) {
    let _ = writer.flush();
    out.append(&mut buffer.0.borrow_mut());
}

/// `Verdict::missing_questions`, into a reused vector.
fn missing_questions(verdict: &Verdict, out: &mut Vec<Slot>) {
    out.clear();
    out.extend(
        verdict
            .missing
            .iter()
            .flat_map(|m| m.questions.iter().copied()),
    );
    out.sort_unstable();
    out.dedup();
}

fn status_color(status: Status) -> &'static str {
    match status {
        Status::Ineligible => "1;31",
        Status::Incomplete => "1;33",
        Status::Review => "1;35",
        Status::Eligible => "1;32",
    }
}

/// One table line; a cell given with a colour code is painted after it is padded.
fn table_line(
    line: &mut String,
    row: &str,
    id: &str,
    verdict: (&str, Option<&str>),
    urgent: (&str, Option<&str>),
    reasons: &str,
) {
    use std::fmt::Write as _;
    line.clear();
    let _ = write!(line, "{row:>6}  {id:<12}  ");
    for ((text, code), width) in [(verdict, 10), (urgent, 9)] {
        match code {
            Some(code) => {
                let _ = write!(line, "\x1b[{code}m{text:<width$}\x1b[0m  ");
            }
            None => {
                let _ = write!(line, "{text:<width$}  ");
            }
        }
    }
    line.push_str(reasons);
    line.truncate(line.trim_end().len());
    line.push('\n');
}

/// How many missing questions a table row names.
const NEEDS_SHOWN: usize = 5;

/// A table row: fired rules (exclusions and referrals first, then notes), the questions that
/// would decide an incomplete verdict, and how many input errors the row had.
fn table_row(
    ruleset: &Ruleset,
    row: &Row<'_>,
    color: bool,
    line: &mut String,
    missing: &mut Vec<Slot>,
) {
    let v = row.verdict;
    let mut details = String::new();
    for (i, r) in v.reasons.iter().enumerate() {
        if i > 0 {
            details.push_str(", ");
        }
        if r.severity == Severity::Note && (i == 0 || v.reasons[i - 1].severity != Severity::Note) {
            details.push_str("note: ");
        }
        details.push_str(&ruleset.rules[r.rule].id);
    }
    missing_questions(v, missing);
    if v.status == Status::Incomplete {
        if !details.is_empty() {
            details.push_str("; ");
        }
        details.push_str("needs ");
        for (i, &slot) in missing.iter().take(NEEDS_SHOWN).enumerate() {
            if i > 0 {
                details.push_str(", ");
            }
            details.push_str(&ruleset.questions[slot].id);
        }
        if missing.len() > NEEDS_SHOWN {
            details.push_str(&format!(" and {} more", missing.len() - NEEDS_SHOWN));
        }
    }
    if !v.ignored.is_empty() {
        if !details.is_empty() {
            details.push_str("; ");
        }
        details.push_str("ignored: ");
        for (i, ignored) in v.ignored.iter().enumerate() {
            if i > 0 {
                details.push_str(", ");
            }
            details.push_str(&ruleset.questions[ignored.question].id);
        }
    }
    if !row.errors.is_empty() {
        if !details.is_empty() {
            details.push_str("; ");
        }
        let n = row.errors.len();
        details.push_str(&format!("{n} input error{}", if n == 1 { "" } else { "s" }));
    }
    if v.urgent_undecided {
        // Said first, as loudly as URGENT: what to ask today to know.
        let ask = format!(
            "ask today: {}",
            crate::output::table::urgent_unknown_questions(ruleset, v).join(", ")
        );
        details = if details.is_empty() {
            ask
        } else {
            format!("{ask}; {details}")
        };
    }
    if details.is_empty() {
        details.push('-');
    }
    let id = crate::output::escape::text(row.id.unwrap_or("-"));
    let number = row.number.to_string();
    let status = v.status.as_str();
    let paint = |code: &'static str| color.then_some(code);
    table_line(
        line,
        &number,
        &id,
        (status, paint(status_color(v.status))),
        if v.urgent {
            ("URGENT", paint("1;41;97"))
        } else if v.urgent_undecided {
            ("NOT KNOWN", paint("1;41;97"))
        } else {
            ("", None)
        },
        &details,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::{parse_text, Answers};
    use crate::engine::evaluate;
    use crate::output::Record;
    use crate::ruleset::builtin;

    fn records(rs: &Ruleset) -> Vec<Record> {
        let patients: [&[(&str, &str)]; 4] = [
            &[("systolic_bp", "190"), ("current_psychosis", "yes")],
            &[("age_years", "70"), ("phq9_total", "5")],
            &[],
            &[("substance_use_disorder", "in_remission")],
        ];
        patients
            .iter()
            .enumerate()
            .map(|(i, values)| {
                let mut answers = Answers::new(rs);
                for (id, raw) in values.iter() {
                    let slot = rs.slot(id).expect("known");
                    answers.set(slot, parse_text(&rs.questions[slot], raw).expect("valid"));
                }
                Record {
                    profile: None,
                    id: [Some("P,1\"x".to_string()), None, Some("a\r\nb\"".into())][i % 3].clone(),
                    row: Some(i as u64 + 1),
                    verdict: evaluate(rs, &answers),
                    errors: vec![
                        InputError {
                            form: None,
                            question: "systolic_bp".into(),
                            value: "400".into(),
                            message: "column 'sbp': 400 is out of range".into(),
                        };
                        i % 3
                    ],
                }
            })
            .collect()
    }

    fn write_all(rs: &Ruleset, format: Format, records: &[Record]) -> String {
        write_styled(rs, format, CsvStyle::PLAIN, records)
    }

    fn write_styled(rs: &Ruleset, format: Format, style: CsvStyle, records: &[Record]) -> String {
        let mut renderer = Renderer::new(rs, format, false, style);
        let mut out = Vec::new();
        renderer.head(&mut out);
        for r in records {
            renderer.record(
                &mut out,
                &Row {
                    number: r.row.unwrap_or(0),
                    id: r.id.as_deref(),
                    verdict: &r.verdict,
                    errors: &r.errors,
                },
            );
        }
        renderer.tail(&mut out, records.len() as u64);
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn csv_rows_are_csv_writer_records_in_every_style() {
        let rs = builtin().expect("loads");
        let mut records = records(&rs);
        records[0].row = Some(1234567890);
        records[1].errors[0].message = "a, \"quoted\"\nmessage".into();
        // Records whose cells need no quoting with commas (the hand-joined path), beside the
        // ones above that do.
        for (i, id) in [Some("P-0001"), None, Some("=cmd|x"), Some("+1")]
            .iter()
            .enumerate()
        {
            let mut plain = records[i].clone();
            plain.id = id.map(str::to_string);
            plain.row = Some(10 + i as u64);
            for e in &mut plain.errors {
                e.message = "400 is out of range".into();
            }
            records.push(plain);
        }
        for style in [
            CsvStyle::PLAIN,
            CsvStyle::excel(b';'),
            CsvStyle::excel(b'\t'),
            CsvStyle::excel(b'e'),
        ] {
            let mut expected = csv::WriterBuilder::new()
                .delimiter(style.delimiter)
                .from_writer(Vec::new());
            expected
                .write_record(crate::output::csv::HEADER)
                .expect("header");
            for r in &records {
                expected
                    .write_record(crate::output::csv::fields(&rs, r))
                    .expect("row");
            }
            let mut expected = expected.into_inner().expect("flush");
            if style.bom {
                expected.splice(0..0, crate::output::csv::BOM.iter().copied());
            }
            let expected = String::from_utf8(expected).expect("UTF-8");
            assert_eq!(
                write_styled(&rs, Format::Csv, style, &records),
                expected,
                "{style:?}"
            );
        }
    }

    #[test]
    fn ruleset_cells_are_plain_unless_the_delimiter_is_in_them() {
        let rs = builtin().expect("loads");
        let plain = |d: u8| Special::new(d).none_in_ruleset_cells(&rs, "ketamine-default@2.0.0");
        assert!(plain(b','));
        assert!(plain(b'\t'));
        assert!(!plain(b';'), "lists are joined with ';'");
        assert!(!plain(b'e'), "a verdict word holds 'e'");
        assert!(!plain(b'@'), "the ruleset cell holds '@'");
    }

    proptest::proptest! {
        /// The hand-joined record is `csv::Writer`'s exactly when `Special` finds nothing to
        /// quote; otherwise `csv::Writer` writes something else (it quotes).
        #[test]
        fn hand_joined_records_are_csv_writer_records(
            cells in proptest::collection::vec("[a,;\"\t\r\n ']{0,4}", 1..5),
            delimiter in proptest::sample::select(vec![b',', b';', b'\t', b'a']),
        ) {
            let special = Special::new(delimiter);
            let mut built = CsvCells::new(delimiter);
            for cell in &cells {
                built.push(cell.as_bytes());
            }
            let mut by_hand = Vec::new();
            let buffer = Shared::default();
            let mut writer = csv::WriterBuilder::new()
                .delimiter(delimiter)
                .from_writer(buffer.clone());
            csv_write(&mut by_hand, &built, true, &mut writer, &buffer);
            let mut by_writer = Vec::new();
            csv_write(&mut by_writer, &built, false, &mut writer, &buffer);
            let quoted = cells.iter().any(|c| special.any(c.as_bytes()))
                // csv::Writer writes a record of one empty cell as `""`.
                || cells.len() == 1 && cells[0].is_empty();
            proptest::prop_assert_eq!(by_hand == by_writer, !quoted);
        }
    }

    #[test]
    fn json_array_and_ndjson_carry_the_same_records() {
        let rs = builtin().expect("loads");
        let records = records(&rs);
        let ndjson = write_all(&rs, Format::Ndjson, &records);
        let array = write_all(&rs, Format::Json, &records);
        let lines: Vec<serde_json::Value> = ndjson
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        let parsed: serde_json::Value = serde_json::from_str(&array).expect("a JSON array");
        assert_eq!(parsed, serde_json::Value::Array(lines.clone()));
        for (line, r) in lines.iter().zip(&records) {
            assert_eq!(line, &crate::output::json::to_value(&rs, r, None));
        }
        assert!(array.starts_with("[\n{\"schema\""));
        assert!(array.ends_with("}\n]\n"));
        assert_eq!(write_all(&rs, Format::Json, &[]), "[]\n");
        assert_eq!(write_all(&rs, Format::Ndjson, &[]), "");
    }

    // The batch's JSON (compact_json, with parts remembered from earlier rows) is byte for
    // byte what serde_json writes for the same record (`check`'s writer), whether a reason is
    // remembered, new, or its rule's earlier reason with another message.
    #[test]
    fn ndjson_records_are_serde_json_bytes() {
        let rs = builtin().expect("loads");
        let base = records(&rs);
        let mut changed = base[0].clone();
        changed.verdict.reasons[0].message = "a \"quoted\"\nmessage\u{1}".into();
        changed.id = Some("tab\there".into());
        let mut all: Vec<Record> = base.iter().chain(&base).cloned().collect();
        all.push(changed);
        all.extend(base.iter().rev().cloned());
        for (i, r) in all.iter_mut().enumerate() {
            r.row = Some(i as u64 + 1);
        }
        let profile = crate::output::ProfileId {
            id: "clinic \"A\"".into(),
            sha256: "ab".repeat(32),
        };
        for with_profile in [false, true] {
            let mut renderer = Renderer::new(&rs, Format::Ndjson, false, CsvStyle::PLAIN)
                .with_profile(with_profile.then_some(&profile));
            let (mut ours, mut expected) = (Vec::new(), Vec::new());
            for r in &all {
                renderer.record(
                    &mut ours,
                    &Row {
                        number: r.row.unwrap_or(0),
                        id: r.id.as_deref(),
                        verdict: &r.verdict,
                        errors: &r.errors,
                    },
                );
                let r = Record {
                    profile: with_profile.then(|| profile.clone()),
                    ..r.clone()
                };
                json::write(&mut expected, &rs, &r, false).expect("into memory");
            }
            assert_eq!(
                String::from_utf8(ours).expect("UTF-8"),
                String::from_utf8(expected).expect("UTF-8")
            );
        }
    }

    #[test]
    fn table_shows_verdicts_reasons_and_what_is_missing() {
        let rs = builtin().expect("loads");
        let table = write_all(&rs, Format::Table, &records(&rs)[..2]);
        let expected = concat!(
            "   row  id            verdict     urgent     reasons\n",
            "     1  P,1\"x         ineligible  URGENT     severe_hypertension, current_psychosis\n",
            "     2  -             incomplete  NOT KNOWN  ask today: current_psychosis, current_mania, ",
            "suicidal_intent_or_plan, recent_suicidal_behavior; note: older_adult, below_moderate_severity; ",
            "needs primary_diagnosis, failed_antidepressant_trials, consent_capacity, systolic_bp, ",
            "diastolic_bp and 28 more; 1 input error\n",
        );
        assert_eq!(table, expected);
    }
}
