//! Any bytes as a ruleset file: loads or reports located errors, never panics or hangs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        match ketascreen::ruleset::load_str(text, "fuzz.yaml") {
            Ok(rs) => {
                let answers = ketascreen::answers::Answers::new(&rs);
                let _ = ketascreen::engine::evaluate(&rs, &answers);
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
