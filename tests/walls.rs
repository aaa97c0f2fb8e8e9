//! The walls around the core: the ruleset, the condition language, the answers and the engine
//! read no files, touch no terminal and know no output format or front end. This test reads
//! their source and fails on a forbidden `use` or call, so the compiler's view of the layers
//! cannot drift quietly (ripgrep gets this from separate crates; we keep the design card's
//! one crate and check it here).

use std::path::{Path, PathBuf};

/// What the core must not name: front ends, renderers, I/O crates and the file system.
const FORBIDDEN: [&str; 22] = [
    "serde_json",
    "csv::",
    "clap",
    "inquire",
    "comfy_table",
    "indicatif",
    "signal_hook",
    "tempfile",
    "std::fs",
    "File::",
    "stdin()",
    "stdout()",
    "stderr()",
    "println!",
    "eprintln!",
    "crate::app",
    "crate::cli",
    "crate::front",
    "crate::output",
    "crate::batch",
    "crate::interview",
    "crate::patient",
];

fn core_files() -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src.join("answers.rs"), src.join("engine.rs")];
    for dir in ["expr", "ruleset"] {
        let mut found: Vec<PathBuf> = std::fs::read_dir(src.join(dir))
            .expect("core directory")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .collect();
        found.sort();
        files.extend(found);
    }
    files
}

/// Every forbidden name in the text outside comments, as `file:line: name`.
fn breaches(file: &Path, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        for name in FORBIDDEN {
            if code.contains(name) {
                out.push(format!("{}:{}: {name}", file.display(), n + 1));
            }
        }
    }
    out
}

#[test]
fn the_core_names_no_file_system_terminal_output_format_or_front_end() {
    let files = core_files();
    assert!(files.len() >= 10, "{files:?}");
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        found.extend(breaches(file, &text));
    }
    assert!(
        found.is_empty(),
        "the core reaches outside its walls:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_wall_check_catches_a_forbidden_use() {
    let text = "use crate::answers::Value;\nuse serde_json::Value as Json; // no\n// std::fs in a comment is fine\nlet f = std::fs::read(p);\n";
    assert_eq!(
        breaches(Path::new("x.rs"), text),
        ["x.rs:2: serde_json", "x.rs:4: std::fs"]
    );
}

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("source directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// clap stops at the command line: only `cli.rs` (the clap types), `app/` (which turns them
/// into plain plans), `main.rs` and the completions/man generation in `cli.rs` name them.
#[test]
fn clap_types_stop_at_the_command_line_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for file in rust_files(&src) {
        let relative = file.strip_prefix(&src).expect("under src");
        if relative.starts_with("app")
            || relative == Path::new("cli.rs")
            || relative == Path::new("main.rs")
        {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains("crate::cli") || code.contains("clap::") || code.contains("use clap") {
                found.push(format!("{}:{}", relative.display(), n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "clap types below the CLI layer:\n{}",
        found.join("\n")
    );
}
