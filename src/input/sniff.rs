//! Which of `, ; \t |` separates a CSV file's columns, judged from its first records: the
//! header must split into more than one column and the rows below into as many, and — what
//! decides in the end — the header must name questions. A header that maps to nothing with
//! one delimiter but does with another is never taken silently: detection picks the one that
//! maps, and a delimiter the user named is refused with the one that would have worked.
//! Works on decoded UTF-8 text; knows questions only through the caller's `maps` count.

use super::InputError;

/// The delimiters tried, in order of preference when all else is equal.
pub const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// How many records are looked at.
const RECORDS: usize = 50;

/// How one delimiter splits the start of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Split {
    delimiter: u8,
    header: Vec<String>,
    /// Rows (after the header) with as many fields as the header.
    even_rows: usize,
    /// How many header columns name something (the caller's count).
    maps: usize,
}

fn split(head: &[u8], complete: bool, delimiter: u8, maps: &dyn Fn(&[String]) -> usize) -> Split {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(head);
    let mut lens = Vec::new();
    let mut header = Vec::new();
    let mut record = csv::ByteRecord::new();
    while lens.len() < RECORDS {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            _ => break,
        }
        if lens.is_empty() {
            header = record
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
        }
        lens.push(record.len());
    }
    // The last record of a cut-off head may be cut off itself.
    if !complete && lens.len() > 1 && lens.len() < RECORDS {
        lens.pop();
    }
    let even_rows = lens.iter().skip(1).filter(|&&n| n == header.len()).count();
    let maps = if header.len() > 1 { maps(&header) } else { 0 };
    Split {
        delimiter,
        header,
        even_rows,
        maps,
    }
}

/// Names a delimiter for messages.
pub fn name(delimiter: u8) -> String {
    match delimiter {
        b'\t' => "tab".to_string(),
        d => format!("'{}'", char::from(d)),
    }
}

/// The delimiter to read `head` (the decoded start of the file; `complete` when it is the
/// whole file) with: `given` if the user named one, else the best candidate. Returns it and
/// whether it was detected. `maps` counts the header columns that name a question or the id.
pub fn choose(
    head: &[u8],
    complete: bool,
    given: Option<u8>,
    maps: &dyn Fn(&[String]) -> usize,
) -> Result<(u8, bool), InputError> {
    let splits: Vec<Split> = CANDIDATES
        .iter()
        .filter(|&&d| Some(d) != given)
        .map(|&d| split(head, complete, d, maps))
        .collect();
    let best_other = splits
        .iter()
        .filter(|s| s.header.len() > 1)
        .max_by_key(|s| {
            (
                s.maps,
                s.even_rows,
                s.header.len(),
                std::cmp::Reverse(rank(s.delimiter)),
            )
        });
    if let Some(given) = given {
        let mine = split(head, complete, given, maps);
        if let Some(other) = best_other.filter(|o| mine.maps == 0 && o.maps > 0) {
            return Err(InputError::WrongDelimiter {
                given: name(given),
                found: name(other.delimiter),
                maps: other.maps,
            });
        }
        return Ok((given, false));
    }
    Ok(best_other.map_or((b',', true), |s| (s.delimiter, true)))
}

fn rank(delimiter: u8) -> usize {
    CANDIDATES
        .iter()
        .position(|&d| d == delimiter)
        .unwrap_or(CANDIDATES.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts columns named like a question here: any name starting with `q`, or `id`.
    fn maps(header: &[String]) -> usize {
        header
            .iter()
            .filter(|h| h.trim().starts_with('q') || h.trim() == "id")
            .count()
    }

    fn auto(text: &str) -> u8 {
        choose(text.as_bytes(), true, None, &maps)
            .expect("chosen")
            .0
    }

    #[test]
    fn detects_each_delimiter() {
        assert_eq!(auto("id,q1,q2\na,1,2\n"), b',');
        assert_eq!(auto("id;q1;q2\na;1,5;2\n"), b';');
        assert_eq!(auto("id\tq1\tq2\na\t1\t2\n"), b'\t');
        assert_eq!(auto("id|q1|q2\na|1|2\n"), b'|');
    }

    #[test]
    fn one_column_or_empty_is_comma() {
        assert_eq!(auto("id\na\n"), b',');
        assert_eq!(auto(""), b',');
    }

    #[test]
    fn the_header_that_maps_wins_over_a_more_even_split() {
        // Split at ',' the header has two columns that name nothing, and every row is even;
        // split at ';' it names questions.
        assert_eq!(auto("x,y;q1;q2\n1,2;3;4\n"), b';');
    }

    #[test]
    fn even_rows_decide_between_headers_that_map_alike() {
        // Nothing maps either way: the split that gives every row as many fields wins.
        assert_eq!(auto("a,b;c\n1;2\n3;4\n"), b';');
        assert_eq!(auto("a,b;c\n1,2\n3,4\n"), b',');
    }

    #[test]
    fn quoted_delimiters_do_not_count() {
        assert_eq!(auto("id,\"q1;q2\",q3\na,\"x;y\",1\n"), b',');
    }

    #[test]
    fn a_cut_off_last_record_is_not_held_against_a_delimiter() {
        let head = "id;q1;q2\na;1;2\nb;3";
        assert_eq!(
            choose(head.as_bytes(), false, None, &maps).ok(),
            Some((b';', true))
        );
    }

    #[test]
    fn a_given_delimiter_that_maps_nothing_is_refused_when_another_maps() {
        let err = choose(b"id;q1;q2\na;1;2\n", true, Some(b','), &maps).expect_err("refused");
        assert_eq!(
            err.to_string(),
            "the header names no question when split at ',', but 3 columns when split at ';': give --delimiter ';' (or leave --delimiter out to detect it)"
        );
        assert_eq!(
            choose(b"id;q1\n", true, Some(b';'), &maps).ok(),
            Some((b';', false))
        );
        // Nothing maps either way: the user's choice stands (the header check says the rest).
        assert_eq!(
            choose(b"a;b\n", true, Some(b','), &maps).ok(),
            Some((b',', false))
        );
    }

    #[test]
    fn names() {
        assert_eq!(name(b'\t'), "tab");
        assert_eq!(name(b';'), "';'");
    }
}
