//! The front of `batch`: it turns its plain `Options` (filled by `app` from the command line)
//! into a plan once (ruleset, delimiter, column mapping, input, destination, format, progress bar),
//! opens the input and the output, tells stderr about the header (ignored columns, questions
//! with no column), runs the screening loop, and ends with a one-line summary on stderr.
//! `--output` is written to a temporary file in the same directory, mode 0600, renamed into
//! place only when the whole batch is written.

use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};

use super::columns::{self, HeaderError, Mapping};
use super::duplicates::Scan;
use super::reader::RowReader;
use super::{screen, BatchError, Duplicates, Feeder, Plan, Summary};
use crate::engine::Status;
use crate::front::{self, Destination, Input, Terminal, UsageError};
use crate::input::{self, InputOptions};
use crate::json_input::{self, Layout};
use crate::output::csv::CsvStyle;
use crate::output::xlsx::{RunInfo, XlsxWriter};
use crate::output::{self, Format};
use crate::ruleset::Ruleset;

/// Inputs at least this large get a progress bar (when stderr is a terminal).
const LARGE_INPUT: u64 = 8 << 20;

/// The environment variable that sets how many threads screen rows (default: one per CPU).
pub const THREADS_ENV: &str = "KETASCREEN_THREADS";

/// Screening threads: `KETASCREEN_THREADS` if set to a number, else one per available CPU
/// (at most 8: the feeder and the writer are threads too, and one is enough to saturate them).
fn threads() -> usize {
    std::env::var(THREADS_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(usize::from)
                .unwrap_or(1)
        })
        .clamp(1, 8)
}

/// `--delimiter`, `--encoding`, `--sheet`, `--decimal` as input options.
fn input_options(args: &Options) -> Result<InputOptions, UsageError> {
    let usage = |e: String| UsageError(format!("--{e}"));
    Ok(InputOptions {
        delimiter: input::parse_delimiter(&args.delimiter).map_err(usage)?,
        encoding: input::parse_encoding(&args.encoding).map_err(usage)?,
        sheet: args.sheet.clone(),
        decimal_comma: input::parse_decimal(&args.decimal).map_err(usage)?,
    })
}

/// A profile's `input.encoding` as the decoder to use (`None`: detect).
pub(crate) fn profile_encoding(
    encoding: crate::profile::Encoding,
) -> Option<&'static encoding_rs::Encoding> {
    use crate::profile::Encoding as E;
    match encoding {
        E::Auto => None,
        E::Utf8 => Some(encoding_rs::UTF_8),
        // WHATWG (and so encoding_rs) reads ISO-8859-1 as its superset Windows-1252.
        E::Windows1252 | E::Iso8859_1 => Some(encoding_rs::WINDOWS_1252),
        E::Utf16Le => Some(encoding_rs::UTF_16LE),
        E::Utf16Be => Some(encoding_rs::UTF_16BE),
    }
}

/// What the records become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Records(Format),
    /// A workbook, built from NDJSON records (`output::xlsx`).
    Xlsx,
}

/// The format: as asked; else from `--output`'s extension; else table on a terminal, NDJSON
/// when piped.
fn format(arg: Option<Output>, output: Option<&Path>, stdout_is_terminal: bool) -> Output {
    if let Some(asked) = arg {
        return asked;
    }
    match output {
        Some(path) => match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Output::Records(Format::Csv),
            Some("json") => Output::Records(Format::Json),
            Some("xlsx") => Output::Xlsx,
            _ => Output::Records(Format::Ndjson),
        },
        None => Output::Records(front::format_of(None, stdout_is_terminal, Format::Ndjson)),
    }
}

/// Refuses an `--output` that is the input file itself (the same file under any name).
fn refuse_overwriting_input(input: &Input, output: &Path) -> Result<()> {
    let Ok(out_meta) = std::fs::metadata(output) else {
        return Ok(()); // does not exist yet, so it is not the input
    };
    let same_inode = input
        .metadata()
        .is_some_and(|m| m.is_file() && crate::platform::same_file(&m, &out_meta));
    let same_path = match input {
        Input::File { path, .. } => {
            std::fs::canonicalize(path).ok().is_some()
                && std::fs::canonicalize(path).ok() == std::fs::canonicalize(output).ok()
        }
        Input::Stdin => false,
    };
    if same_inode || same_path {
        return Err(UsageError(format!(
            "refusing to write the output over the input file {}: choose another --output",
            output.display()
        ))
        .into());
    }
    Ok(())
}

/// Refuses an `--output` that is one of the files the run reads (the ruleset; the profile),
/// by file identity: under another name, through a symlink or a hard link alike.
fn refuse_overwriting(output: &Path, read: &[(&str, Option<&Path>)]) -> Result<()> {
    for (what, path) in read {
        if let Some(path) = path {
            if crate::front::same_file(path, output) {
                return Err(UsageError(format!(
                    "refusing to write the output over the {what} file {}: choose another --output",
                    output.display()
                ))
                .into());
            }
        }
    }
    Ok(())
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How many ignored columns the warning names without `--verbose`; a wider export is summed
/// up after them.
const NAMED_COLUMNS: usize = input::cells::NAMED;

/// Tells stderr, once, what the header means for every row.
pub fn warn_about_header(ruleset: &Ruleset, columns: &columns::Columns, verbose: bool) {
    let total = columns.unmapped().count();
    let named = if verbose { total } else { NAMED_COLUMNS };
    let mut unmapped: Vec<String> = columns
        .unmapped()
        .take(named)
        .map(|i| {
            let raw = &columns.names[i];
            let name = output::escape::text(raw);
            match ruleset.suggest_question(raw) {
                Some(q) => format!("'{name}' (did you mean '{q}'? use --map '{name}={q}')"),
                None => format!("'{name}'"),
            }
        })
        .collect();
    if total > named {
        unmapped.push(format!(
            "and {} more (--verbose names every one)",
            total - named
        ));
    }
    if total > 0 {
        eprintln!(
            "ketascreen: warning: ignoring {} no question (never read, never echoed): {}",
            plural(total as u64, "column that matches", "columns that match"),
            unmapped.join(", ")
        );
    }
    if !columns.unasked.is_empty() {
        let ids: Vec<&str> = columns
            .unasked
            .iter()
            .map(|&s| ruleset.questions[s].id.as_str())
            .collect();
        eprintln!(
            "ketascreen: warning: no column for {}, unanswered in every row: {}",
            plural(ids.len() as u64, "question", "questions"),
            ids.join(", ")
        );
    }
    if columns.id.is_none() {
        eprintln!(
            "ketascreen: note: no id column ('{}', '{}' or --id-column): records are known by their row number only",
            columns::ID_COLUMNS[0],
            columns::ID_COLUMNS[1]
        );
    }
}

fn summary_line(summary: &Summary, seconds: f64) -> String {
    let counts: Vec<String> = Status::ALL
        .iter()
        .map(|&s| format!("{} {s}", summary.count(s)))
        .collect();
    format!(
        "ketascreen: {} screened in {seconds:.2} s: {}; {} urgent; {} urgent not known; {} with input errors",
        plural(summary.rows, "row", "rows"),
        counts.join(", "),
        summary.urgent,
        summary.urgent_undecided,
        plural(summary.with_errors, "row", "rows"),
    )
}

fn progress_bar(len: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} screening {bar:40} {bytes}/{total_bytes} ({eta} left)",
    ) {
        bar.set_style(style);
    }
    bar
}

/// The batch's one CSV reader: ragged rows are read (and reported), the header is read as
/// the first record (the csv crate strips a BOM before it).
pub fn csv_reader<R: Read>(input: R, delimiter: u8) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .buffer_capacity(1 << 16)
        .from_reader(input)
}

/// Reads the header record (empty for empty input).
pub fn read_header<R: Read>(reader: &mut csv::Reader<R>) -> Result<csv::ByteRecord> {
    let mut header = csv::ByteRecord::new();
    reader.read_byte_record(&mut header)?;
    Ok(header)
}

/// Reads the header record (empty for empty input) with the batch's one CSV reader.
fn read_header_row<R: Read>(reader: &mut RowReader<R>) -> io::Result<csv::ByteRecord> {
    let mut header = csv::ByteRecord::new();
    reader.read_header(&mut header)?;
    Ok(header)
}

/// What `ketascreen batch` was asked to do, as plain values (`app` fills it from the
/// command line).
#[derive(Debug, Clone)]
pub struct Options {
    /// The input file, or `-` for stdin.
    pub file: String,
    pub format: Option<Output>,
    /// `--excel`: CSV for Excel (a byte-order mark), with this separator (`None`: `;` when
    /// numbers have decimal commas, else `,`).
    pub excel: Option<Option<u8>>,
    /// Where to write (`None` or `-`: stdout).
    pub output: Option<PathBuf>,
    /// `COLUMN=QUESTION` mappings.
    pub map: Vec<String>,
    pub id_column: Option<String>,
    /// `auto`, one ASCII character, or `tab`.
    pub delimiter: String,
    /// `auto` or an encoding label (`input::parse_encoding`).
    pub encoding: String,
    /// The sheet of a workbook.
    pub sheet: Option<String>,
    /// The decimal mark of numbers in the input: `.` or `,`.
    pub decimal: String,
    /// Name every ignored column and empty row.
    pub verbose: bool,
    pub strict: bool,
    /// How the input is laid out; `None`: from the file's extension, else its first line.
    pub input_format: Option<Layout>,
    /// An intake profile file.
    pub profile: Option<PathBuf>,
}

/// Compiles the profile against the header; a profile that does not fit is an error placed
/// in the profile file.
pub(crate) fn profile_plan(
    profile: &crate::profile::Profile,
    ruleset: &Ruleset,
    header: &csv::ByteRecord,
    id_column: Option<&str>,
    name: &str,
) -> Result<crate::profile::Plan> {
    if header.is_empty() {
        anyhow::bail!("{name}: no header row: the input is empty");
    }
    let names: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    Ok(crate::profile::Plan::compile(
        profile, ruleset, &names, id_column, name,
    )?)
}

/// The header as a profile resolved it, for the header report and the row-shape check.
pub(crate) fn columns_of(plan: &crate::profile::Plan) -> columns::Columns {
    let mut roles = vec![columns::Role::Ignored; plan.len()];
    let mut questions: Vec<(usize, usize)> = plan.question_columns().collect();
    questions.sort_unstable();
    for &(c, slot) in &questions {
        roles[c] = columns::Role::Question(slot);
    }
    for &c in &plan.unmapped {
        roles[c] = columns::Role::Unmapped;
    }
    if let Some(id) = plan.id {
        roles[id] = columns::Role::Id;
    }
    columns::Columns {
        names: plan.names.clone(),
        roles,
        questions,
        id: plan.id,
        unasked: plan.unasked.clone(),
    }
}

/// Runs `ketascreen batch`.
pub fn run(rules: Option<&Path>, args: Options, term: Terminal) -> Result<ExitCode> {
    let started = Instant::now();
    let options = input_options(&args)?;
    let ruleset = front::load_ruleset(rules)?;
    let mapping = Mapping::parse(&ruleset, &args.map, args.id_column.as_deref())
        .map_err(|e| UsageError(e.to_string()))?;
    if args.profile.is_some() && !args.map.is_empty() {
        return Err(UsageError(
            "--map and --profile do not go together: map the columns under the profile's 'columns:'"
                .into(),
        )
        .into());
    }
    let profile = match &args.profile {
        Some(path) => Some(crate::profile::command::load(path, &ruleset)?),
        None => None,
    };
    // The profile's `input:` settings, where the command line gives none.
    let mut options = options;
    if let Some(p) = &profile {
        options.delimiter = options.delimiter.or(p.input.delimiter);
        if options.encoding.is_none() {
            options.encoding = profile_encoding(p.input.encoding);
        }
        if options.sheet.is_none() {
            options.sheet.clone_from(&p.input.sheet);
        }
    }
    let profile_id = profile.as_ref().map(|p| output::ProfileId {
        id: p.id.clone(),
        sha256: p.sha256.clone(),
    });
    let output = args
        .output
        .as_deref()
        .filter(|p| p.as_os_str() != "-")
        .map(Path::to_path_buf);
    let to_terminal = output.is_none() && term.stdout;
    let chosen = match (args.excel, args.format) {
        (Some(_), None | Some(Output::Records(Format::Csv))) => Output::Records(Format::Csv),
        (Some(_), Some(other)) => {
            let name = match other {
                Output::Records(f) => format!("{f:?}").to_lowercase(),
                Output::Xlsx => "xlsx".to_string(),
            };
            return Err(UsageError(format!(
                "--excel writes CSV for Excel, not --format {name}: leave one of them out"
            ))
            .into());
        }
        (None, asked) => format(asked, output.as_deref(), term.stdout),
    };
    if chosen == Output::Xlsx && to_terminal {
        return Err(UsageError(
            "--format xlsx writes a binary workbook: give --output FILE.xlsx (or redirect stdout to a file)".into(),
        )
        .into());
    }
    let format = match chosen {
        Output::Records(format) => format,
        Output::Xlsx => Format::Ndjson,
    };
    // `--excel`: CSV with a BOM; semicolons by default where numbers have decimal commas.
    let csv = match args.excel {
        None => CsvStyle::PLAIN,
        Some(separator) => {
            CsvStyle::excel(separator.unwrap_or(if options.decimal_comma { b';' } else { b',' }))
        }
    };

    let input = Input::open(
        &args.file,
        term,
        "no input given: name a FILE (CSV, NDJSON or JSON), or pipe one into stdin (e.g. 'ketascreen batch - < intake.csv')",
    )?;
    if let Some(out) = &output {
        refuse_overwriting_input(&input, out)?;
        refuse_overwriting(out, &[("ruleset", rules)])?;
    }
    let name = input.name();
    let (size, regular) = match &input {
        Input::File { file, .. } => file
            .metadata()
            .map(|m| (m.len(), m.is_file()))
            .unwrap_or((0, false)),
        Input::Stdin => (0, false),
    };
    let source: Box<dyn Read + Send> = match &input {
        Input::File { file, .. } => Box::new(
            file.try_clone()
                .with_context(|| format!("cannot read {name}"))?,
        ),
        Input::Stdin => Box::new(io::stdin()),
    };
    let mut source = io::BufReader::with_capacity(1 << 16, source);
    let layout = match args.input_format {
        Some(layout) => layout,
        None => match json_input::layout_of_name(&args.file) {
            Some(layout) => layout,
            None => json_input::layout_of_content(
                source
                    .fill_buf()
                    .with_context(|| format!("cannot read {name}"))?,
            ),
        },
    };
    if layout != Layout::Csv {
        if args.excel.is_some() || chosen == Output::Xlsx {
            return Err(UsageError(
                "--excel and --format xlsx are for CSV and spreadsheet input; for JSON answers use --format csv"
                    .into(),
            )
            .into());
        }
        if profile.is_some() {
            return Err(UsageError(
                "--profile reads tabular exports (CSV); JSON answers are keyed by question id \
                 (or alias): screen them without a profile"
                    .into(),
            )
            .into());
        }
        if !args.map.is_empty() || args.id_column.is_some() || args.delimiter != "auto" {
            return Err(UsageError(
                "--map, --id-column and --delimiter apply to CSV input; JSON answers are keyed \
                 by question id (or alias) and carry their id in `id` or `patient_id`"
                    .into(),
            )
            .into());
        }
        let destination = match &output {
            Some(path) => Destination::create(path)?,
            None => Destination::Stdout(io::stdout().lock()),
        };
        let color = output.is_none() && output::color_allowed(term.stdout);
        return run_json(
            &ruleset,
            JsonRun {
                layout,
                source,
                name: &name,
                format,
                color,
                destination,
                strict: args.strict,
                started,
            },
        );
    }
    let input_path = match &input {
        Input::File { path, .. } => Some(path.as_path()),
        Input::Stdin => None,
    };
    // How many columns of a header, split one way or another, name a question.
    let maps = |names: &[String]| {
        let ours = columns::resolve(&ruleset, names.iter().map(|n| n.as_bytes()), &mapping)
            .map_or(0, |c| c.questions.len());
        let profiled = profile.as_ref().map_or(0, |p| {
            names
                .iter()
                .filter(|n| {
                    p.columns
                        .iter()
                        .any(|c| c.source.column().eq_ignore_ascii_case(n.trim()))
                })
                .count()
        });
        ours + profiled
    };
    let mut opened = input::open(Box::new(source), input_path, &options, &maps).map_err(|e| {
        let message = format!("cannot read {name}: {e}");
        if e.is_usage() {
            anyhow::Error::from(UsageError(message))
        } else {
            anyhow::anyhow!(message)
        }
    })?;
    for note in &opened.notes {
        eprintln!("ketascreen: note: {name}: {note}");
    }
    let delimiter = opened.delimiter;
    let text = std::mem::replace(&mut opened.reader, Box::new(io::empty()));
    let mut reader = RowReader::new(text, delimiter).name_every_empty_row(args.verbose);
    let header = read_header_row(&mut reader).map_err(|e| {
        if e.kind() == io::ErrorKind::InvalidData {
            anyhow::anyhow!("{name}: {e}")
        } else {
            anyhow::Error::new(e).context(format!("cannot read {name}"))
        }
    })?;
    let profile_plan = match &profile {
        Some(p) => Some(profile_plan(
            p,
            &ruleset,
            &header,
            args.id_column.as_deref(),
            &name,
        )?),
        None => None,
    };
    let columns = match &profile_plan {
        Some(plan) => columns_of(plan),
        None => columns::resolve_record(&ruleset, &header, &mapping).map_err(|e| {
            let message = format!("{name}: {e}");
            if e.is_usage() {
                anyhow::Error::from(UsageError(message))
            } else if e == HeaderError::Empty {
                anyhow::anyhow!("{name}: no header row: the input is empty")
            } else {
                anyhow::anyhow!(message)
            }
        })?,
    };
    warn_about_header(&ruleset, &columns, args.verbose);
    if columns.questions.is_empty() {
        anyhow::bail!(
            "{name}: no column names a question of ruleset '{}', so no row could be screened: name the columns with --map COLUMN=QUESTION",
            ruleset.id
        );
    }

    // Repeated ids: known before screening for a file, learnt on the way for stdin. Rows a
    // profile leaves out are no patients: not part of the check.
    let is_patient = |cell: &[u8]| profile_plan.as_ref().is_none_or(|p| p.is_patient(cell));
    let patients = profile_plan
        .as_ref()
        .and_then(|p| p.rows_column())
        .map(|column| (column, &is_patient as &(dyn Fn(&[u8]) -> bool + Sync)));
    let (mut duplicates, prescanned) = match (&input, columns.id) {
        (_, None) => (Duplicates::off(), None),
        (Input::File { path, .. }, Some(id_column)) if regular => {
            let scan = Scan {
                delimiter,
                id_column,
                patients,
            };
            let again = opened.again();
            let (d, rows) = Duplicates::prescan(
                |at| again.reopen(path, at),
                again.verbatim_len(path),
                threads(),
                scan,
            )
            .with_context(|| format!("cannot read {name}"))?;
            (d, Some(rows))
        }
        _ => (Duplicates::online(), None),
    };

    let destination = match &output {
        Some(path) => Destination::create(path)?,
        None => Destination::Stdout(io::stdout().lock()),
    };
    // Colour follows the one policy (`--color always` colours a table piped to `less -R`).
    let color = output.is_none() && output::color_allowed(term.stdout);
    // A bar only where someone watches, and not over a table being printed to the same screen.
    // Its position counts the bytes read, which are the file's only when they are not
    // decoded or taken from a workbook.
    let bar =
        (term.stderr && regular && size >= LARGE_INPUT && !to_terminal && opened.is_verbatim())
            .then(|| progress_bar(size));

    let plan = Plan {
        ruleset: &ruleset,
        columns: &columns,
        format,
        color,
        delimiter,
        threads: threads(),
        decimal_comma: options.decimal_comma,
        csv,
        profile: profile_plan.as_ref(),
        profile_id: profile_id.as_ref(),
    };
    let mut destination = destination;
    let mut screening = |mut out: &mut dyn Write| {
        screen(
            plan,
            Feeder::new(&mut reader, &mut duplicates, columns.id)
                .with_profile(profile_plan.as_ref()),
            &mut out,
            &|bytes| {
                if let Some(bar) = &bar {
                    bar.set_position(bytes);
                }
            },
        )
        .map_err(|e| match e {
            BatchError::Read { row, source } => {
                anyhow::Error::new(source).context(format!("cannot read {name} at data row {row}"))
            }
            e => anyhow::Error::new(e),
        })
    };
    let summary = if chosen == Output::Xlsx {
        let info = RunInfo {
            input: name.clone(),
            ruleset: (
                ruleset.id.clone(),
                ruleset.version.clone(),
                ruleset.sha256.clone(),
            ),
            profile: profile_id
                .as_ref()
                .map(|p| (p.id.clone(), p.sha256.clone())),
        };
        let mut book = XlsxWriter::new(&mut destination, info)?;
        let summary = screening(&mut book)?;
        book.finish(&[(
            "empty rows not screened".to_string(),
            reader.empty_rows().count.to_string(),
        )])
        .context("cannot write the output")?;
        summary
    } else {
        screening(&mut destination)?
    };
    destination.commit()?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    if let Some(note) = reader.empty_rows().note() {
        eprintln!("ketascreen: note: {note}");
    }
    if prescanned.is_some_and(|rows| rows != summary.rows) {
        eprintln!("ketascreen: warning: {name} changed while it was read; duplicate-id errors may name the wrong rows");
    }
    let forgotten = duplicates.not_remembered();
    if forgotten > 0 {
        eprintln!(
            "ketascreen: warning: {name} has more than {} distinct ids: the ids of {} after those were checked for duplicates only against them (give a file rather than stdin to check them all)",
            super::duplicates::ONLINE_IDS,
            plural(forgotten, "row", "rows")
        );
    }
    let unmarked = duplicates.unmarked_earlier();
    if unmarked > 0 {
        eprintln!(
            "ketascreen: warning: {} an id from an earlier row; {name} can be read only once, so only the later row's record says so (naming the earlier row)",
            plural(unmarked, "row repeats", "rows repeat")
        );
    }
    if let (Some(plan), Some(profile)) = (&profile_plan, &profile) {
        if let (Some(column), Some(rows)) = (plan.rows_column(), &profile.input.rows) {
            eprintln!(
                "ketascreen: {} left out by the profile ('{}' not {}): not patients, no records",
                plural(summary.left_out, "row", "rows"),
                plan.names[column],
                rows.equals.join(" or ")
            );
        }
    }
    eprintln!(
        "{}",
        summary_line(&summary, started.elapsed().as_secs_f64())
    );
    if args.strict && summary.with_errors > 0 {
        eprintln!(
            "ketascreen: error: {} input errors (--strict)",
            plural(summary.with_errors, "row has", "rows have")
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// A JSON batch, resolved.
struct JsonRun<'a, R> {
    layout: Layout,
    source: R,
    name: &'a str,
    format: Format,
    color: bool,
    destination: Destination,
    strict: bool,
    started: Instant,
}

/// `batch` over NDJSON, a JSON array or a FHIR Bundle (`super::json`): the same destination,
/// summary and `--strict` as for CSV.
fn run_json<R: BufRead>(ruleset: &Ruleset, run: JsonRun<'_, R>) -> Result<ExitCode> {
    let JsonRun {
        layout,
        source,
        name,
        format,
        color,
        mut destination,
        strict,
        started,
    } = run;
    let outcome = super::json::screen(ruleset, layout, source, format, color, &mut destination)
        .map_err(|e| match e {
            super::json::JsonBatchError::Read(source) => {
                anyhow::Error::new(source).context(format!("cannot read {name}"))
            }
            super::json::JsonBatchError::Document(message) => {
                anyhow::anyhow!("cannot read {name}: {message}")
            }
            e => anyhow::Error::new(e),
        })?;
    destination.commit()?;
    let summary = outcome.summary;
    if !outcome.ignored.is_empty() {
        let total = outcome.ignored.len();
        let mut named: Vec<String> = outcome
            .ignored
            .iter()
            .take(NAMED_COLUMNS)
            .map(|(key, records)| {
                let key = crate::answers::echo(key).escape_debug().to_string();
                match ruleset.suggest_question(&key) {
                    Some(q) => format!(
                        "'{key}' ({}; did you mean '{q}'?)",
                        plural(*records, "record", "records")
                    ),
                    None => format!("'{key}' ({})", plural(*records, "record", "records")),
                }
            })
            .collect();
        if total > NAMED_COLUMNS {
            named.push(format!("and {} more", total - NAMED_COLUMNS));
        }
        eprintln!(
            "ketascreen: warning: ignoring {} no question (never read, never echoed): {}",
            plural(total as u64, "key that matches", "keys that match"),
            named.join(", ")
        );
    }
    if outcome.other_entries > 0 {
        eprintln!(
            "ketascreen: note: {name}: {}, not screened",
            plural(
                outcome.other_entries as u64,
                "Bundle entry is not a QuestionnaireResponse",
                "Bundle entries are not QuestionnaireResponses"
            )
        );
    }
    eprintln!(
        "{}",
        summary_line(&summary, started.elapsed().as_secs_f64())
    );
    if strict && summary.with_errors > 0 {
        eprintln!(
            "ketascreen: error: {} input errors (--strict)",
            plural(summary.with_errors, "row has", "rows have")
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Screens a whole CSV document held in memory, comma-delimited, with no column mapping: the
/// same header resolution, duplicate check and screening as `run`, without files, terminals
/// or stderr. For fuzzing and tests; `threads` as `KETASCREEN_THREADS`.
pub fn screen_bytes(
    ruleset: &Ruleset,
    input: &[u8],
    format: Format,
    threads: usize,
) -> Result<(Summary, Vec<u8>)> {
    let mut out = Vec::new();
    let summary = screen_into(ruleset, input, format, threads, &mut out)?;
    Ok((summary, out))
}

/// `screen_bytes` from any reader into `out`, which keeps what was written before a failure.
pub fn screen_into<R: io::Read + Send>(
    ruleset: &Ruleset,
    input: R,
    format: Format,
    threads: usize,
    out: &mut Vec<u8>,
) -> Result<Summary> {
    let mapping = Mapping::parse(ruleset, &[], None).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut reader = RowReader::new(input, b',');
    let header = read_header_row(&mut reader)?;
    let columns =
        columns::resolve_record(ruleset, &header, &mapping).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut duplicates = if columns.id.is_some() {
        Duplicates::online()
    } else {
        Duplicates::off()
    };
    let plan = Plan {
        ruleset,
        columns: &columns,
        format,
        color: false,
        delimiter: b',',
        threads,
        decimal_comma: false,
        csv: CsvStyle::PLAIN,
        profile: None,
        profile_id: None,
    };
    Ok(screen(
        plan,
        Feeder::new(&mut reader, &mut duplicates, columns.id),
        out,
        &|_| {},
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_follows_flag_then_extension_then_terminal() {
        let out = Some(Path::new("results.CSV"));
        let records = Output::Records;
        assert_eq!(
            format(Some(records(Format::Json)), out, true),
            records(Format::Json)
        );
        assert_eq!(format(Some(Output::Xlsx), out, true), Output::Xlsx);
        assert_eq!(format(None, out, true), records(Format::Csv));
        assert_eq!(
            format(None, Some(Path::new("r.json")), true),
            records(Format::Json)
        );
        assert_eq!(format(None, Some(Path::new("r.XLSX")), true), Output::Xlsx);
        assert_eq!(
            format(None, Some(Path::new("r.out")), true),
            records(Format::Ndjson)
        );
        assert_eq!(format(None, None, true), records(Format::Table));
        assert_eq!(format(None, None, false), records(Format::Ndjson));
    }

    #[test]
    fn summary_counts_every_verdict() {
        let s = Summary {
            rows: 12,
            by_status: [3, 2, 4, 3],
            urgent: 2,
            urgent_undecided: 1,
            with_errors: 1,
            ..Summary::default()
        };
        assert_eq!(
            summary_line(&s, 0.0123),
            "ketascreen: 12 rows screened in 0.01 s: 3 ineligible, 2 incomplete, 4 review, 3 eligible; 2 urgent; 1 urgent not known; 1 row with input errors"
        );
    }
}
