//! The parse floor for `ketascreen batch` benchmarks: the csv crate alone reading a file with
//! the same reader settings batch uses (one reused `ByteRecord`, flexible row lengths) and
//! counting its data rows. Nothing is decided or written; batch cannot be faster than this.
//!
//! Usage: cargo run --release --example parse_floor -- intake.csv

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: parse_floor FILE.csv");
        return ExitCode::from(2);
    };
    let reader = csv::ReaderBuilder::new()
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_path(&path);
    let mut reader = match reader {
        Ok(r) => r,
        Err(e) => {
            eprintln!("parse_floor: cannot read {path}: {e}");
            return ExitCode::from(1);
        }
    };
    let mut record = csv::ByteRecord::new();
    let mut rows = 0u64;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => rows += 1,
            Ok(false) => break,
            Err(e) => {
                eprintln!("parse_floor: {path}: {e}");
                return ExitCode::from(1);
            }
        }
    }
    println!("{rows}");
    ExitCode::SUCCESS
}
