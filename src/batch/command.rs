//! The command-line edge of `batch`, part of the app layer: it turns `cli::BatchArgs` into a
//! plan once (ruleset, delimiter, column mapping, input, destination, format, progress bar),
//! opens the input and the output, tells stderr about the header (ignored columns, questions
//! with no column), runs the screening loop, and ends with a one-line summary on stderr.
//! `--output` is written to a temporary file in the same directory, mode 0600, renamed into
//! place only when the whole batch is written.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};

use super::columns::{self, HeaderError, Mapping};
use super::scan::{newlines, Splitter};
use super::{screen, BatchError, Duplicates, Plan, Summary};
use crate::app::{self, Terminal, UsageError};
use crate::cli::{BatchArgs, FormatArg};
use crate::engine::Status;
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

/// Where the rows come from.
enum Input {
    File { path: PathBuf, file: File },
    Stdin,
}

impl Input {
    fn open(name: &str, term: Terminal) -> Result<Input> {
        if name == "-" {
            if term.stdin {
                return Err(UsageError(
                    "no input given: name a CSV FILE, or pipe one into stdin (e.g. 'ketascreen batch - < intake.csv')"
                        .into(),
                )
                .into());
            }
            return Ok(Input::Stdin);
        }
        let path = PathBuf::from(name);
        let file = File::open(&path).with_context(|| format!("cannot read {name}"))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            anyhow::bail!("cannot read {name}: it is a directory");
        }
        Ok(Input::File { path, file })
    }

    fn name(&self) -> String {
        match self {
            Input::File { path, .. } => path.display().to_string(),
            Input::Stdin => "<stdin>".to_string(),
        }
    }

    /// The input's file metadata, when it is (or stdin is redirected from) a file.
    fn metadata(&self) -> Option<std::fs::Metadata> {
        match self {
            Input::File { file, .. } => file.metadata().ok(),
            Input::Stdin => {
                let fd = io::stdin().as_fd().try_clone_to_owned().ok()?;
                File::from(fd).metadata().ok()
            }
        }
    }
}

/// On Ctrl-C (or SIGTERM, or SIGHUP when the terminal closes) while an `--output` file is being written, removes the temporary
/// file — it holds patient data and would never become the output — and exits 130. The output
/// itself is only ever the renamed, complete file, so nothing partial is left behind.
fn remove_on_interrupt(temp: PathBuf) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return; // without a handler the default applies: the process ends, the output is untouched
    };
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            let _ = std::fs::remove_file(&temp);
            eprintln!("ketascreen: interrupted: no output written");
            std::process::exit(130);
        }
    });
}

/// Where the records go.
enum Destination {
    Stdout(io::StdoutLock<'static>),
    /// An existing file that is not a regular one (`/dev/null`, a named pipe): written as is,
    /// since it cannot be replaced by a rename.
    Special(File),
    /// A temporary file beside `path`, renamed onto it at the end.
    File {
        temp: tempfile::NamedTempFile,
        path: PathBuf,
    },
}

impl Write for Destination {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Destination::Stdout(out) => out.write(buf),
            Destination::Special(file) => file.write(buf),
            Destination::File { temp, .. } => temp.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Destination::Stdout(out) => out.write_all(buf),
            Destination::Special(file) => file.write_all(buf),
            Destination::File { temp, .. } => temp.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Destination::Stdout(out) => out.flush(),
            Destination::Special(file) => file.flush(),
            Destination::File { temp, .. } => temp.flush(),
        }
    }
}

impl Destination {
    fn create(path: &Path) -> Result<Destination> {
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            return Ok(Destination::Special(file));
        }
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".ketascreen-")
            .suffix(".tmp")
            .permissions(std::fs::Permissions::from_mode(0o600))
            .tempfile_in(dir)
            .with_context(|| format!("cannot write {}", path.display()))?;
        // The umask cannot widen it, but say so explicitly: patient data, owner only.
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot write {}", path.display()))?;
        remove_on_interrupt(temp.path().to_path_buf());
        Ok(Destination::File {
            temp,
            path: path.to_path_buf(),
        })
    }

    /// Makes the output final: for a file, sync and rename it into place.
    fn commit(self) -> Result<()> {
        match self {
            Destination::Stdout(mut out) => Ok(out.flush()?),
            Destination::Special(mut file) => Ok(file.flush()?),
            Destination::File { temp, path } => {
                temp.as_file()
                    .sync_all()
                    .with_context(|| format!("cannot write {}", path.display()))?;
                temp.persist(&path)
                    .map_err(|e| e.error)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                Ok(())
            }
        }
    }
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
fn format(arg: Option<FormatArg>, output: Option<&Path>, stdout_is_terminal: bool) -> Format {
    if arg.is_some() {
        return app::format_of(arg, false, Format::Ndjson);
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
        None => app::format_of(None, stdout_is_terminal, Format::Ndjson),
    }
}

/// Refuses an `--output` that is the input file itself (the same file under any name).
fn refuse_overwriting_input(input: &Input, output: &Path) -> Result<()> {
    let Ok(out_meta) = std::fs::metadata(output) else {
        return Ok(()); // does not exist yet, so it is not the input
    };
    let same_inode = input
        .metadata()
        .is_some_and(|m| m.is_file() && crate::files::same_identity(&m, &out_meta));
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
            if crate::files::same_file(path, output) {
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
        "ketascreen: {} screened in {seconds:.2} s: {}; {} urgent; {} with input errors",
        plural(summary.rows, "row", "rows"),
        counts.join(", "),
        summary.urgent,
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

/// Reads the header record with the splitter and parses it with the csv crate itself (which
/// also strips a BOM). Returns it (empty for empty input) with the line the data starts on.
fn read_header<R: Read>(split: &mut Splitter<R>, delimiter: u8) -> Result<(csv::ByteRecord, u64)> {
    let mut header = csv::ByteRecord::new();
    let Some(record) = split.next_record()? else {
        return Ok((header, 1));
    };
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(record.bytes)
        .read_byte_record(&mut header)?;
    Ok((header, 1 + newlines(record.bytes)))
}

/// Runs `ketascreen batch`.
pub fn run(rules: Option<&Path>, args: BatchArgs, term: Terminal) -> Result<ExitCode> {
    let started = Instant::now();
    let delimiter = delimiter(&args.delimiter)?;
    let ruleset = app::load_ruleset(rules)?;
    let mapping = Mapping::parse(&ruleset, &args.map, args.id_column.as_deref())
        .map_err(|e| UsageError(e.to_string()))?;
    let output = args
        .output
        .as_deref()
        .filter(|p| p.as_os_str() != "-")
        .map(Path::to_path_buf);
    let to_terminal = output.is_none() && term.stdout;
    let format = format(args.format, output.as_deref(), term.stdout);

    let input = Input::open(&args.file, term)?;
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
    let mut split = Splitter::new(source, delimiter, None);
    let (header, first_line) =
        read_header(&mut split, delimiter).with_context(|| format!("cannot read {name}"))?;
    let columns = columns::resolve_record(&ruleset, &header, &mapping).map_err(|e| {
        let message = format!("{name}: {e}");
        if e.is_usage() {
            anyhow::Error::from(UsageError(message))
        } else if e == HeaderError::Empty {
            anyhow::anyhow!("{name}: no header row: the input is empty")
        } else {
            anyhow::anyhow!(message)
        }
    })?;
    warn_about_header(&ruleset, &columns);
    split.set_column(columns.id);

    // Repeated ids: known before screening for a file, learnt on the way for stdin.
    let (mut duplicates, prescanned) = match (&input, columns.id) {
        (_, None) => (Duplicates::off(), None),
        (Input::File { path, .. }, Some(id_column)) if regular => {
            let (d, rows) = Duplicates::prescan(|| File::open(path), delimiter, id_column)
                .with_context(|| format!("cannot read {name}"))?;
            (d, Some(rows))
        }
        _ => (Duplicates::online(), None),
    };

    let destination = match &output {
        Some(path) => Destination::create(path)?,
        None => Destination::Stdout(io::stdout().lock()),
    };
    let color = to_terminal && output::color_allowed(term.stdout);
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
    };
    let mut destination = destination;
    let summary = screen(
        plan,
        &mut split,
        first_line,
        &mut duplicates,
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
    let mut split = Splitter::new(input, b',', None);
    let (header, first_line) = read_header(&mut split, b',')?;
    let columns =
        columns::resolve_record(ruleset, &header, &mapping).map_err(|e| anyhow::anyhow!("{e}"))?;
    split.set_column(columns.id);
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
    };
    let mut out = Vec::new();
    let summary = screen(
        plan,
        &mut split,
        first_line,
        &mut duplicates,
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
        assert_eq!(format(Some(FormatArg::Json), out, true), Format::Json);
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
            with_errors: 1,
        };
        assert_eq!(
            summary_line(&s, 0.0123),
            "ketascreen: 12 rows screened in 0.01 s: 3 ineligible, 2 incomplete, 4 review, 3 eligible; 2 urgent; 1 row with input errors"
        );
    }
}
