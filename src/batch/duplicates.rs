//! Duplicate patient ids across the rows of one batch. A repeated id is reported in the errors
//! of the rows that carry it — never dropped, never merged: every row is still screened.
//!
//! A streamed record cannot be amended once written, so *both* rows can only be marked if the
//! repeats are known before the first of them is written. For a regular file they are: a
//! pre-scan reads the id column of every row (`prescan`), hashes each id to 64 bits and sorts
//! the hashes; only if some hash repeats does a second pass collect the rows of those ids. The
//! sorted hashes (8 bytes per row with an id, the only part of a batch that grows with the row
//! count) are freed before screening starts; what is kept is the rows of the repeated ids.
//! Stdin cannot be read twice, so there (`online`) the later row names the earlier one and the
//! earlier record stays unmarked; the caller says so on stderr. The online check remembers up
//! to `ONLINE_IDS` distinct ids, so its memory is bounded too. Ids are compared, after trimming
//! surrounding spaces, by their 64-bit hash: ids of up to 8 bytes and one length never share
//! one, and for a million longer distinct ids the chance that two do (and are reported as
//! duplicates) is about 3 in 100 million.
//!
//! The pre-scan must see exactly the rows the batch's reader (`reader::RowReader`) will give
//! — a row it missed could hide a duplicate. It runs before screening starts, so its time is
//! all wall time, and most rows are plain lines: those are split at memchr speed (`Lines`: at
//! a record's start, a line in which no `"` comes before the line break is that record, its
//! cells between the delimiters). That is a split valid only for quote-free text, checked by
//! the memchr that finds the line's end — not a second CSV state machine: a line with a quote
//! is read by the csv crate, and from a quote that runs on past its line the `RowReader`
//! itself reads the rest. A property test holds the two to the same rows on generated text.

use std::collections::HashMap;
use std::io::{self, Read};

use super::reader::{all_empty, LineRecords, RowReader, MAX_CELL_RUN};

/// The hash an id is known by, over its trimmed bytes: each 8-byte word is mixed in with
/// MurmurHash3's finalizer (a bijection of 64-bit words, so ids of up to 8 bytes and one
/// length never share a hash). The pre-scan hashes every row's id: this costs about 40
/// instructions an id where std's SipHash cost 215, of a pre-scan of 756 per row (callgrind,
/// the benchmark file's 20,000-row slice).
pub fn id_hash(id: &[u8]) -> u64 {
    let mut rest = id.trim_ascii();
    let mut h = 0x243F_6A88_85A3_08D3u64 ^ (rest.len() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    while let Some((word, tail)) = rest.split_first_chunk::<8>() {
        h = mix(h ^ u64::from_le_bytes(*word));
        rest = tail;
    }
    if !rest.is_empty() {
        let last = rest
            .iter()
            .rev()
            .fold(0u64, |word, &b| (word << 8) | u64::from(b));
        h = mix(h ^ last);
    }
    h
}

/// MurmurHash3's 64-bit finalizer.
fn mix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// How many other rows a message names before it says "and N more".
const NAMED: usize = 5;

/// What is known about repeated ids.
#[derive(Debug)]
pub struct Duplicates(Mode);

#[derive(Debug)]
enum Mode {
    /// No id column, nothing to check.
    Off,
    /// From a pre-scan: every row of each repeated id, in row order.
    Known(HashMap<u64, Vec<u64>>),
    /// Learnt while streaming: the first row each id was seen on, and how many later rows
    /// repeated one.
    Online { first: FirstRows, repeats: u64 },
}

/// Distinct ids the online check remembers (about 10 MB at most), so memory stays bounded on
/// endless stdin; ids beyond the limit are still checked against the ones remembered, and the
/// caller says that the check was partial.
pub const ONLINE_IDS: usize = 1 << 19;

/// Id hashes with the row each was first seen on.
#[derive(Debug, Default)]
pub struct FirstRows {
    rows: HashMap<u64, u64>,
    /// Ids not remembered because the table was full.
    dropped: u64,
}

impl FirstRows {
    /// The row `hash` was first seen on, remembering it as seen on `row` if it is new.
    fn first_row(&mut self, hash: u64, row: u64) -> u64 {
        if let Some(&first) = self.rows.get(&hash) {
            return first;
        }
        if self.rows.len() < ONLINE_IDS {
            self.rows.insert(hash, row);
        } else {
            self.dropped += 1;
        }
        row
    }
}

impl Duplicates {
    /// Checks nothing (there is no id column).
    pub fn off() -> Self {
        Duplicates(Mode::Off)
    }

    /// Learns ids as the rows go by (for input that cannot be read twice).
    pub fn online() -> Self {
        Duplicates(Mode::Online {
            first: FirstRows::default(),
            repeats: 0,
        })
    }

    /// Reads column `id_column` of every row of a CSV file, as the batch reads it (see
    /// `each_id`), and keeps the rows of the ids that occur more than once. `open` opens the
    /// file from its start (it is called a second time only when some id repeats). Returns
    /// them with the number of rows that are patients.
    pub fn prescan<R: Read>(
        open: impl Fn() -> io::Result<R>,
        delimiter: u8,
        id_column: usize,
        patients: Patients<'_>,
    ) -> io::Result<(Self, u64)> {
        let mut hashes: Vec<u64> = Vec::new();
        let rows = each_id(open()?, delimiter, id_column, patients, |_, id| {
            if !id.trim_ascii().is_empty() {
                hashes.push(id_hash(id));
            }
        })?;
        hashes.sort_unstable();
        let mut groups: HashMap<u64, Vec<u64>> = hashes
            .chunk_by(|a, b| a == b)
            .filter(|run| run.len() > 1)
            .map(|run| (run[0], Vec::new()))
            .collect();
        drop(hashes);
        if !groups.is_empty() {
            each_id(open()?, delimiter, id_column, patients, |row, id| {
                if let Some(rows) = groups.get_mut(&id_hash(id)) {
                    rows.push(row);
                }
            })?;
        }
        Ok((Duplicates(Mode::Known(groups)), rows))
    }

    /// The repeated ids among (hash, row) pairs.
    #[cfg(test)]
    fn from_ids(mut ids: Vec<(u64, u64)>) -> Self {
        ids.sort_unstable();
        let mut groups = HashMap::new();
        for run in ids.chunk_by(|a, b| a.0 == b.0) {
            if run.len() > 1 {
                groups.insert(run[0].0, run.iter().map(|&(_, row)| row).collect());
            }
        }
        Duplicates(Mode::Known(groups))
    }

    /// Checks row `row`'s id (raw bytes, untrimmed; blank ids are never duplicates). Returns
    /// the message for the row's errors when the id is on another row.
    pub fn check(&mut self, row: u64, id: &[u8]) -> Option<String> {
        if id.trim_ascii().is_empty() {
            return None;
        }
        match &mut self.0 {
            Mode::Off => None,
            Mode::Known(groups) => {
                if groups.is_empty() {
                    return None;
                }
                let rows = groups.get(&id_hash(id))?;
                let others: Vec<u64> = rows.iter().copied().filter(|&r| r != row).collect();
                Some(also_on(&others))
            }
            Mode::Online { first, repeats } => {
                let earlier = first.first_row(id_hash(id), row);
                (earlier != row).then(|| {
                    *repeats += 1;
                    also_on(&[earlier])
                })
            }
        }
    }

    /// For `Online`: how many rows repeated an earlier row's id (whose records are unmarked).
    pub fn unmarked_earlier(&self) -> u64 {
        match &self.0 {
            Mode::Online { repeats, .. } => *repeats,
            _ => 0,
        }
    }

    /// For `Online`: how many distinct ids came after the table was full (and were checked
    /// against the remembered ones only).
    pub fn not_remembered(&self) -> u64 {
        match &self.0 {
            Mode::Online { first, .. } => first.dropped,
            _ => 0,
        }
    }
}

/// Which rows are patients, for the pre-scan: a profile's `input.rows` column and the test of
/// its cell (`None`: every row).
pub type Patients<'a> = Option<(usize, &'a dyn Fn(&[u8]) -> bool)>;

/// Calls `f` with the number and the id cell of every patient's row (after the header) of a
/// CSV document, exactly as the batch's `RowReader` reads them; returns how many there were.
/// Rows that `patients` leaves out keep their numbers but are not counted.
///
/// Rows are found at memchr speed where they are plain lines (`Lines`), and read with the
/// `RowReader` from the first record that might not be one. Measured on the benchmark file
/// (bench/batch.sh, ruleset 1.0.0, 20,000 rows, callgrind): the pre-scan costs XXX
/// instructions per row this way, against 4,922 with the `RowReader` throughout; it runs
/// before screening starts, so on 2 CPUs its whole time is wall time.
fn each_id<R: Read>(
    input: R,
    delimiter: u8,
    id_column: usize,
    patients: Patients<'_>,
    f: impl FnMut(u64, &[u8]),
) -> io::Result<u64> {
    let mut tally = Tally {
        rows: 0,
        kept: 0,
        id_column,
        patients,
        f,
    };
    let mut lines = Lines::new(input, delimiter);
    let width = match lines.next()? {
        Line::End => return Ok(0),
        Line::Plain(header) => Some(memchr::memchr_iter(delimiter, header).count() + 1),
        Line::Quoted(header) => Some(header.len()),
        Line::Stop => None,
    };
    if width.is_some() {
        loop {
            match lines.next()? {
                Line::Plain(line) => tally.line(line, delimiter),
                Line::Quoted(record) if all_empty(record) => {}
                Line::Quoted(record) => tally.record(record),
                Line::End => return Ok(tally.kept),
                Line::Stop => break,
            }
        }
    }
    // The rest, from where the last row read ended, as the batch reads it.
    let (read, input) = lines.into_rest();
    let mut record = csv::ByteRecord::new();
    let mut reader = RowReader::resume(&read, input, delimiter, width);
    if width.is_none() {
        reader.read_header(&mut record)?;
    }
    while reader.read_row(&mut record)?.is_some() {
        tally.record(&record);
    }
    Ok(tally.kept)
}

/// Rows counted by the pre-scan, and what is done with each patient's id.
struct Tally<'p, F> {
    /// Rows so far (their numbers), and how many of them are patients.
    rows: u64,
    kept: u64,
    id_column: usize,
    patients: Patients<'p>,
    f: F,
}

impl<F: FnMut(u64, &[u8])> Tally<'_, F> {
    /// A row that is a plain line: its cells are what lies between the delimiters.
    fn line(&mut self, line: &[u8], delimiter: u8) {
        let id = cell(line, delimiter, self.id_column);
        if id.trim_ascii().is_empty()
            && line
                .iter()
                .all(|&b| b == delimiter || b.is_ascii_whitespace())
        {
            return; // every cell empty: not a patient (as `all_empty`)
        }
        self.rows += 1;
        if self
            .patients
            .is_none_or(|(column, is)| is(cell(line, delimiter, column)))
        {
            self.kept += 1;
            (self.f)(self.rows, id);
        }
    }

    /// A row read as a record (by `RowReader`, which has skipped the empty ones, or from a
    /// line with quotes, which the caller has).
    fn record(&mut self, record: &csv::ByteRecord) {
        self.rows += 1;
        if self
            .patients
            .is_none_or(|(column, is)| is(record.get(column).unwrap_or_default()))
        {
            self.kept += 1;
            (self.f)(self.rows, record.get(self.id_column).unwrap_or_default());
        }
    }
}

/// Cell `index` of a line with no quote in it (empty if it has fewer cells).
fn cell(line: &[u8], delimiter: u8, index: usize) -> &[u8] {
    let mut start = 0;
    for _ in 0..index {
        match memchr::memchr(delimiter, &line[start..]) {
            Some(at) => start += at + 1,
            None => return &[],
        }
    }
    let rest = &line[start..];
    &rest[..memchr::memchr(delimiter, rest).unwrap_or(rest.len())]
}

/// How much is read at a time.
const CHUNK: usize = 256 << 10;

/// Records of a CSV text found without a CSV parser, as long as each is provably one line.
/// At a record's start the csv crate skips `\r` and `\n` bytes (blank lines), then reads to
/// the first line break outside quotes. So a record in which no `"` comes before the first
/// `\r` or `\n` (one memchr finds which comes first) is exactly that line, its cells split
/// at the delimiter: a split valid only for quote-free text, not a second CSV state machine.
/// A line with a quote is read by the csv crate itself (`reader::LineRecords`); if its
/// quote is still open at the line's end, the record may run on into the lines after it, and
/// `Line::Stop` hands over to the `RowReader`, which judges such records (`into_rest`).
struct Lines<R> {
    input: R,
    /// `buf[..end]` holds the bytes read and not yet dropped.
    buf: Vec<u8>,
    end: usize,
    /// Where the next record may start (blank-line bytes are skipped from here).
    pos: usize,
    /// Where the last record ended, in the csv crate's terms (past the first byte of its line
    /// break): a `RowReader` taking over reads from here.
    from: usize,
    eof: bool,
    /// Whether anything has been read.
    started: bool,
    /// Lines with quotes are read by the csv crate, into `record`.
    quoted: LineRecords,
    record: csv::ByteRecord,
}

enum Line<'a> {
    /// A record that is a line with no quote in it (without its line break).
    Plain(&'a [u8]),
    /// A record that is one line with quotes in it, read by the csv crate.
    Quoted(&'a csv::ByteRecord),
    /// No more records.
    End,
    /// The next record may not be one line: the `RowReader` must read on from here.
    Stop,
}

impl<R: Read> Lines<R> {
    fn new(input: R, delimiter: u8) -> Self {
        Lines {
            input,
            buf: vec![0; CHUNK],
            end: 0,
            pos: 0,
            from: 0,
            eof: false,
            started: false,
            quoted: LineRecords::new(delimiter),
            record: csv::ByteRecord::new(),
        }
    }

    fn next(&mut self) -> io::Result<Line<'_>> {
        const ALLOWANCE: usize = MAX_CELL_RUN as usize;
        loop {
            while self.pos < self.end && matches!(self.buf[self.pos], b'\n' | b'\r') {
                self.pos += 1;
            }
            // The `RowReader` allows a record `MAX_CELL_RUN` bytes from the end of the one
            // before, and as much again each time the bytes so far hold no quote: dropping
            // whole allowances of blank lines changes none of its decisions, and keeps a
            // file of blank lines from filling memory.
            let blank = self.pos - self.from;
            self.from += blank - blank % ALLOWANCE;
            let start = self.pos;
            let rest = &self.buf[start..self.end];
            let len = match memchr::memchr3(b'\n', b'\r', b'"', rest) {
                Some(at) if rest[at] != b'"' => {
                    self.pos = start + at + 1;
                    self.from = self.pos;
                    return Ok(Line::Plain(&self.buf[start..start + at]));
                }
                None if self.eof => {
                    if rest.is_empty() {
                        return Ok(Line::End);
                    }
                    self.pos = self.end;
                    self.from = self.end;
                    return Ok(Line::Plain(&self.buf[start..self.end]));
                }
                None => {
                    self.refill()?;
                    continue;
                }
                Some(quote) => match memchr::memchr2(b'\n', b'\r', &rest[quote..]) {
                    Some(at) => quote + at,
                    None if self.eof => rest.len(),
                    None if self.end - self.from > ALLOWANCE => return Ok(Line::Stop),
                    None => {
                        self.refill()?;
                        continue;
                    }
                },
            };
            // The record must end within its allowance, or the `RowReader` may cut it short.
            let fits = start + len + 1 - self.from <= ALLOWANCE;
            let line = &self.buf[start..start + len];
            if !(fits && self.quoted.read(line, &mut self.record)) {
                return Ok(Line::Stop);
            }
            self.pos = (start + len + 1).min(self.end);
            self.from = self.pos;
            return Ok(Line::Quoted(&self.record));
        }
    }

    /// Reads more, keeping what is needed from `from` on.
    fn refill(&mut self) -> io::Result<()> {
        self.buf.copy_within(self.from..self.end, 0);
        self.end -= self.from;
        self.pos -= self.from;
        self.from = 0;
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let first = !self.started;
        self.started = true;
        loop {
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    self.end += n;
                    // The csv crate skips a byte-order mark at the start of its first read.
                    if first && self.buf[..self.end].starts_with(b"\xEF\xBB\xBF") {
                        self.pos = 3;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            return Ok(());
        }
    }

    /// The input from where the last record ended: the bytes read past it, and the rest.
    fn into_rest(mut self) -> (Vec<u8>, R) {
        self.buf.truncate(self.end);
        self.buf.drain(..self.from);
        (self.buf, self.input)
    }
}

fn also_on(others: &[u64]) -> String {
    let named: Vec<String> = others.iter().take(NAMED).map(u64::to_string).collect();
    let more = others.len().saturating_sub(NAMED);
    let rows = match (named.len(), more) {
        (1, _) => format!("row {}", named[0]),
        (_, 0) => format!("rows {}", named.join(", ")),
        _ => format!("rows {} and {more} more", named.join(", ")),
    };
    format!("duplicate id: also on {rows}; each row is screened on its own answers")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_duplicates_name_every_other_row() {
        let ids = [b"P1".as_slice(), b"P2", b" P1 ", b"", b"p1", b"P1", b"  "];
        let pairs = ids
            .iter()
            .enumerate()
            .filter(|(_, id)| !id.trim_ascii().is_empty())
            .map(|(i, id)| (id_hash(id), i as u64 + 1))
            .collect();
        let mut d = Duplicates::from_ids(pairs);
        let found: Vec<Option<String>> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| d.check(i as u64 + 1, id))
            .collect();
        let msg = |rows: &str| {
            Some(format!(
                "duplicate id: also on {rows}; each row is screened on its own answers"
            ))
        };
        assert_eq!(
            found,
            vec![
                msg("rows 3, 6"),
                None,
                msg("rows 1, 6"),
                None,
                None,
                msg("rows 1, 3"),
                None
            ]
        );
    }

    #[test]
    fn online_names_the_first_row_and_counts_repeats() {
        let mut d = Duplicates::online();
        assert_eq!(d.check(1, b"A"), None);
        assert_eq!(d.check(2, b"B"), None);
        assert_eq!(
            d.check(3, b"A "),
            Some("duplicate id: also on row 1; each row is screened on its own answers".into())
        );
        assert_eq!(
            d.check(4, b"A"),
            Some("duplicate id: also on row 1; each row is screened on its own answers".into())
        );
        assert_eq!(d.unmarked_earlier(), 2);
        assert_eq!(d.not_remembered(), 0);
    }

    #[test]
    fn the_online_table_is_bounded_and_keeps_what_it_has() {
        let mut d = Duplicates::online();
        let n = ONLINE_IDS as u64 + 10;
        for row in 1..=n {
            assert_eq!(d.check(row, format!("P{row}").as_bytes()), None, "{row}");
        }
        assert_eq!(d.not_remembered(), 10);
        // Ids from before the table filled are still found, ids after it are not.
        assert_eq!(
            d.check(n + 1, b"P7").as_deref(),
            Some("duplicate id: also on row 7; each row is screened on its own answers")
        );
        assert_eq!(d.check(n + 2, format!("P{n}").as_bytes()), None);
    }

    #[test]
    fn long_groups_are_cut_short() {
        assert_eq!(
            also_on(&[1, 2, 3, 4, 5, 6, 7]),
            "duplicate id: also on rows 1, 2, 3, 4, 5 and 2 more; each row is screened on its own answers"
        );
    }

    #[test]
    fn prescan_reads_the_id_column_of_every_record() {
        let data = "x,id\n1,A\n2,\"B\nB\"\n3\n4,A\n";
        let (mut d, rows) =
            Duplicates::prescan(|| Ok(data.as_bytes()), b',', 1, None).expect("reads");
        assert_eq!(rows, 4);
        assert!(d.check(1, b"A").is_some());
        assert!(d.check(2, b"B\nB").is_none());
        assert_eq!(
            d.check(4, b"A").as_deref(),
            Some("duplicate id: also on row 1; each row is screened on its own answers")
        );
        let (mut d, _) =
            Duplicates::prescan(|| Ok(&b"id\nA\nB\n"[..]), b',', 0, None).expect("reads");
        assert_eq!(d.check(1, b"A"), None);
    }

    #[test]
    fn short_ids_never_share_a_hash() {
        let mut hashes: Vec<u64> = (0..100_000u32)
            .map(|i| id_hash(format!("P{i:07}").as_bytes()))
            .collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), 100_000);
        assert_eq!(id_hash(b" P1 "), id_hash(b"P1"));
        assert_ne!(id_hash(b"P1"), id_hash(b"P1\0"));
    }

    /// What a pre-scan saw: the row numbers and ids handed on, and the count (or the error).
    type Seen = Result<(Vec<(u64, Vec<u8>)>, u64), String>;

    /// The pre-scan as it was before `Lines`: the `RowReader` throughout.
    fn each_id_by_reader(
        input: &[u8],
        delimiter: u8,
        id_column: usize,
        patients: Patients<'_>,
    ) -> Seen {
        let mut reader = RowReader::new(input, delimiter);
        let mut record = csv::ByteRecord::new();
        let mut seen = Vec::new();
        let (mut rows, mut kept) = (0, 0);
        reader.read_header(&mut record).map_err(|e| e.to_string())?;
        while reader
            .read_row(&mut record)
            .map_err(|e| e.to_string())?
            .is_some()
        {
            rows += 1;
            if patients.is_none_or(|(c, is)| is(record.get(c).unwrap_or_default())) {
                kept += 1;
                seen.push((rows, record.get(id_column).unwrap_or_default().to_vec()));
            }
        }
        Ok((seen, kept))
    }

    /// Gives at most `step` bytes a read, so that every way a read can end is tried.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.step).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    fn each_id_fast(
        input: &[u8],
        step: usize,
        delimiter: u8,
        id_column: usize,
        patients: Patients<'_>,
    ) -> Seen {
        let mut seen = Vec::new();
        let trickle = Trickle { bytes: input, step };
        let kept = each_id(trickle, delimiter, id_column, patients, |row, id| {
            seen.push((row, id.to_vec()));
        })
        .map_err(|e| e.to_string())?;
        Ok((seen, kept))
    }

    fn agree(input: &[u8], step: usize, id_column: usize) {
        let is = |cell: &[u8]| cell.trim_ascii() != b"x";
        for patients in [None, Some((1, &is as &dyn Fn(&[u8]) -> bool))] {
            let want = each_id_by_reader(input, b',', id_column, patients);
            let got = each_id_fast(input, step, b',', id_column, patients);
            assert_eq!(
                got,
                want,
                "{:?} read {step} bytes at a time",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn lines_agree_with_the_reader_on_quotes_line_breaks_and_empty_rows() {
        for input in [
            "id,a\nP1,1\nP2,2\n",
            "\u{feff}id,a\r\nP1,1\r\n\r\n ,\r\nP2 ,x\r\n P1,2",
            "id,a\rP1,1\r\rP2,2\r",
            "id,a\n\n\nP1,\"a,b\"\n\"P2\",\"\"\n\"\",\"\"\n",
            "id,a,b,c\nP1,\"Smith,yes,yes\nP2,Jones,no,no\nP3,\"Lee, A\",no,no\n",
            "id,note\nP1,\"line one\nline two\"\nP2,x\nP3,\"runs on",
            "id,note\nP1,\"runs on\nP2,x\nP3,y",
            "\"id\",\"a\"\nP1,\"\u{feff}P2\"\n\u{feff}P3,\"x\"\n",
            "id,a\nP1,a\"b\nP2,\"a\"b\n",
            "\"id\nx\",a\nP1,1\n",
            "\n\r\nid\nP1\n\nP1",
            "",
            "id",
        ] {
            for step in [1, 2, 3, 5, 64, CHUNK] {
                for id_column in [0, 1, 3] {
                    agree(input.as_bytes(), step, id_column);
                }
            }
        }
    }

    #[test]
    fn long_runs_of_blank_lines_and_long_quoted_lines_read_as_the_reader_reads_them() {
        let run = MAX_CELL_RUN as usize;
        let mut blanks = b"id,a\nP1,1\n".to_vec();
        blanks.resize(blanks.len() + 2 * run + 5, b'\n');
        blanks.extend_from_slice(b"P2,\"");
        blanks.resize(blanks.len() + run - 20, b'y');
        blanks.extend_from_slice(b"\"\nP3,\"");
        blanks.resize(blanks.len() + run, b'z');
        blanks.extend_from_slice(b"\nP4,4\n");
        agree(&blanks, CHUNK, 0);
        agree(&blanks, 4096, 1);
    }

    fn cell_text(quotes: bool) -> proptest::strategy::BoxedStrategy<String> {
        use proptest::prelude::*;
        let regex = |r: &str| proptest::string::string_regex(r).expect("regex").boxed();
        let plain = prop_oneof![
            regex("[A-Za-z0-9]{0,4}"),
            regex("[ \t]{0,2}[Pp][0-9] ?"),
            regex("[ ,]{0,2}"),
            regex("\u{feff}[a-z]?"),
        ];
        if !quotes {
            return plain.boxed();
        }
        prop_oneof![
            3 => plain,
            1 => regex("\"[a-z, \r\n]{0,4}\""),
            1 => regex("[a-z]?\"[a-z,\n]{0,3}"),
        ]
        .boxed()
    }

    fn csv_text(quotes: bool) -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let cell = cell_text(quotes);
        let row = proptest::collection::vec(cell, 0..5);
        let end = proptest::sample::select(vec!["\n", "\r\n", "\r", "\n\n", "\r\n\r\n", " \n"]);
        (
            any::<bool>(),
            proptest::collection::vec((row, end), 0..12),
            any::<bool>(),
        )
            .prop_map(|(bom, rows, trailing)| {
                let mut text = String::from(if bom { "\u{feff}id,a,b\n" } else { "id,a,b\n" });
                let count = rows.len();
                for (i, (cells, end)) in rows.into_iter().enumerate() {
                    text.push_str(&cells.join(","));
                    if trailing || i + 1 < count {
                        text.push_str(end);
                    }
                }
                text
            })
    }

    proptest::proptest! {
        /// The lines found at memchr speed are the rows the batch reads: the same ids on the
        /// same row numbers, the same count, on quote-free text with every kind of line break,
        /// blank lines, all-empty rows, ids with spaces, a byte-order mark, a last line with
        /// or without its break; read in pieces of any size.
        #[test]
        fn lines_agree_with_the_reader_on_quote_free_text(text in csv_text(false), step in 1usize..9, id_column in 0usize..4) {
            agree(text.as_bytes(), step, id_column);
        }

        /// And where cells have quotes: closed on their line, running over a line break, or
        /// stray.
        #[test]
        fn lines_agree_with_the_reader_on_text_with_quotes(text in csv_text(true), step in 1usize..9, id_column in 0usize..4) {
            agree(text.as_bytes(), step, id_column);
        }
    }
}
