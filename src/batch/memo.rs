//! A small per-column memory of recently parsed cells. Intake exports repeat themselves: a
//! yes/no column holds two or three spellings, a choice column a handful of ids or labels. Each
//! column remembers the last few distinct cells it parsed (up to 32 bytes) and what
//! `answers::parse_text` made of them, so a repeated cell costs a comparison instead of a parse.
//! `parse_text` stays the one place that parses: a cell is only ever remembered with
//! `parse_text`'s own answer for that exact text and question, and invalid cells (which need
//! their message) and text answers are never remembered.

use crate::answers::{parse_text, Answers, InvalidValue, Value};
use crate::ruleset::{Kind, Question, Slot};

/// Cells longer than this many bytes are parsed every time.
const KEY_WORDS: usize = 4;
const KEY: usize = KEY_WORDS * 8;
/// Distinct cells remembered per column.
const WAYS: usize = 4;

/// A short cell's bytes packed into words, with its length: compared in a few instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    len: usize,
    words: [u64; KEY_WORDS],
}

impl Key {
    #[inline]
    fn of(bytes: &[u8]) -> Option<Key> {
        if bytes.len() > KEY {
            return None;
        }
        let mut words = [0u64; KEY_WORDS];
        for (i, &b) in bytes.iter().enumerate() {
            words[i / 8] |= u64::from(b) << ((i % 8) * 8);
        }
        Some(Key {
            len: bytes.len(),
            words,
        })
    }
}

/// The memory of one column.
#[derive(Debug, Clone)]
pub struct Memo {
    /// The cell last read into the answers, while the answers still hold what it parsed to.
    last: Option<Key>,
    entries: Vec<(Key, Option<Value>)>,
    /// The entry to replace next, round robin.
    next: usize,
    /// False for text questions, which are not remembered.
    enabled: bool,
}

impl Memo {
    pub fn new(question: &Question) -> Self {
        Memo {
            last: None,
            entries: Vec::with_capacity(WAYS),
            next: 0,
            enabled: !matches!(question.kind, Kind::Text),
        }
    }

    /// `parse_text(question, raw)`, remembered. `question` must be the one this memo was made for.
    #[cfg(test)]
    pub fn parse(&mut self, question: &Question, raw: &str) -> Result<Option<Value>, InvalidValue> {
        match Key::of(raw.as_bytes()) {
            Some(key) if self.enabled => self.lookup(question, raw, key),
            _ => parse_text(question, raw),
        }
    }

    fn lookup(
        &mut self,
        question: &Question,
        raw: &str,
        key: Key,
    ) -> Result<Option<Value>, InvalidValue> {
        for (known, value) in &self.entries {
            if *known == key {
                return Ok(value.clone());
            }
        }
        let value = parse_text(question, raw)?;
        if self.entries.len() < WAYS {
            self.entries.push((key, value.clone()));
        } else {
            self.entries[self.next] = (key, value.clone());
            self.next = (self.next + 1) % WAYS;
        }
        Ok(value)
    }

    /// Sets `answers[slot]` to `parse_text(question, raw)` — or leaves it alone when `raw` is
    /// the cell this column last set it from, as it already holds that answer. On an invalid
    /// cell the answer is set to unanswered and the error returned.
    #[inline]
    pub fn read_into(
        &mut self,
        question: &Question,
        slot: Slot,
        raw: &str,
        answers: &mut Answers,
    ) -> Result<(), InvalidValue> {
        let key = Key::of(raw.as_bytes()).filter(|_| self.enabled);
        if key.is_some() && key == self.last {
            return Ok(());
        }
        let parsed = match key {
            Some(key) => self.lookup(question, raw, key),
            None => parse_text(question, raw),
        };
        match parsed {
            Ok(value) => {
                answers.set(slot, value);
                self.last = key;
                Ok(())
            }
            Err(e) => {
                answers.set(slot, None);
                self.last = None;
                Err(e)
            }
        }
    }

    /// The answers were changed behind this memo's back (a row whose cells were not read).
    pub fn forget_last(&mut self) {
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ruleset::builtin;

    #[test]
    fn remembered_cells_parse_exactly_as_parse_text() {
        let rs = builtin().expect("loads");
        let cells = [
            "no",
            "No",
            "N",
            "0",
            "yes",
            " yes ",
            "Y",
            "TRUE",
            "",
            "unknown",
            "maybe",
            "146",
            "400",
            "146.0",
            "current",
            "Yes, current",
            "CURRENT",
            "curent",
            "not_pregnant",
            "a cell that is much longer than thirty-two bytes",
        ];
        for (slot, q) in rs.questions.iter().enumerate() {
            let mut memo = Memo::new(q);
            let mut read = Memo::new(q);
            let mut answers = crate::answers::Answers::new(&rs);
            // Several rounds, in a changing order, so entries are replaced and hit.
            for round in 0..5 {
                for i in 0..cells.len() {
                    let raw = cells[(i * (round + 1)) % cells.len()];
                    assert_eq!(memo.parse(q, raw), parse_text(q, raw), "{} {raw:?}", q.id);
                    // Read twice into the answers: the second read keeps what the first set.
                    for _ in 0..2 {
                        let result = read.read_into(q, slot, raw, &mut answers);
                        let expected = parse_text(q, raw);
                        assert_eq!(result, expected.as_ref().map(|_| ()).map_err(Clone::clone));
                        assert_eq!(
                            answers.get(slot),
                            expected.ok().flatten().as_ref(),
                            "{raw:?}"
                        );
                    }
                }
            }
        }
    }
}
