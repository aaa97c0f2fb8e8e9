//! The command line as clap sees it. Nothing below this layer reads these types: `app`
//! turns them into a plan before any work starts.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

/// Screen adults for ketamine / esketamine therapy candidacy against a ruleset of
/// contraindications. Clinical decision support: the prescriber makes the treatment decision.
#[derive(Debug, Parser)]
#[command(name = "ketascreen", version, propagate_version = true)]
pub struct Cli {
    /// Ruleset file to use instead of the built-in default (rules/ketamine.yaml).
    #[arg(long, global = true, env = "KETASCREEN_RULES", value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// When to use colour: auto (a terminal, unless NO_COLOR, CLICOLOR=0 or TERM=dumb says
    /// otherwise; CLICOLOR_FORCE forces it), always, or never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorArg::Auto)]
    pub color: ColorArg,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `batch --input-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormatArg {
    Csv,
    Ndjson,
    Json,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

// `display_order` puts the everyday commands first in the help: interview, check, batch,
// rules, profile, then completions and man.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Screen one patient's answers (JSON or YAML, or a FHIR QuestionnaireResponse; from a
    /// file or stdin).
    #[command(display_order = 2)]
    Check(CheckArgs),
    /// Work with rulesets: lint, test, show, diff, impact, cases, template, export.
    #[command(display_order = 4)]
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Print a shell completion script to stdout.
    #[command(display_order = 6)]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout, or write one page per command into a directory.
    #[command(display_order = 7)]
    Man {
        /// Write ketascreen.1 and one page per subcommand into DIR instead. A page that is
        /// already there (or a symlink by its name) is never replaced: nothing is written.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Screen one patient by asking the questions at the terminal (the intake nurse's
    /// interview). Bare `ketascreen` on a terminal starts it too.
    #[command(display_order = 1)]
    Interview(InterviewArgs),
    /// Screen many patients — a CSV export of intake forms, NDJSON, a JSON array, a FHIR
    /// Bundle: one verdict per row, streamed.
    #[command(display_order = 3)]
    Batch(BatchArgs),
    /// Work with intake profiles (how a clinic's export maps onto the ruleset): lint, init,
    /// redcap.
    #[command(display_order = 5)]
    Profile {
        #[command(subcommand)]
        command: ProfileCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Check a profile against the ruleset (and, with --against, an export's header) and
    /// print every problem with its line and column.
    Lint {
        /// Profile file (YAML).
        #[arg(value_name = "PROFILE")]
        file: PathBuf,

        /// Also check that the profile fits this export's header (a CSV file).
        #[arg(long, value_name = "FILE")]
        against: Option<PathBuf>,
    },
    /// Draft a profile from an export's header (and first rows), printed on stdout: columns
    /// matched to questions by id, alias, label and question text, how sure, what was left out.
    Init {
        /// The export (CSV; the delimiter is detected).
        #[arg(value_name = "FILE")]
        file: PathBuf,

        /// The profile's id [default: from the file's name]
        #[arg(long, value_name = "ID")]
        id: Option<String>,
    },
    /// Draft a profile from a REDCap data dictionary, printed on stdout.
    Redcap {
        /// The data dictionary (CSV, from Project Setup > Data Dictionary).
        #[arg(value_name = "DICTIONARY")]
        file: PathBuf,

        /// Longitudinal projects: the unique event name whose rows hold the screening forms
        /// (e.g. screening_arm_1; repeatable, one per arm); other events' rows are left out.
        #[arg(long, value_name = "EVENT")]
        event: Vec<String>,

        /// The profile's id [default: from the dictionary's file name]
        #[arg(long, value_name = "ID")]
        id: Option<String>,
    },
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

/// Output formats for `batch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BatchFormatArg {
    Table,
    Json,
    Ndjson,
    Csv,
    Xlsx,
}

/// The separator of `--excel` CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExcelSeparator {
    Comma,
    Semicolon,
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

    /// Intake profile: read the answers' keys and values as the clinic's export writes them.
    #[arg(long, env = "KETASCREEN_PROFILE", value_name = "PROFILE")]
    pub profile: Option<PathBuf>,
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
    /// Show what changed between two rulesets, as a reviewer reads it: questions, rules
    /// (each changed condition old -> new, with the thresholds that moved), sources.
    Diff {
        /// The ruleset before the change.
        #[arg(value_name = "OLD")]
        old: PathBuf,

        /// The ruleset after the change [default: --rules, or the built-in ruleset]
        #[arg(value_name = "NEW")]
        new: Option<PathBuf>,

        /// text for the terminal, markdown for a change request, json for programs.
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
    },
    /// What a ruleset change does to past patients: screens INTAKES (whatever `batch` reads)
    /// under OLD and NEW in one pass and reports the verdict transition matrix, the rules
    /// behind each transition and the rows in each; less cautious transitions first.
    Impact(RulesImpactArgs),
    /// Draft rule cases for a clinician to confirm: with --boundaries, a case on every side of
    /// a threshold and every outcome of a skip condition that no passing case covers, with the
    /// verdict the ruleset gives today, marked `status: unconfirmed`.
    Cases(RulesCasesArgs),
    /// Print a blank intake: every question id, in interview order.
    Template {
        /// Ruleset file [default: --rules, or the built-in ruleset]
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,

        /// csv: the header row; json: an answers skeleton; yaml: a skeleton with comments;
        /// redcap: a REDCap data dictionary to upload (its exports screen with `profile redcap`).
        #[arg(long, value_enum, default_value_t = TemplateFormat::Yaml)]
        format: TemplateFormat,
    },
    /// Write the ruleset's questions in another system's format (fhir: a FHIR R4
    /// Questionnaire, whose QuestionnaireResponses `check` and `batch` read).
    Export {
        /// Ruleset file [default: --rules, or the built-in ruleset]
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,

        #[arg(long, value_enum)]
        format: ExportFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A FHIR R4 Questionnaire (JSON).
    Fhir,
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

#[derive(Debug, Args)]
pub struct RulesImpactArgs {
    /// The ruleset before the change.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,

    /// The ruleset after the change.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,

    /// Past intakes, as `batch` reads them (CSV with a header row, NDJSON, a JSON array or a
    /// FHIR Bundle); `-` reads stdin.
    #[arg(value_name = "INTAKES")]
    pub intakes: String,

    /// How INTAKES is laid out [default: from its extension (.csv, .ndjson/.jsonl, .json),
    /// else from its first line]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormatArg>,

    /// text for the terminal, markdown for a change request, json for programs, csv for one
    /// line per changed row (every one of them; the summary goes to stderr).
    #[arg(long, value_enum, default_value_t = ImpactFormat::Text)]
    pub format: ImpactFormat,

    /// Row ids listed per transition in text, markdown and json (csv lists every changed row).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub rows: usize,

    /// Write the report to FILE (atomically, mode 0600) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Read column COLUMN as question QUESTION (repeatable), as in `batch`; applies to both
    /// rulesets (a QUESTION must exist in each).
    #[arg(long = "map", value_name = "COLUMN=QUESTION")]
    pub map: Vec<String>,

    /// The column holding the patient identifier [default: `id`, else `patient_id`]
    #[arg(long, value_name = "NAME")]
    pub id_column: Option<String>,

    /// Field delimiter: `auto` (one of `, ; tab |`, chosen by the header, as in `batch`) or one
    /// ASCII character, e.g. ';' (or `tab`).
    #[arg(long, value_name = "C", default_value = "auto")]
    pub delimiter: String,

    /// Intake profile: how this export's columns, codes, forms and rows map onto both rulesets
    /// (as `batch --profile`).
    #[arg(long, env = "KETASCREEN_PROFILE", value_name = "PROFILE")]
    pub profile: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImpactFormat {
    Text,
    Markdown,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct RulesCasesArgs {
    /// Case files whose passing cases count as covered and are moved onto the gaps [default:
    /// as for `rules test`]
    #[arg(value_name = "CASES")]
    pub cases: Vec<PathBuf>,

    /// Draft the missing boundary cases (the only kind there is today).
    #[arg(long, required = true)]
    pub boundaries: bool,
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
pub enum DiffFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TemplateFormat {
    Csv,
    Json,
    Yaml,
    Redcap,
}

/// Writes the completion script for `shell`, generated from this definition. It is built in
/// memory first: the generator panics on a write error, and a closed pipe is not a panic.
pub fn write_completions(shell: clap_complete::Shell, out: &mut dyn Write) -> std::io::Result<()> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "ketascreen", &mut script);
    out.write_all(&script)
}

/// The colour choice as clap's setting.
fn for_clap(choice: anstream::ColorChoice) -> clap::ColorChoice {
    use anstream::ColorChoice;
    match choice {
        ColorChoice::Always | ColorChoice::AlwaysAnsi => clap::ColorChoice::Always,
        ColorChoice::Never => clap::ColorChoice::Never,
        ColorChoice::Auto => clap::ColorChoice::Auto,
    }
}

/// Parses the process's arguments. `--color` is read first and recorded (`color::init`), so
/// that clap's own help and errors follow it like the rest of the output; every command,
/// nested ones too, reports itself as `ketascreen` (not `ketascreen-batch`); `--version`
/// names the built-in ruleset beside the program's version.
pub fn parse_args() -> Cli {
    let args: Vec<OsString> = std::env::args_os().collect();
    let choice = crate::color::choice_from_args(&args);
    crate::color::init(choice);
    let mut cmd = Cli::command().color(for_clap(choice));
    if asks_for_version(&args) {
        cmd = cmd.version(long_version());
    }
    let cmd = named_ketascreen(cmd);
    let matches = cmd.get_matches_from(args);
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

fn named_ketascreen(cmd: clap::Command) -> clap::Command {
    cmd.display_name("ketascreen")
        .mut_subcommands(named_ketascreen)
}

fn asks_for_version(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--version" || a == "-V")
}

/// `0.1.0 (built-in ruleset ketamine-default 1.0.0, sha256 …)`: what `--version` prints after
/// the program's name. The ruleset is read only when the version is asked for.
pub fn long_version() -> String {
    match crate::ruleset::builtin() {
        Ok(rs) => format!(
            "{} (built-in ruleset {} {}, sha256 {})",
            env!("CARGO_PKG_VERSION"),
            rs.id,
            rs.version,
            rs.sha256
        ),
        Err(_) => format!(
            "{} (built-in ruleset unreadable)",
            env!("CARGO_PKG_VERSION")
        ),
    }
}

/// The man page's own sections, after those clap writes (NAME, SYNOPSIS, DESCRIPTION,
/// OPTIONS, SUBCOMMANDS): EXIT STATUS, ENVIRONMENT, FILES, EXAMPLES.
const MAN_SECTIONS: &str = include_str!("man-sections.roff");

/// Writes the top-level man page, generated from this definition plus `MAN_SECTIONS`.
pub fn write_man(out: &mut dyn Write) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(Cli::command().version(long_version()));
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    man.render_subcommands_section(out)?;
    out.write_all(MAN_SECTIONS.as_bytes())?;
    man.render_version_section(out)
}

/// Writes `ketascreen.1` (with `MAN_SECTIONS`) and one page per subcommand into `dir`.
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
    // The top-level page with its own sections, as `man` prints it.
    if let Some((_, top)) = pages.iter_mut().find(|(name, _)| name == "ketascreen.1") {
        top.clear();
        write_man(top)?;
    }
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

    /// Start a new visit from a previous visit's saved answers: each section is shown with
    /// its answers and confirmed as unchanged in one step, or asked again question by
    /// question (each answer filled in). The previous file is not changed.
    #[arg(long, value_name = "FILE", conflicts_with = "resume")]
    pub from: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Intake forms: a CSV file (header row first), NDJSON (one patient per line: an answers
    /// object or a FHIR QuestionnaireResponse), a JSON array of them, or a FHIR Bundle of
    /// QuestionnaireResponses; `-` reads stdin.
    #[arg(value_name = "FILE")]
    pub file: String,

    /// How FILE is laid out [default: from its extension (.csv, .ndjson/.jsonl, .json), else
    /// from its first line]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormatArg>,

    /// Output format [default: table on a terminal, ndjson otherwise; with --output, from the
    /// file's extension (.csv, .json, .ndjson/.jsonl, .xlsx), else ndjson]. xlsx: a workbook
    /// with sheets of verdicts, reasons and the run's summary.
    #[arg(long, value_enum)]
    pub format: Option<BatchFormatArg>,

    /// CSV for Excel: UTF-8 with a byte-order mark, separated by commas or semicolons
    /// (semicolon for locales that write decimal commas) [default: semicolon with
    /// `--decimal ,`, else comma]. Implies `--format csv`.
    #[arg(long, value_enum, value_name = "SEPARATOR", num_args = 0..=1, require_equals = true)]
    pub excel: Option<Option<ExcelSeparator>>,

    /// Write the verdicts to FILE (atomically, mode 0600) instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Read column COLUMN as question QUESTION (repeatable); `COLUMN=-` ignores a column.
    #[arg(long = "map", value_name = "COLUMN=QUESTION")]
    pub map: Vec<String>,

    /// The column holding the patient identifier [default: `id`, else `patient_id`]
    #[arg(long, value_name = "NAME")]
    pub id_column: Option<String>,

    /// Field delimiter: `auto` (one of `, ; tab |`, chosen by the header) or one ASCII
    /// character, e.g. ';' (or `tab`).
    #[arg(long, value_name = "C", default_value = "auto")]
    pub delimiter: String,

    /// Text encoding: `auto` (UTF-8, or UTF-8/UTF-16 with a byte-order mark), `windows-1252`,
    /// `iso-8859-1`, `utf-16le`, `utf-16be`.
    #[arg(long, value_name = "NAME", default_value = "auto")]
    pub encoding: String,

    /// The sheet of an .xlsx or .ods workbook to read [default: the first].
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,

    /// The decimal mark of numbers in the file: `.` or `,` (`36,6`).
    #[arg(long, value_name = "C", default_value = ".")]
    pub decimal: String,

    /// Name every ignored column and every empty row on stderr, not only the first 20.
    #[arg(long, short = 'v')]
    pub verbose: bool,

    /// Exit with status 1 if any row had input errors.
    #[arg(long)]
    pub strict: bool,

    /// Intake profile: how this export's columns, codes, forms and rows map onto the ruleset.
    #[arg(long, env = "KETASCREEN_PROFILE", value_name = "PROFILE")]
    pub profile: Option<PathBuf>,
}
