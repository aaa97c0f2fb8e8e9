//! The batch's one CSV reader: the csv crate, with what a clinic's export needs on top — rows
//! that must not pass as clean, and rows that are not patients.
//!
//! - **A stray quote** (`"Smith` in a name column) makes a CSV parser run the cell on over the
//!   line break, swallowing the next patient's row, or the rest of the file. A record is taken
//!   as malformed when a quoted cell runs to the end of the file without its closing quote,
//!   when a line inside it holds about a row's worth of delimiters (it reads as another row),
//!   or when it runs on for more than `MAX_CELL_RUN` bytes with a quote in it. The caller gets the row's first
//!   line (for its id) with `Malformed` saying why and which lines; the lines after the first
//!   are read again as rows of their own, so no patient is lost, and memory stays bounded
//!   whatever the cell's length. A well-formed multi-line note stays clean.
//! - **Not patients**: blank lines and rows whose every cell is empty are skipped, counted and
//!   listed by line, for stderr.
//! - **UTF-16** input (Excel's "Unicode text") is recognised and refused with a clear error
//!   rather than read as garbage.
//!
//! To see a record's raw bytes — which the csv crate does not give — the input goes through a
//! `Tee` that keeps what the parser has read since the current record began. Detection reuses
//! the csv crate itself (a record's raw text parsed again with a sentinel line after it), so
//! there is no second CSV state machine to disagree with the first.
//!
//! The duplicate-id pre-scan (`duplicates`) must see the very rows this reader gives: it reads
//! lines with quotes through `LineRecords` (the csv crate, one line at a time) and hands the
//! rest of a text to `RowReader::resume` from the end of any record.

use std::io::{self, Read};

/// How far a record may run on before it is cut and taken as malformed: no cell of an intake
/// form is this long, and the reader's memory stays within a few times this.
pub const MAX_CELL_RUN: u64 = 1 << 20;

/// How many empty rows are listed by line (the count is always complete).
pub const LISTED_EMPTY_ROWS: usize = 20;

/// Why a record is not clean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Malformed {
    /// A quoted cell never closes: it ran on to the end of the file.
    Unclosed,
    /// A line inside a quoted cell reads as another row (about a row's worth of delimiters).
    RunsIntoRow,
    /// A record ran on for more than `MAX_CELL_RUN` bytes.
    TooLong,
}

/// Where a row is, and whether it is clean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowInfo {
    /// The physical line the row starts on (1-based, the header is line 1).
    pub line: u64,
    /// The physical line the record ended on as the parser read it (its last swallowed line
    /// when malformed; for a clean row, its last line).
    pub last_line: u64,
    pub malformed: Option<Malformed>,
}

impl RowInfo {
    /// The message for a malformed row's record (`None` for a clean row).
    pub fn message(&self) -> Option<String> {
        let what = match self.malformed.as_ref()? {
            Malformed::Unclosed => format!(
                "a quote opened in this row is never closed: its cell runs on to the end of the file (line {})",
                self.last_line
            ),
            Malformed::RunsIntoRow => format!(
                "a quoted cell runs over its line break into what reads as another row ({})",
                if self.last_line > self.line + 1 {
                    format!("lines {}-{}", self.line + 1, self.last_line)
                } else {
                    format!("line {}", self.line + 1)
                }
            ),
            Malformed::TooLong => format!(
                "a quoted cell runs on for more than {} MiB (from line {} to line {} at least): an unclosed quote?",
                MAX_CELL_RUN >> 20,
                self.line,
                self.last_line
            ),
        };
        Some(format!(
            "line {}: {what}; none of this row's answers were read, and the lines after its first are read again as rows of their own",
            self.line
        ))
    }
}

/// Rows that are not patients: blank lines and rows whose every cell is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmptyRows {
    pub count: u64,
    /// The first `LISTED_EMPTY_ROWS` of their lines (every one when `verbose`).
    pub lines: Vec<u64>,
    pub verbose: bool,
}

impl EmptyRows {
    fn add(&mut self, line: u64) {
        self.count += 1;
        if self.verbose || self.lines.len() < LISTED_EMPTY_ROWS {
            self.lines.push(line);
        }
    }

    /// The stderr note, when there were any: `2 empty rows skipped (not patients): lines 4, 5`.
    pub fn note(&self) -> Option<String> {
        if self.count == 0 {
            return None;
        }
        let mut lines: Vec<String> = self.lines.iter().map(u64::to_string).collect();
        if self.count > self.lines.len() as u64 {
            lines.push(format!(
                "and {} more (--verbose names every one)",
                self.count - self.lines.len() as u64
            ));
        }
        Some(format!(
            "{} empty row{} skipped (blank or every cell empty: not patients): line{} {}",
            self.count,
            if self.count == 1 { "" } else { "s" },
            if self.count == 1 { "" } else { "s" },
            lines.join(", ")
        ))
    }
}

/// The input as the csv crate reads it, keeping the bytes read since `kept_from`.
struct Tee<R> {
    inner: R,
    /// Bytes to deliver before `inner`'s (lines read again after a malformed record).
    replay: Vec<u8>,
    replay_at: usize,
    /// Bytes delivered, from stream offset `kept_from`.
    kept: Vec<u8>,
    kept_from: u64,
    delivered: u64,
    /// The stream offset past which nothing is delivered (the current record's allowance).
    limit: u64,
    /// The allowance ran out: the parser was told "end of input" early.
    cut: bool,
    /// `inner` reached its end.
    eof: bool,
    /// The last byte delivered.
    last: Option<u8>,
    /// Where the current record starts, and how far it was searched for a quote.
    record_start: u64,
    scanned: u64,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut room = self.limit.saturating_sub(self.delivered);
        if room == 0 && self.quote_free() {
            // A long record with no quote in it cannot be a cell running on past its row:
            // it may go on (it is one line, and the csv crate holds it anyway).
            self.limit = self.delivered.saturating_add(MAX_CELL_RUN);
            room = MAX_CELL_RUN;
        }
        if room == 0 {
            self.cut = !(self.eof && self.replay_at == self.replay.len());
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = if self.replay_at < self.replay.len() {
            let n = want.min(self.replay.len() - self.replay_at);
            buf[..n].copy_from_slice(&self.replay[self.replay_at..self.replay_at + n]);
            self.replay_at += n;
            n
        } else if self.eof {
            0
        } else {
            let n = self.inner.read(&mut buf[..want])?;
            self.eof = n == 0;
            n
        };
        self.kept.extend_from_slice(&buf[..n]);
        self.delivered += n as u64;
        if n > 0 {
            self.last = Some(buf[n - 1]);
        }
        Ok(n)
    }
}

impl<R> Tee<R> {
    fn new(inner: R, replay: Vec<u8>) -> Self {
        Tee {
            inner,
            replay,
            replay_at: 0,
            kept: Vec::new(),
            kept_from: 0,
            delivered: 0,
            limit: MAX_CELL_RUN,
            cut: false,
            eof: false,
            last: None,
            record_start: 0,
            scanned: 0,
        }
    }

    /// Whether the current record holds no quote so far (scanning only what is new).
    fn quote_free(&mut self) -> bool {
        let from = self.scanned.max(self.record_start);
        let free = memchr::memchr(b'"', self.range(from, self.delivered)).is_none();
        self.scanned = self.delivered;
        free
    }

    /// Whether everything the input holds has been delivered.
    fn at_end(&self) -> bool {
        self.eof && self.replay_at == self.replay.len()
    }

    /// The kept bytes from stream offset `from` to `to`.
    fn range(&self, from: u64, to: u64) -> &[u8] {
        let start = usize::try_from(from.saturating_sub(self.kept_from)).unwrap_or(usize::MAX);
        let end = usize::try_from(to.saturating_sub(self.kept_from)).unwrap_or(usize::MAX);
        self.kept
            .get(start.min(self.kept.len())..end.min(self.kept.len()))
            .unwrap_or(&[])
    }

    /// Nothing before stream offset `from` is needed any more; the next record may run on to
    /// `from + MAX_CELL_RUN`.
    fn forget_before(&mut self, from: u64) {
        let drop = usize::try_from(from.saturating_sub(self.kept_from)).unwrap_or(usize::MAX);
        // Draining costs a move of what is left (up to a read's worth): do it once a
        // megabyte has piled up (it was 64 KiB: 150 instructions a row of moves, callgrind).
        if drop >= 1 << 20 && drop <= self.kept.len() {
            self.kept.drain(..drop);
            self.kept_from = from;
        }
        self.limit = from.saturating_add(MAX_CELL_RUN);
        self.record_start = from;
    }
}

/// Reads CSV rows, telling clean rows from malformed ones and skipping rows that are not
/// patients. See the module documentation.
pub struct RowReader<R> {
    csv: Option<csv::Reader<Tee<R>>>,
    delimiter: u8,
    /// Fields in the header: a row's worth of delimiters is about `width - 1`.
    width: usize,
    /// The absolute byte offset and line of the current csv reader's stream start.
    base_byte: u64,
    base_line: u64,
    /// Line breaks in the stream before `counted_to`.
    counted_to: u64,
    lines_before: u64,
    /// Where the previous record started and how many line breaks its cells held.
    previous: Option<(u64, u64)>,
    empty: EmptyRows,
}

fn builder(delimiter: u8) -> csv::ReaderBuilder {
    let mut b = csv::ReaderBuilder::new();
    b.delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .buffer_capacity(1 << 16);
    b
}

/// Whether every cell is empty or blank (such a row is not a patient).
pub fn all_empty(record: &csv::ByteRecord) -> bool {
    record.iter().all(|c| c.trim_ascii().is_empty())
}

impl<R: Read> RowReader<R> {
    /// Names every empty row in the note (`--verbose`), not only the first ones.
    pub fn name_every_empty_row(mut self, verbose: bool) -> Self {
        self.empty.verbose = verbose;
        self
    }

    pub fn new(input: R, delimiter: u8) -> Self {
        Self::over(Tee::new(input, Vec::new()), delimiter)
    }

    fn over(tee: Tee<R>, delimiter: u8) -> Self {
        RowReader {
            csv: Some(builder(delimiter).from_reader(tee)),
            delimiter,
            width: 0,
            base_byte: 0,
            base_line: 0,
            counted_to: 0,
            lines_before: 0,
            previous: None,
            empty: EmptyRows::default(),
        }
    }

    /// A reader of the rows that follow a record of another reader's input, whose header had
    /// `width` cells: `read` and then `input` are that input from where that record ended (as
    /// that reader's csv parser left it, so a `\n` after a `\r` may come first). Each row
    /// reads exactly as it would have on the first reader (a record's allowance of
    /// `MAX_CELL_RUN` bytes counts from the end of the one before it, there as here); line
    /// numbers count from the resumption point. With no `width`, `read` is the input's start
    /// and the header is still to be read. For the duplicate-id pre-scan, which reads up to
    /// there at memchr speed.
    pub fn resume(read: &[u8], input: R, delimiter: u8, width: Option<usize>) -> Self {
        let Some(width) = width else {
            return Self::over(Tee::new(input, read.to_vec()), delimiter);
        };
        // A line break first: the csv crate strips a byte-order mark at the start of its
        // input, which it would not do in mid-file; and the allowance counts on from it.
        let mut replay = Vec::with_capacity(read.len() + 1);
        replay.push(b'\n');
        replay.extend_from_slice(read);
        let mut tee = Tee::new(input, replay);
        tee.limit += 1;
        let mut reader = Self::over(tee, delimiter);
        reader.width = width;
        reader
    }

    fn csv(&mut self) -> io::Result<&mut csv::Reader<Tee<R>>> {
        self.csv
            .as_mut()
            .ok_or_else(|| io::Error::other("the input could not be read on"))
    }

    /// Bytes of the input read so far: after a row, where it ended (the duplicate-id pre-scan
    /// reads on from there; a progress bar shows it).
    pub fn position(&self) -> u64 {
        self.base_byte + self.csv.as_ref().map_or(0, |c| c.position().byte())
    }

    /// The rows skipped as not patients so far.
    pub fn empty_rows(&self) -> &EmptyRows {
        &self.empty
    }

    /// The physical line (1-based) of the stream offset `at`. A line ends with `\n`, `\r\n`
    /// or a lone `\r`, as for the csv crate.
    fn line_of(&mut self, at: u64) -> u64 {
        if at > self.counted_to {
            if let Some(tee) = self.csv.as_ref().map(csv::Reader::get_ref) {
                let bytes = tee.range(self.counted_to, at);
                let after = tee.range(at, at + 1).first().copied();
                // A final `\r` whose next byte is not read yet is counted once it is.
                let deferred = after.is_none() && bytes.last() == Some(&b'\r') && !tee.at_end();
                let counted = &bytes[..bytes.len() - usize::from(deferred)];
                self.lines_before +=
                    count_breaks(counted, if deferred { Some(b'\r') } else { after });
                self.counted_to = at - u64::from(deferred);
            }
        }
        self.base_line + self.lines_before + 1
    }

    /// Reads the header (false for an empty input). A header that is UTF-16 text, or whose
    /// quoted name runs over a line break, is an error.
    pub fn read_header(&mut self, record: &mut csv::ByteRecord) -> io::Result<bool> {
        let csv = self.csv()?;
        let found = csv.read_byte_record(record)?;
        let tee = csv.get_ref();
        let head = tee.range(0, 4.min(tee.delivered));
        if let Some(order) = utf16(head, record) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "this is UTF-16 text ({order}), which is not read: save it as UTF-8 (in Excel: \"CSV UTF-8 (Comma delimited)\")"
                ),
            ));
        }
        if !found {
            return Ok(false);
        }
        if tee.cut || memchr::memchr2(b'\n', b'\r', record.as_slice()).is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the header row has a quoted column name that runs over a line break: an unclosed quote?",
            ));
        }
        self.width = record.len();
        let (first, end) = self.span(record)?;
        let line = self.line_of(first);
        // Blank lines before the header are not rows of the file.
        self.previous = Some((line, 0));
        self.forget(end);
        Ok(true)
    }

    /// Where the record just read begins (past the blank lines the csv crate skipped before
    /// it) and ends, as stream offsets.
    fn span(&mut self, record: &csv::ByteRecord) -> io::Result<(u64, u64)> {
        let csv = self.csv()?;
        let start = record.position().map_or(0, csv::Position::byte);
        let end = csv.position().byte();
        let raw = csv.get_ref().range(start, end);
        let skipped = raw
            .iter()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
        Ok((start + skipped as u64, end))
    }

    fn forget(&mut self, to: u64) {
        let _ = self.line_of(to);
        if let Some(csv) = self.csv.as_mut() {
            csv.get_mut().forget_before(to);
        }
    }

    /// Reads the next row that is a patient's, clean or malformed, into `record`; `None` at
    /// the end. A malformed row's `record` holds the cells of its first line only.
    pub fn read_row(&mut self, record: &mut csv::ByteRecord) -> io::Result<Option<RowInfo>> {
        loop {
            let csv = self.csv()?;
            if !csv.read_byte_record(record)? {
                if csv.get_ref().cut {
                    // Cut short between records (a megabyte of blank lines): read on afresh.
                    let at = csv.get_ref().delivered;
                    self.restart(at, false);
                    continue;
                }
                self.count_trailing_blank_lines();
                return Ok(None);
            }
            let (start, end) = self.span(record)?;
            let line = self.line_of(start);
            self.count_blank_lines_before(line);
            // Line breaks inside its cells (quoted ones only; most records have none).
            let fields = record.as_slice();
            let multi_line = memchr::memchr2(b'\n', b'\r', fields).is_some();
            let breaks = if multi_line {
                count_breaks(fields, None)
            } else {
                0
            };
            let malformed = self.judge(record, start, end, multi_line);
            if let Some(why) = malformed {
                let last_line = line + self.breaks_in(start, end);
                self.recover(record, start, end)?;
                self.previous = Some((line, 0));
                return Ok(Some(RowInfo {
                    line,
                    last_line,
                    malformed: Some(why),
                }));
            }
            self.previous = Some((line, breaks));
            if !multi_line && self.counted_to >= start {
                // A line break outside quotes ends the record, and its cells hold none: only
                // its last byte can break a line.
                self.counted_to = self.counted_to.max(end.saturating_sub(1));
            }
            self.forget(end);
            if all_empty(record) {
                self.empty.add(line);
                continue;
            }
            return Ok(Some(RowInfo {
                line,
                last_line: line + breaks,
                malformed: None,
            }));
        }
    }

    /// Line breaks in the raw bytes from `start` to `end` (the lines a record spans, less one).
    fn breaks_in(&self, start: u64, end: u64) -> u64 {
        let raw = self
            .csv
            .as_ref()
            .map_or(&[][..], |c| c.get_ref().range(start, end));
        let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        count_breaks(raw, None)
    }

    /// Blank lines between the previous record and the one starting on `line`.
    fn count_blank_lines_before(&mut self, line: u64) {
        if let Some((previous, breaks)) = self.previous {
            for blank in previous + breaks + 1..line {
                self.empty.add(blank);
            }
        }
    }

    /// Blank lines after the last record.
    fn count_trailing_blank_lines(&mut self) {
        let Some(csv) = self.csv.as_ref() else {
            return;
        };
        let tee = csv.get_ref();
        // A stream that ends with a line break, or is empty (read on after one), has no
        // further line.
        let (delivered, ends_with_break) = (
            tee.delivered,
            matches!(tee.last, Some(b'\n' | b'\r') | None),
        );
        let last_line = self.line_of(delivered) - u64::from(ends_with_break);
        if let Some((previous, breaks)) = self.previous {
            for blank in previous + breaks + 1..=last_line {
                self.empty.add(blank);
            }
        }
        // Counted once: a second call at the end finds nothing new.
        self.previous = Some((last_line, 0));
    }

    /// Whether the record just read from `start` to `end` is malformed, and why.
    fn judge(
        &self,
        record: &csv::ByteRecord,
        start: u64,
        end: u64,
        multi_line: bool,
    ) -> Option<Malformed> {
        let tee = self.csv.as_ref()?.get_ref();
        if tee.cut {
            return Some(Malformed::TooLong);
        }
        let raw = tee.range(start, end);
        // At the end of the input, a record holding a quote may have run into the end.
        let at_end = end >= tee.delivered && tee.eof && tee.replay_at == tee.replay.len();
        if at_end && memchr::memchr(b'"', raw).is_some() && !closes(raw, self.delimiter) {
            return Some(Malformed::Unclosed);
        }
        if multi_line {
            // A cell over a line break, in a row without the header's number of cells, or
            // whose raw text is not what its cells would be written as (text after a closing
            // quote: `"Smith,...\nP2,"Jones"`): the quote has taken in part of another row.
            if record.len() != self.width || !written_as(raw, record, self.delimiter) {
                return Some(Malformed::RunsIntoRow);
            }
            // Or a line inside the cell holds about a row's worth of delimiters.
            let row_like = if self.width >= 3 {
                let w = self.width - 1;
                (w - w / 4).max(2)
            } else {
                usize::MAX
            };
            let row_inside = record.iter().any(|cell| {
                lines(cell)
                    .skip(1)
                    .any(|l| memchr::memchr_iter(self.delimiter, l).count() >= row_like)
            });
            if row_inside {
                return Some(Malformed::RunsIntoRow);
            }
            // Or every line it spans, read without quotes, is a row of its own: the header's
            // number of cells each (a quote that took in part of the next row and closed on a
            // quote there).
            let body = raw.strip_suffix(b"\n").unwrap_or(raw);
            let body = body.strip_suffix(b"\r").unwrap_or(body);
            let each_a_row = lines(body)
                .map(|l| memchr::memchr_iter(self.delimiter, l).count())
                .all(|n| n + 1 == self.width);
            if each_a_row {
                return Some(Malformed::RunsIntoRow);
            }
        }
        None
    }

    /// After a malformed record from `start` to `end`: its first line's cells go into
    /// `record`, and reading goes on from the line after that first one, with the bytes
    /// already read handed to a new csv reader ahead of the rest of the input.
    fn recover(&mut self, record: &mut csv::ByteRecord, start: u64, end: u64) -> io::Result<()> {
        let (first_break, first_line) = {
            let tee = self.csv()?.get_ref();
            let raw = tee.range(start, end.max(tee.delivered));
            let first_break = next_break(raw);
            (
                first_break.map(|(_, after)| after),
                raw[..first_break.map_or(raw.len(), |(at, _)| at)].to_vec(),
            )
        };
        // The row's own cells, as its first line reads: for its id.
        let mut line_reader = builder(self.delimiter).from_reader(first_line.as_slice());
        if !line_reader.read_byte_record(record)? {
            record.clear();
        }
        match first_break {
            Some(after) => self.restart(start + after as u64, false),
            // One line cut short: the rest of that line is skipped.
            None => {
                let at = self.csv()?.get_ref().delivered;
                self.restart(at, true)
            }
        }
        Ok(())
    }

    /// Reads on from stream offset `at` with a new csv reader: the bytes already read from
    /// there are handed to it ahead of the rest of the input. `skip_line` first drops the
    /// input up to the next line break.
    fn restart(&mut self, at: u64, skip_rest_of_line: bool) {
        let line = self.line_of(at);
        let Some(old) = self.csv.take() else {
            return;
        };
        let mut tee = old.into_inner();
        let mut replay = tee.range(at, tee.delivered).to_vec();
        replay.extend_from_slice(&tee.replay[tee.replay_at..]);
        tee.replay = replay;
        tee.replay_at = 0;
        let (skipped, skipped_bytes) = if skip_rest_of_line {
            skip_line(&mut tee).unwrap_or((false, 0))
        } else {
            (false, 0)
        };
        // Lines and bytes of the new stream count on from the restart point.
        self.base_line = line - 1 + u64::from(skipped);
        self.base_byte += at + skipped_bytes;
        self.counted_to = 0;
        self.lines_before = 0;
        let Tee {
            inner,
            eof,
            replay,
            replay_at,
            ..
        } = tee;
        let mut fresh = Tee::new(inner, replay[replay_at..].to_vec());
        fresh.eof = eof;
        self.csv = Some(builder(self.delimiter).from_reader(fresh));
    }
}

/// Line breaks in `bytes` (`\n`, `\r\n`, a lone `\r`); `after` is the byte that follows, if
/// known (a final `\r` then counts only when `after` is not `\n`).
fn count_breaks(bytes: &[u8], after: Option<u8>) -> u64 {
    let ends_line = |i: usize| match bytes[i] {
        b'\n' => true,
        b'\r' => bytes.get(i + 1).copied().or(after) != Some(b'\n'),
        _ => false,
    };
    if bytes.len() < 16 {
        // Mostly one record's line break: a plain loop costs less than setting up memchr.
        return (0..bytes.len()).filter(|&i| ends_line(i)).count() as u64;
    }
    // One pass: every `\n`, and each `\r` not followed by one.
    memchr::memchr2_iter(b'\n', b'\r', bytes)
        .filter(|&i| ends_line(i))
        .count() as u64
}

/// The first line break in `raw`: where it starts and where the next line starts.
fn next_break(raw: &[u8]) -> Option<(usize, usize)> {
    let i = memchr::memchr2(b'\n', b'\r', raw)?;
    let len = if raw[i] == b'\r' && raw.get(i + 1) == Some(&b'\n') {
        2
    } else {
        1
    };
    Some((i, i + len))
}

/// The lines of `raw`, split at every line break.
fn lines(raw: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(raw);
    std::iter::from_fn(move || {
        let text = rest?;
        match next_break(text) {
            Some((at, after)) => {
                rest = Some(&text[after..]);
                Some(&text[..at])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
}

/// Skips the input up to and including the next line break (bounded memory); whether one was
/// found, and how many bytes were skipped.
fn skip_line<R: Read>(tee: &mut Tee<R>) -> io::Result<(bool, u64)> {
    let rest = &tee.replay[tee.replay_at..];
    if let Some(i) = memchr::memchr(b'\n', rest) {
        tee.replay_at += i + 1;
        return Ok((true, i as u64 + 1));
    }
    let mut skipped = rest.len() as u64;
    tee.replay_at = tee.replay.len();
    if tee.eof {
        return Ok((false, skipped));
    }
    let mut buf = [0u8; 8192];
    loop {
        let n = tee.inner.read(&mut buf)?;
        if n == 0 {
            tee.eof = true;
            return Ok((false, skipped));
        }
        if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
            tee.replay = buf[i + 1..n].to_vec();
            tee.replay_at = 0;
            return Ok((true, skipped + i as u64 + 1));
        }
        skipped += n as u64;
    }
}

/// Whether `raw` is `record` as CSV writes it: each cell as it is, or quoted with its quotes
/// doubled, separated by the delimiter, then only line breaks. The csv crate reads some text
/// that is not written that way (text after a closing quote, a quote never closed) without
/// complaint; in a record that spans lines, that is a stray quote at work.
fn written_as(raw: &[u8], record: &csv::ByteRecord, delimiter: u8) -> bool {
    let mut pos = 0;
    for (i, cell) in record.iter().enumerate() {
        if i > 0 {
            if raw.get(pos) != Some(&delimiter) {
                return false;
            }
            pos += 1;
        }
        if raw.get(pos) == Some(&b'"') {
            pos += 1;
            for &b in cell {
                let want: &[u8] = if b == b'"' {
                    b"\"\""
                } else {
                    std::slice::from_ref(&b)
                };
                match raw.get(pos..pos + want.len()) {
                    Some(got) if got == want => pos += want.len(),
                    _ => return false,
                }
            }
            if raw.get(pos) != Some(&b'"') {
                return false;
            }
            pos += 1;
        } else {
            if !raw.get(pos..).is_some_and(|rest| rest.starts_with(cell)) {
                return false;
            }
            pos += cell.len();
        }
    }
    raw.get(pos..)
        .is_some_and(|rest| rest.iter().all(|&b| b == b'\n' || b == b'\r'))
}

/// Whether the quotes of a record's raw text close: read again by the csv crate with a
/// sentinel line after it, the sentinel comes out as a record of its own only if no quoted
/// cell was still open at the end.
fn closes(raw: &[u8], delimiter: u8) -> bool {
    const SENTINEL: &[u8] = b"\x01ketascreen-end\x01";
    let mut text = raw.to_vec();
    if !matches!(text.last(), Some(b'\n' | b'\r')) {
        text.push(b'\n');
    }
    text.extend_from_slice(SENTINEL);
    let mut reader = builder(delimiter).from_reader(text.as_slice());
    let mut last = csv::ByteRecord::new();
    let mut record = csv::ByteRecord::new();
    while let Ok(true) = reader.read_byte_record(&mut record) {
        std::mem::swap(&mut last, &mut record);
    }
    last.len() == 1 && last.get(0) == Some(SENTINEL)
}

/// Reads single lines — text with no line break in it, at the start of a record — as the csv
/// crate reads a record there (for the duplicate-id pre-scan's lines with quotes). One csv
/// reader serves every line: building one costs about 250,000 instructions (its DFA), and a
/// fresh one would strip a byte-order mark at the line's start, which a reader in mid-file
/// does not.
pub struct LineRecords {
    csv: csv::Reader<Fed>,
}

/// One line at a time for `LineRecords`, with its line break; asked for more, a sentinel byte
/// (a quote still open takes it in), then the end.
struct Fed {
    text: Vec<u8>,
    at: usize,
    sentinel: bool,
}

impl Read for Fed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.text.len() && self.sentinel {
            self.sentinel = false;
            self.text.push(0x01);
        }
        let n = buf.len().min(self.text.len() - self.at);
        buf[..n].copy_from_slice(&self.text[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl LineRecords {
    pub fn new(delimiter: u8) -> Self {
        let fed = Fed {
            text: b"-\n".to_vec(),
            at: 0,
            sentinel: false,
        };
        let mut csv = builder(delimiter).from_reader(fed);
        // A first record, so that no later one is taken for the start of the input.
        let _ = csv.read_byte_record(&mut csv::ByteRecord::new());
        LineRecords { csv }
    }

    /// Reads `line` into `record`; false when a quote opened in it is still open at its end
    /// (the record would run on over the line break, where `RowReader` has to judge it).
    /// Then this reader is spent: every later line reads as false.
    pub fn read(&mut self, line: &[u8], record: &mut csv::ByteRecord) -> bool {
        let fed = self.csv.get_mut();
        if fed.at != fed.text.len() || fed.text.last() != Some(&b'\n') {
            return false; // spent
        }
        fed.text.clear();
        fed.text.extend_from_slice(line);
        fed.text.push(b'\n');
        fed.at = 0;
        fed.sentinel = true;
        let before = self.csv.position().byte();
        // The record ends at the line break, with nothing more asked for, only if the quote
        // has closed; else it takes in the sentinel too.
        matches!(self.csv.read_byte_record(record), Ok(true))
            && self.csv.position().byte() == before + line.len() as u64 + 1
    }
}

/// "little-endian" or "big-endian" when the input is UTF-16: by its byte-order mark, or, for
/// text without one, by the NUL bytes ASCII letters leave between them.
fn utf16(head: &[u8], header: &csv::ByteRecord) -> Option<&'static str> {
    match head {
        [0xFF, 0xFE, ..] => Some("little-endian, from its byte-order mark"),
        [0xFE, 0xFF, ..] => Some("big-endian, from its byte-order mark"),
        [a, 0, ..] if *a != 0 => Some("little-endian"),
        [0, b, ..] if *b != 0 => Some("big-endian"),
        _ if memchr::memchr(0, header.as_slice()).is_some() => Some("NUL bytes in the header"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row as (line, cells joined with |, malformed), then the empty rows.
    fn read(input: &str) -> (Vec<(u64, String, Option<Malformed>)>, EmptyRows) {
        let mut reader = RowReader::new(input.as_bytes(), b',');
        let mut record = csv::ByteRecord::new();
        assert!(reader.read_header(&mut record).expect("header"));
        let mut rows = Vec::new();
        while let Some(info) = reader.read_row(&mut record).expect("row") {
            let cells: Vec<String> = record
                .iter()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            rows.push((info.line, cells.join("|"), info.malformed));
        }
        (rows, reader.empty_rows().clone())
    }

    // Broke: a stray quote in an ignored Name column merged the next patient's row into the
    // cell; the patient vanished and the row with the quote was screened on the next row's cells.
    #[test]
    fn a_stray_quote_that_swallows_the_next_row_is_malformed_and_the_row_is_read_again() {
        let (rows, _) = read(
            "id,name,aneurysm,mania\nP1,\"Smith,yes,yes\nP2,Jones,no,no\nP3,\"Lee, A\",no,no\n",
        );
        assert_eq!(
            rows,
            [
                (
                    2,
                    "P1|Smith,yes,yes".to_string(),
                    Some(Malformed::RunsIntoRow)
                ),
                (3, "P2|Jones|no|no".to_string(), None),
                (4, "P3|Lee, A|no|no".to_string(), None),
            ]
        );
    }

    #[test]
    fn a_stray_quote_closed_by_a_quote_in_the_next_row_is_malformed_too() {
        let (rows, _) = read("id,name,aneurysm,mania\nP1,\"Smith,yes,yes\nP2,\"Jones\",no,no\n");
        assert_eq!(
            rows,
            [
                (
                    2,
                    "P1|Smith,yes,yes".to_string(),
                    Some(Malformed::RunsIntoRow)
                ),
                (3, "P2|Jones|no|no".to_string(), None),
            ]
        );
    }

    #[test]
    fn an_unclosed_quote_at_the_end_is_malformed_and_the_lines_after_it_are_rows() {
        let (rows, _) = read("id,note\nP1,\"runs on\nP2,x\nP3,y");
        assert_eq!(
            rows,
            [
                (2, "P1|runs on".to_string(), Some(Malformed::Unclosed)),
                (3, "P2|x".to_string(), None),
                (4, "P3|y".to_string(), None),
            ]
        );
        let (rows, _) = read("id,note\nP1,\"no close");
        assert_eq!(
            rows,
            [(2, "P1|no close".to_string(), Some(Malformed::Unclosed))]
        );
    }

    #[test]
    fn well_formed_multi_line_notes_stay_clean() {
        let (rows, empty) = read("id,note,bp\nP1,\"line one\nline two, still the note\",120\nP2,\"a \"\"quoted\"\" word\",130\n");
        assert_eq!(
            rows,
            [
                (
                    2,
                    "P1|line one\nline two, still the note|120".to_string(),
                    None
                ),
                (4, "P2|a \"quoted\" word|130".to_string(), None),
            ]
        );
        assert_eq!(empty.count, 0);
    }

    #[test]
    fn blank_lines_and_all_empty_rows_are_counted_by_line() {
        let (rows, empty) = read("id,bp\n\nP1,120\n,\n  ,  \n\r\nP2,130\n\n\n");
        assert_eq!(
            rows,
            [
                (3, "P1|120".to_string(), None),
                (7, "P2|130".to_string(), None)
            ]
        );
        assert_eq!(empty.lines, [2, 4, 5, 6, 8, 9]);
        assert_eq!(
            empty.note().as_deref(),
            Some("6 empty rows skipped (blank or every cell empty: not patients): lines 2, 4, 5, 6, 8, 9")
        );
        let (_, none) = read("id\nP1\nP2");
        assert_eq!(none.note(), None);
    }

    #[test]
    fn a_huge_unclosed_cell_is_cut_and_reading_goes_on() {
        let mut input = String::from("id,note\nP0,ok\nP1,\"");
        for i in 0..200_000 {
            input.push_str(&format!("P{i},filler text\n"));
        }
        let mut reader = RowReader::new(input.as_bytes(), b',');
        let mut record = csv::ByteRecord::new();
        reader.read_header(&mut record).expect("header");
        let mut count = 0;
        let mut malformed = Vec::new();
        while let Some(info) = reader.read_row(&mut record).expect("row") {
            count += 1;
            if let Some(m) = info.malformed {
                malformed.push((info.line, m));
            }
        }
        // P0, the malformed P1 (its first line holds P1 and the quote, then P0's filler row),
        // and every filler line after it as a row of its own.
        assert_eq!(malformed[0], (3, Malformed::TooLong));
        assert_eq!(count, 1 + 200_000);
        assert!(record.as_slice().len() < 100);
    }

    #[test]
    fn lines_end_with_lf_crlf_or_a_lone_cr() {
        let (rows, empty) = read("id,bp\rP1,120\r\rP2,130\r\nP3,140\n\nP4,1");
        let lines: Vec<u64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, [2, 4, 5, 7]);
        assert_eq!(empty.lines, [3, 6]);
    }

    #[test]
    fn utf16_is_recognised() {
        for (bytes, says) in [
            (
                b"\xFF\xFEi\0d\0\n\0".to_vec(),
                "little-endian, from its byte-order mark",
            ),
            (b"\0i\0d\0,\0b\0p\0\n".to_vec(), "big-endian"),
            (b"i\0d\0,\0b\0p\0\n\0".to_vec(), "little-endian"),
        ] {
            let mut reader = RowReader::new(bytes.as_slice(), b',');
            let err = reader
                .read_header(&mut csv::ByteRecord::new())
                .expect_err("utf-16");
            assert!(err.to_string().contains(says), "{err}");
        }
    }
}

#[cfg(test)]
mod empty_row_note_tests {
    use super::*;

    #[test]
    fn the_note_names_the_first_rows_or_every_one_when_verbose() {
        let mut short = EmptyRows::default();
        let mut every = EmptyRows {
            verbose: true,
            ..EmptyRows::default()
        };
        for line in 2..=26 {
            short.add(line);
            every.add(line);
        }
        let note = short.note().expect("a note");
        assert!(
            note.ends_with(", 21, and 5 more (--verbose names every one)"),
            "{note}"
        );
        let note = every.note().expect("a note");
        assert!(note.ends_with("lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26"), "{note}");
        assert_eq!(EmptyRows::default().note(), None);
    }
}
