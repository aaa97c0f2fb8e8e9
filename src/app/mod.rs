//! From parsed arguments to work done: resolves the CLI into a plan (which ruleset, which
//! format, terminal or not — decided once, up front), runs the command, and writes results to
//! stdout and messages to stderr. Returns the exit status; errors go back to `main`.

mod rules;

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::{CheckArgs, Cli, Command};
use crate::engine;
use crate::output::{self, Format, Record};
use crate::patient;
use crate::ruleset::Ruleset;

use crate::front::{format_of, load_ruleset, Terminal, UsageError};

/// Runs the command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let term = Terminal::detect();
    match cli.command {
        Some(Command::Check(args)) => check(cli.rules.as_deref(), args, term),
        Some(Command::Rules { command }) => rules::run(cli.rules.as_deref(), command),
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
                format: args.format.map(|f| {
                    use crate::batch::command::Output;
                    use crate::cli::BatchFormatArg as Arg;
                    match f {
                        Arg::Table => Output::Records(Format::Table),
                        Arg::Json => Output::Records(Format::Json),
                        Arg::Ndjson => Output::Records(Format::Ndjson),
                        Arg::Csv => Output::Records(Format::Csv),
                        Arg::Xlsx => Output::Xlsx,
                    }
                }),
                excel: args.excel.map(|separator| {
                    separator.map(|s| match s {
                        crate::cli::ExcelSeparator::Comma => b',',
                        crate::cli::ExcelSeparator::Semicolon => b';',
                    })
                }),
                output: args.output,
                map: args.map,
                id_column: args.id_column,
                delimiter: args.delimiter,
                encoding: args.encoding,
                sheet: args.sheet,
                decimal: args.decimal,
                verbose: args.verbose,
                strict: args.strict,
                profile: args.profile,
                input_format: args.input_format.map(|f| match f {
                    crate::cli::InputFormatArg::Csv => crate::json_input::Layout::Csv,
                    crate::cli::InputFormatArg::Ndjson => crate::json_input::Layout::Ndjson,
                    crate::cli::InputFormatArg::Json => crate::json_input::Layout::Json,
                }),
            },
            term,
        ),
        Some(Command::Profile { command }) => {
            use crate::cli::ProfileCommand;
            use crate::profile::command::Job;
            let job = match command {
                ProfileCommand::Lint { file, against } => Job::Lint { file, against },
                ProfileCommand::Init { file, id } => Job::Init { file, id },
                ProfileCommand::Redcap { file, event, id } => Job::Redcap { file, event, id },
            };
            crate::profile::command::run(cli.rules.as_deref(), job)
        }
        Some(Command::Interview(args)) => crate::interview::run(
            crate::interview::Options {
                rules: cli.rules,
                save: args.save,
                resume: args.resume,
                from: args.from,
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
    let profile = match &args.profile {
        Some(path) => Some(crate::profile::command::load(path, &ruleset)?),
        None => None,
    };
    let patient = match &profile {
        None => read_patient(&ruleset, &args.file, &text)?,
        Some(profile) => {
            let doc = patient::parse_document(&text)
                .with_context(|| format!("cannot read answers from {}", shown(&args.file)))?;
            patient::from_document_with_profile(&ruleset, &doc, profile, shown(&args.file))
                .map_err(|e| match e {
                    patient::ProfiledError::Document(d) => anyhow::Error::new(d)
                        .context(format!("cannot read answers from {}", shown(&args.file))),
                    other => anyhow::anyhow!("{other}"),
                })?
        }
    };
    if profile.is_some() && !patient.unknown_keys.is_empty() {
        // An export's record has many keys no question reads: one line, not one per key.
        let n = patient.unknown_keys.len();
        let mut names: Vec<String> = patient
            .unknown_keys
            .iter()
            .take(20)
            .map(|(k, _)| format!("'{k}'"))
            .collect();
        if n > 20 {
            names.push(format!("and {} more", n - 20));
        }
        eprintln!(
            "ketascreen: note: ignoring {n} {} the profile and the ruleset do not read (never echoed): {}",
            if n == 1 { "key" } else { "keys" },
            names.join(", ")
        );
    }
    for (key, hint) in patient.unknown_keys.iter().filter(|_| profile.is_none()) {
        let hint = crate::suggest::hint(hint.as_deref());
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
        profile: profile.map(|p| output::ProfileId {
            id: p.id,
            sha256: p.sha256,
        }),
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

/// One patient's answers from `check`'s input: an answers document (JSON or YAML, or a saved
/// interview), a FHIR QuestionnaireResponse, or a Bundle holding exactly one. Anything else
/// (another FHIR resource, an array, NDJSON) is named, with the command that reads it.
fn read_patient(ruleset: &Ruleset, file: &str, text: &str) -> Result<patient::Patient> {
    let name = shown(file);
    let batch_file = if file == "-" { "FILE" } else { file };
    let doc = match patient::parse_document(text) {
        Ok(doc) => doc,
        Err(e) => {
            if let Some(lines) = ndjson_lines(text) {
                anyhow::bail!(
                    "{name} holds NDJSON ({lines} JSON documents, one per line), not one patient's \
                     answers: screen them with 'ketascreen batch {batch_file} --input-format ndjson'"
                );
            }
            return Err(anyhow::Error::new(e).context(format!("cannot read answers from {name}")));
        }
    };
    match (crate::fhir::resource_type(&doc), &doc) {
        (Some("QuestionnaireResponse"), _) => crate::fhir::response::read(ruleset, &doc)
            .with_context(|| format!("cannot read answers from {name}")),
        (Some("Bundle"), _) => {
            let responses = crate::fhir::response::bundle_responses(&doc);
            match responses.as_slice() {
                [one] => crate::fhir::response::read(ruleset, one).with_context(|| {
                    format!("cannot read answers from {name} (its one QuestionnaireResponse)")
                }),
                [] => anyhow::bail!(
                    "{name} is a FHIR Bundle with no QuestionnaireResponse: nothing to screen"
                ),
                many => anyhow::bail!(
                    "{name} is a FHIR Bundle of {} QuestionnaireResponses; check screens one \
                     patient: screen them all with 'ketascreen batch {batch_file}'",
                    many.len()
                ),
            }
        }
        (Some("Questionnaire"), _) => anyhow::bail!(
            "{name} is a FHIR Questionnaire (the form), not answers: check reads a \
             QuestionnaireResponse to it"
        ),
        (Some(other), _) => anyhow::bail!(
            "{name} is a FHIR {} resource, not answers: check reads a QuestionnaireResponse \
             (or a Bundle holding one) or an answers object (question id: value)",
            answers_echo(other)
        ),
        (None, serde_json::Value::Array(items)) => anyhow::bail!(
            "{name} holds a JSON array of {} items, not one patient's answers: screen them \
             with 'ketascreen batch {batch_file} --input-format json'",
            items.len()
        ),
        (None, _) => patient::from_document(ruleset, &doc)
            .with_context(|| format!("cannot read answers from {name}")),
    }
}

fn answers_echo(text: &str) -> String {
    crate::answers::echo(text).escape_debug().to_string()
}

/// When `text` is two or more lines that are each one JSON value (NDJSON), how many.
fn ndjson_lines(text: &str) -> Option<usize> {
    let mut lines = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty());
    let first = lines.next()?;
    serde_json::from_str::<serde::de::IgnoredAny>(first).ok()?;
    let mut count = 1;
    for line in lines {
        if !line.starts_with(['{', '[']) {
            return None;
        }
        count += 1;
    }
    (count >= 2).then_some(count)
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
