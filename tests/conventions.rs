//! What a Unix user expects of a command-line tool: the man page's EXIT STATUS, ENVIRONMENT,
//! FILES and EXAMPLES sections; `--version` naming the built-in ruleset; every subcommand
//! calling itself `ketascreen`; the everyday commands first in the help.

use ketascreen::ruleset;

use crate::support::ks;

fn version_line() -> String {
    let rs = ruleset::builtin().expect("built-in ruleset");
    format!(
        "ketascreen {} (built-in ruleset {} {}, sha256 {})\n",
        env!("CARGO_PKG_VERSION"),
        rs.id,
        rs.version,
        rs.sha256
    )
}

#[test]
fn version_names_the_built_in_ruleset_and_subcommands_call_themselves_ketascreen() {
    // Regression: `ketascreen batch --version` printed `ketascreen-batch 0.1.0`.
    for args in [
        &["--version"][..],
        &["-V"],
        &["batch", "--version"],
        &["rules", "lint", "-V"],
    ] {
        let run = ks(args).run();
        assert_eq!(run.code, 0, "{args:?}");
        assert_eq!(run.stdout, version_line(), "{args:?}");
    }
    let run = ks(["batch"]).run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("Usage: ketascreen batch "),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("ketascreen-"), "{}", run.stderr);
}

#[test]
fn help_lists_the_everyday_commands_first() {
    let run = ks(["--help"]).run();
    let commands: Vec<&str> = run
        .stdout
        .split("Commands:\n")
        .nth(1)
        .expect("a Commands section")
        .lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        commands,
        [
            "interview",
            "check",
            "batch",
            "rules",
            "profile",
            "completions",
            "man",
            "help"
        ]
    );
}

#[test]
fn man_page_has_exit_status_environment_files_and_examples() {
    let run = ks(["man"]).run();
    assert_eq!(run.code, 0);
    let page = run.stdout;
    let order: Vec<usize> = [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH OPTIONS",
        ".SH SUBCOMMANDS",
        ".SH \"EXIT STATUS\"",
        ".SH ENVIRONMENT",
        ".SH FILES",
        ".SH EXAMPLES",
        ".SH VERSION",
    ]
    .iter()
    .map(|s| {
        page.find(s)
            .unwrap_or_else(|| panic!("{s} missing:\n{page}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    let section = |name: &str| {
        let start = page.find(name).expect("section");
        let rest = &page[start + name.len()..];
        rest[..rest.find(".SH").unwrap_or(rest.len())].to_string()
    };
    let exit = section(".SH \"EXIT STATUS\"");
    for status in ["\\fB0\\fR", "\\fB1\\fR", "\\fB2\\fR", "\\fB130\\fR"] {
        assert!(exit.contains(status), "{status}: {exit}");
    }
    let env = section(".SH ENVIRONMENT");
    for var in [
        "KETASCREEN_RULES",
        "KETASCREEN_PROFILE",
        "NO_COLOR",
        "\\fBCLICOLOR\\fR",
        "CLICOLOR_FORCE",
        "\\fBTERM\\fR",
    ] {
        assert!(env.contains(var), "{var}: {env}");
    }
    assert!(section(".SH FILES").contains("rules/ketamine.yaml"));
    assert!(section(".SH EXAMPLES").contains("rules export \\-\\-format fhir"));
    assert!(section(".SH VERSION").contains("built\\-in ruleset ketamine\\-default"));

    // `man --dir` writes the same top page beside the subcommands' pages.
    let dir = tempfile::tempdir().expect("tempdir");
    let run = ks(["man", "--dir", "."]).dir(dir.path()).run();
    assert_eq!(run.code, 0, "{run:?}");
    let written = std::fs::read_to_string(dir.path().join("ketascreen.1")).expect("written");
    assert_eq!(written, page);
    assert!(dir.path().join("ketascreen-batch.1").exists());
}

/// The `rust-version` numbers as comparable tuples: "1.88" and "1.88.0" are the same.
fn version_key(v: &str) -> (u64, u64, u64) {
    let mut parts = v.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

#[test]
fn rust_version_and_the_readme_minimum_match_the_newest_locked_dependency() {
    // Regression: the README said 1.85 while the locked proptest needs 1.88 for `cargo test`.
    // Offline, cargo can only describe the packages it has downloaded: on a fresh machine,
    // after `cargo test` built for this host, those are the host's (not, say, Windows-only
    // crates), so the metadata is asked for this host's packages.
    let root = crate::support::root();
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let version = std::process::Command::new(rustc)
        .arg("-vV")
        .output()
        .expect("rustc -vV runs");
    let host = String::from_utf8_lossy(&version.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc -vV names the host");
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .args(["--filter-platform", &host])
        .current_dir(&root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let members: Vec<&str> = meta["workspace_members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    let (newest, needed_by) = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| !members.contains(&p["id"].as_str().unwrap_or("")))
        .filter_map(|p| Some((p["rust_version"].as_str()?, p["name"].as_str()?)))
        .max_by_key(|(v, _)| version_key(v))
        .expect("some dependency declares a rust-version");
    let ours = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "ketascreen")
        .and_then(|p| p["rust_version"].as_str())
        .expect("Cargo.toml declares rust-version");
    assert_eq!(
        version_key(ours),
        version_key(newest),
        "Cargo.toml rust-version {ours}, but {needed_by} needs {newest}"
    );
    // Every "Rust ... X or newer" in the README and the guide says the same.
    let mut docs = vec![root.join("README.md")];
    if let Ok(dir) = std::fs::read_dir(root.join("docs")) {
        docs.extend(dir.filter_map(|e| e.ok()).map(|e| e.path()));
    }
    let mut stated = Vec::new();
    for doc in docs
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
    {
        let text = std::fs::read_to_string(doc).expect("readable");
        for (at, _) in text.match_indices(" or newer") {
            let before = &text[..at];
            let start = before
                .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
                .map_or(0, |i| i + 1);
            let version = &before[start..];
            if version.starts_with("1.") && before[..start].contains("Rust") {
                stated.push((doc.display().to_string(), version.to_string()));
            }
        }
    }
    assert!(
        !stated.is_empty(),
        "no 'Rust ... 1.NN or newer' in the README"
    );
    for (doc, version) in stated {
        assert_eq!(
            version_key(&version),
            version_key(newest),
            "{doc} says Rust {version} or newer; {needed_by} needs {newest}"
        );
    }
}
