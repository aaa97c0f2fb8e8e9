//! From parsed arguments to work done: resolves the CLI into a plan (which ruleset, which
//! format, terminal or not — decided once, up front), runs the command, and writes results to
//! stdout and messages to stderr. Returns the exit status; errors go back to `main`.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::{CheckArgs, Cli, Command, FormatArg};
use crate::engine::evaluate;
use crate::output::{self, Format, Record};
use crate::patient;
use crate::ruleset::{self, LoadError, Ruleset};
use crate::toolkit;

/// Bad usage, reported with exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// What the process learnt about its surroundings, once.
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

impl Terminal {
    pub fn detect() -> Self {
        Terminal {
            stdin: std::io::stdin().is_terminal(),
            stdout: std::io::stdout().is_terminal(),
            stderr: std::io::stderr().is_terminal(),
        }
    }
}

/// Loads the ruleset named by `--rules`/`KETASCREEN_RULES`, or the built-in one.
pub fn load_ruleset(path: Option<&Path>) -> Result<Ruleset, LoadError> {
    match path {
        Some(p) => ruleset::load_file(p),
        None => ruleset::builtin(),
    }
}

pub fn format_of(
    arg: Option<FormatArg>,
    stdout_is_terminal: bool,
    piped_default: Format,
) -> Format {
    match arg {
        Some(FormatArg::Table) => Format::Table,
        Some(FormatArg::Json) => Format::Json,
        Some(FormatArg::Ndjson) => Format::Ndjson,
        Some(FormatArg::Csv) => Format::Csv,
        None if stdout_is_terminal => Format::Table,
        None => piped_default,
    }
}

/// Runs the command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let term = Terminal::detect();
    match cli.command {
        Some(Command::Check(args)) => check(cli.rules.as_deref(), args, term),
        Some(Command::Rules { command }) => toolkit::run(cli.rules.as_deref(), command),
        Some(Command::Completions { shell }) => {
            crate::cli::write_completions(shell, &mut std::io::stdout().lock())?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man { dir }) => {
            match dir {
                Some(dir) => crate::cli::write_man_pages(&dir)
                    .with_context(|| format!("cannot write man pages to {}", dir.display()))?,
                None => crate::cli::write_man(&mut std::io::stdout().lock())?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Batch(args)) => crate::batch::command::run(cli.rules.as_deref(), args, term),
        Some(Command::Interview(args)) => crate::interview::run(
            crate::interview::Options {
                rules: cli.rules,
                save: args.save,
                resume: args.resume,
                bare: false,
            },
            term,
        ),
        // Bare `ketascreen`: the interview on a terminal, a usage error elsewhere.
        None => crate::interview::run(
            crate::interview::Options {
                rules: cli.rules,
                bare: true,
                ..Default::default()
            },
            term,
        ),
    }
}

fn read_input(file: &str, term: Terminal) -> Result<String> {
    let bytes = if file == "-" {
        if term.stdin {
            return Err(UsageError("no answers given: name a FILE, or pipe JSON/YAML into stdin (e.g. 'ketascreen check - < answers.json')".into()).into());
        }
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read stdin")?;
        buf
    } else {
        std::fs::read(file).with_context(|| format!("cannot read {file}"))?
    };
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            shown(file),
            e.utf8_error().valid_up_to()
        )
    })
}

fn shown(file: &str) -> &str {
    if file == "-" {
        "<stdin>"
    } else {
        file
    }
}

fn check(rules: Option<&Path>, args: CheckArgs, term: Terminal) -> Result<ExitCode> {
    let format = format_of(args.format, term.stdout, Format::Json);
    if args.explain && format == Format::Csv {
        return Err(UsageError(
            "--explain works with --format table, json or ndjson, not csv".into(),
        )
        .into());
    }
    let ruleset = load_ruleset(rules)?;
    let text = read_input(&args.file, term)?;
    let doc = patient::parse_document(&text)
        .with_context(|| format!("cannot read answers from {}", shown(&args.file)))?;
    let patient = patient::from_document(&ruleset, &doc)
        .with_context(|| format!("cannot read answers from {}", shown(&args.file)))?;
    for (key, hint) in &patient.unknown_keys {
        let hint = hint
            .as_ref()
            .map(|h| format!("; did you mean '{h}'?"))
            .unwrap_or_default();
        eprintln!(
            "ketascreen: warning: ignoring {}: no such question in ruleset '{}'{hint}",
            output::escape::quoted(key),
            ruleset.id
        );
    }
    let verdict = evaluate(&ruleset, &patient.answers);
    let record = Record {
        id: patient.id,
        row: None,
        verdict,
        errors: patient.errors,
    };
    let mut out = std::io::stdout().lock();
    if args.explain {
        output::explain::write(
            &mut out,
            &ruleset,
            &patient.answers,
            &record,
            format,
            output::color_allowed(term.stdout),
        )?;
    } else {
        write_record(
            &mut out,
            &ruleset,
            &record,
            format,
            output::color_allowed(term.stdout),
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Writes one record in a format (CSV with its header).
pub fn write_record(
    out: &mut dyn Write,
    ruleset: &Ruleset,
    record: &Record,
    format: Format,
    color: bool,
) -> Result<()> {
    match format {
        Format::Table => out.write_all(output::table::render(ruleset, record, color).as_bytes())?,
        Format::Json => output::json::write(out, ruleset, record, true)?,
        Format::Ndjson => output::json::write(out, ruleset, record, false)?,
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(output::csv::HEADER)?;
            w.write_record(output::csv::fields(ruleset, record))?;
            w.flush()?;
        }
    }
    Ok(())
}
