//! The command layer of `ketascreen rules lint|test|show|diff|impact|cases|template|export`:
//! turns the parsed arguments into a plan (which ruleset, which case files, which format), runs
//! the toolkit's pure pieces (`crate::toolkit`) and writes the result. The only part of the
//! rules toolkit that sees clap types.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::toolkit::{boundaries, diff, impact, intakes, lint, show, template, testing};

use crate::cli::{
    DiffFormat, ExportFormat, ImpactFormat, LintFormat, RulesCasesArgs, RulesCommand,
    RulesImpactArgs, RulesTestArgs, ShowFormat, TemplateFormat,
};
use crate::engine::{evaluate, evaluate_into, Detail};
use crate::front::{lint_ruleset, load_ruleset, Destination, Terminal, UsageError};
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
        RulesCommand::Cases(args) => cases_command(rules, args),
        RulesCommand::Impact(args) => impact_command(args),
        RulesCommand::Show { file, format } => {
            let format = match format {
                ShowFormat::Table => show::Format::Table,
                ShowFormat::Markdown => show::Format::Markdown,
            };
            let ruleset = load_ruleset(file.as_deref().or(rules))?;
            print(&show::render(&ruleset, format))
        }
        RulesCommand::Diff { old, new, format } => {
            let format = match format {
                DiffFormat::Text => diff::Format::Text,
                DiffFormat::Markdown => diff::Format::Markdown,
                DiffFormat::Json => diff::Format::Json,
            };
            let old = load_ruleset(Some(&old))?;
            let new = load_ruleset(new.as_deref().or(rules))?;
            print(&diff::render(&diff::diff(&old, &new), format))
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

/// Runs the named case files (or the default ones) against the ruleset.
fn run_cases(
    ruleset: &Ruleset,
    rules: Option<&Path>,
    cases: &[PathBuf],
) -> Result<Vec<testing::FileReport>> {
    let files = if cases.is_empty() {
        default_cases(rules)?
    } else {
        cases
            .iter()
            .map(|p| read_cases(p))
            .collect::<Result<Vec<_>>>()?
    };
    let mut reports = Vec::with_capacity(files.len());
    for (name, text) in &files {
        reports.push(testing::run_file(ruleset, text, name)?);
    }
    Ok(reports)
}

/// The profile (written for the new ruleset) as the old ruleset reads it: mappings to
/// questions the old ruleset does not have are left out, and named on stderr; the profile's
/// ruleset guard is checked against the new ruleset only. Its errors are placed in the
/// profile as the new ruleset loads it.
fn profile_for_old(path: &std::path::Path, old: &Ruleset) -> Result<crate::profile::Profile> {
    let shown = path.display().to_string();
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read profile {shown}"))?;
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("cannot read profile {shown}: {e}"))?;
    if let Some(head) = doc
        .get_mut("profile")
        .and_then(serde_yaml::Value::as_mapping_mut)
    {
        head.remove("ruleset");
    }
    let mut left_out = Vec::new();
    if let Some(columns) = doc
        .get_mut("columns")
        .and_then(serde_yaml::Value::as_mapping_mut)
    {
        columns.retain(|key, _| match key.as_str() {
            Some(id) if old.slot(id).is_none() => {
                left_out.push(id.to_string());
                false
            }
            _ => true,
        });
    }
    if !left_out.is_empty() {
        eprintln!(
            "ketascreen: note: {shown}: for the old ruleset ({} {}), left out the columns of questions it does not have: {}",
            old.id,
            old.version,
            left_out.join(", ")
        );
    }
    let filtered = serde_yaml::to_string(&doc)
        .map_err(|e| anyhow::anyhow!("cannot read profile {shown}: {e}"))?;
    Ok(crate::profile::load_str(
        &filtered,
        &format!("{shown} (as read for {} {})", old.id, old.version),
        old,
    )?)
}

fn impact_command(args: RulesImpactArgs) -> Result<ExitCode> {
    use std::io::Seek;

    let old = load_ruleset(Some(&args.old))?;
    let new = load_ruleset(Some(&args.new))?;
    let delimiter =
        crate::input::parse_delimiter(&args.delimiter).map_err(|e| UsageError(format!("--{e}")))?;
    let mapping = |rs: &Ruleset| {
        crate::batch::Mapping::parse(rs, &args.map, args.id_column.as_deref())
            .map_err(|e| UsageError(e.to_string()))
    };
    let (old_map, new_map) = (mapping(&old)?, mapping(&new)?);
    if args.profile.is_some() && !args.map.is_empty() {
        return Err(UsageError(
            "--map and --profile do not go together: map the columns under the profile's 'columns:'"
                .into(),
        )
        .into());
    }
    // The profile is checked against each ruleset (a question it maps must be in both).
    let profiles = match &args.profile {
        Some(path) => Some((
            profile_for_old(path, &old)?,
            crate::profile::command::load(path, &new)?,
        )),
        None => None,
    };
    let format = match args.format {
        ImpactFormat::Text => impact::Format::Text,
        ImpactFormat::Markdown => impact::Format::Markdown,
        ImpactFormat::Json => impact::Format::Json,
        ImpactFormat::Csv => impact::Format::Csv,
    };
    let output = args.output.as_deref().filter(|p| p.as_os_str() != "-");
    let mut destination = match output {
        Some(path) => Destination::create(path)?,
        None => Destination::Stdout(std::io::stdout().lock()),
    };

    let mut tally = impact::Tally::new(&old, &new, args.rows);
    // CSV: less cautious rows go out as they come; the others wait in a temporary file and
    // follow, so they are listed first while memory stays flat.
    let csv = format == impact::Format::Csv;
    let mut first = csv::Writer::from_writer(Vec::new());
    let mut later = match csv {
        true => Some(csv::Writer::from_writer(tempfile::tempfile()?)),
        false => None,
    };
    if csv {
        first.write_record(impact::CSV_HEADER)?;
    }
    let source = intakes::Source {
        file: &args.intakes,
        layout: args.input_format.map(|f| match f {
            crate::cli::InputFormatArg::Csv => crate::json_input::Layout::Csv,
            crate::cli::InputFormatArg::Ndjson => crate::json_input::Layout::Ndjson,
            crate::cli::InputFormatArg::Json => crate::json_input::Layout::Json,
        }),
        delimiter,
        mappings: [&old_map, &new_map],
        csv_options: !args.map.is_empty() || args.id_column.is_some() || args.delimiter != "auto",
        id_column: args.id_column.as_deref(),
        profiles: match &profiles {
            Some((o, n)) => [Some(o), Some(n)],
            None => [None, None],
        },
    };
    // Verdicts to overwrite row after row (any patient's will do to start with).
    let mut vo = evaluate(&old, &crate::answers::Answers::new(&old));
    let mut vn = evaluate(&new, &crate::answers::Answers::new(&new));
    let done = intakes::for_each_row(
        &source,
        [&old, &new],
        Terminal::detect(),
        |_, _, new_rs, new_columns| {
            crate::batch::command::warn_about_header(new_rs, new_columns, false)
        },
        |row, o, n| {
            // Impact shows no messages: leave the wording out, and reuse the two verdicts.
            evaluate_into(&old, o.answers, &mut vo, Detail::IdsOnly);
            evaluate_into(&new, n.answers, &mut vn, Detail::IdsOnly);
            let change = tally.add(row, n.id, (&vo, o.errors), (&vn, n.errors));
            if let (Some(c), Some(later)) = (change, later.as_mut()) {
                if c.less_cautious {
                    first.write_record(impact::csv_fields(&c))?;
                    let buffered = first.get_ref().len();
                    if buffered >= 1 << 16 {
                        first.flush()?;
                        destination.write_all(first.get_ref())?;
                        first = csv::Writer::from_writer(Vec::new());
                    }
                } else {
                    later.write_record(impact::csv_fields(&c))?;
                }
            }
            Ok(())
        },
    )?;
    for (side, rs) in [(0, &old), (1, &new)] {
        let questions = done.unasked[side]
            .iter()
            .filter(|&&s| rs.questions[s].kind != ruleset::Kind::Text)
            .map(|&s| rs.questions[s].id.clone())
            .collect();
        tally.no_column(side, questions);
    }
    let report = tally.finish(&done.name);
    match later {
        Some(later) => {
            first.flush()?;
            destination.write_all(first.get_ref())?;
            let mut file = later.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
            file.rewind()?;
            std::io::copy(&mut file, &mut destination)?;
            eprintln!(
                "ketascreen: {} of {} changed, {} less cautious (listed first)",
                report.changed,
                impact_rows(report.rows),
                report.less_cautious
            );
        }
        None => destination.write_all(impact::render(&report, format).as_bytes())?,
    }
    destination.commit()?;
    Ok(ExitCode::SUCCESS)
}

fn impact_rows(n: u64) -> String {
    format!("{n} row{}", if n == 1 { "" } else { "s" })
}

fn cases_command(rules: Option<&Path>, args: RulesCasesArgs) -> Result<ExitCode> {
    let ruleset: Ruleset = load_ruleset(rules)?;
    let reports = run_cases(&ruleset, rules, &args.cases)?;
    let cov = boundaries::coverage(&ruleset, &reports);
    let drafts = boundaries::drafts(&ruleset, &reports, &cov);
    let failing: usize = reports.iter().map(testing::FileReport::failed).sum();
    if failing > 0 {
        eprintln!(
            "ketascreen: {failing} case{} failing: failing cases are not counted as covered, nor used as a base",
            if failing == 1 { " is" } else { "s are" }
        );
    }
    eprintln!(
        "ketascreen: {} boundary case{} drafted, {} gap{} left to write by hand",
        drafts.cases.len(),
        if drafts.cases.len() == 1 { "" } else { "s" },
        drafts.unfilled.len(),
        if drafts.unfilled.len() == 1 { "" } else { "s" }
    );
    print(&boundaries::render_drafts(&ruleset, &drafts))
}

fn test_command(rules: Option<&Path>, args: RulesTestArgs) -> Result<ExitCode> {
    let ruleset: Ruleset = load_ruleset(rules)?;
    let reports = run_cases(&ruleset, rules, &args.cases)?;

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
