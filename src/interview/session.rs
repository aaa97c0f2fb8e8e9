//! `ketascreen interview` (and bare `ketascreen` on a terminal) from start to finish: refuse
//! up front when there is no terminal to talk to, load the ruleset and any `--resume` file,
//! walk the interview with the terminal `Prompter` while keeping a draft after every answer,
//! then print the verdict (exactly as `check --format table`) on stdout and write `--save`.
//! A stop before the verdict (Esc, Ctrl-C, a failing terminal) leaves the draft and says how
//! to resume. It decides nothing itself: the verdict comes from `engine::evaluate`.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::{anyhow, Context, Result};

use super::prompt::Prompter;
use super::{draft, walk, Interview, Stop};
use crate::app::{self, Terminal, UsageError};
use crate::engine::evaluate;
use crate::output::{self, Record};
use crate::patient;
use crate::ruleset::Ruleset;

/// What the command line asked of the interview.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--rules FILE` (or `KETASCREEN_RULES`); `None` is the built-in ruleset.
    pub rules: Option<PathBuf>,
    /// `--save FILE`: where the answers and the verdict go when the interview is done.
    pub save: Option<PathBuf>,
    /// `--resume FILE`: a draft, a saved interview or an answers file to continue from.
    pub resume: Option<PathBuf>,
    /// Started as bare `ketascreen`, with no command.
    pub bare: bool,
}

/// Exit status of an interview stopped before the verdict (Ctrl-C or Esc).
pub const STOPPED: u8 = 130;

/// Runs the interview. Exit status 0 with a verdict, 130 when stopped before it.
pub fn run(opts: Options, term: Terminal) -> Result<ExitCode> {
    if !(term.stdin && term.stderr) {
        return Err(UsageError(no_terminal(&opts, term)).into());
    }
    let ruleset = app::load_ruleset(opts.rules.as_deref())?;

    let (mut interview, resumed_draft) = match &opts.resume {
        Some(path) => {
            let loaded = load_resume(&ruleset, path)?;
            for w in &loaded.warnings {
                eprintln!("ketascreen: warning: {}: {w}", path.display());
            }
            let draft = loaded.is_draft.then(|| path.clone());
            (loaded.interview, draft)
        }
        None => (Interview::new(&ruleset), None),
    };
    if let Some(save) = &opts.save {
        check_save_target(save, opts.resume.as_deref())?;
    }
    let draft_path = match (&resumed_draft, &opts.save) {
        (Some(path), _) => path.clone(),
        (None, Some(save)) => {
            let path = draft::beside(save);
            if path.exists() {
                return Err(UsageError(format!(
                    "a draft for {} already exists: {}; continue it with '{}', or remove it first",
                    save.display(),
                    path.display(),
                    resume_command(&opts, &path)
                ))
                .into());
            }
            path
        }
        (None, None) => draft::default_path(Path::new(""), SystemTime::now()),
    };

    let interrupted = Arc::new(AtomicBool::new(false));
    // Between two prompts the terminal is not in raw mode: a Ctrl-C there must also stop
    // the walk cleanly (with its draft) rather than kill the process.
    let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&interrupted));
    let colour = colour_ok(term.stderr);
    intro(&ruleset, &interview, opts.resume.as_deref(), colour);

    let mut prompter = Prompter::new(colour, interrupted);
    let mut draft_written = false;
    let mut draft_warned = false;
    if let Err(e) = draft::probe_writable(parent_dir(&draft_path)) {
        draft_warned = true;
        eprintln!(
            "ketascreen: warning: cannot keep a draft at {} ({e}); if the interview is stopped, \
             the answers so far are printed on stdout instead",
            draft_path.display()
        );
    }
    let outcome = walk(
        &mut interview,
        &mut prompter,
        &mut |iv| match save_draft(&draft_path, iv) {
            Ok(()) => draft_written = true,
            Err(e) if !draft_warned => {
                draft_warned = true;
                eprintln!(
                    "ketascreen: warning: cannot keep a draft at {}: {e:#}",
                    draft_path.display()
                );
            }
            Err(_) => {}
        },
    );

    match outcome {
        Ok(()) => finish(
            &ruleset,
            &interview,
            &opts,
            &draft_path,
            draft_written,
            term,
        ),
        Err(stop) => stopped(&interview, &opts, &draft_path, stop),
    }
}

/// Why the interview cannot run here, pointing to the commands that can.
fn no_terminal(opts: &Options, term: Terminal) -> String {
    let which = match (term.stdin, term.stderr) {
        (false, false) => "stdin and stderr are not terminals",
        (false, true) => "stdin is not a terminal",
        _ => "stderr is not a terminal",
    };
    let alternatives = "to screen answers from a file use 'ketascreen check FILE' \
         (or 'ketascreen check - < answers.json'), for a CSV of many patients 'ketascreen batch FILE.csv'; \
         see 'ketascreen --help'";
    if opts.bare {
        format!("no command given, and the interview needs a terminal ({which}); {alternatives}")
    } else {
        format!("the interview needs a terminal ({which}); {alternatives}")
    }
}

/// Colour on this stream: a terminal, `NO_COLOR` unset or empty, and not `TERM=dumb`.
fn colour_ok(is_terminal: bool) -> bool {
    output::color_allowed(is_terminal) && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

fn load_resume<'r>(ruleset: &'r Ruleset, path: &Path) -> Result<draft::Loaded<'r>> {
    let shown = path.display();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {shown}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow!(
            "{shown}: not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    let doc = patient::parse_document(&text)
        .with_context(|| format!("cannot read answers from {shown}"))?;
    draft::from_json(ruleset, &doc).with_context(|| format!("cannot read answers from {shown}"))
}

/// `--save` must be writable, and never overwrites a file — except the one being resumed.
fn check_save_target(save: &Path, resume: Option<&Path>) -> Result<()> {
    let dir = parent_dir(save);
    if !dir.is_dir() {
        return Err(anyhow!(
            "cannot save to {}: no such directory {}",
            save.display(),
            dir.display()
        ));
    }
    // Find out now, not after the last question.
    draft::probe_writable(dir).with_context(|| {
        format!(
            "cannot save to {}: cannot write in {}",
            save.display(),
            dir.display()
        )
    })?;
    if save.exists() && !resume.is_some_and(|r| same_file(r, save)) {
        return Err(UsageError(format!(
            "{} already exists and would be overwritten; choose another file, or continue that \
             interview with '--resume {0} --save {0}'",
            save.display()
        ))
        .into());
    }
    Ok(())
}

/// The directory a file goes in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

fn save_draft(path: &Path, interview: &Interview<'_>) -> Result<()> {
    draft::write_private(path, &draft::json_bytes(&draft::to_json(interview)))
        .with_context(|| format!("cannot write {}", path.display()))
}

fn intro(ruleset: &Ruleset, interview: &Interview<'_>, resumed: Option<&Path>, colour: bool) {
    let title = format!(
        "{} (ruleset {} {})",
        ruleset.title, ruleset.id, ruleset.version
    );
    let title = if colour {
        format!("\x1b[1m{title}\x1b[0m")
    } else {
        title
    };
    eprintln!("{title}");
    eprintln!("Answer each question and press Enter. Type ? when an answer is not known.");
    eprintln!("Esc pauses, Ctrl-C stops: the answers so far are kept in a draft to resume later.");
    eprintln!("Before the verdict you see every answer again and can change any of them.");
    if let Some(path) = resumed {
        let rs = interview.ruleset();
        let done = rs
            .ask_order
            .iter()
            .filter(|&&s| interview.is_asked(s))
            .count();
        let id = interview
            .id()
            .map(|id| format!(" for patient {}", output::escape::text(id)))
            .unwrap_or_default();
        eprintln!(
            "Continuing{id} from {}: {done} question{} already gone through.",
            path.display(),
            if done == 1 { "" } else { "s" }
        );
    }
}

/// The interview is done: the verdict on stdout, then `--save`, then the draft is removed.
fn finish(
    ruleset: &Ruleset,
    interview: &Interview<'_>,
    opts: &Options,
    draft_path: &Path,
    draft_written: bool,
    term: Terminal,
) -> Result<ExitCode> {
    let record = Record {
        id: interview.id().map(str::to_string),
        row: None,
        verdict: evaluate(ruleset, interview.answers()),
        errors: Vec::new(),
    };
    eprintln!();
    let mut out = std::io::stdout().lock();
    out.write_all(output::table::render(ruleset, &record, colour_ok(term.stdout)).as_bytes())?;
    out.flush()?;
    drop(out);

    if let Some(save) = &opts.save {
        let doc = output::json::to_value(ruleset, &record, Some(interview.answers()));
        if let Err(e) = draft::write_private(save, &draft::json_bytes(&doc)) {
            // The answers must survive: leave them in the draft.
            let kept = match save_draft(draft_path, interview) {
                Ok(()) => format!("the answers are kept in {}", draft_path.display()),
                Err(_) => "no draft could be written either".to_string(),
            };
            return Err(anyhow!(e).context(format!("cannot save {} ({kept})", save.display())));
        }
        eprintln!(
            "Saved the answers and the verdict to {} (readable only by you).",
            save.display()
        );
    }
    let is_save = opts
        .save
        .as_deref()
        .is_some_and(|s| same_file(s, draft_path));
    let resumed_draft = opts.resume.as_deref() == Some(draft_path);
    if (draft_written || resumed_draft) && !is_save && draft_path.exists() {
        match std::fs::remove_file(draft_path) {
            Ok(()) if resumed_draft => eprintln!(
                "The draft {} is complete and was removed.",
                draft_path.display()
            ),
            Ok(()) => {}
            Err(e) => eprintln!(
                "ketascreen: warning: cannot remove the draft {}: {e}",
                draft_path.display()
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Stopped before the verdict: keep the draft and say how to resume.
fn stopped(
    interview: &Interview<'_>,
    opts: &Options,
    draft_path: &Path,
    stop: Stop,
) -> Result<ExitCode> {
    let how = match &stop {
        Stop::Paused => "Interview paused (Esc).",
        Stop::Interrupted => "Interview stopped (Ctrl-C).",
        Stop::Failed(_) => "Interview stopped: the terminal failed.",
    };
    eprintln!();
    if !interview.started() {
        eprintln!("{how} Nothing was answered, so there is nothing to save.");
    } else {
        match save_draft(draft_path, interview) {
            Ok(()) => {
                eprintln!("{how}");
                eprintln!(
                    "The answers so far are saved in {} (readable only by you).",
                    draft_path.display()
                );
                eprintln!("To continue: {}", resume_command(opts, draft_path));
            }
            Err(e) => {
                // Last resort: the answers go to stdout rather than nowhere.
                eprintln!("{how}");
                eprintln!("ketascreen: cannot save the draft: {e:#}");
                eprintln!(
                    "The answers so far follow on stdout; keep them to resume with --resume FILE."
                );
                let mut out = std::io::stdout().lock();
                out.write_all(&draft::json_bytes(&draft::to_json(interview)))?;
                out.flush()?;
            }
        }
    }
    match stop {
        Stop::Failed(msg) => Err(anyhow!("the terminal failed: {msg}")),
        _ => Ok(ExitCode::from(STOPPED)),
    }
}

/// The command that continues this interview, ready to paste.
fn resume_command(opts: &Options, draft: &Path) -> String {
    let mut words = vec!["ketascreen".to_string()];
    if let Some(rules) = &opts.rules {
        words.push("--rules".into());
        words.push(quoted(rules.as_os_str()));
    }
    words.push("interview".into());
    words.push("--resume".into());
    words.push(quoted(draft.as_os_str()));
    if let Some(save) = &opts.save {
        words.push("--save".into());
        words.push(quoted(save.as_os_str()));
    }
    words.join(" ")
}

/// A path as a shell word: as is when it is plain, single-quoted otherwise.
fn quoted(word: &OsStr) -> String {
    let s = word.to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./+=:@%,".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_commands_are_ready_to_paste() {
        let opts = Options {
            rules: Some(PathBuf::from("my rules.yaml")),
            save: Some(PathBuf::from("out/p42.json")),
            resume: None,
            bare: false,
        };
        assert_eq!(
            resume_command(&opts, Path::new("out/p42.draft.json")),
            "ketascreen --rules 'my rules.yaml' interview --resume out/p42.draft.json --save out/p42.json"
        );
        assert_eq!(quoted(OsStr::new("it's")), r"'it'\''s'");
    }
}
