//! `ketascreen interview` end to end, in a real pseudo-terminal (rexpect) running the built
//! binary: a whole interview to its verdict, an out-of-range answer refused and asked again,
//! an answer changed at the review, Ctrl-C then `--resume`, and the refusal to run (exit 2,
//! never waiting for the keyboard) when there is no terminal.
//!
//! Every step waits for the prompt it answers before typing, and every wait is generous
//! (`TIMEOUT_MS`), so a slow, busy machine only makes the tests slower, never wrong.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::sys::wait::WaitStatus;
use rexpect::reader::Options;
use rexpect::session::{spawn_with_options, PtySession};
use serde_json::Value as Json;

use crate::support::{ks, path};

const TIMEOUT_MS: u64 = 30_000;
const RULES: &str = "tests/data/interview-rules.yaml";

const ENTER: &str = "\r";
const UP: &str = "\x1b[A";
const BACKSPACE: &str = "\x7f";

/// One interview running in a pseudo-terminal.
struct Pty {
    session: PtySession,
    /// Everything read so far, for failure messages.
    seen: String,
}

/// Starts the built binary in a 120x50 pseudo-terminal, in `dir`, without colour.
fn start(dir: &Path, args: &[&str]) -> Pty {
    start_sized(dir, args, 120, 50, true)
}

/// Starts the built binary in a `cols`x`rows` pseudo-terminal; `strip` removes the escape
/// sequences from what is read (off to see where each drawn line starts).
fn start_sized(dir: &Path, args: &[&str], cols: u16, rows: u16, strip: bool) -> Pty {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!(
            r#"stty rows {rows} cols {cols} 2>/dev/null; exec "$0" "$@""#
        ))
        .arg(env!("CARGO_BIN_EXE_ketascreen"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env_remove("KETASCREEN_RULES")
        .current_dir(dir);
    let options = Options::new()
        .timeout_ms(Some(TIMEOUT_MS))
        .strip_ansi_escape_codes(strip);
    let session = spawn_with_options(cmd, options).expect("ketascreen starts in a pty");
    Pty {
        session,
        seen: String::new(),
    }
}

/// rexpect hands back each byte as a char; put the UTF-8 back together.
fn utf8(raw: &str) -> String {
    let bytes: Vec<u8> = raw.chars().map(|c| c as u32 as u8).collect();
    String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
}

impl Pty {
    /// Waits for `text`; returns what came before it.
    fn expect(&mut self, text: &str) -> String {
        // rexpect compares byte by byte, each byte as a char.
        let needle: String = text.bytes().map(char::from).collect();
        match self.session.exp_string(&needle) {
            Ok(before) => {
                let before = utf8(&before);
                self.seen.push_str(&before);
                self.seen.push_str(text);
                before
            }
            Err(e) => panic!(
                "waiting for {text:?}: {e}\n--- output so far ---\n{}",
                self.seen
            ),
        }
    }

    fn keys(&mut self, keys: &str) {
        self.session.send(keys).expect("keys sent");
        self.session.flush().expect("keys flushed");
    }

    /// Waits for the prompt, then types the answer and Enter.
    fn answer(&mut self, prompt: &str, typed: &str) {
        self.expect(prompt);
        self.keys(&format!("{typed}{ENTER}"));
    }

    /// Reads to the end; returns the rest of the output and the exit status.
    fn finish(mut self) -> (String, i32) {
        let rest = match self.session.exp_eof() {
            Ok(rest) => utf8(&rest),
            Err(e) => panic!("waiting for the end: {e}\n--- output ---\n{}", self.seen),
        };
        let code = match self.session.process().wait() {
            Ok(WaitStatus::Exited(_, code)) => code,
            other => panic!("ketascreen did not exit normally: {other:?}\n{rest}"),
        };
        (rest, code)
    }
}

fn read_json(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?} is not JSON: {e}"))
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("file exists")
        .permissions()
        .mode()
        & 0o777
}

/// The verdict `check --format table` prints for a file, as the interview must print it too.
fn check_table(rules: &str, file: &Path) -> String {
    let file = file.display().to_string();
    // The interviews here run in a 120-column terminal.
    let run = ks(["--rules", rules, "check", "--format", "table", &file])
        .env("COLUMNS", "120")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stderr, "", "no warnings on a saved interview");
    run.stdout
}

fn rules_path() -> String {
    path(RULES).display().to_string()
}

/// The test ruleset's questions answered in one go: 45 years, 150 mmHg, not pregnant, not
/// breastfeeding — a review verdict for raised blood pressure.
fn answer_all(pty: &mut Pty) {
    pty.answer("Patient id (optional):", "P-1");
    pty.answer("How old is the patient, in years?", "45");
    pty.answer("Seated systolic blood pressure (mmHg)", "150");
    pty.expect("What is the patient's pregnancy status?");
    // The list starts on "Unknown / not recorded", under "Pregnant" and "Not pregnant".
    pty.expect("Unknown / not recorded");
    pty.keys(&format!("{UP}{UP}{ENTER}"));
    pty.answer("Is the patient breastfeeding?", "n");
}

#[test]
fn a_complete_interview_prints_the_verdict_and_saves_what_check_reads_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = rules_path();
    let mut pty = start(
        dir.path(),
        &["--rules", &rules, "interview", "--save", "p1.json"],
    );
    answer_all(&mut pty);
    let review = pty.expect("Are these answers right?");
    for (question, answer) in [
        ("1   How old is the patient, in years?", "45 years"),
        ("2 * Seated systolic blood pressure", "150 mmHg"),
        (
            "3   What is the patient's pregnancy status?",
            "Not pregnant",
        ),
        ("4   Is the patient breastfeeding?", "no"),
    ] {
        assert!(
            review
                .lines()
                .any(|l| l.contains(question) && l.contains(answer)),
            "review shows {question} = {answer}:\n{review}"
        );
    }
    pty.keys(ENTER); // Enter alone confirms.
    let (rest, code) = pty.finish();
    assert_eq!(code, 0, "{rest}");

    let saved = dir.path().join("p1.json");
    assert_eq!(mode(&saved), 0o600);
    let doc = read_json(&saved);
    assert_eq!(doc["schema"], "ketascreen.verdict/v1");
    assert_eq!(doc["id"], "P-1");
    assert_eq!(doc["verdict"], "review");
    assert_eq!(doc["urgent"], false);
    assert_eq!(doc["reasons"][0]["rule"], "elevated_blood_pressure");
    assert_eq!(
        doc["answers"],
        serde_json::json!({"age_years": 45, "systolic_bp": 150,
            "pregnancy_status": "not_pregnant", "breastfeeding": "no"})
    );

    // `check` on the saved file: the same verdict, and the same table the interview printed.
    let table = check_table(&rules, &saved);
    assert!(
        table.starts_with("Patient: P-1\nREVIEW: refer to the prescriber before treatment\n"),
        "{table}"
    );
    assert!(
        rest.contains(&table),
        "interview verdict:\n{rest}\ncheck:\n{table}"
    );
    assert!(rest.contains("Saved the answers and the verdict to p1.json (readable only by you)."));
    // No draft is left behind once the interview is done.
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["p1.json"]);
}

#[test]
fn an_out_of_range_blood_pressure_is_refused_with_its_bounds_and_asked_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = rules_path();
    let mut pty = start(
        dir.path(),
        &["--rules", &rules, "interview", "--save", "p2.json"],
    );
    pty.answer("Patient id (optional):", "");
    pty.answer("How old is the patient, in years?", "45");
    pty.answer("Seated systolic blood pressure (mmHg)", "400");
    pty.expect("400 is out of range: must be between 50 and 300 mmHg");
    // Still the same question, the rejected text still in the field: correct it.
    pty.keys(&format!("{BACKSPACE}{BACKSPACE}{BACKSPACE}"));
    pty.keys(&format!("x{ENTER}"));
    pty.expect("expected a whole number between 50 and 300 mmHg");
    pty.keys(&format!("{BACKSPACE}190{ENTER}"));
    pty.expect("What is the patient's pregnancy status?");
    pty.expect("Unknown / not recorded");
    // Straight to "Cannot become pregnant": breastfeeding is then not asked.
    pty.keys(&format!("{UP}{UP}{UP}{ENTER}"));
    let review = pty.expect("Are these answers right?");
    assert!(
        !review.contains("> Is the patient breastfeeding?"),
        "{review}"
    );
    assert!(review
        .lines()
        .any(|l| l.contains("Is the patient breastfeeding?") && l.contains("(does not apply)")));
    pty.keys(ENTER);
    let (rest, code) = pty.finish();
    assert_eq!(code, 0, "{rest}");
    assert!(rest.contains("INELIGIBLE: an exclusion applies; not a candidate now\nURGENT: same-day clinical attention needed"), "{rest}");
    let doc = read_json(&dir.path().join("p2.json"));
    assert_eq!(doc["verdict"], "ineligible");
    assert_eq!(doc["urgent"], true);
    assert_eq!(doc["id"], Json::Null);
    assert_eq!(doc["answers"]["systolic_bp"], 190);
    assert_eq!(doc["answers"]["breastfeeding"], Json::Null);
}

// An interview must not end with an urgent rule undecided without saying so on the verdict.
#[test]
fn an_urgent_question_left_unanswered_is_said_on_the_verdict_screen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = rules_path();
    let mut pty = start(
        dir.path(),
        &["--rules", &rules, "interview", "--save", "p3.json"],
    );
    pty.answer("Patient id (optional):", "P-3");
    pty.answer("How old is the patient, in years?", "45");
    // Not measured: "?" (not known), so the urgent severe_hypertension rule cannot be decided.
    pty.answer("Seated systolic blood pressure (mmHg)", "?");
    pty.expect("What is the patient's pregnancy status?");
    pty.expect("Unknown / not recorded");
    pty.keys(&format!("{UP}{UP}{ENTER}"));
    pty.answer("Is the patient breastfeeding?", "n");
    pty.expect("Are these answers right?");
    pty.keys(ENTER);
    let (rest, code) = pty.finish();
    assert_eq!(code, 0, "{rest}");
    assert!(
        rest.contains(
            "Patient: P-3\n\
             INCOMPLETE: answers are missing that could change the verdict\n\
             URGENT NOT KNOWN: systolic_bp unanswered — ask today\n"
        ),
        "{rest}"
    );
    let doc = read_json(&dir.path().join("p3.json"));
    assert_eq!(doc["urgent"], false);
    assert_eq!(doc["urgent_undecided"], true);
}

#[test]
fn changing_an_answer_at_the_review_discards_the_answer_that_no_longer_applies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = rules_path();
    let mut pty = start(
        dir.path(),
        &["--rules", &rules, "interview", "--save", "p3.json"],
    );
    pty.answer("Patient id (optional):", "P-3");
    pty.answer("How old is the patient, in years?", "45");
    pty.answer("Seated systolic blood pressure (mmHg)", "120");
    pty.expect("What is the patient's pregnancy status?");
    pty.expect("Unknown / not recorded");
    pty.keys(&format!("{UP}{UP}{ENTER}")); // Not pregnant
    pty.answer("Is the patient breastfeeding?", "yes");
    let review = pty.expect("Are these answers right?");
    assert!(review
        .lines()
        .any(|l| l.contains("Is the patient breastfeeding?") && l.contains("yes")));
    // Change question 3, the pregnancy status, to "Cannot become pregnant" (the list starts
    // on the current answer, "Not pregnant").
    pty.expect("id = the patient id");
    pty.keys(&format!("3{ENTER}"));
    pty.expect("What is the patient's pregnancy status?");
    pty.expect("Unknown / not recorded");
    pty.keys(&format!("{UP}{ENTER}"));
    let review = pty.expect("Are these answers right?");
    assert!(
        review
            .lines()
            .any(|l| l.contains("Is the patient breastfeeding?") && l.contains("(does not apply)")),
        "{review}"
    );
    assert!(review
        .lines()
        .any(|l| l.contains("What is the patient's pregnancy status?")
            && l.contains("Cannot become pregnant")));
    pty.expect("id = the patient id");
    pty.keys(ENTER);
    let (rest, code) = pty.finish();
    assert_eq!(code, 0, "{rest}");
    assert!(
        rest.contains("ELIGIBLE: no contraindication found"),
        "{rest}"
    );
    let doc = read_json(&dir.path().join("p3.json"));
    assert_eq!(doc["verdict"], "eligible");
    // The "yes" to breastfeeding was discarded, not kept stale.
    assert_eq!(doc["answers"]["breastfeeding"], Json::Null);
    assert_eq!(doc["answers"]["pregnancy_status"], "not_applicable");
}

#[test]
fn ctrl_c_keeps_a_draft_and_resume_finishes_with_the_same_verdict_as_an_uninterrupted_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = rules_path();

    // Uninterrupted.
    let mut pty = start(
        dir.path(),
        &["--rules", &rules, "interview", "--save", "whole.json"],
    );
    answer_all(&mut pty);
    pty.expect("Are these answers right?");
    pty.keys(ENTER);
    let (whole_out, code) = pty.finish();
    assert_eq!(code, 0, "{whole_out}");

    // Interrupted after the blood pressure, with the age first answered "unknown".
    let mut pty = start(
        dir.path(),
        &["--rules", &rules, "interview", "--save", "split.json"],
    );
    pty.answer("Patient id (optional):", "P-1");
    pty.answer("How old is the patient, in years?", "?");
    pty.answer("Seated systolic blood pressure (mmHg)", "150");
    pty.expect("What is the patient's pregnancy status?");
    pty.expect("Unknown / not recorded");
    pty.keys("\x03");
    let (out, code) = pty.finish();
    assert_eq!(code, 130, "{out}");
    assert!(out.contains("Interview stopped (Ctrl-C).\nThe answers so far are saved in split.draft.json (readable only by you).\n"), "{out}");
    let resume = format!("To continue: ketascreen --rules {rules} interview --resume split.draft.json --save split.json");
    assert!(out.contains(&resume), "{out}");
    let draft = dir.path().join("split.draft.json");
    assert_eq!(mode(&draft), 0o600);
    let doc = read_json(&draft);
    assert_eq!(doc["schema"], "ketascreen.interview-draft/v1");
    assert_eq!(doc["id"], "P-1");
    assert_eq!(
        doc["asked"],
        serde_json::json!(["age_years", "systolic_bp"])
    );
    assert_eq!(doc["answers"]["age_years"], Json::Null);
    assert_eq!(doc["answers"]["systolic_bp"], 150);
    assert!(!dir.path().join("split.json").exists());

    // Resume: continues at the pregnancy status; the age ("unknown") is not asked again.
    let mut pty = start(
        dir.path(),
        &[
            "--rules",
            &rules,
            "interview",
            "--resume",
            "split.draft.json",
            "--save",
            "split.json",
        ],
    );
    let intro = pty.expect("What is the patient's pregnancy status?");
    assert!(
        intro.contains(
            "Continuing for patient P-1 from split.draft.json: 2 questions already gone through."
        ),
        "{intro}"
    );
    assert!(!intro.contains("How old is the patient"), "{intro}");
    pty.expect("Unknown / not recorded");
    pty.keys(&format!("{UP}{UP}{ENTER}"));
    pty.answer("Is the patient breastfeeding?", "n");
    // At the review, set the age that was unknown: the same answers as the whole run.
    pty.expect("id = the patient id");
    pty.keys(&format!("1{ENTER}"));
    pty.expect("How old is the patient, in years?");
    // The field holds "?" (the current answer): replace it.
    pty.keys(&format!("{BACKSPACE}45{ENTER}"));
    pty.expect("45 years");
    pty.expect("id = the patient id");
    pty.keys(ENTER);
    let (split_out, code) = pty.finish();
    assert_eq!(code, 0, "{split_out}");
    assert!(split_out.contains("The draft split.draft.json is complete and was removed."));
    assert!(!draft.exists());

    let whole = read_json(&dir.path().join("whole.json"));
    let split = read_json(&dir.path().join("split.json"));
    assert_eq!(whole, split);
    assert_eq!(split["verdict"], "review");
    let table = check_table(&rules, &dir.path().join("split.json"));
    assert!(whole_out.contains(&table) && split_out.contains(&table));
}

#[test]
fn escape_pauses_and_a_new_interview_never_overwrites_that_draft() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = rules_path();
    let mut pty = start(
        dir.path(),
        &["--rules", &rules, "interview", "--save", "p.json"],
    );
    pty.answer("Patient id (optional):", "P-9");
    pty.expect("How old is the patient, in years?");
    pty.keys("\x1b");
    let (out, code) = pty.finish();
    assert_eq!(code, 130, "{out}");
    assert!(
        out.contains("Interview paused (Esc).\nThe answers so far are saved in p.draft.json"),
        "{out}"
    );
    assert_eq!(read_json(&dir.path().join("p.draft.json"))["id"], "P-9");

    // Starting again with the same --save must not clobber the draft.
    let pty = start(
        dir.path(),
        &["--rules", &rules, "interview", "--save", "p.json"],
    );
    let (out, code) = pty.finish();
    assert_eq!(code, 2, "{out}");
    assert!(out.contains(&format!("ketascreen: a draft for p.json already exists: p.draft.json; continue it with 'ketascreen --rules {rules} interview --resume p.draft.json --save p.json', or remove it first")), "{out}");
}

#[test]
fn bare_ketascreen_on_a_terminal_interviews_over_the_full_default_ruleset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let patient = read_json(&path("examples/patient.json"));
    let mut pty = start(dir.path(), &[]);
    pty.answer("Patient id (optional):", "P-0042");
    let rules = ketascreen::ruleset::builtin().expect("built-in ruleset");
    let mut asked = 0;
    for &slot in &rules.ask_order {
        let q = &rules.questions[slot];
        let given = &patient[q.id.as_str()];
        let text = match given {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        // The prompt shows the question text, without the characters a narrow line wraps.
        let head: String = q.text.chars().take(30).collect();
        pty.expect(&head);
        match &q.kind {
            ketascreen::ruleset::Kind::Choice(options) => {
                // Starts on "Unknown / not recorded" (last): go up to the option.
                let index = options
                    .iter()
                    .position(|o| o.id == text)
                    .expect("example answer is an option");
                pty.expect("Unknown / not recorded");
                pty.keys(&UP.repeat(options.len() - index));
                pty.keys(ENTER);
            }
            _ => pty.keys(&format!("{text}{ENTER}")),
        }
        asked += 1;
    }
    assert_eq!(asked, rules.questions.len());
    pty.expect("Are these answers right?");
    pty.keys(ENTER);
    let (rest, code) = pty.finish();
    assert_eq!(code, 0, "{rest}");
    // The same verdict as `check` on the example file.
    let check = ks(["check", "--format", "table", "examples/patient.json"]).run();
    assert_eq!(check.code, 0);
    assert!(
        check
            .stdout
            .starts_with("Patient: P-0042\nREVIEW: refer to the prescriber before treatment\n"),
        "{}",
        check.stdout
    );
    let at = rest.find("Patient: P-0042").expect("verdict printed");
    let shown = &rest[at..];
    // The interview's table fits the 120-column terminal; compare what does not wrap.
    for line in [
        "REVIEW: refer to the prescriber before treatment",
        "elevated_blood_pressure",
        "read: systolic_bp=146, diastolic_bp=92",
        "  - continue_antihypertensives: Takes blood-pressure medicine",
        "  - benzodiazepine_may_blunt_response: Takes a benzodiazepine",
    ] {
        assert!(shown.contains(line), "{line:?} missing from:\n{shown}");
    }
    // Nothing was saved and no draft is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

/// Runs ketascreen with stdin a pipe that stays open and is never written: were it to read
/// the keyboard, this would never return.
fn without_a_terminal(args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ketascreen"))
        .args(args)
        .env_remove("KETASCREEN_RULES")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ketascreen starts");
    let _stdin_kept_open = child.stdin.take();
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("stdout read");
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr read");
    let status = child.wait().expect("ketascreen exits");
    (status.code().unwrap_or(-1), stdout, stderr)
}

#[test]
fn without_a_terminal_bare_ketascreen_and_interview_exit_2_pointing_to_check_and_batch() {
    let (code, stdout, stderr) = without_a_terminal(&[]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "ketascreen: no command given, and the interview needs a terminal (stdin and stderr are not terminals); \
         to screen answers from a file use 'ketascreen check FILE' (or 'ketascreen check - < answers.json'), \
         for a CSV of many patients 'ketascreen batch FILE.csv'; see 'ketascreen --help'\n"
    );
    let (code, stdout, stderr) = without_a_terminal(&["interview", "--save", "x.json"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with("ketascreen: the interview needs a terminal (stdin and stderr are not terminals); to screen answers from a file use 'ketascreen check FILE'"),
        "{stderr}"
    );
    assert!(!PathBuf::from("x.json").exists());
}

#[test]
fn a_saved_interview_is_never_overwritten_by_a_new_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("p.json"), "{}").expect("writes");
    let rules = rules_path();
    let pty = start(
        dir.path(),
        &["--rules", &rules, "interview", "--save", "p.json"],
    );
    let (out, code) = pty.finish();
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        out,
        "ketascreen: p.json already exists and would be overwritten; choose another file, or continue that interview with '--resume p.json --save p.json'\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("p.json")).expect("reads"),
        "{}"
    );
}

#[test]
fn the_command_line_with_the_interview_is_consistent() {
    use clap::CommandFactory;
    ketascreen::cli::Cli::command().debug_assert();
}

const CTRL_A: &str = "\x01";
const CTRL_U: &str = "\x15";
const CTRL_W: &str = "\x17";
const PAGE_DOWN: &str = "\x1b[6~";

#[test]
fn back_returns_to_the_previous_question_with_its_answer_from_any_question() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = rules_path();
    let mut pty = start(
        dir.path(),
        &["--rules", &rules, "interview", "--save", "b.json"],
    );
    pty.answer("Patient id (optional):", "P-B");
    pty.answer("How old is the patient, in years?", "45");
    // Typed `back` at the blood pressure: the age again, "45" in the field.
    pty.answer("Seated systolic blood pressure (mmHg)", "back");
    pty.expect("How old is the patient, in years?");
    pty.expect("› 45");
    pty.keys(&format!("{CTRL_U}52{ENTER}"));
    pty.expect("> How old is the patient, in years? 52 years");
    pty.answer("Seated systolic blood pressure (mmHg)", "150");
    // At a list, PgUp goes back; ↑ on a typed question too.
    pty.expect("What is the patient's pregnancy status?");
    pty.expect("Unknown / not recorded");
    pty.keys("\x1b[5~");
    pty.expect("› 150");
    pty.keys(UP);
    pty.expect("› 52");
    pty.keys(ENTER);
    // Forward again, one question at a time, each with its answer.
    pty.expect("› 150");
    pty.keys(ENTER);
    pty.expect("What is the patient's pregnancy status?");
    pty.expect("Unknown / not recorded");
    // Typing `no` filters the list to "Not pregnant" alone.
    pty.keys(&format!("no{ENTER}"));
    pty.expect("> What is the patient's pregnancy status? Not pregnant");
    pty.answer("Is the patient breastfeeding?", "n");
    pty.expect("id = the patient id");
    pty.keys(ENTER);
    let (rest, code) = pty.finish();
    assert_eq!(code, 0, "{rest}");
    let doc = read_json(&dir.path().join("b.json"));
    assert_eq!(
        doc["answers"],
        serde_json::json!({"age_years": 52, "systolic_bp": 150,
            "pregnancy_status": "not_pregnant", "breastfeeding": "no"})
    );
}

#[test]
fn the_line_edits_as_in_a_shell_and_answers_are_read_as_people_type_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = rules_path();
    let mut pty = start(
        dir.path(),
        &["--rules", &rules, "interview", "--save", "e.json"],
    );
    pty.answer("Patient id (optional):", "");
    // Ctrl-W erases the last word, Ctrl-U the whole line, Ctrl-A goes to the start.
    pty.expect("How old is the patient, in years?");
    pty.keys(&format!("99 wrong{CTRL_W}{CTRL_U}5 years{CTRL_A}4{ENTER}"));
    pty.expect("> How old is the patient, in years? 45 years");
    // A number with its unit, as typed.
    pty.answer("Seated systolic blood pressure (mmHg)", "146mmhg");
    pty.expect("> Seated systolic blood pressure (mmHg) 146 mmHg");
    pty.expect("Unknown / not recorded");
    pty.keys(&format!("{UP}{UP}{ENTER}"));
    // A refusal says what is accepted, ? included; "not sure" is unknown.
    pty.answer("Is the patient breastfeeding?", "maybe");
    pty.expect("expected yes or no (y/n, true/false, 1/0); or ? if not known");
    pty.keys(&format!("{CTRL_U}not sure{ENTER}"));
    pty.expect("> Is the patient breastfeeding? unknown");
    pty.expect("id = the patient id");
    pty.keys(ENTER);
    let (rest, code) = pty.finish();
    assert_eq!(code, 0, "{rest}");
    let doc = read_json(&dir.path().join("e.json"));
    assert_eq!(
        doc["answers"],
        serde_json::json!({"age_years": 45, "systolic_bp": 146,
            "pregnancy_status": "not_pregnant", "breastfeeding": null})
    );
}

/// Splits raw terminal output into the runs of text drawn between line breaks and cursor
/// movements (every escape sequence ends a run).
fn drawn_runs(raw: &str) -> Vec<String> {
    let mut runs = vec![String::new()];
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => {
                // CSI: ESC [ params final-byte.
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for d in chars.by_ref() {
                        if ('@'..='~').contains(&d) {
                            break;
                        }
                    }
                } else {
                    chars.next();
                }
                runs.push(String::new());
            }
            '\r' | '\n' => runs.push(String::new()),
            c => {
                if let Some(run) = runs.last_mut() {
                    run.push(c);
                }
            }
        }
    }
    runs.retain(|r| !r.is_empty());
    runs
}

/// The whole default ruleset answered from examples/patient.json in a `cols`x`rows`
/// terminal; returns everything drawn, escape sequences kept, and the review's first page.
fn default_interview(cols: u16, rows: u16) -> (String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let patient = read_json(&path("examples/patient.json"));
    let mut pty = start_sized(dir.path(), &["interview"], cols, rows, false);
    let mut all = pty.expect("Patient id (optional):");
    pty.keys(&format!("P-0042{ENTER}"));
    let rules = ketascreen::ruleset::builtin().expect("built-in ruleset");
    for &slot in &rules.ask_order {
        let q = &rules.questions[slot];
        let text = match &patient[q.id.as_str()] {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        let head: String = q.text.chars().take(30).collect();
        all.push_str(&pty.expect(&head));
        all.push_str(&pty.expect("›"));
        match &q.kind {
            ketascreen::ruleset::Kind::Choice(options) => {
                let index = options
                    .iter()
                    .position(|o| o.id == text)
                    .expect("example answer is an option");
                pty.keys(&UP.repeat(options.len() - index));
                pty.keys(ENTER);
            }
            _ => pty.keys(&format!("{text}{ENTER}")),
        }
    }
    let before = pty.expect("id = the patient id");
    let page = pty.expect("Esc = pause");
    let review = format!("{before}id = the patient id{page}Esc = pause");
    let review = review[review.rfind("── Review").expect("a review header")..].to_string();
    all.push_str(&review);
    pty.keys(PAGE_DOWN);
    all.push_str(&pty.expect("page 2 of"));
    all.push_str(&pty.expect("Esc = pause"));
    pty.keys(ENTER);
    let (rest, code) = pty.finish();
    assert_eq!(code, 0, "{rest}");
    all.push_str(&rest);
    assert!(all.contains("REVIEW: refer to the prescriber"), "{all}");
    (all, review)
}

#[test]
fn at_80_columns_and_24_lines_every_line_fits_and_the_review_is_paged() {
    let (all, review) = default_interview(80, 24);
    for run in drawn_runs(&all) {
        let cols = run.chars().count();
        assert!(cols <= 80, "{cols} columns: {run:?}");
    }
    // One review page fits the 24-line screen, with the prompt and its help.
    let lines = review.matches("\r\n").count() + 1;
    assert!(lines <= 23, "{lines} lines:\n{review}");
    assert!(review.contains("page 1 of "), "{review}");
    assert!(review.contains("How old is the patient"), "{review}");
}

#[test]
fn at_120_columns_every_line_fits() {
    let (all, _) = default_interview(120, 30);
    let mut widest = 0;
    for run in drawn_runs(&all) {
        let cols = run.chars().count();
        assert!(cols <= 120, "{cols} columns: {run:?}");
        widest = widest.max(cols);
    }
    assert!(widest > 80, "the width is used: {widest}");
}

#[test]
fn a_repeat_visit_from_a_saved_interview_confirms_each_section_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = rules_path();
    let mut pty = start(
        dir.path(),
        &["--rules", &rules, "interview", "--save", "first.json"],
    );
    answer_all(&mut pty);
    pty.expect("id = the patient id");
    pty.keys(ENTER);
    let (out, code) = pty.finish();
    assert_eq!(code, 0, "{out}");

    let mut pty = start(
        dir.path(),
        &[
            "--rules",
            &rules,
            "interview",
            "--from",
            "first.json",
            "--save",
            "second.json",
        ],
    );
    pty.expect("A new visit from first.json (");
    // The id is offered again, filled in.
    pty.expect("Patient id (optional):");
    pty.expect("P-1");
    pty.keys(ENTER);
    pty.expect("How old is the patient, in years?  45 years");
    pty.answer("Unchanged since ", "y");
    // The blood pressure changed: asked, with the previous answer filled in.
    pty.expect("Seated systolic blood pressure  150 mmHg");
    pty.answer("Unchanged since ", "n");
    pty.expect("Seated systolic blood pressure (mmHg)");
    pty.expect("› 150");
    pty.keys(&format!("{CTRL_U}120{ENTER}"));
    pty.expect("Is the patient breastfeeding?");
    pty.answer("Unchanged since ", "y");
    pty.expect("id = the patient id");
    pty.keys(ENTER);
    let (rest, code) = pty.finish();
    assert_eq!(code, 0, "{rest}");
    assert!(
        rest.contains("ELIGIBLE: no contraindication found"),
        "{rest}"
    );
    let doc = read_json(&dir.path().join("second.json"));
    assert_eq!(doc["id"], "P-1");
    assert_eq!(
        doc["answers"],
        serde_json::json!({"age_years": 45, "systolic_bp": 120,
            "pregnancy_status": "not_pregnant", "breastfeeding": "no"})
    );
    // The previous visit is left as it was.
    assert_eq!(
        read_json(&dir.path().join("first.json"))["answers"]["systolic_bp"],
        150
    );
}

// Broke: a --save file that appeared while the interview ran (two nurses, one name) was
// replaced: one record lost.
#[test]
fn a_save_file_that_appears_during_the_interview_is_not_replaced_and_the_answers_stay_in_the_draft()
{
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = rules_path();
    let mut pty = start(
        dir.path(),
        &["--rules", &rules, "interview", "--save", "p.json"],
    );
    answer_all(&mut pty);
    pty.expect("Are these answers right?");
    std::fs::write(dir.path().join("p.json"), "{\"other\": \"nurse\"}").expect("writes");
    pty.keys(ENTER);
    let (rest, code) = pty.finish();
    assert_eq!(code, 1, "{rest}");
    assert!(
        rest.ends_with(&format!(
            "ketascreen: p.json was created while the interview ran, and is not replaced; the answers are kept in p.draft.json; to save them elsewhere: ketascreen --rules {rules} interview --resume p.draft.json\n"
        )),
        "{rest}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("p.json")).expect("reads"),
        "{\"other\": \"nurse\"}"
    );
    let draft = read_json(&dir.path().join("p.draft.json"));
    assert_eq!(draft["answers"]["systolic_bp"], 150);
}

// Broke: on a full disk the interview lost every answer (they were never printed).
#[test]
fn when_nothing_can_be_saved_the_answers_are_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sub = dir.path().join("visits");
    std::fs::create_dir(&sub).expect("mkdir");
    let rules = rules_path();
    let mut pty = start(
        dir.path(),
        &["--rules", &rules, "interview", "--save", "visits/p.json"],
    );
    answer_all(&mut pty);
    pty.expect("Are these answers right?");
    // The directory goes away: neither the record nor a draft can be written there now.
    std::fs::remove_dir_all(&sub).expect("rm");
    pty.keys(ENTER);
    let (rest, code) = pty.finish();
    assert_eq!(code, 1, "{rest}");
    assert!(
        rest.contains("ketascreen: cannot save visits/p.json: No such file or directory (os error 2), and no draft could be written (visits/p.draft.json: No such file or directory (os error 2)); the answers and the verdict follow on stdout: keep them\n"),
        "{rest}"
    );
    let json_start = rest
        .rfind("{\n  \"schema\"")
        .expect("the record is printed");
    let doc: Json = serde_json::from_str(&rest[json_start..]).expect("a whole JSON record");
    assert_eq!(doc["id"], "P-1");
    assert_eq!(doc["answers"]["systolic_bp"], 150);
}

// Broke: SIGHUP (the terminal closed) ended the process without a word and left the
// terminal in raw mode; now it is handled like SIGTERM, pointing at the draft.
#[test]
fn sighup_during_the_interview_stops_it_and_points_at_the_draft() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = rules_path();
    let mut pty = start(
        dir.path(),
        &["--rules", &rules, "interview", "--save", "h.json"],
    );
    pty.answer("Patient id (optional):", "P-9");
    pty.answer("How old is the patient, in years?", "45");
    pty.expect("Seated systolic blood pressure (mmHg)");
    pty.session
        .process_mut()
        .signal(nix::sys::signal::Signal::SIGHUP)
        .expect("signal");
    let (rest, code) = pty.finish();
    assert_eq!(code, 130, "{rest}");
    assert!(
        rest.contains(&format!("Interview stopped (SIGHUP). The answers so far are saved in h.draft.json (readable only by you).\nTo continue: ketascreen --rules {rules} interview --resume h.draft.json --save h.json\n")),
        "{rest}"
    );
    let draft = read_json(&dir.path().join("h.draft.json"));
    assert_eq!(draft["answers"]["age_years"], 45);
}
