//! The toolkit for the clinician who owns the rules: `ketascreen rules lint|test|show|template|export`.
//! This file is the command layer for those subcommands (like `app` for the others): it turns
//! the parsed arguments into a plan — which ruleset, which case files, which format — runs it,
//! and writes the result. The pieces below it (`testing`, `show`, `template`, `lint`) are pure
//! and never see clap types.

pub mod lint;
pub mod show;
pub mod template;
pub mod testing;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::{
    ExportFormat, LintFormat, RulesCommand, RulesTestArgs, ShowFormat, TemplateFormat,
};
use crate::front::{lint_ruleset, load_ruleset, UsageError};
use crate::ruleset::{self, LoadError, Ruleset};

/// Runs one `rules` subcommand. `rules` is the global `--rules` / `KETASCREEN_RULES`.
pub fn run(rules: Option<&Path>, command: RulesCommand) -> Result<ExitCode> {
    match command {
        RulesCommand::Lint {
            file,
            format,
            deny_warnings,
        } => {
            let format = match format {
                LintFormat::Text => lint::Format::Text,
                LintFormat::Json => lint::Format::Json,
            };
            lint_command(file.as_deref().or(rules), format, deny_warnings)
        }
        RulesCommand::Test(args) => test_command(rules, args),
        RulesCommand::Show { file, format } => {
            let format = match format {
                ShowFormat::Table => show::Format::Table,
                ShowFormat::Markdown => show::Format::Markdown,
            };
            let ruleset = load_ruleset(file.as_deref().or(rules))?;
            print(&show::render(&ruleset, format))
        }
        RulesCommand::Template { file, format } => {
            let format = match format {
                TemplateFormat::Csv => template::Format::Csv,
                TemplateFormat::Json => template::Format::Json,
                TemplateFormat::Yaml => template::Format::Yaml,
                TemplateFormat::Redcap => template::Format::Redcap,
            };
            let ruleset = load_ruleset(file.as_deref().or(rules))?;
            print(&template::render(&ruleset, format))
        }
        RulesCommand::Export { file, format } => {
            let ruleset = load_ruleset(file.as_deref().or(rules))?;
            match format {
                ExportFormat::Fhir => print(&crate::fhir::questionnaire::render(&ruleset)),
            }
        }
    }
}

fn print(text: &str) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn lint_command(
    file: Option<&Path>,
    format: lint::Format,
    deny_warnings: bool,
) -> Result<ExitCode> {
    let name = file
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| ruleset::BUILTIN_NAME.to_string());
    let linted = lint_ruleset(file);
    let (loaded, diagnostics) = match linted {
        Ok((rs, warnings)) => (Some(rs), warnings),
        Err(LoadError::Invalid { diagnostics, .. }) => (None, diagnostics),
        Err(e) => return Err(e.into()),
    };
    let report = lint::Report {
        name: &name,
        ruleset: loaded.as_ref(),
        diagnostics: &diagnostics,
        deny_warnings,
    };
    print(&lint::render(&report, format))?;
    Ok(if report.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The case files `rules test` runs when none are named: the ruleset's sibling
/// `NAME.tests.yaml`, or the built-in cases for the built-in ruleset.
fn default_cases(rules: Option<&Path>) -> Result<Vec<(String, String)>> {
    let Some(path) = rules else {
        return Ok(vec![(
            testing::BUILTIN_CASES_NAME.to_string(),
            testing::BUILTIN_CASES.to_string(),
        )]);
    };
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sibling: PathBuf = path.with_file_name(format!("{stem}.tests.yaml"));
    if !sibling.exists() {
        return Err(UsageError(format!(
            "no CASES given, and {} (next to the ruleset) does not exist: name the case files",
            sibling.display()
        ))
        .into());
    }
    Ok(vec![read_cases(&sibling)?])
}

fn read_cases(path: &Path) -> Result<(String, String)> {
    let name = path.display().to_string();
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read case file {name}"))?;
    Ok((name, text))
}

fn test_command(rules: Option<&Path>, args: RulesTestArgs) -> Result<ExitCode> {
    let ruleset: Ruleset = load_ruleset(rules)?;
    let files = if args.cases.is_empty() {
        default_cases(rules)?
    } else {
        args.cases
            .iter()
            .map(|p| read_cases(p))
            .collect::<Result<Vec<_>>>()?
    };
    let mut reports = Vec::with_capacity(files.len());
    for (name, text) in &files {
        reports.push(testing::run_file(&ruleset, text, name)?);
    }

    let mut out = std::io::stdout().lock();
    for report in &reports {
        out.write_all(testing::header(&ruleset, report).as_bytes())?;
        for i in 0..report.outcomes.len() {
            if args.quiet && report.outcomes[i].passed() {
                continue;
            }
            out.write_all(testing::case_text(&ruleset, report, i).as_bytes())?;
        }
    }
    let failed = reports.iter().any(|r| r.failed() > 0);
    let mut under = None;
    if args.coverage || args.fail_under.is_some() {
        let cov = testing::coverage(&ruleset, &reports);
        out.write_all(testing::coverage_text(&ruleset, &cov).as_bytes())?;
        if let Some(limit) = args.fail_under {
            if cov.percent() < limit {
                under = Some((cov.percent(), limit));
            }
        }
    }
    out.write_all(testing::summary(&reports).as_bytes())?;
    out.flush()?;
    if let Some((percent, limit)) = under {
        eprintln!("ketascreen: coverage {percent:.1}% is below --fail-under {limit}%");
    }
    Ok(if failed || under.is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
