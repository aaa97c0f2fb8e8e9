//! Any text as a condition over the default ruleset's questions: parses and type-checks or
//! errors with a span inside the text; a compiled condition evaluates without panicking.
#![no_main]

use std::sync::OnceLock;

use ketascreen::answers::Answers;
use ketascreen::ruleset::Ruleset;
use libfuzzer_sys::fuzz_target;

fn rules() -> &'static Ruleset {
    static RULES: OnceLock<Ruleset> = OnceLock::new();
    RULES.get_or_init(|| ketascreen::ruleset::builtin().expect("built-in ruleset loads"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let rs = rules();
    match ketascreen::expr::parse(text) {
        Ok(ast) => match ketascreen::expr::compile(&ast, &rs.questions) {
            Ok(cond) => {
                let answers = Answers::new(rs);
                let seen = ketascreen::engine::seen(rs, &answers);
                let _ = cond.eval(&seen);
            }
            Err(errors) => {
                for e in errors {
                    assert!(e.span.start <= e.span.end && e.span.end <= text.len());
                }
            }
        },
        Err(e) => assert!(e.span.start <= e.span.end && e.span.end <= text.len(), "{e:?}"),
    }
});
