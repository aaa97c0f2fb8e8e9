//! Colour and width like ripgrep, fd and bat: `--color`, `NO_COLOR`, `CLICOLOR=0`,
//! `CLICOLOR_FORCE` and `TERM=dumb`, each checked by counting escape codes in our own output and
//! in clap's help, into a pipe and on a real pseudo-terminal; and a terminal that reports 0 or 1
//! columns laid out at 80.

use std::process::Command;

use rexpect::reader::Options;
use rexpect::session::spawn_with_options;

use crate::support::ks;

const TABLE: [&str; 4] = ["check", "examples/patient.json", "--format", "table"];

/// How many ANSI escape sequences a text holds.
fn escapes(text: &str) -> usize {
    text.matches("\x1b[").count()
}

/// Runs into a pipe with exactly these colour variables (the harness's NO_COLOR removed).
fn piped(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut run = ks(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CI");
    for (k, v) in env {
        run = run.env(k, v);
    }
    let out = run.run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout
}

/// Runs on a pseudo-terminal of `cols` columns with exactly these variables; all it printed.
fn on_terminal(args: &[&str], cols: u16, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!(
            r#"stty rows 50 cols {cols} 2>/dev/null; exec "$0" "$@""#
        ))
        .arg(env!("CARGO_BIN_EXE_ketascreen"))
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CI")
        .env_remove("KETASCREEN_RULES")
        .env("TERM", "xterm")
        .current_dir(crate::support::root());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let options = Options::new()
        .timeout_ms(Some(30_000))
        .strip_ansi_escape_codes(false);
    let mut session = spawn_with_options(cmd, options).expect("starts in a pty");
    let raw = session.exp_eof().expect("runs to the end");
    // rexpect hands back each byte as a char; put the UTF-8 back together.
    let bytes: Vec<u8> = raw.chars().map(|c| c as u32 as u8).collect();
    String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
}

#[test]
fn into_a_pipe_colour_only_when_forced_or_asked() {
    // The verdict banner is the one coloured line of this record: two escapes (on, off).
    assert_eq!(escapes(&piped(&TABLE, &[])), 0);
    assert_eq!(escapes(&piped(&TABLE, &[("CLICOLOR_FORCE", "1")])), 2);
    // Empty is unset. (Any other value forces, `0` included: anstream's reading, which clap's
    // help follows too; one policy matters more than bixense.com's `!= 0`.)
    assert_eq!(escapes(&piped(&TABLE, &[("CLICOLOR_FORCE", "")])), 0);
    assert_eq!(
        escapes(&piped(
            &TABLE,
            &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]
        )),
        0,
        "NO_COLOR wins over CLICOLOR_FORCE"
    );
    let mut always = TABLE.to_vec();
    always.extend(["--color", "always"]);
    assert_eq!(escapes(&piped(&always, &[("NO_COLOR", "1")])), 2);
    let mut never = TABLE.to_vec();
    never.push("--color=never");
    assert_eq!(escapes(&piped(&never, &[("CLICOLOR_FORCE", "1")])), 0);
}

#[test]
fn clap_help_follows_the_same_policy() {
    assert_eq!(escapes(&piped(&["--help"], &[])), 0);
    let forced = escapes(&piped(&["--help"], &[("CLICOLOR_FORCE", "1")]));
    assert!(forced > 10, "{forced}");
    assert_eq!(
        escapes(&piped(
            &["--help"],
            &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]
        )),
        0
    );
    assert_eq!(
        escapes(&piped(
            &["--color", "never", "--help"],
            &[("CLICOLOR_FORCE", "1")]
        )),
        0
    );
    assert_eq!(
        escapes(&piped(&["batch", "--help", "--color=always"], &[])),
        escapes(&piped(&["batch", "--help"], &[("CLICOLOR_FORCE", "1")]))
    );
    assert!(escapes(&piped(&["batch", "--help", "--color=always"], &[])) > 10);
}

#[test]
fn on_a_terminal_colour_unless_no_color_clicolor_0_term_dumb_or_never() {
    let coloured = on_terminal(&TABLE, 120, &[]);
    assert_eq!(escapes(&coloured), 2, "{coloured}");
    for env in [
        &[("NO_COLOR", "1")][..],
        &[("CLICOLOR", "0")],
        &[("TERM", "dumb")],
    ] {
        let out = on_terminal(&TABLE, 120, env);
        assert_eq!(escapes(&out), 0, "{env:?}: {out}");
    }
    // An empty NO_COLOR is not set, as no-color.org says.
    assert_eq!(escapes(&on_terminal(&TABLE, 120, &[("NO_COLOR", "")])), 2);
    let mut never = TABLE.to_vec();
    never.extend(["--color", "never"]);
    assert_eq!(escapes(&on_terminal(&never, 120, &[])), 0);
    // clap's help on the same terminal.
    assert!(escapes(&on_terminal(&["--help"], 120, &[])) > 10);
    assert_eq!(
        escapes(&on_terminal(&["--help"], 120, &[("TERM", "dumb")])),
        0
    );
    assert_eq!(
        escapes(&on_terminal(&["--help"], 120, &[("CLICOLOR", "0")])),
        0
    );
}

#[test]
fn a_terminal_reporting_0_or_1_columns_gets_80() {
    // Regression: a width of 0 laid the verdict table out one letter per line.
    let at_80 = on_terminal(&TABLE, 80, &[("NO_COLOR", "1")]);
    assert!(at_80.contains("│ review"), "{at_80}");
    let table_width = at_80
        .lines()
        .find(|l| l.starts_with('┌'))
        .map(|l| l.chars().count());
    assert_eq!(table_width, Some(80), "{at_80}");
    assert_eq!(on_terminal(&TABLE, 0, &[("NO_COLOR", "1")]), at_80);
    assert_eq!(on_terminal(&TABLE, 1, &[("NO_COLOR", "1")]), at_80);
    // A real narrow terminal is still honoured.
    assert_ne!(on_terminal(&TABLE, 60, &[("NO_COLOR", "1")]), at_80);
}
