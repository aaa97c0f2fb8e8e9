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
