//! A quick pass over a CSV file that finds each record's boundaries and one column's value —
//! all the duplicate-id pre-scan needs — at memchr speed. It agrees exactly with the csv
//! crate's reader as batch configures it (quotes `"` doubled inside quoted fields, no escape
//! character, no comments, `\r`, `\n` or `\r\n` ending a record, blank lines skipped, a UTF-8
//! BOM stripped): a record without a quote in it is split with memchr; one with a quote is
//! walked byte by byte through the same state machine as csv-core's. Rows are numbered as
//! batch numbers them (the header is not a row). It decides nothing and keeps no rows.

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

/// Finds column `column` of every record after the header in `input` and calls
/// `each(row, value)` (the value unquoted, as the csv reader would give it; a record without
/// that column is passed over). Returns the number of rows.
pub fn column<R: Read>(
    input: R,
    delimiter: u8,
    column: usize,
    each: impl FnMut(u64, &[u8]),
) -> io::Result<u64> {
    column_with_buffer(input, delimiter, column, 1 << 20, each)
}

fn column_with_buffer<R: Read>(
    mut input: R,
    delimiter: u8,
    column: usize,
    capacity: usize,
    mut each: impl FnMut(u64, &[u8]),
) -> io::Result<u64> {
    let mut buf: Vec<u8> = vec![0; capacity.max(1)];
    let mut len = 0; // bytes of buf filled
    let mut start = 0; // first byte not yet consumed
    let mut eof = false;
    let mut bom_checked = false;
    let mut records = 0u64; // including the header
    let mut value: Vec<u8> = Vec::new();
    loop {
        if !bom_checked && (len >= 3 || eof) {
            if buf[..len].starts_with(b"\xef\xbb\xbf") {
                start = 3;
            }
            bom_checked = true;
        }
        if bom_checked {
            // Skip blank lines between records.
            while start < len && is_term(buf[start]) {
                start += 1;
            }
            let walked = if start < len {
                walk(
                    &buf[start..len],
                    eof,
                    delimiter,
                    column,
                    &mut value,
                    records > 0,
                )
            } else {
                Walk::Open
            };
            match walked {
                Walk::Ended(used) => {
                    if !value.is_empty() {
                        each(records, &value);
                    }
                    records += 1;
                    start += used;
                    continue;
                }
                Walk::Open if eof => return Ok(records.saturating_sub(1)),
                Walk::Open => {}
            }
        }
        // Keep the unfinished record and read more, growing the buffer if it is full.
        buf.copy_within(start..len, 0);
        len -= start;
        start = 0;
        if len == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = read_some(&mut input, &mut buf[len..])?;
        len += n;
        eof = n == 0;
    }
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
/// column's unquoted bytes — or stays empty when the record has no such column or it is
/// empty (both mean "no id" to the caller). `want` is false for the header.
fn walk(
    bytes: &[u8],
    eof: bool,
    delimiter: u8,
    column: usize,
    value: &mut Vec<u8>,
    want: bool,
) -> Walk {
    value.clear();
    // Fast path: no quote before the end of the line.
    let line_end = memchr::memchr2(b'\n', b'\r', bytes);
    let line = &bytes[..line_end.unwrap_or(bytes.len())];
    if memchr::memchr(QUOTE, line).is_none() {
        if line_end.is_none() && !eof {
            return Walk::Open;
        }
        if want {
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
        if copy && want && field == column {
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
        let rows = column_with_buffer(data, delimiter, column, capacity, |row, v| {
            out.push((row, v.to_vec()))
        })
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
}
