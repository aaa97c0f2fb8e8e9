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
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use anyhow::{anyhow, Context, Result};

use super::draft::{self, DraftFile};
use super::prompt::Prompter;
use super::{walk, Interview, Stop};
use crate::engine::evaluate;
use crate::front::{self, Existing, Terminal, UsageError};
use crate::output::{self, wrap, Record};
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
    /// `--from FILE`: a previous visit's saved answers to start a new visit from.
    pub from: Option<PathBuf>,
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
    let ruleset = front::load_ruleset(opts.rules.as_deref())?;

    let (mut interview, resumed_draft) = match &opts.resume {
        Some(path) => {
            let loaded = load_resume(&ruleset, path)?;
            for w in &loaded.warnings {
                eprintln!("ketascreen: warning: {}: {w}", path.display());
            }
            let draft = loaded.is_draft.then(|| path.clone());
            (loaded.interview, draft)
        }
        None => match &opts.from {
            Some(path) => {
                let loaded = load_resume(&ruleset, path)?;
                for w in &loaded.warnings {
                    eprintln!("ketascreen: warning: {}: {w}", path.display());
                }
                let since = modified_date(path);
                (Interview::from_previous(loaded.interview, since), None)
            }
            None => (Interview::new(&ruleset), None),
        },
    };
    if let Some(save) = &opts.save {
        check_save_target(save, opts.resume.as_deref())?;
    }
    let draft = match (&resumed_draft, &opts.save) {
        (Some(path), _) => DraftFile::resumed(path.clone()),
        (None, Some(save)) => {
            let path = draft::beside(save);
            if front::exists(&path) {
                return Err(UsageError(format!(
                    "a draft for {} already exists: {}; continue it with '{}', or remove it first",
                    save.display(),
                    path.display(),
                    resume_command(&opts, &path)
                ))
                .into());
            }
            DraftFile::new(path)
        }
        (None, None) => DraftFile::new(draft::default_path(Path::new(""), SystemTime::now())),
    };
    let draft = Arc::new(Mutex::new(draft));

    let interrupted = Arc::new(AtomicBool::new(false));
    // Between two prompts the terminal is not in raw mode: a Ctrl-C there must also stop
    // the walk cleanly (with its draft) rather than kill the process.
    let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&interrupted));
    stop_on_hangup(Arc::clone(&draft), opts.clone());
    let colour = colour_ok(term.stderr);
    intro(&ruleset, &interview, opts.resume.as_deref(), colour);
    if let (Some(path), Some(since)) = (&opts.from, interview.since()) {
        let (w, _) = super::screen::Screen::size();
        eprint!(
            "{}",
            wrap::wrap_block(
                &format!(
                    "A new visit from {} ({since}): each section's answers are shown; \
                     type y if they are unchanged, n to go through them one by one.",
                    path.display()
                ),
                w,
                "",
                "  "
            )
        );
    }

    let mut prompter = Prompter::new(colour, interrupted);
    let mut draft_warned = false;
    let first_path = locked(&draft).path().to_path_buf();
    if let Err(e) = draft::probe_writable(front::parent_dir(&first_path)) {
        draft_warned = true;
        eprintln!(
            "ketascreen: warning: cannot keep a draft at {} ({e}); if the interview is stopped, \
             the answers so far are printed on stdout instead",
            first_path.display()
        );
    }
    let outcome = walk(&mut interview, &mut prompter, &mut |iv| {
        let mut d = locked(&draft);
        if let Err(e) = d.write(iv) {
            if !draft_warned {
                draft_warned = true;
                // The terminal is in raw mode here: end the line with \r\n.
                super::screen::say(&[format!(
                    "ketascreen: warning: cannot keep a draft at {}: {e}",
                    d.path().display()
                )]);
            }
        }
    });
    // Out of raw mode before anything else is printed.
    drop(prompter);

    let mut draft = locked(&draft).clone();
    match outcome {
        Ok(()) => finish(&ruleset, &interview, &opts, &mut draft, term),
        Err(stop) => stopped(&interview, &opts, &mut draft, stop),
    }
}

/// The draft, whatever a panicking holder left it as (it holds only a path and two flags).
fn locked(draft: &Mutex<DraftFile>) -> std::sync::MutexGuard<'_, DraftFile> {
    draft
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// SIGTERM or SIGHUP (the terminal closed) while the nurse is typing: the answers so far are
/// already in the draft (it is written after every answer), so say where, put the terminal
/// back and exit 130, as Ctrl-C does. Without a handler the default would end the process
/// with the terminal left in raw mode. (Unix only: Windows has neither signal.)
#[cfg(unix)]
fn stop_on_hangup(draft: Arc<Mutex<DraftFile>>, opts: Options) {
    use signal_hook::consts::{SIGHUP, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        let Some(signal) = signals.forever().next() else {
            return;
        };
        let _ = crossterm::terminal::disable_raw_mode();
        let name = if signal == SIGHUP {
            "SIGHUP"
        } else {
            "SIGTERM"
        };
        let d = locked(&draft);
        eprintln!();
        if d.is_written() {
            eprintln!(
                "Interview stopped ({name}). The answers so far are saved in {} (readable only by you).",
                d.path().display()
            );
            eprintln!("To continue: {}", resume_command(&opts, d.path()));
        } else {
            eprintln!("Interview stopped ({name}) before anything was saved.");
        }
        std::process::exit(i32::from(STOPPED));
    });
}

/// Windows sends no SIGTERM or SIGHUP: nothing to watch.
#[cfg(not(unix))]
fn stop_on_hangup(_draft: Arc<Mutex<DraftFile>>, _opts: Options) {}

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

/// Colour on this stream, by the program's one colour policy.
fn colour_ok(is_terminal: bool) -> bool {
    output::color_allowed(is_terminal)
}

/// The day a file was last changed, `YYYY-MM-DD` (UTC): when the previous visit was saved.
fn modified_date(path: &Path) -> String {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| civil_date(d.as_secs() / 86_400))
        .unwrap_or_else(|| "the previous visit".to_string())
}

/// Days since 1970-01-01 as a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
fn civil_date(days: u64) -> String {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
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
/// (Checked again when it is written: a file that appears meanwhile is not replaced either.)
fn check_save_target(save: &Path, resume: Option<&Path>) -> Result<()> {
    let dir = front::parent_dir(save);
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
    if front::exists(save) && !resume.is_some_and(|r| front::same_file(r, save)) {
        return Err(UsageError(format!(
            "{} already exists and would be overwritten; choose another file, or continue that \
             interview with '--resume {0} --save {0}'",
            save.display()
        ))
        .into());
    }
    Ok(())
}

fn intro(ruleset: &Ruleset, interview: &Interview<'_>, resumed: Option<&Path>, colour: bool) {
    let (w, _) = super::screen::Screen::size();
    let title = format!(
        "{} (ruleset {} {})",
        ruleset.title, ruleset.id, ruleset.version
    );
    for line in wrap::wrap(&title, w, "", "  ") {
        if colour {
            eprintln!("\x1b[1m{line}\x1b[0m");
        } else {
            eprintln!("{line}");
        }
    }
    let mut text = vec![
        "Answer each question and press Enter. Type ? when an answer is not known.".to_string(),
        "Type back (or press PgUp) to return to the previous question.".to_string(),
        "Edit the answer as in a shell: Ctrl-U, Ctrl-W, Ctrl-A, Ctrl-E, Alt-B, Alt-F.".to_string(),
        "Esc pauses, Ctrl-C stops: the answers so far are kept in a draft.".to_string(),
        "Before the verdict you see every answer again and can change any of them.".to_string(),
    ];
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
        text.push(format!(
            "Continuing{id} from {}: {done} question{} already gone through.",
            path.display(),
            if done == 1 { "" } else { "s" }
        ));
    }
    for paragraph in text {
        eprint!("{}", wrap::wrap_block(&paragraph, w, "", "  "));
    }
}

/// The interview is done: the verdict on stdout, then `--save`, then the draft is removed.
/// `--save` never replaces a file (but the one resumed): if one appeared meanwhile, or the
/// disk is full, the answers stay in the draft; if even that fails, they go to stdout.
fn finish(
    ruleset: &Ruleset,
    interview: &Interview<'_>,
    opts: &Options,
    draft: &mut DraftFile,
    term: Terminal,
) -> Result<ExitCode> {
    let record = Record {
        profile: None,
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
        let replace = opts
            .resume
            .as_deref()
            .is_some_and(|r| front::same_file(r, save));
        let existing = if replace {
            Existing::Replace
        } else {
            Existing::Keep
        };
        if let Err(e) = front::write_private(save, &draft::json_bytes(&doc), existing) {
            let why = if e.kind() == std::io::ErrorKind::AlreadyExists {
                format!(
                    "{} was created while the interview ran, and is not replaced",
                    save.display()
                )
            } else {
                format!("cannot save {}: {e}", save.display())
            };
            // The answers must survive: in the draft, or else on stdout.
            return match draft.write(interview) {
                Ok(()) => Err(anyhow!(
                    "{why}; the answers are kept in {}; to save them elsewhere: {}",
                    draft.path().display(),
                    resume_command(
                        &Options {
                            save: None,
                            ..opts.clone()
                        },
                        draft.path()
                    )
                )),
                Err(d) => {
                    eprintln!(
                        "ketascreen: {why}, and no draft could be written ({}: {d}); the answers and the verdict follow on stdout: keep them",
                        draft.path().display()
                    );
                    let mut out = std::io::stdout().lock();
                    out.write_all(&draft::json_bytes(&doc))?;
                    out.flush()?;
                    Ok(ExitCode::from(1))
                }
            };
        }
        eprintln!(
            "Saved the answers and the verdict to {} (readable only by you).",
            save.display()
        );
    }
    let path = draft.path().to_path_buf();
    let is_save = opts
        .save
        .as_deref()
        .is_some_and(|s| front::same_file(s, &path));
    let resumed_draft = opts.resume.as_deref() == Some(path.as_path());
    if draft.is_ours() && !is_save && front::exists(&path) {
        match std::fs::remove_file(&path) {
            Ok(()) if resumed_draft => {
                eprintln!("The draft {} is complete and was removed.", path.display())
            }
            Ok(()) => {}
            Err(e) => eprintln!(
                "ketascreen: warning: cannot remove the draft {}: {e}",
                path.display()
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Stopped before the verdict: keep the draft and say how to resume.
fn stopped(
    interview: &Interview<'_>,
    opts: &Options,
    draft: &mut DraftFile,
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
        match draft.write(interview) {
            Ok(()) => {
                eprintln!("{how}");
                eprintln!(
                    "The answers so far are saved in {} (readable only by you).",
                    draft.path().display()
                );
                eprintln!("To continue: {}", resume_command(opts, draft.path()));
            }
            Err(e) => {
                // Last resort: the answers go to stdout rather than nowhere.
                eprintln!("{how}");
                eprintln!(
                    "ketascreen: cannot save the draft: cannot write {}: {e}",
                    draft.path().display()
                );
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
            from: None,
            bare: false,
        };
        assert_eq!(
            resume_command(&opts, Path::new("out/p42.draft.json")),
            "ketascreen --rules 'my rules.yaml' interview --resume out/p42.draft.json --save out/p42.json"
        );
        assert_eq!(quoted(OsStr::new("it's")), r"'it'\''s'");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(20_393), "2025-11-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
    }
}
