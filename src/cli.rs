//! The command line as clap sees it. Nothing below this layer reads these types: `app`
//! turns them into a plan before any work starts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Screen adults for ketamine / esketamine therapy candidacy against a ruleset of
/// contraindications. Clinical decision support: the prescriber makes the treatment decision.
#[derive(Debug, Parser)]
#[command(name = "ketascreen", version, propagate_version = true)]
pub struct Cli {
    /// Ruleset file to use instead of the built-in default (rules/ketamine.yaml).
    #[arg(long, global = true, env = "KETASCREEN_RULES", value_name = "FILE")]
    pub rules: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Screen one patient's answers (JSON or YAML, from a file or stdin).
    Check(CheckArgs),
    /// Work with rulesets: lint.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Screen a CSV export of intake forms: one verdict per row, streamed.
    Batch(BatchArgs),
}

/// Output formats for verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Ndjson,
    Csv,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Answers file (JSON or YAML); `-` reads stdin.
    #[arg(value_name = "FILE", default_value = "-")]
    pub file: String,

    /// Output format [default: table on a terminal, json otherwise]
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Check a ruleset file and print every problem with its line and column.
    Lint {
        /// Ruleset file [default: --rules, or the built-in ruleset]
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// CSV file of intake forms, header row first; `-` reads stdin.
    #[arg(value_name = "FILE")]
    pub file: String,

    /// Output format [default: table on a terminal, ndjson otherwise; with --output, from the
    /// file's extension (.csv, .json, .ndjson/.jsonl), else ndjson]
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,

    /// Write the verdicts to FILE (atomically, mode 0600) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Read column COLUMN as question QUESTION (repeatable); `COLUMN=-` ignores a column.
    #[arg(long = "map", value_name = "COLUMN=QUESTION")]
    pub map: Vec<String>,

    /// The column holding the patient identifier [default: `id`, else `patient_id`]
    #[arg(long, value_name = "NAME")]
    pub id_column: Option<String>,

    /// Field delimiter: one ASCII character, e.g. ';' (or `tab`).
    #[arg(long, value_name = "C", default_value = ",")]
    pub delimiter: String,

    /// Exit with status 1 if any row had input errors.
    #[arg(long)]
    pub strict: bool,
}
