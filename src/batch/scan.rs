//! A quick pass over CSV input that finds each record's boundaries and, if asked, one column's
//! value — at memchr speed. It agrees exactly with the csv crate's reader as batch configures
//! it (quotes `"` doubled inside quoted fields, no escape character, no comments, `\r`, `\n`
//! or `\r\n` ending a record, blank lines skipped, a UTF-8 BOM stripped): a record without a
//! quote in it is split with memchr; one with a quote is walked byte by byte through the same
//! state machine as csv-core's. Batch uses it to read the id column ahead (the duplicate-id
//! pre-scan) and to cut the input into runs of whole records that screeners parse on their
//! own threads. It decides nothing and keeps no rows.

use std::io::{self, Read};

const QUOTE: u8 = b'"';

fn is_term(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// The reader states that matter between two bytes (csv-core's NFA, minus comments/escapes).
#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    StartField,
    InField,
    InQuoted,
    /// A quote inside a quoted field: the field's end, or the first half of `""`.
    QuoteInQuoted,
}

/// Where a record ended, if it did within the bytes given.
enum Walk {
    /// The index just past the record's terminator (or the end of the input at EOF).
    Ended(usize),
    /// The record runs past the end of the bytes given.
    Open,
}

/// One record as the splitter found it.
#[derive(Debug)]
pub struct Split<'a> {
    /// The record's bytes, from the end of the one before (so blank lines before it, and for
    /// the first record a UTF-8 BOM, are included) through its terminator: the splits of an
    /// input, end to end, are the whole input.
    pub bytes: &'a [u8],
    /// The asked-for column's value, unquoted as the csv reader would give it; empty when the
    /// record has no such column (or no column was asked for).
    pub value: &'a [u8],
}

/// Cuts CSV input into records.
pub struct Splitter<R> {
    input: R,
    delimiter: u8,
    column: Option<usize>,
    buf: Vec<u8>,
    /// `buf[..len]` holds bytes read; `buf[start..len]` the ones not yet handed out.
    len: usize,
    start: usize,
    eof: bool,
    /// Whether the start of the input has been checked for a BOM.
    bom_checked: bool,
    /// Bytes handed out so far.
    offset: u64,
    value: Vec<u8>,
}

const BOM: &[u8] = b"\xef\xbb\xbf";

impl<R: Read> Splitter<R> {
    pub fn new(input: R, delimiter: u8, column: Option<usize>) -> Self {
        Self::with_capacity(input, delimiter, column, 1 << 20)
    }

    fn with_capacity(input: R, delimiter: u8, column: Option<usize>, capacity: usize) -> Self {
        Splitter {
            input,
            delimiter,
            column,
            buf: vec![0; capacity.max(1)],
            len: 0,
            start: 0,
            eof: false,
            bom_checked: false,
            offset: 0,
            value: Vec::new(),
        }
    }

    /// Which column's value to find from now on.
    pub fn set_column(&mut self, column: Option<usize>) {
        self.column = column;
    }

    /// Bytes of input handed out so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next record, or `None` at the end of the input (trailing blank lines are dropped).
    pub fn next_record(&mut self) -> io::Result<Option<Split<'_>>> {
        loop {
            if !self.bom_checked && (self.len >= 3 || self.eof) {
                self.bom_checked = true;
            }
            if self.bom_checked {
                let mut pos = self.start;
                if self.offset == 0 && self.buf[pos..self.len].starts_with(BOM) {
                    pos += 3;
                }
                // Blank lines before a record.
                while pos < self.len && is_term(self.buf[pos]) {
                    pos += 1;
                }
                let walked = if pos < self.len {
                    walk(
                        &self.buf[pos..self.len],
                        self.eof,
                        self.delimiter,
                        self.column,
                        &mut self.value,
                    )
                } else {
                    Walk::Open
                };
                match walked {
                    Walk::Ended(used) => {
                        let (from, to) = (self.start, pos + used);
                        self.start = to;
                        self.offset += (to - from) as u64;
                        return Ok(Some(Split {
                            bytes: &self.buf[from..to],
                            value: &self.value,
                        }));
                    }
                    Walk::Open if self.eof => {
                        self.offset += (self.len - self.start) as u64;
                        self.start = self.len;
                        return Ok(None);
                    }
                    Walk::Open => {}
                }
            }
            // Keep the unfinished record and read more, growing the buffer if it is full.
            self.buf.copy_within(self.start..self.len, 0);
            self.len -= self.start;
            self.start = 0;
            if self.len == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
            let n = read_some(&mut self.input, &mut self.buf[self.len..])?;
            self.len += n;
            self.eof = n == 0;
        }
    }
}

/// Finds column `column` of every record after the header in `input` and calls
/// `each(row, value)` (the value unquoted, as the csv reader would give it; a record without
/// that column, or with it empty, is passed over). Returns the number of rows.
pub fn column<R: Read>(
    input: R,
    delimiter: u8,
    column: usize,
    each: impl FnMut(u64, &[u8]),
) -> io::Result<u64> {
    column_with_splitter(Splitter::new(input, delimiter, Some(column)), each)
}

fn column_with_splitter<R: Read>(
    mut split: Splitter<R>,
    mut each: impl FnMut(u64, &[u8]),
) -> io::Result<u64> {
    if split.next_record()?.is_none() {
        return Ok(0); // not even a header
    }
    let mut row = 0;
    while let Some(record) = split.next_record()? {
        row += 1;
        if !record.value.is_empty() {
            each(row, record.value);
        }
    }
    Ok(row)
}

/// How many line feeds `bytes` holds.
pub fn newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// The line (1 + the line feeds before it) of the first byte of the record a csv reader over
/// `run` reported at `position`, given the line `run` starts on and how many line feeds were
/// put before the run's real bytes (`append_to_run`'s guard).
pub fn record_line(
    run: &[u8],
    first_line: u64,
    guard: u64,
    position: Option<&csv::Position>,
) -> u64 {
    // The reader reports where it started reading: just after the previous record, before
    // any blank lines (and, at the start of a file, a BOM) it skipped.
    let mut at = position.map_or(0, |p| p.byte()) as usize;
    if at == 0 && run.starts_with(BOM) {
        at = 3;
    }
    while run.get(at).is_some_and(|&b| is_term(b)) {
        at += 1;
    }
    first_line + newlines(&run[..at.min(run.len())]) - guard
}

/// Appends a record's split bytes to a run of whole records that a csv reader of its own will
/// parse. A fresh csv reader strips a UTF-8 BOM at the start of its input — right at the start
/// of a file, wrong anywhere else — so a run that would start with those bytes starts with a
/// blank line instead, which the reader skips. Returns whether it did (the run's line numbers
/// then count one line too many).
pub fn append_to_run(run: &mut Vec<u8>, bytes: &[u8]) -> bool {
    let guard = run.is_empty() && bytes.starts_with(BOM);
    if guard {
        run.push(b'\n');
    }
    run.extend_from_slice(bytes);
    guard
}

fn read_some<R: Read>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match input.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Walks one record starting at `bytes[0]` (not a terminator). On `Ended`, `value` holds the
/// column's unquoted bytes — or stays empty when the record has no such column, it is empty,
/// or no column is asked for.
fn walk(
    bytes: &[u8],
    eof: bool,
    delimiter: u8,
    column: Option<usize>,
    value: &mut Vec<u8>,
) -> Walk {
    value.clear();
    // Fast path: no quote before the end of the line.
    let line_end = memchr::memchr2(b'\n', b'\r', bytes);
    let line = &bytes[..line_end.unwrap_or(bytes.len())];
    if memchr::memchr(QUOTE, line).is_none() {
        if line_end.is_none() && !eof {
            return Walk::Open;
        }
        if let Some(column) = column {
            if let Some(field) = line.split(|&b| b == delimiter).nth(column) {
                value.extend_from_slice(field);
            }
        }
        return Walk::Ended(line_end.map_or(bytes.len(), |e| e + 1));
    }
    // Slow path: csv-core's state machine, byte by byte.
    let mut state = State::StartField;
    let mut field = 0usize;
    for (i, &c) in bytes.iter().enumerate() {
        let copy = match state {
            State::StartField => {
                if c == QUOTE {
                    state = State::InQuoted;
                    false
                } else if c == delimiter {
                    field += 1;
                    false
                } else if is_term(c) {
                    return Walk::Ended(i + 1);
                } else {
                    state = State::InField;
                    true
                }
            }
            State::InField => {
                if c == delimiter {
                    field += 1;
                    state = State::StartField;
                    false
                } else if is_term(c) {
                    return Walk::Ended(i + 1);
                } else {
                    true
                }
            }
            State::InQuoted => {
                if c == QUOTE {
                    state = State::QuoteInQuoted;
                    false
                } else {
                    true
                }
            }
            State::QuoteInQuoted => {
                if c == QUOTE {
                    state = State::InQuoted;
                    true
                } else if c == delimiter {
                    field += 1;
                    state = State::StartField;
                    false
                } else if is_term(c) {
                    return Walk::Ended(i + 1);
                } else {
                    state = State::InField;
                    true
                }
            }
        };
        if copy && Some(field) == column {
            value.push(c);
        }
    }
    if eof {
        Walk::Ended(bytes.len())
    } else {
        value.clear();
        Walk::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the csv crate reads: (row, column value) for rows that have the column non-empty.
    fn by_csv(data: &[u8], delimiter: u8, column: usize) -> (Vec<(u64, Vec<u8>)>, u64) {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_reader(data);
        let mut out = Vec::new();
        let mut record = csv::ByteRecord::new();
        let mut row = 0;
        let _ = reader.byte_headers().expect("in-memory read");
        while reader
            .read_byte_record(&mut record)
            .expect("in-memory read")
        {
            row += 1;
            if let Some(v) = record.get(column).filter(|v| !v.is_empty()) {
                out.push((row, v.to_vec()));
            }
        }
        (out, row)
    }

    fn by_scan(
        data: &[u8],
        delimiter: u8,
        column: usize,
        capacity: usize,
    ) -> (Vec<(u64, Vec<u8>)>, u64) {
        let mut out = Vec::new();
        let split = Splitter::with_capacity(data, delimiter, Some(column), capacity);
        let rows = column_with_splitter(split, |row, v| out.push((row, v.to_vec())))
            .expect("in-memory read");
        (out, rows)
    }

    #[test]
    fn agrees_with_the_csv_reader_on_tricky_files() {
        let files: [&[u8]; 8] = [
            b"id,x\nA,1\nB,2\n",
            b"\xef\xbb\xbfid,x\r\nA,1\r\n\r\n\r\nB,2",
            b"x,id\n1,\"A,\"\"q\"\"\nz\"\n2,B\n3\n,\n4,\"\"\n",
            b"id\n\"A\"B,1\nab\"c\n\"unterminated\nstill,in",
            b"\n\nid;x\rA;1\r\rB;2\n",
            b"",
            b"id",
            b"id,x\n\"a\"\"\",1\n  b  ,2\n",
        ];
        for data in files {
            for (delimiter, column) in [(b',', 0), (b',', 1), (b';', 0), (b';', 1)] {
                let expected = by_csv(data, delimiter, column);
                for capacity in [1, 2, 3, 5, 64, 1 << 20] {
                    assert_eq!(
                        by_scan(data, delimiter, column, capacity),
                        expected,
                        "{:?} delimiter {} column {column} capacity {capacity}",
                        String::from_utf8_lossy(data),
                        delimiter as char
                    );
                }
            }
        }
    }

    #[test]
    fn agrees_with_the_csv_reader_on_random_bytes() {
        let alphabet = [b'a', b'b', b',', b';', b'"', b'\r', b'\n', b' '];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 24) as usize;
            let mut s = seed;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                    alphabet[(s >> 60) as usize % alphabet.len()]
                })
                .collect();
            let column = (seed >> 40) as usize % 3;
            let expected = by_csv(&data, b',', column);
            for capacity in [1, 4, 1 << 10] {
                assert_eq!(
                    by_scan(&data, b',', column, capacity),
                    expected,
                    "{:?} column {column} capacity {capacity}",
                    String::from_utf8_lossy(&data)
                );
            }
        }
    }

    /// Cutting the records after the header into runs and parsing each run with a csv reader
    /// of its own gives exactly the records of one reader over the whole input, and
    /// `record_line` (from the run's first line) gives each record's line in the whole input.
    #[test]
    fn runs_of_split_records_parse_like_the_whole_input() {
        let alphabet = [b'a', b',', b'"', b'\r', b'\n', b' ', 0xEF, 0xBB, 0xBF];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for case in 0..5_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut s = seed;
            let mut data: Vec<u8> = (0..(seed % 40) as usize)
                .map(|_| {
                    s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
                    alphabet[(s >> 60) as usize % alphabet.len()]
                })
                .collect();
            if case % 3 == 0 {
                data.splice(0..0, BOM.iter().copied()); // a real BOM, at the very start
            }
            let whole: Vec<(csv::ByteRecord, u64)> = {
                let mut reader = csv::ReaderBuilder::new()
                    .flexible(true)
                    .has_headers(false)
                    .from_reader(&data[..]);
                let mut out = vec![];
                let mut record = csv::ByteRecord::new();
                while reader.read_byte_record(&mut record).expect("in memory") {
                    let line = record_line(&data, 1, 0, record.position());
                    out.push((record.clone(), line));
                }
                out
            };
            let mut split = Splitter::with_capacity(&data[..], b',', None, 4);
            let mut got = vec![];
            let mut line = 1u64;
            // The header: parsed from the start of the input, as batch does.
            if let Some(header) = split.next_record().expect("in memory") {
                let mut reader = csv::ReaderBuilder::new()
                    .flexible(true)
                    .has_headers(false)
                    .from_reader(header.bytes);
                let mut record = csv::ByteRecord::new();
                assert!(reader.read_byte_record(&mut record).expect("in memory"));
                got.push((
                    record.clone(),
                    record_line(header.bytes, 1, 0, record.position()),
                ));
                line += newlines(header.bytes);
            }
            let mut run = Vec::new();
            let mut first_line = line;
            let mut guard = false;
            let mut flush = |run: &mut Vec<u8>, first_line: u64, guard: bool| {
                let mut reader = csv::ReaderBuilder::new()
                    .flexible(true)
                    .has_headers(false)
                    .from_reader(&run[..]);
                let mut record = csv::ByteRecord::new();
                while reader.read_byte_record(&mut record).expect("in memory") {
                    let line = record_line(run, first_line, u64::from(guard), record.position());
                    got.push((record.clone(), line));
                }
                run.clear();
            };
            let mut n = 0;
            while let Some(record) = split.next_record().expect("in memory") {
                if run.is_empty() {
                    first_line = line;
                    guard = append_to_run(&mut run, record.bytes);
                } else {
                    append_to_run(&mut run, record.bytes);
                }
                line += newlines(record.bytes);
                n += 1;
                if n % ((seed >> 50) as usize % 3 + 1) == 0 {
                    flush(&mut run, first_line, guard);
                }
            }
            flush(&mut run, first_line, guard);
            assert_eq!(got, whole, "{:?}", String::from_utf8_lossy(&data));
        }
    }
}
