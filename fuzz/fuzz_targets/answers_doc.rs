//! Any bytes as one patient's answers (JSON or YAML): a verdict or a clear error, and never
//! `eligible` while an exclude or review rule is undecided.
#![no_main]

use std::sync::OnceLock;

use ketascreen::engine::Status;
use ketascreen::ruleset::Ruleset;
use libfuzzer_sys::fuzz_target;

fn rules() -> &'static Ruleset {
    static RULES: OnceLock<Ruleset> = OnceLock::new();
    RULES.get_or_init(|| ketascreen::ruleset::builtin().expect("built-in ruleset loads"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let rs = rules();
    let Ok(doc) = ketascreen::patient::parse_document(text) else { return };
    let Ok(patient) = ketascreen::patient::from_document(rs, &doc) else { return };
    let verdict = ketascreen::engine::evaluate(rs, &patient.answers);
    if !verdict.missing.is_empty() {
        assert!(!matches!(verdict.status, Status::Eligible | Status::Review));
    }
    let record = ketascreen::output::Record { id: patient.id, row: None, verdict, errors: patient.errors };
    let _ = ketascreen::output::json::to_value(rs, &record, None);
});
