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
    /// Screen one patient by asking the questions at the terminal (the intake nurse's
    /// interview). Bare `ketascreen` on a terminal starts it too.
    Interview(InterviewArgs),
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
pub struct InterviewArgs {
    /// When done, write the answers and the verdict here (JSON, mode 0600). An existing file
    /// is never overwritten, except the one given to --resume. Until then the answers are
    /// kept in a draft beside it: `visit.json` -> `visit.draft.json`.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,

    /// Continue an interview from its draft (or from a saved interview or an answers file):
    /// the answers given are kept and the questions not gone through yet are asked.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
}
