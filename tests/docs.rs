//! The documentation is tested: every ```console block in README.md and docs/*.md is run against
//! the real binary (by trycmd) and its output compared with what the page shows. A changed output
//! fails here with a diff; `TRYCMD=overwrite cargo test --test main docs::` rewrites the pages
//! with the new output (review the diff before committing it).

use crate::support::root;

#[test]
fn documented_commands_print_what_the_docs_show() {
    let root = root();
    let cases = trycmd::TestCases::new();
    cases
        .register_bin(
            "ketascreen",
            std::path::Path::new(env!("CARGO_BIN_EXE_ketascreen")),
        )
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .case(root.join("README.md"));
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/ exists") {
        let path = entry.expect("docs/ is readable").path();
        if path.extension().is_some_and(|e| e == "md") {
            cases.case(path);
        }
    }
}
