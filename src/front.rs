//! What every front end (`check`, the interview, `batch`, the `rules` toolkit) shares, in one
//! place: what the process learnt about its terminal, bad usage (exit status 2), reading a
//! ruleset file (the core takes text and reads no files), the choice of output format, `-`
//! for stdin (`Input`), and files of patient data written privately and atomically (mode
//! 0600, a temporary file renamed into place: `write_private`, `Destination`).
//! No clap types here: `app` resolves the command line and hands the front ends plain values.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::output::Format;
use crate::ruleset::{self, Diagnostic, LoadError, Ruleset};

/// Bad usage, reported with exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// What the process learnt about its surroundings, once.
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

impl Terminal {
    pub fn detect() -> Self {
        Terminal {
            stdin: std::io::stdin().is_terminal(),
            stdout: std::io::stdout().is_terminal(),
            stderr: std::io::stderr().is_terminal(),
        }
    }
}

/// Reads a ruleset file's text, and how the file is named in messages.
pub fn read_ruleset(path: &Path) -> Result<(String, String), LoadError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
        path: shown.clone(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| LoadError::Read {
        path: shown.clone(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text: {e}"),
        ),
    })?;
    Ok((text, shown))
}

/// Loads the ruleset named by `--rules`/`KETASCREEN_RULES`, or the built-in one.
pub fn load_ruleset(path: Option<&Path>) -> Result<Ruleset, LoadError> {
    match path {
        Some(p) => {
            let (text, shown) = read_ruleset(p)?;
            ruleset::load_str(&text, &shown)
        }
        None => ruleset::builtin(),
    }
}

/// Loads and lints the ruleset file named, or the built-in one.
pub fn lint_ruleset(path: Option<&Path>) -> Result<(Ruleset, Vec<Diagnostic>), LoadError> {
    match path {
        Some(p) => {
            let (text, shown) = read_ruleset(p)?;
            ruleset::lint_str(&text, &shown)
        }
        None => ruleset::lint_builtin(),
    }
}

/// The output format: as asked, else a table on a terminal, else `piped_default`.
pub fn format_of(asked: Option<Format>, stdout_is_terminal: bool, piped_default: Format) -> Format {
    match asked {
        Some(format) => format,
        None if stdout_is_terminal => Format::Table,
        None => piped_default,
    }
}

/// A temporary file beside `path` (so it can be renamed onto it), mode 0600: it will hold
/// patient data, for the owner only.
pub fn private_temp(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".ketascreen-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    // tempfile creates it 0600 on Unix; say so explicitly (`platform`: Windows has no mode).
    crate::platform::make_private(temp.as_file())?;
    Ok(temp)
}

/// Flushes a `private_temp` file to disk and renames it onto `path`.
pub fn commit_private(temp: tempfile::NamedTempFile, path: &Path) -> io::Result<()> {
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Writes a file that holds patient data: to a temporary file in the same directory (mode
/// 0600), flushed to disk, then renamed over `path`, so a reader never sees half a file and
/// no one else can read it.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut temp = private_temp(path)?;
    temp.write_all(bytes)?;
    commit_private(temp, path)
}

/// Where the rows come from.
pub enum Input {
    File { path: PathBuf, file: File },
    Stdin,
}

impl Input {
    /// Opens `name`, or stdin for `-`; `empty_stdin` is the usage message for a `-` that is
    /// a terminal (nothing was piped in).
    pub fn open(name: &str, term: Terminal, empty_stdin: &str) -> Result<Input> {
        if name == "-" {
            if term.stdin {
                return Err(UsageError(empty_stdin.to_string()).into());
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

    pub fn name(&self) -> String {
        match self {
            Input::File { path, .. } => path.display().to_string(),
            Input::Stdin => "<stdin>".to_string(),
        }
    }

    /// The input's file metadata, when it is (or stdin is redirected from) a file.
    pub fn metadata(&self) -> Option<std::fs::Metadata> {
        match self {
            Input::File { file, .. } => file.metadata().ok(),
            Input::Stdin => crate::platform::stdin_metadata(),
        }
    }
}

/// Where the records go.
pub enum Destination {
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
    /// A destination file written privately (see `private_temp`), or written as is when it
    /// is not a regular file.
    pub fn create(path: &Path) -> Result<Destination> {
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            return Ok(Destination::Special(file));
        }
        let temp =
            private_temp(path).with_context(|| format!("cannot write {}", path.display()))?;
        // Ctrl-C (or SIGTERM) while it is written removes the temporary file — it holds
        // patient data and would never become the output — and exits 130.
        crate::platform::remove_on_interrupt(temp.path().to_path_buf());
        Ok(Destination::File {
            temp,
            path: path.to_path_buf(),
        })
    }

    /// Makes the output final: for a file, sync and rename it into place.
    pub fn commit(self) -> Result<()> {
        match self {
            Destination::Stdout(mut out) => Ok(out.flush()?),
            Destination::Special(mut file) => Ok(file.flush()?),
            Destination::File { temp, path } => commit_private(temp, &path)
                .with_context(|| format!("cannot write {}", path.display())),
        }
    }
}
