//! The command line as clap sees it. Nothing below this layer reads these types: `app`
//! turns them into a plan before any work starts.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

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
    /// Work with rulesets: lint, test, show, template.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Print a shell completion script to stdout.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout, or write one page per command into a directory.
    Man {
        /// Write ketascreen.1 and one page per subcommand into DIR instead. A page that is
        /// already there (or a symlink by its name) is never replaced: nothing is written.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Screen one patient by asking the questions at the terminal (the intake nurse's
    /// interview). Bare `ketascreen` on a terminal starts it too.
    Interview(InterviewArgs),
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

impl From<FormatArg> for crate::output::Format {
    fn from(arg: FormatArg) -> Self {
        match arg {
            FormatArg::Table => Self::Table,
            FormatArg::Json => Self::Json,
            FormatArg::Ndjson => Self::Ndjson,
            FormatArg::Csv => Self::Csv,
        }
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Answers file (JSON or YAML); `-` reads stdin.
    #[arg(value_name = "FILE", default_value = "-")]
    pub file: String,

    /// Output format [default: table on a terminal, json otherwise]
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,

    /// Also explain every rule: its condition with each answer and result, and why skipped
    /// questions did not count (table: after the verdict; json/ndjson: an `explain` field).
    #[arg(long)]
    pub explain: bool,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Check a ruleset file and print every problem with its line and column.
    Lint {
        /// Ruleset file [default: --rules, or the built-in ruleset]
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,

        /// Output format: text with source snippets, or a JSON array of diagnostics.
        #[arg(long, value_enum, default_value_t = LintFormat::Text)]
        format: LintFormat,

        /// Fail (exit 1) on warnings too, not only on errors.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Run rule case files: answers in, expected verdict and fired rules out.
    Test(RulesTestArgs),
    /// Print the whole ruleset as a document to review and sign off.
    Show {
        /// Ruleset file [default: --rules, or the built-in ruleset]
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,

        #[arg(long, value_enum, default_value_t = ShowFormat::Table)]
        format: ShowFormat,
    },
    /// Print a blank intake: every question id, in interview order.
    Template {
        /// Ruleset file [default: --rules, or the built-in ruleset]
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,

        /// csv: the header row; json: an answers skeleton; yaml: a skeleton with comments.
        #[arg(long, value_enum, default_value_t = TemplateFormat::Yaml)]
        format: TemplateFormat,
    },
}

#[derive(Debug, Args)]
pub struct RulesTestArgs {
    /// Case files [default: the ruleset's sibling NAME.tests.yaml with --rules, or the
    /// built-in cases for the built-in ruleset]
    #[arg(value_name = "CASES")]
    pub cases: Vec<PathBuf>,

    /// Also show, for every exclude and review rule, whether passing cases made it fire, not
    /// fire and be undecided, and list the gaps.
    #[arg(long)]
    pub coverage: bool,

    /// Exit 1 when coverage is below PERCENT (implies --coverage).
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub fail_under: Option<f64>,

    /// Print only failing cases and the summary.
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_percent(s: &str) -> Result<f64, String> {
    let t = s.trim().trim_end_matches('%');
    match t.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("'{s}' is not a percentage from 0 to 100")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    Table,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateFormat {
    Csv,
    Json,
    Yaml,
}

/// Writes the completion script for `shell`, generated from this definition. It is built in
/// memory first: the generator panics on a write error, and a closed pipe is not a panic.
pub fn write_completions(shell: clap_complete::Shell, out: &mut dyn Write) -> std::io::Result<()> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "ketascreen", &mut script);
    out.write_all(&script)
}

/// Writes the top-level man page, generated from this definition.
pub fn write_man(out: &mut dyn Write) -> std::io::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(out)
}

/// Writes `ketascreen.1` and one page per subcommand into `dir`.
///
/// Never replaces a file and never writes through a symlink: if any page's name is taken in
/// `dir` (by a file or a symlink), nothing is written and the error names it; each page is
/// created exclusively, so one that appears meanwhile is not replaced either.
pub fn write_man_pages(dir: &Path) -> std::io::Result<()> {
    fn collect(cmd: clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            collect(sub, out)?;
        }
        let man = clap_mangen::Man::new(cmd);
        let mut page = Vec::new();
        man.render(&mut page)?;
        out.push((man.get_filename(), page));
        Ok(())
    }
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = Vec::new();
    collect(cmd, &mut pages)?;
    let taken: Vec<String> = pages
        .iter()
        .filter(|(name, _)| crate::front::exists(&dir.join(name)))
        .map(|(name, _)| name.clone())
        .collect();
    if !taken.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!(
                "{} already exist{} there and would be replaced; remove the old pages or choose an empty directory",
                taken.join(", "),
                if taken.len() == 1 { "s" } else { "" }
            ),
        ));
    }
    for (name, page) in pages {
        let path = dir.join(&name);
        crate::front::create_new(&path, &page)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{name}: {e}")))?;
    }
    Ok(())
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
