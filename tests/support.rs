//! A small builder for "run ketascreen with these args and this stdin, expect this output".

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository root (for examples/ and rules/).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn path(relative: &str) -> PathBuf {
    root().join(relative)
}

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// A ketascreen invocation under construction.
pub struct Ks {
    cmd: Command,
    stdin: Option<Vec<u8>>,
}

/// Starts `ketascreen ARGS...` with a clean environment (no KETASCREEN_RULES or COLUMNS,
/// NO_COLOR set).
pub fn ks<I, S>(args: I) -> Ks
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::cargo_bin("ketascreen").expect("binary builds");
    cmd.args(args)
        .env_remove("KETASCREEN_RULES")
        .env_remove("COLUMNS")
        .env("NO_COLOR", "1")
        .current_dir(root());
    Ks { cmd, stdin: None }
}

impl Ks {
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.cmd.env_remove(key);
        self
    }

    pub fn dir(mut self, dir: &Path) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    pub fn run(mut self) -> Run {
        self.cmd.write_stdin(self.stdin.unwrap_or_default());
        let out = self.cmd.output().expect("ketascreen runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs and parses stdout as one JSON document.
    pub fn json(self) -> (Run, serde_json::Value) {
        let run = self.run();
        let value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {run:?}"));
        (run, value)
    }
}
