//! Duplicate patient ids across the rows of one batch. A repeated id is reported in the errors
//! of the rows that carry it — never dropped, never merged: every row is still screened.
//!
//! A streamed record cannot be amended once written, so *both* rows can only be marked if the
//! repeats are known before the first of them is written. For a regular file they are: a
//! pre-scan reads the id column with the csv crate (`prescan`), hashes each id to 64 bits
//! and sorts the hashes; only if some hash repeats does a second pass collect the rows of
//! those ids. The sorted hashes (8 bytes per row with an id, the only part of a batch that
//! grows with the row count) are freed before screening starts; what is kept is the rows of
//! the repeated ids. Stdin cannot be read twice, so there (`online`) the later row names the
//! earlier one and the earlier record stays unmarked; the caller says so on stderr. The online
//! check remembers up to `ONLINE_IDS` distinct ids, so its memory is bounded too. Ids are
//! compared, after trimming surrounding spaces, by their 64-bit hash: for a million distinct
//! ids the chance that two share one (and are reported as duplicates) is about 3 in 100
//! million.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::io::{self, Read};

/// The hash an id is known by, over its trimmed bytes (std's SipHash with fixed keys).
pub fn id_hash(id: &[u8]) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(id.trim_ascii())
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

    /// Reads column `id_column` of every record of a CSV file with the csv crate and keeps
    /// the rows of the ids that occur more than once. `open` opens the file from its start (it
    /// is called a second time only when some id repeats). Returns them with the row count.
    pub fn prescan<R: Read>(
        open: impl Fn() -> io::Result<R>,
        delimiter: u8,
        id_column: usize,
        keep: &dyn Fn(&csv::ByteRecord) -> bool,
    ) -> io::Result<(Self, u64)> {
        let mut hashes: Vec<u64> = Vec::new();
        let rows = each_id(open()?, delimiter, id_column, keep, |_, id| {
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
            each_id(open()?, delimiter, id_column, keep, |row, id| {
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

/// Calls `f` with the number and the id cell of every data row (after the header) of a CSV
/// document, read with the csv crate as the batch reads it; returns the row count.
/// Calls `f` with the number and id of every row that `keep` keeps (rows a profile leaves out
/// keep their numbers but are no patients); returns how many were kept.
fn each_id<R: Read>(
    input: R,
    delimiter: u8,
    id_column: usize,
    keep: &dyn Fn(&csv::ByteRecord) -> bool,
    mut f: impl FnMut(u64, &[u8]),
) -> io::Result<u64> {
    let mut reader = super::reader::RowReader::new(input, delimiter);
    let mut record = csv::ByteRecord::new();
    let (mut rows, mut kept) = (0, 0);
    reader.read_header(&mut record)?;
    while reader.read_row(&mut record)?.is_some() {
        rows += 1;
        if keep(&record) {
            kept += 1;
            f(rows, record.get(id_column).unwrap_or_default());
        }
    }
    Ok(kept)
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
            Duplicates::prescan(|| Ok(data.as_bytes()), b',', 1, &|_| true).expect("reads");
        assert_eq!(rows, 4);
        assert!(d.check(1, b"A").is_some());
        assert!(d.check(2, b"B\nB").is_none());
        assert_eq!(
            d.check(4, b"A").as_deref(),
            Some("duplicate id: also on row 1; each row is screened on its own answers")
        );
        let (mut d, _) =
            Duplicates::prescan(|| Ok(&b"id\nA\nB\n"[..]), b',', 0, &|_| true).expect("reads");
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
}
