//! The command layer of `ketascreen profile lint|init|redcap` and the one place a profile file
//! is read for `batch --profile` and `check --profile`: files in, drafts and reports out on
//! stdout, exit status. The pieces it calls (`load`, `plan`, `draft`, `redcap`) are pure.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::{draft, load_str, redcap, Plan, Profile};
use crate::front::load_ruleset;
use crate::ruleset::Ruleset;

/// What `ketascreen profile` was asked to do, as plain values (`app` fills it from the
/// command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Check a profile (and, with `against`, that it fits an export's header).
    Lint {
        file: std::path::PathBuf,
        against: Option<std::path::PathBuf>,
    },
    /// Draft a profile from an export's header and first rows.
    Init {
        file: std::path::PathBuf,
        id: Option<String>,
    },
    /// Draft a profile from a REDCap data dictionary.
    Redcap {
        file: std::path::PathBuf,
        event: Vec<String>,
        id: Option<String>,
    },
}

/// Reads and checks a profile file against the ruleset in use.
pub fn load(path: &Path, ruleset: &Ruleset) -> Result<Profile> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read profile {shown}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "cannot read profile {shown}: not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok(load_str(&text, &shown, ruleset)?)
}

/// The delimiters `profile init` tries, in order of preference on a tie.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// How many rows `profile init` looks at for values that would not read.
const SAMPLE_ROWS: usize = 5000;

/// A CSV file's text, decoded leniently (a draft only names what it saw).
fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text.trim_start_matches('\u{feff}').to_string())
}

/// The delimiter that splits the header into the most fields.
fn detect_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or_default();
    DELIMITERS
        .iter()
        .copied()
        .max_by_key(|&d| {
            let fields = csv::ReaderBuilder::new()
                .delimiter(d)
                .has_headers(false)
                .from_reader(first.as_bytes())
                .records()
                .next()
                .and_then(|r| r.ok())
                .map(|r| r.len())
                .unwrap_or(0);
            // On a tie the earlier delimiter wins.
            (
                fields,
                std::cmp::Reverse(DELIMITERS.iter().position(|x| *x == d)),
            )
        })
        .unwrap_or(b',')
}

/// Reads a file's header and first rows.
fn sample(path: &Path, delimiter: Option<u8>, rows: usize) -> Result<draft::Sample> {
    let text = read_text(path)?;
    let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(&text));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header: Vec<String> = match records.next() {
        Some(r) => r
            .with_context(|| format!("cannot read {}", path.display()))?
            .iter()
            .map(str::to_string)
            .collect(),
        None => anyhow::bail!("{}: no header row: the file is empty", path.display()),
    };
    let rows = records
        .take(rows)
        .filter_map(|r| r.ok())
        .map(|r| r.iter().map(str::to_string).collect())
        .collect();
    Ok(draft::Sample {
        name: path.display().to_string(),
        delimiter,
        header,
        rows,
    })
}

fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Runs one `profile` subcommand. `rules` is the global `--rules` / `KETASCREEN_RULES`.
pub fn run(rules: Option<&Path>, command: Job) -> Result<ExitCode> {
    let ruleset = load_ruleset(rules)?;
    match command {
        Job::Lint { file, against } => {
            let profile = match load(&file, &ruleset) {
                Ok(p) => p,
                Err(e) => {
                    // The report is the command's output, as with `rules lint`.
                    print(&format!("{e:#}\n"))?;
                    return Ok(ExitCode::from(1));
                }
            };
            let mut report = format!(
                "{}: ok: profile '{}' for ruleset '{}' {}: {} mapped, {} {}, {} missing-data {}\nsha256 {}\n",
                profile.origin,
                profile.id,
                ruleset.id,
                ruleset.version,
                plural(profile.columns.len(), "question"),
                profile.forms.len(),
                if profile.forms.len() == 1 { "form" } else { "forms" },
                profile.missing_codes.len(),
                if profile.missing_codes.len() == 1 { "code" } else { "codes" },
                profile.sha256
            );
            if let Some(export) = against {
                let sample = sample(&export, profile.input.delimiter, 0)?;
                let header: Vec<&str> = sample.header.iter().map(String::as_str).collect();
                let name = export.display().to_string();
                let plan = match Plan::compile(&profile, &ruleset, &header, None, &name) {
                    Ok(plan) => plan,
                    Err(e) => {
                        print(&format!("{report}{e}\n"))?;
                        return Ok(ExitCode::from(1));
                    }
                };
                report.push_str(&fit_report(&ruleset, &plan, &name));
            }
            print(&report)?;
            Ok(ExitCode::SUCCESS)
        }
        Job::Init { file, id } => {
            let sample = sample(&file, None, SAMPLE_ROWS)?;
            print(&draft::init(&ruleset, &sample, id.as_deref()))?;
            Ok(ExitCode::SUCCESS)
        }
        Job::Redcap { file, event, id } => {
            let text = read_text(&file)?;
            let fields = redcap::read_dictionary(&text)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let name = file.display().to_string();
            print(&redcap::draft_profile(
                &ruleset,
                &fields,
                &name,
                &event,
                id.as_deref(),
            ))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// What a plan makes of an export's header, for `profile lint --against`: every column named.
fn fit_report(ruleset: &Ruleset, plan: &Plan, name: &str) -> String {
    let mut out = format!(
        "fits {name}: {} read, id column {}\n",
        plural(ruleset.questions.len() - plan.unasked.len(), "question"),
        plan.id
            .map(|i| format!("'{}'", plan.names[i]))
            .unwrap_or_else(|| "none (records are known by row number)".to_string())
    );
    if !plan.unmapped.is_empty() {
        let names: Vec<String> = plan
            .unmapped
            .iter()
            .map(|&i| format!("'{}'", draft::comment_text(&plan.names[i])))
            .collect();
        out.push_str(&format!(
            "{} left out (never read): {}\n",
            plural(plan.unmapped.len(), "column"),
            names.join(", ")
        ));
    }
    if !plan.unasked.is_empty() {
        let ids: Vec<&str> = plan
            .unasked
            .iter()
            .map(|&s| ruleset.questions[s].id.as_str())
            .collect();
        out.push_str(&format!(
            "{} with no column (unanswered in every row): {}\n",
            plural(ids.len(), "question"),
            ids.join(", ")
        ));
    }
    out
}
