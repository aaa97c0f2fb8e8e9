//! The front of `batch`: it turns its plain `Options` (filled by `app` from the command line)
//! into a plan once (ruleset, delimiter, column mapping, input, destination, format, progress bar),
//! opens the input and the output, tells stderr about the header (ignored columns, questions
//! with no column), runs the screening loop, and ends with a one-line summary on stderr.
//! `--output` is written to a temporary file in the same directory, mode 0600, renamed into
//! place only when the whole batch is written.

use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};

use super::columns::{self, HeaderError, Mapping};
use super::reader::RowReader;
use super::{screen, BatchError, Duplicates, Feeder, Plan, Summary};
use crate::engine::Status;
use crate::front::{self, Destination, Input, Terminal, UsageError};
use crate::json_input::{self, Layout};
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

/// `--delimiter`: one ASCII character, or `tab` / `\t`.
fn delimiter(arg: &str) -> Result<u8, UsageError> {
    match arg {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ => match arg.as_bytes() {
            [b] if b.is_ascii() && !matches!(b, b'"' | b'\n' | b'\r') => Ok(*b),
            _ => Err(UsageError(format!(
                "--delimiter '{arg}': expected one ASCII character such as ',' or ';' (or 'tab'), not a quote or line break"
            ))),
        },
    }
}

/// The format: as asked; else from `--output`'s extension; else table on a terminal, NDJSON
/// when piped.
fn format(arg: Option<Format>, output: Option<&Path>, stdout_is_terminal: bool) -> Format {
    if arg.is_some() {
        return front::format_of(arg, false, Format::Ndjson);
    }
    match output {
        Some(path) => match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Format::Csv,
            Some("json") => Format::Json,
            _ => Format::Ndjson,
        },
        None => front::format_of(None, stdout_is_terminal, Format::Ndjson),
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

/// Tells stderr, once, what the header means for every row.
/// How many ignored columns the warning names; a wider export is summed up after them.
const NAMED_COLUMNS: usize = 20;

fn warn_about_header(ruleset: &Ruleset, columns: &columns::Columns) {
    let total = columns.unmapped().count();
    let mut unmapped: Vec<String> = columns
        .unmapped()
        .take(NAMED_COLUMNS)
        .map(|i| {
            let raw = &columns.names[i];
            let name = output::escape::text(raw);
            match ruleset.suggest_question(raw) {
                Some(q) => format!("'{name}' (did you mean '{q}'? use --map '{name}={q}')"),
                None => format!("'{name}'"),
            }
        })
        .collect();
    if total > NAMED_COLUMNS {
        unmapped.push(format!("and {} more", total - NAMED_COLUMNS));
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

/// Reads the header record (empty for empty input) with the batch's one CSV reader.
fn read_header<R: Read>(reader: &mut RowReader<R>) -> io::Result<csv::ByteRecord> {
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
    pub format: Option<Format>,
    /// Where to write (`None` or `-`: stdout).
    pub output: Option<PathBuf>,
    /// `COLUMN=QUESTION` mappings.
    pub map: Vec<String>,
    pub id_column: Option<String>,
    /// One ASCII character, or `tab`.
    pub delimiter: String,
    pub strict: bool,
    /// How the input is laid out; `None`: from the file's extension, else its first line.
    pub input_format: Option<Layout>,
    /// An intake profile file.
    pub profile: Option<PathBuf>,
}

/// Compiles the profile against the header; a profile that does not fit is an error placed
/// in the profile file.
fn profile_plan(
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
fn columns_of(plan: &crate::profile::Plan) -> columns::Columns {
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
    let delimiter = delimiter(&args.delimiter)?;
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
    let format = format(args.format, output.as_deref(), term.stdout);

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
        if profile.is_some() {
            return Err(UsageError(
                "--profile reads tabular exports (CSV); JSON answers are keyed by question id \
                 (or alias): screen them without a profile"
                    .into(),
            )
            .into());
        }
        if !args.map.is_empty() || args.id_column.is_some() || args.delimiter != "," {
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
    let mut reader = RowReader::new(source, delimiter);
    let header = read_header(&mut reader).map_err(|e| {
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
    warn_about_header(&ruleset, &columns);

    // Repeated ids: known before screening for a file, learnt on the way for stdin. Rows a
    // profile leaves out are no patients: not part of the check.
    let keep = |record: &csv::ByteRecord| match &profile_plan {
        Some(plan) => plan
            .rows_column()
            .is_none_or(|c| plan.is_patient(record.get(c).unwrap_or_default())),
        None => true,
    };
    let (mut duplicates, prescanned) = match (&input, columns.id) {
        (_, None) => (Duplicates::off(), None),
        (Input::File { path, .. }, Some(id_column)) if regular => {
            let (d, rows) = Duplicates::prescan(|| File::open(path), delimiter, id_column, &keep)
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
    let bar =
        (term.stderr && regular && size >= LARGE_INPUT && !to_terminal).then(|| progress_bar(size));

    let plan = Plan {
        ruleset: &ruleset,
        columns: &columns,
        format,
        color,
        delimiter,
        threads: threads(),
        profile: profile_plan.as_ref(),
        profile_id: profile_id.as_ref(),
    };
    let mut destination = destination;
    let summary = screen(
        plan,
        Feeder::new(&mut reader, &mut duplicates, columns.id).with_profile(profile_plan.as_ref()),
        &mut destination,
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
    })?;
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
    let mapping = Mapping::parse(ruleset, &[], None).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut reader = RowReader::new(input, b',');
    let header = read_header(&mut reader)?;
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
        profile: None,
        profile_id: None,
    };
    let mut out = Vec::new();
    let summary = screen(
        plan,
        Feeder::new(&mut reader, &mut duplicates, columns.id),
        &mut out,
        &|_| {},
    )?;
    Ok((summary, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters() {
        assert_eq!(delimiter(";").ok(), Some(b';'));
        assert_eq!(delimiter("tab").ok(), Some(b'\t'));
        assert_eq!(delimiter("\\t").ok(), Some(b'\t'));
        for bad in ["", ";;", "\"", "é"] {
            assert!(delimiter(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn format_follows_flag_then_extension_then_terminal() {
        let out = Some(Path::new("results.CSV"));
        assert_eq!(format(Some(Format::Json), out, true), Format::Json);
        assert_eq!(format(None, out, true), Format::Csv);
        assert_eq!(format(None, Some(Path::new("r.json")), true), Format::Json);
        assert_eq!(format(None, Some(Path::new("r.out")), true), Format::Ndjson);
        assert_eq!(format(None, None, true), Format::Table);
        assert_eq!(format(None, None, false), Format::Ndjson);
    }

    #[test]
    fn summary_counts_every_verdict() {
        let s = Summary {
            rows: 12,
            by_status: [3, 2, 4, 3],
            urgent: 2,
            urgent_undecided: 1,
            with_errors: 1,
            left_out: 0,
        };
        assert_eq!(
            summary_line(&s, 0.0123),
            "ketascreen: 12 rows screened in 0.01 s: 3 ineligible, 2 incomplete, 4 review, 3 eligible; 2 urgent; 1 urgent not known; 1 row with input errors"
        );
    }
}
