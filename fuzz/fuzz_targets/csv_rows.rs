//! Any bytes as a CSV intake export: one record per data row or a clear error, never a panic;
//! the same bytes on one thread and on several; never `eligible` or `review` while an
//! exclude or review rule is undecided.
#![no_main]

use std::sync::OnceLock;

use ketascreen::batch::command::screen_bytes;
use ketascreen::output::Format;
use ketascreen::ruleset::Ruleset;
use libfuzzer_sys::fuzz_target;

fn rules() -> &'static Ruleset {
    static RULES: OnceLock<Ruleset> = OnceLock::new();
    RULES.get_or_init(|| ketascreen::ruleset::builtin().expect("built-in ruleset loads"))
}

fuzz_target!(|data: &[u8]| {
    let rs = rules();
    let Ok((summary, one)) = screen_bytes(rs, data, Format::Ndjson, 1) else { return };
    let (_, two) = screen_bytes(rs, data, Format::Ndjson, 2).expect("the same input screens on two threads");
    assert_eq!(one, two, "thread count changed the output");
    let lines: Vec<&[u8]> = one.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len() as u64, summary.rows, "one record per data row");
    for line in lines {
        let record: serde_json::Value = serde_json::from_slice(line).expect("each record is JSON");
        let missing = record["missing"].as_array().map_or(0, Vec::len);
        let verdict = record["verdict"].as_str().unwrap_or("");
        assert!(missing == 0 || !matches!(verdict, "eligible" | "review"), "{record}");
    }
});
