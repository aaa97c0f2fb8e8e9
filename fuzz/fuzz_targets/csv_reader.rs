//! Any bytes through the batch's one CSV reader (stray-quote detection, recovery of swallowed
//! lines, empty rows): never a panic or a hang; rows come in line order; no record grows past
//! the cell bound; and input without a quote character reads exactly as the csv crate reads it,
//! less the empty rows, with nothing taken as malformed.
#![no_main]

use ketascreen::batch::reader::{RowReader, MAX_CELL_RUN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = RowReader::new(data, b',');
    let mut record = csv::ByteRecord::new();
    match reader.read_header(&mut record) {
        Ok(true) => {}
        Ok(false) | Err(_) => return,
    }
    let header_len = record.len();
    // Physical lines, ended by LF, CRLF or a lone CR (as for the csv crate).
    let lone_cr = data
        .windows(2)
        .filter(|w| w[0] == b'\r' && w[1] != b'\n')
        .count()
        + usize::from(data.last() == Some(&b'\r'));
    let lines = 1 + (memchr::memchr_iter(b'\n', data).count() + lone_cr) as u64;
    let mut rows: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut previous = 1;
    let mut malformed = 0;
    while let Some(info) = reader.read_row(&mut record).expect("reading bytes in memory cannot fail") {
        assert!(info.line > previous, "rows in line order: {} after {previous}", info.line);
        assert!(info.last_line >= info.line && info.last_line <= lines);
        previous = info.line;
        malformed += u64::from(info.malformed.is_some());
        rows.push(record.iter().map(<[u8]>::to_vec).collect());
    }
    let empty = reader.empty_rows().count;
    assert!(rows.len() as u64 + empty < lines + 1, "more rows than lines");
    if memchr::memchr(b'"', data).is_none() && data.len() < (MAX_CELL_RUN as usize) / 2 {
        assert_eq!(malformed, 0);
        let mut plain = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(data);
        let mut expected = Vec::new();
        let mut first = true;
        for r in plain.byte_records() {
            let r = r.expect("in memory");
            if first {
                first = false;
                assert_eq!(r.len(), header_len);
                continue;
            }
            if r.iter().all(|c| c.trim_ascii().is_empty()) {
                continue;
            }
            expected.push(r.iter().map(<[u8]>::to_vec).collect::<Vec<_>>());
        }
        assert_eq!(rows, expected);
    }
});
