//! What every front end (`check`, the interview, `batch`, the `rules` toolkit) shares, in one
//! place: what the process learnt about its terminal, bad usage (exit status 2), reading a
//! ruleset file (the core takes text and reads no files), the choice of output format, `-`
//! for stdin (`Input`), and the files we write: patient data privately and atomically (mode
//! 0600, a temporary file renamed into place: `write_private`, `Destination`), replacing what is
//! there only where the user asked for that file and otherwise never (a no-clobber rename,
//! `Existing::Keep`); exclusive creation; "does this name exist" that counts a dangling symlink;
//! and "are these the same file" by identity (`same_file`), not by name.
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

/// What to do when the target name exists at the moment of writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Replace it (the rename replaces a symlink itself, never what it points to).
    Replace,
    /// Fail with `io::ErrorKind::AlreadyExists`, even if it appeared a moment ago.
    Keep,
}

/// The directory a file goes in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes a file that holds patient data: to a temporary file in the same directory (mode
/// 0600), synced, then renamed onto `path` — over what is there, or only if nothing is — so a
/// reader never sees half a file and no one else can read it.
pub fn write_private(path: &Path, bytes: &[u8], existing: Existing) -> io::Result<()> {
    let mut tmp = private_temp(path).map_err(without_temp_name)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    match existing {
        Existing::Replace => tmp.persist(path).map_err(|e| e.error)?,
        Existing::Keep => tmp.persist_noclobber(path).map_err(|e| e.error)?,
    };
    Ok(())
}

/// tempfile names its random temporary file in errors ("... at path /d/.ketascreen-x1Yz.tmp");
/// the user named `path`, so the error says only what went wrong.
fn without_temp_name(e: io::Error) -> io::Error {
    let text = e.to_string();
    match text.find(" at path \"") {
        Some(cut) => io::Error::new(e.kind(), &text[..cut]),
        None => e,
    }
}

/// Creates a new file with these bytes; fails with `AlreadyExists` if the name is taken, by a
/// file or by a symlink (which is never followed).
pub fn create_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Whether something has this name: a file, a directory, or a symlink, even a dangling one.
pub fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Whether two names are the same file (device and inode, through symlinks and hard links;
/// on Windows, where file ids are out of reach, the same canonical path); false when either
/// does not exist.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(ma), Ok(mb)) => {
            crate::platform::same_file(&ma, &mb)
                || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
        }
        _ => false,
    }
}

/// `x.json` → `x-2.json` (n = 2): another name beside a taken one.
pub fn numbered(path: &Path, n: u32) -> std::path::PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    path.with_file_name(name)
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
        // Ctrl-C (or SIGTERM, or SIGHUP) while it is written removes the temporary file — it holds
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

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn private_files_are_0600_and_kept_files_are_never_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.json");
        write_private(&path, b"one", Existing::Keep).expect("writes");
        let err = write_private(&path, b"two", Existing::Keep).expect_err("kept");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).expect("reads"), b"one");
        write_private(&path, b"three", Existing::Replace).expect("replaces");
        assert_eq!(std::fs::read(&path).expect("reads"), b"three");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_count_as_taken_and_are_never_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("target");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert!(exists(&link) && !link.exists());
        assert_eq!(
            create_new(&link, b"x").expect_err("taken").kind(),
            io::ErrorKind::AlreadyExists
        );
        assert_eq!(
            write_private(&link, b"x", Existing::Keep)
                .expect_err("taken")
                .kind(),
            io::ErrorKind::AlreadyExists
        );
        assert!(!target.exists(), "nothing written through the link");
    }

    #[test]
    fn same_file_by_identity() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a");
        std::fs::write(&a, "x").expect("writes");
        let b = dir.path().join("b");
        std::fs::hard_link(&a, &b).expect("link");
        assert!(same_file(&a, &b));
        assert!(!same_file(&a, &dir.path().join("missing")));
        assert_eq!(
            numbered(Path::new("d/v.draft.json"), 2),
            Path::new("d/v.draft-2.json")
        );
    }
}
