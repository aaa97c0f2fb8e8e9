//! From parsed arguments to work done: resolves the CLI into a plan (which ruleset, which
//! format, terminal or not — decided once, up front), runs the command, and writes results to
//! stdout and messages to stderr. Returns the exit status; errors go back to `main`.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::{CheckArgs, Cli, Command};
use crate::engine;
use crate::output::{self, Format, Record};
use crate::patient;
use crate::ruleset::Ruleset;
use crate::toolkit;

use crate::front::{format_of, load_ruleset, Terminal, UsageError};

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
        Some(Command::Batch(args)) => crate::batch::command::run(
            cli.rules.as_deref(),
            crate::batch::command::Options {
                file: args.file,
                format: args.format.map(Format::from),
                output: args.output,
                map: args.map,
                id_column: args.id_column,
                delimiter: args.delimiter,
                strict: args.strict,
            },
            term,
        ),
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
    let format = format_of(args.format.map(Format::from), term.stdout, Format::Json);
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
    let (verdict, explanation) = if args.explain {
        let (verdict, explanation) = engine::explain(&ruleset, &patient.answers);
        (verdict, Some(explanation))
    } else {
        (engine::evaluate(&ruleset, &patient.answers), None)
    };
    let record = Record {
        id: patient.id,
        row: None,
        verdict,
        errors: patient.errors,
    };
    let mut out = std::io::stdout().lock();
    if let Some(explanation) = &explanation {
        output::explain::write(
            &mut out,
            &ruleset,
            explanation,
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
