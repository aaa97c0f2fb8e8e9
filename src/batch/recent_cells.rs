//! A small per-column memory of recently parsed cells. Intake exports repeat themselves: a
//! yes/no column holds two or three spellings, a choice column a handful of ids or labels, and
//! most cells are the same as the cell above. So each column remembers the cell it last read
//! into the answers — when the next row's cell is the same bytes, the answer is already there
//! and nothing is done at all — and the last few distinct cells it parsed with what
//! `answers::parse_text` made of them. `parse_text` stays the one place that parses: a cell is
//! only ever remembered with `parse_text`'s own answer for exactly those bytes and that
//! question; invalid cells (which need their message each time) and text answers are never
//! remembered. Cells of up to 8 bytes — most of them — are compared as one machine word.
//! Everything a column needs sits in one `Column`, so the usual row touches little memory.
//!
//! Kept because it pays (issue 12's with/without run): one thread, `--format csv`, a 127k-row
//! slice of `bench/batch.sh`'s 1M-row file, `perf record`: reading the cells took 98 of 570
//! samples without this module (`parse_text` 52, `from_utf8` 46) against 32 of 321 with it
//! (`read_slow` 25, `parse_text` 7) — about 11% of the whole run saved.

use crate::answers::{parse_digits, parse_text, Answers, InvalidValue, Value};
use crate::ruleset::{Kind, Question, Slot};

/// Distinct cells remembered per column, short and long each.
const WAYS: usize = 4;
/// Longer cells are not remembered among the distinct ones (only as the last cell).
const LONG: usize = 64;

/// Why a cell gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CellProblem {
    NotUtf8,
    Invalid(InvalidValue),
}

/// A cell of at most 8 bytes as one word (little-endian, zero-padded), and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Short {
    word: u64,
    len: u8,
}

impl Short {
    /// The cell `buf[start..end]`, read as one word when 8 bytes from `start` are in `buf`.
    #[inline]
    pub fn at(buf: &[u8], start: usize, end: usize) -> Option<Short> {
        let len = end.checked_sub(start)?;
        if len > 8 {
            return None;
        }
        let word = match buf.get(start..start + 8) {
            Some(eight) => {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(eight);
                u64::from_le_bytes(bytes) & mask(len)
            }
            None => {
                let mut word = 0u64;
                for (i, &b) in buf.get(start..end)?.iter().enumerate() {
                    word |= u64::from(b) << (8 * i);
                }
                word
            }
        };
        Some(Short {
            word,
            len: len as u8,
        })
    }
}

/// The mask of a word's first `len` bytes (`len` at most 8).
#[inline]
fn mask(len: usize) -> u64 {
    // Two shifts, as one by 64 would overflow.
    ((1u64 << (4 * len)) << (4 * len)).wrapping_sub(1)
}

/// `last_len` when the last cell is not a short one (or there is none).
const NO_SHORT: usize = usize::MAX;

/// How one question column is read, row after row.
#[derive(Debug, Clone)]
pub struct Column {
    /// Index of the column in the record.
    pub column: usize,
    pub slot: Slot,
    /// The cell last read into the answers, while the answers still hold what it parsed to:
    /// when short, its length (else `NO_SHORT`), its word and the mask of its length — so
    /// that `is_last` is one length and one word compare — and when long, its bytes.
    last_len: usize,
    last_word: u64,
    /// The short last cell as `is_last` finds it in the 8 bytes that end where it ends (its
    /// word moved to the top), and the mask of those bytes.
    last_top: u64,
    last_top_mask: u64,
    last_long: Option<Vec<u8>>,
    short: Vec<(Short, Option<Value>)>,
    long: Vec<(Vec<u8>, Option<Value>)>,
    /// The entries to replace next, round robin.
    next_short: usize,
    next_long: usize,
    /// False for text questions, which are never remembered.
    remember_last: bool,
    /// Only yes/no and choice cells are remembered among the distinct ones: numbers take too
    /// many values for a few entries to help.
    remember_distinct: bool,
}

impl Column {
    pub fn new(column: usize, slot: Slot, question: &Question) -> Self {
        Column {
            column,
            slot,
            last_len: NO_SHORT,
            last_word: 0,
            last_top: 0,
            last_top_mask: 0,
            last_long: None,
            short: Vec::with_capacity(WAYS),
            long: Vec::new(),
            next_short: 0,
            next_long: 0,
            remember_last: !matches!(question.kind, Kind::Text),
            remember_distinct: matches!(question.kind, Kind::YesNo | Kind::Choice(_)),
        }
    }

    /// Whether `buf[start..end]` is the short cell this column last read into the answers,
    /// whose answer is still set (`false` also when the cell ends before the 8th byte of
    /// `buf`: `read_new` then tells). Every question cell of a batch goes through here first,
    /// so it is a length compare and one masked compare of the 8 bytes that end where the cell
    /// ends (which, unlike the 8 from its start, are in the record for its last cells too).
    #[inline]
    pub fn is_last(&self, buf: &[u8], start: usize, end: usize) -> bool {
        end.wrapping_sub(start) == self.last_len
            && buf
                .get(end.wrapping_sub(8)..end)
                .and_then(<[u8]>::first_chunk::<8>)
                .is_some_and(|eight| {
                    u64::from_le_bytes(*eight) & self.last_top_mask == self.last_top
                })
    }

    /// Sets `answers[self.slot]` to what `parse_text(question, cell)` makes of the cell
    /// `buf[start..end]` — or leaves it alone when the cell is the one this column last set it
    /// from, as it already holds that answer. On a bad cell the answer is set to unanswered and
    /// the problem returned. `question` must be the one at `self.slot`.
    #[inline]
    pub fn read_into(
        &mut self,
        question: &Question,
        buf: &[u8],
        start: usize,
        end: usize,
        answers: &mut Answers,
    ) -> Result<(), CellProblem> {
        if self.is_last(buf, start, end) {
            return Ok(());
        }
        self.read_new(question, buf, start, end, answers)
    }

    /// `read_into` past its `is_last` test. Inlined into batch's `read_cell`, its one caller
    /// per cell: reading the cells past `is_last` took 42.4M instructions for 20k rows of
    /// ruleset 1.0.0 as a call, 39.9M so (-6%; whole run -0.8%); one thread, csv, callgrind.
    #[inline(always)]
    pub fn read_new(
        &mut self,
        question: &Question,
        buf: &[u8],
        start: usize,
        end: usize,
        answers: &mut Answers,
    ) -> Result<(), CellProblem> {
        let short = Short::at(buf, start, end);
        let cell = buf.get(start..end).unwrap_or_default();
        let same = match (short, &self.last_long) {
            (Some(short), _) => {
                usize::from(short.len) == self.last_len && short.word == self.last_word
            }
            (None, Some(last)) => last[..] == *cell,
            (None, None) => false,
        };
        if same {
            return Ok(());
        }
        match self.lookup(question, cell, short) {
            Ok(value) => {
                answers.set(self.slot, value);
                let long = self.last_long.take();
                self.last_len = NO_SHORT;
                if self.remember_last {
                    match short {
                        Some(short) => {
                            self.last_len = usize::from(short.len);
                            self.last_word = short.word;
                            let shift = 64 - 8 * u32::from(short.len);
                            self.last_top = short.word.checked_shl(shift).unwrap_or(0);
                            self.last_top_mask = u64::MAX.checked_shl(shift).unwrap_or(0);
                        }
                        None => {
                            let mut last = long.unwrap_or_default();
                            last.clear();
                            last.extend_from_slice(cell);
                            self.last_long = Some(last);
                        }
                    }
                }
                Ok(())
            }
            Err(problem) => {
                answers.set(self.slot, None);
                self.forget_last();
                Err(problem)
            }
        }
    }

    /// The answer for a cell: remembered, or parsed (and then remembered).
    fn lookup(
        &mut self,
        question: &Question,
        cell: &[u8],
        short: Option<Short>,
    ) -> Result<Option<Value>, CellProblem> {
        if self.remember_distinct {
            let found = match short {
                Some(short) => self.short.iter().find(|(s, _)| *s == short).map(|e| &e.1),
                None => self.long.iter().find(|(l, _)| l[..] == *cell).map(|e| &e.1),
            };
            if let Some(value) = found {
                return Ok(value.clone());
            }
        }
        if let Some(number) = parse_digits(question, cell) {
            return Ok(Some(number)); // numbers are not remembered among the distinct cells
        }
        let text = std::str::from_utf8(cell).map_err(|_| CellProblem::NotUtf8)?;
        let value = parse_text(question, text).map_err(CellProblem::Invalid)?;
        if self.remember_distinct {
            match short {
                Some(short) => remember(&mut self.short, &mut self.next_short, short, &value),
                None if cell.len() <= LONG => {
                    remember(&mut self.long, &mut self.next_long, cell.to_vec(), &value)
                }
                None => {}
            }
        }
        Ok(value)
    }

    /// The answers were changed behind this column's back (a row whose cells were not read).
    pub fn forget_last(&mut self) {
        self.last_len = NO_SHORT;
        self.last_long = None;
    }
}

fn remember<K>(
    entries: &mut Vec<(K, Option<Value>)>,
    next: &mut usize,
    key: K,
    value: &Option<Value>,
) {
    if entries.len() < WAYS {
        entries.push((key, value.clone()));
    } else {
        entries[*next] = (key, value.clone());
        *next = (*next + 1) % WAYS;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ruleset::builtin;

    #[test]
    fn short_cells_pack_the_same_wherever_they_sit() {
        let buf = b"no,yes,N,,a cell longer than eight";
        let cells = [(0, 2), (3, 6), (7, 8), (9, 9), (10, 34)];
        for (start, end) in cells {
            let near_end = buf[..end].to_vec();
            assert_eq!(
                Short::at(buf, start, end),
                Short::at(&near_end, start, end),
                "{start}..{end}"
            );
        }
        assert_eq!(Short::at(buf, 10, 34), None);
        assert_ne!(Short::at(buf, 0, 2), Short::at(b"no\0", 0, 3));
        assert_ne!(Short::at(buf, 9, 9), Short::at(b"\0", 0, 1));
    }

    #[test]
    fn remembered_cells_read_exactly_as_parse_text() {
        let rs = builtin().expect("loads");
        let cells: [&[u8]; 22] = [
            b"no",
            b"No",
            b"N",
            b"0",
            b"yes",
            b" yes ",
            b"Y",
            b"TRUE",
            b"",
            b"unknown",
            b"maybe",
            b"146",
            b"400",
            b"146.0",
            b"current",
            b"Yes, current",
            b"CURRENT",
            b"curent",
            b"not_pregnant",
            b"n\xffo",
            b"a cell that is much longer than 64 bytes, \
            so it is never remembered among the distinct ones",
            b"major_depressive_disorder",
        ];
        for (slot, q) in rs.questions.iter().enumerate() {
            let mut column = Column::new(0, slot, q);
            let mut answers = Answers::new(&rs);
            // Several rounds in a changing order, each cell twice in a row, so that entries
            // are replaced and hit and the last cell is reused.
            for round in 0..5 {
                for i in 0..cells.len() {
                    let cell = cells[(i * (round + 1)) % cells.len()];
                    // The cell inside a longer buffer, as it sits in a record: its first,
                    // a middle or its last cell (`is_last` reads the 8 bytes up to its end).
                    let place = (i + round) % 3;
                    let mut buf = Vec::new();
                    if place > 0 {
                        buf.extend_from_slice(b"P-0000001yes");
                    }
                    let start = buf.len();
                    buf.extend_from_slice(cell);
                    if place < 2 {
                        buf.extend_from_slice(b",yes,no,1234567890");
                    }
                    let end = start + cell.len();
                    for _ in 0..2 {
                        let got = column.read_into(q, &buf, start, end, &mut answers);
                        let expected = std::str::from_utf8(cell)
                            .map_err(|_| CellProblem::NotUtf8)
                            .and_then(|t| parse_text(q, t).map_err(CellProblem::Invalid));
                        assert_eq!(got, expected.as_ref().map(|_| ()).map_err(Clone::clone));
                        assert_eq!(
                            answers.get(slot),
                            expected.ok().flatten().as_ref(),
                            "{} {:?}",
                            q.id,
                            String::from_utf8_lossy(cell)
                        );
                    }
                }
            }
        }
    }
}
