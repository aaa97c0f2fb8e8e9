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
//! itself reads on, until the lines can take over again at the end of a clean row. A large
//! file is read in two halves at once, the second from a line break near the middle, kept only
//! if a record of the first half ends exactly there. Property tests hold the lines, and the
//! halves cut anywhere, to the `RowReader`'s rows on generated text.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::io::{self, Read};

use super::reader::{all_empty, LineRecords, RowReader, MAX_CELL_RUN};

/// The hash an id is known by, over its trimmed bytes: each 8-byte word is mixed in with
/// MurmurHash3's finalizer (a bijection of 64-bit words, so ids of up to 8 bytes and one
/// length never share a hash). The pre-scan hashes every row's id: this costs about 40
/// instructions an id where std's SipHash cost 215, of a pre-scan that then cost 756 per row
/// (callgrind, the benchmark file's 20,000-row slice).
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
    /// `Scan::each_id`), and keeps the rows of the ids that occur more than once. `open(at)`
    /// opens the file's text at byte `at`: 0, or anywhere when `len` gives the text's length
    /// (a file read as it is), and then, with `threads` > 1, a large file is read in two
    /// halves at once (`Scan::in_parts`). The file is read a second time only when some id
    /// repeats. Returns them with the number of rows that are patients.
    pub fn prescan<R: Read + Send>(
        open: impl Fn(u64) -> io::Result<R> + Sync,
        len: Option<u64>,
        threads: usize,
        scan: Scan<'_>,
    ) -> io::Result<(Self, u64)> {
        let text = Text {
            open: &open,
            anywhere: len.is_some(),
        };
        let split = match len {
            Some(len) if threads > 1 && len >= SPLIT_FROM => scan.split_point(text, len / 2)?,
            _ => None,
        };
        let (parts, kept) = scan.in_parts(
            text,
            split,
            |hashes: &mut Vec<u64>, _, id| {
                if !id.trim_ascii().is_empty() {
                    hashes.push(id_hash(id));
                }
            },
            |hashes| hashes.sort_unstable(),
        )?;
        let (first, second) = match parts.as_slice() {
            [(_, first)] => (first.as_slice(), &[][..]),
            [(_, first), (_, second)] => (first.as_slice(), second.as_slice()),
            _ => (&[][..], &[][..]),
        };
        let mut groups: HashMap<u64, Vec<u64>> = repeated(first, second)
            .into_iter()
            .map(|hash| (hash, Vec::new()))
            .collect();
        drop(parts);
        if !groups.is_empty() {
            let (parts, _) = scan.in_parts(
                text,
                split,
                |rows: &mut Vec<(u64, u64)>, row, id| {
                    let hash = id_hash(id);
                    if !id.trim_ascii().is_empty() && groups.contains_key(&hash) {
                        rows.push((hash, row));
                    }
                },
                |_| {},
            )?;
            for (rows_before, rows) in parts {
                for (hash, row) in rows {
                    if let Some(group) = groups.get_mut(&hash) {
                        group.push(rows_before + row);
                    }
                }
            }
        }
        Ok((Duplicates(Mode::Known(groups)), kept))
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
pub type Patients<'a> = Option<(usize, &'a (dyn Fn(&[u8]) -> bool + Sync))>;

/// Texts shorter than this are pre-scanned on one thread.
const SPLIT_FROM: u64 = 8 << 20;

/// What the pre-scan reads of each row.
#[derive(Clone, Copy)]
pub struct Scan<'p> {
    pub delimiter: u8,
    pub id_column: usize,
    pub patients: Patients<'p>,
}

/// Where a scan starts: at the text's start (its header first), or at byte `at`, where a
/// record after the header ended (the header had `width` cells).
#[derive(Clone, Copy)]
enum Start {
    Header,
    After { at: u64, width: usize },
}

/// Where a text may be cut in two for two threads: `at`, past the first byte of the first line
/// break from the middle on (where a record ends, if that break is not inside quotes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Split {
    at: u64,
    width: usize,
}

/// What a scan counted: rows (their numbers) and patients among them, and whether it stopped
/// where it was asked to, a record having ended exactly there.
struct Scanned {
    rows: u64,
    kept: u64,
    stopped: bool,
}

impl Scan<'_> {
    /// Where to cut the text of `open` in two, near byte `middle` (`None`: it cannot be).
    fn split_point<R: Read>(&self, text: Text<'_, R>, middle: u64) -> io::Result<Option<Split>> {
        if !text.anywhere {
            return Ok(None);
        }
        let open = text.open;
        let mut lines = Lines::new(open(0)?, self.delimiter, false);
        let width = match lines.next()? {
            Line::Plain(header) => memchr::memchr_iter(self.delimiter, header).count() + 1,
            Line::Quoted(header) => header.len(),
            Line::End | Line::Stop => return Ok(None),
        };
        if middle <= lines.offset() {
            return Ok(None);
        }
        // From the byte before the middle: a `\n` there may follow a `\r`.
        let mut input = open(middle - 1)?.take(1 << 16);
        let mut bytes = Vec::new();
        input.read_to_end(&mut bytes)?;
        let Some(at) = bytes
            .get(1..)
            .and_then(|after| memchr::memchr2(b'\n', b'\r', after))
            .map(|i| i + 1)
        else {
            return Ok(None);
        };
        // The csv crate ends a record past the first byte of its line break.
        let past = if bytes[at] == b'\n' && bytes[at - 1] == b'\r' {
            at
        } else {
            at + 1
        };
        Ok(Some(Split {
            at: middle - 1 + past as u64,
            width,
        }))
    }

    /// Runs `add` over every patient's row number and id, with a `T` of its own for each part
    /// of the text read, which `finish` completes; returns the parts, in order, each with the
    /// number of rows before it, and the number of patients. With `split`, the halves before
    /// and after it are read at once, on two threads; the second half's part counts only if
    /// a record of the first ended exactly at the split (else the first went on to the end).
    fn in_parts<R: Read + Send, T: Default + Send>(
        &self,
        text: Text<'_, R>,
        split: Option<Split>,
        add: impl Fn(&mut T, u64, &[u8]) + Sync,
        finish: impl Fn(&mut T) + Sync,
    ) -> io::Result<(Vec<(u64, T)>, u64)> {
        let part = |start: Start, stop_at: Option<u64>| {
            let mut found = T::default();
            let scanned = self.each_id(text, start, stop_at, |row, id| add(&mut found, row, id))?;
            finish(&mut found);
            io::Result::Ok((scanned, found))
        };
        let Some(split) = split else {
            let (scanned, found) = part(Start::Header, None)?;
            return Ok((vec![(0, found)], scanned.kept));
        };
        std::thread::scope(|scope| {
            let start = Start::After {
                at: split.at,
                width: split.width,
            };
            // No thread to be had: one reads it all.
            let part = &part;
            let second = std::thread::Builder::new().spawn_scoped(scope, move || part(start, None));
            let Ok(second) = second else {
                let (scanned, found) = part(Start::Header, None)?;
                return Ok((vec![(0, found)], scanned.kept));
            };
            let first = part(Start::Header, Some(split.at));
            let second = second.join();
            let (first, found) = first?;
            if !first.stopped {
                return Ok((vec![(0, found)], first.kept));
            }
            let (second, found_after) = match second {
                Ok(second) => second?,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            Ok((
                vec![(0, found), (first.rows, found_after)],
                first.kept + second.kept,
            ))
        })
    }

    /// Calls `f` with the number and the id cell of every patient's row of a CSV text, exactly
    /// as the batch's `RowReader` reads them; returns how many rows and patients there were.
    /// Rows that `patients` leaves out keep their numbers but are not counted. With `stop_at`,
    /// stops where a record ends exactly at that byte, if one does.
    ///
    /// Rows are found at memchr speed where they are plain lines (`Lines`), and read with the
    /// `RowReader` from the first record that might not be one; where the text can be opened
    /// anywhere, the lines take over again at the end of a clean row, once the reader has read
    /// a stint of rows (a new csv reader costs about 60 rows' reading). Measured on the
    /// benchmark file (bench/batch.sh, ruleset 1.0.0, 20,000 rows, callgrind, one thread): the
    /// pre-scan costs 626 instructions per row this way, against 4,922 with the `RowReader`
    /// throughout; it runs before screening starts, so on 2 CPUs its whole time is wall time.
    fn each_id<R: Read>(
        &self,
        text: Text<'_, R>,
        start: Start,
        mut stop_at: Option<u64>,
        f: impl FnMut(u64, &[u8]),
    ) -> io::Result<Scanned> {
        let mut tally = Tally {
            rows: 0,
            kept: 0,
            id_column: self.id_column,
            patients: self.patients,
            f,
        };
        let delimiter = self.delimiter;
        let (mut at, mut width) = match start {
            Start::Header => (0, None),
            Start::After { at, width } => (at, Some(width)),
        };
        let mut stint = READER_STINT;
        loop {
            let mut lines = Lines::new((text.open)(at)?, delimiter, width.is_some());
            if width.is_none() {
                width = match lines.next()? {
                    Line::End => return Ok(tally.scanned(false)),
                    Line::Plain(header) => Some(memchr::memchr_iter(delimiter, header).count() + 1),
                    Line::Quoted(header) => Some(header.len()),
                    Line::Stop => None,
                };
            }
            let mut lines_read = 0u64;
            if width.is_some() {
                loop {
                    match lines.next()? {
                        Line::Plain(line) => tally.line(line, delimiter),
                        Line::Quoted(record) if all_empty(record) => {}
                        Line::Quoted(record) => tally.record(record),
                        Line::End => return Ok(tally.scanned(false)),
                        Line::Stop => break,
                    }
                    lines_read += 1;
                    if stops(at + lines.offset(), &mut stop_at) {
                        return Ok(tally.scanned(true));
                    }
                }
            }
            // Read on with the `RowReader` from where the last row ended (after a line break
            // `resume` puts first when it reads on after a record).
            let resumed_at = at + lines.offset() - u64::from(width.is_some());
            let (read, input) = lines.into_rest();
            let mut record = csv::ByteRecord::new();
            let mut reader = RowReader::resume(&read, input, delimiter, width);
            if width.is_none() && reader.read_header(&mut record)? {
                width = Some(record.len());
            }
            // A short run of lines since the last hand-over: the next stint is longer.
            stint = if lines_read < stint {
                stint.saturating_mul(2)
            } else {
                (stint / 2).max(READER_STINT)
            };
            let mut rows_read = 0u64;
            loop {
                let Some(row) = reader.read_row(&mut record)? else {
                    return Ok(tally.scanned(false));
                };
                tally.record(&record);
                rows_read += 1;
                // A clean row leaves the reader as a fresh one would be at its end.
                if row.malformed.is_some() {
                    continue;
                }
                let end = resumed_at + reader.position();
                if stops(end, &mut stop_at) {
                    return Ok(tally.scanned(true));
                }
                if text.anywhere && rows_read >= stint {
                    at = end;
                    break;
                }
            }
        }
    }
}

/// The text to pre-scan: `open(at)` opens it at byte `at` — only at 0 unless `anywhere`.
struct Text<'a, R> {
    open: &'a (dyn Fn(u64) -> io::Result<R> + Sync),
    anywhere: bool,
}

impl<R> Clone for Text<'_, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for Text<'_, R> {}

/// Whether a scan asked to stop at byte `stop_at` stops at `at`, the end of a record; once it
/// is past, it is not asked any more.
fn stops(at: u64, stop_at: &mut Option<u64>) -> bool {
    match stop_at.map(|s| at.cmp(&s)) {
        Some(Ordering::Equal) => true,
        Some(Ordering::Greater) => {
            *stop_at = None;
            false
        }
        _ => false,
    }
}

/// Rows the `RowReader` reads, at least, before the lines take over again (in the tests, few,
/// so that hand-overs happen in short texts).
const READER_STINT: u64 = if cfg!(test) { 1 } else { 256 };

/// The values that occur more than once in two sorted runs taken together.
fn repeated(a: &[u64], b: &[u64]) -> Vec<u64> {
    let (mut i, mut j) = (0, 0);
    let mut found = Vec::new();
    let mut last = None;
    let mut seen = 0;
    loop {
        let next = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) if x <= y => {
                i += 1;
                x
            }
            (_, Some(&y)) => {
                j += 1;
                y
            }
            (Some(&x), None) => {
                i += 1;
                x
            }
            (None, None) => return found,
        };
        if last == Some(next) {
            seen += 1;
            if seen == 2 {
                found.push(next);
            }
        } else {
            last = Some(next);
            seen = 1;
        }
    }
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
    fn scanned(&self, stopped: bool) -> Scanned {
        Scanned {
            rows: self.rows,
            kept: self.kept,
            stopped,
        }
    }

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

/// How much is read at a time (in the tests, little, so that records cross reads).
const CHUNK: usize = if cfg!(test) { 64 } else { 256 << 10 };

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
    delimiter: u8,
    /// `buf[..end]` holds the bytes read and not yet dropped, from byte `dropped` of the text.
    buf: Vec<u8>,
    dropped: u64,
    end: usize,
    /// Where the next record may start (blank-line bytes are skipped from here).
    pos: usize,
    /// Where the last record ended, in the csv crate's terms (past the first byte of its line
    /// break): a `RowReader` taking over reads from here.
    from: usize,
    eof: bool,
    /// Whether anything has been read.
    started: bool,
    /// How far from `pos` the current record was searched for its line break, and whether a
    /// quote came before that.
    searched: usize,
    quote: bool,
    /// Lines with quotes are read by the csv crate (a reader made when first needed: it costs
    /// as much as reading a few hundred lines), into `record`.
    quoted: Option<LineRecords>,
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
    /// Lines of `input`, which starts at the text's start, or (`mid_text`) where a record of
    /// it ended.
    fn new(input: R, delimiter: u8, mid_text: bool) -> Self {
        Lines {
            input,
            buf: vec![0; CHUNK],
            dropped: 0,
            end: 0,
            pos: 0,
            from: 0,
            eof: false,
            started: mid_text,
            searched: 0,
            quote: false,
            quoted: None,
            delimiter,
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
            // Searched before a read ran out: from where it got to (`searched`, past a quote
            // if one was found), so that a long line is searched once.
            let from = self.searched;
            let found = if self.quote {
                memchr::memchr2(b'\n', b'\r', &rest[from..])
            } else {
                memchr::memchr3(b'\n', b'\r', b'"', &rest[from..])
            };
            let len = match found.map(|at| from + at) {
                Some(at) if rest[at] == b'"' => {
                    self.quote = true;
                    self.searched = at + 1;
                    continue;
                }
                Some(at) if !self.quote => {
                    self.pos = start + at + 1;
                    self.from = self.pos;
                    self.searched = 0;
                    return Ok(Line::Plain(&self.buf[start..start + at]));
                }
                Some(at) => at,
                None if !self.eof => {
                    if self.quote && self.end - self.from > ALLOWANCE {
                        return Ok(Line::Stop);
                    }
                    self.searched = rest.len();
                    self.refill()?;
                    continue;
                }
                None if self.quote => rest.len(),
                None => {
                    self.searched = 0;
                    if rest.is_empty() {
                        return Ok(Line::End);
                    }
                    self.pos = self.end;
                    self.from = self.end;
                    return Ok(Line::Plain(&self.buf[start..self.end]));
                }
            };
            self.searched = 0;
            self.quote = false;
            // The record must end within its allowance, or the `RowReader` may cut it short.
            let fits = start + len + 1 - self.from <= ALLOWANCE;
            let line = &self.buf[start..start + len];
            let quoted = self
                .quoted
                .get_or_insert_with(|| LineRecords::new(self.delimiter));
            if !(fits && quoted.read(line, &mut self.record)) {
                return Ok(Line::Stop);
            }
            self.pos = (start + len + 1).min(self.end);
            self.from = self.pos;
            return Ok(Line::Quoted(&self.record));
        }
    }

    /// Where the last record ended, as a byte of the text from where `input` started.
    fn offset(&self) -> u64 {
        self.dropped + self.from as u64
    }

    /// Reads more, keeping what is needed from `from` on: when the buffer is full, by moving
    /// that down if it is at most half the buffer, else by making the buffer twice as long.
    fn refill(&mut self) -> io::Result<()> {
        if self.end == self.buf.len() {
            if self.from >= self.buf.len() / 2 {
                self.dropped += self.from as u64;
                self.buf.copy_within(self.from..self.end, 0);
                self.end -= self.from;
                self.pos -= self.from;
                self.from = 0;
            } else {
                self.buf.resize(self.buf.len() * 2, 0);
            }
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
            Duplicates::prescan(|_| Ok(data.as_bytes()), None, 1, scan(1)).expect("reads");
        assert_eq!(rows, 4);
        assert!(d.check(1, b"A").is_some());
        assert!(d.check(2, b"B\nB").is_none());
        assert_eq!(
            d.check(4, b"A").as_deref(),
            Some("duplicate id: also on row 1; each row is screened on its own answers")
        );
        let (mut d, _) =
            Duplicates::prescan(|_| Ok(&b"id\nA\nB\n"[..]), None, 1, scan(0)).expect("reads");
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

    fn scan(id_column: usize) -> Scan<'static> {
        Scan {
            delimiter: b',',
            id_column,
            patients: None,
        }
    }

    /// The lines read in pieces of `step` bytes, the text opened anywhere (or from its start
    /// only).
    fn each_id_fast(input: &[u8], step: usize, anywhere: bool, scan: Scan<'_>) -> Seen {
        let mut seen = Vec::new();
        let open = |at: u64| {
            Ok(Trickle {
                bytes: input.get(at as usize..).unwrap_or_default(),
                step,
            })
        };
        let text = Text {
            open: &open,
            anywhere,
        };
        let scanned = scan
            .each_id(text, Start::Header, None, |row, id| {
                seen.push((row, id.to_vec()));
            })
            .map_err(|e| e.to_string())?;
        Ok((seen, scanned.kept))
    }

    /// The same, read in two parts cut near byte `middle`, as two threads read them.
    fn each_id_in_parts(input: &[u8], middle: u64, scan: Scan<'_>) -> Seen {
        let open = |at: u64| Ok(input.get(at as usize..).unwrap_or_default());
        let text = Text {
            open: &open,
            anywhere: true,
        };
        let split = scan.split_point(text, middle).map_err(|e| e.to_string())?;
        let (parts, kept) = scan
            .in_parts(
                text,
                split,
                |seen: &mut Vec<(u64, Vec<u8>)>, row, id| seen.push((row, id.to_vec())),
                |_| {},
            )
            .map_err(|e| e.to_string())?;
        let seen = parts
            .into_iter()
            .flat_map(|(before, seen)| seen.into_iter().map(move |(row, id)| (before + row, id)))
            .collect();
        Ok((seen, kept))
    }

    fn agree(input: &[u8], step: usize, id_column: usize) {
        let is = |cell: &[u8]| cell.trim_ascii() != b"x";
        for patients in [None, Some((1, &is as &(dyn Fn(&[u8]) -> bool + Sync)))] {
            let scan = Scan {
                patients,
                ..scan(id_column)
            };
            let want = each_id_by_reader(input, b',', id_column, patients);
            let text = String::from_utf8_lossy(&input[..input.len().min(400)]);
            for anywhere in [false, true] {
                let got = each_id_fast(input, step, anywhere, scan);
                assert_eq!(got, want, "{text:?} read {step} bytes at a time");
            }
            // Cut anywhere (in a long text, at a few places), in two parts read at once.
            let cuts = if input.len() > 4096 {
                input.len() / 7
            } else {
                step
            };
            for middle in (1..input.len() as u64).step_by(cuts) {
                let got = each_id_in_parts(input, middle, scan);
                assert_eq!(got, want, "{text:?} cut near {middle}");
            }
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
