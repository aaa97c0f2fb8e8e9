//! The one real `Asker`: prompts drawn on stderr in raw mode (`screen`), so stdout carries
//! only the verdict. A typed question is a shell-like line (`line`: Ctrl-U, Ctrl-W, Ctrl-A/E,
//! Alt-B/F, Home/End); its answer is checked with `answers::parse_text_with` as typed
//! (`Reading::TYPED`: the spellings `check` and `batch` accept, plus a decimal comma), and an
//! invalid one is refused inline with what is accepted, `?` included, and asked again. Enter
//! alone never answers for the nurse: a typed question needs text (or `?`), and a list starts
//! on "Unknown / not recorded". `back` (or ↑ on a typed question, PgUp anywhere) returns to the
//! previous question. The review is paged to the terminal's height and reads as the questions.
//! Every line is wrapped to the terminal's width at word boundaries (`output::wrap`). Esc
//! pauses, Ctrl-C interrupts; the session saves the draft either way.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::line::{Key, Line};
use super::screen::{say, Frame, RawMode, Screen};
use super::{shown, Ask, Asker, Interview, Reply, ReviewChoice, ReviewRow, RowState, Stop};
use crate::answers::{is_unknown_word, parse_text_with, parse_yes_no, Reading, Value};
use crate::engine;
use crate::output::wrap::{self, printable, shorten, width, wrap};
use crate::ruleset::{Kind, Question, Slot};

/// The entry of every choice list that records "unknown".
pub const UNKNOWN_OPTION: &str = "Unknown / not recorded";
/// What the nurse types to return to the previous question.
pub const BACK_WORD: &str = "back";
/// The review's prompt.
pub const REVIEW_PROMPT: &str = "Are these answers right?";

/// Prompts on the terminal.
pub struct Prompter {
    colour: bool,
    /// Set by a SIGINT that arrives between two prompts (during a prompt, Ctrl-C is a key).
    interrupted: Arc<AtomicBool>,
    /// Raw mode for as long as the prompter lives (`None` if the terminal refused it: then
    /// each prompt asks for it again).
    _raw: Option<RawMode>,
}

/// How a line prompt ended.
enum Ended {
    /// Enter, with the text as typed (already accepted by the check).
    Text(String),
    /// A key the caller acts on (↑, PgUp, PgDn), with the text as it was.
    Key(Key, String),
}

/// A line prompt: what stands above it, the question, the line, the help below.
struct LinePrompt<'a> {
    head: Vec<String>,
    message: &'a str,
    help: &'a str,
    initial: String,
    /// Keys that end the prompt for the caller to act on.
    keys: &'a [Key],
    /// Checks the text on Enter: `Err` is the refusal shown under the line.
    check: &'a dyn Fn(&str) -> Result<(), String>,
}

impl Prompter {
    pub fn new(colour: bool, interrupted: Arc<AtomicBool>) -> Self {
        Prompter {
            colour,
            interrupted,
            _raw: RawMode::enable().ok(),
        }
    }

    fn check_signal(&self) -> Result<(), Stop> {
        if self.interrupted.load(Ordering::SeqCst) {
            Err(Stop::Interrupted)
        } else {
            Ok(())
        }
    }

    fn bold(&self, text: &str) -> String {
        if self.colour {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Runs a line prompt to Enter (with text the check accepts) or one of its keys.
    fn line(&self, p: &LinePrompt<'_>) -> Result<Ended, Stop> {
        let mut screen = Screen::open().map_err(failed)?;
        let mut line = Line::new(&p.initial);
        let mut refusal: Option<String> = None;
        loop {
            let (w, _) = Screen::size();
            let frame = line_frame(p, &line, refusal.as_deref(), w);
            screen.draw(&frame).map_err(failed)?;
            match screen.read_key().map_err(failed)? {
                Key::Edit(edit) => {
                    line.apply(edit);
                    refusal = None;
                }
                Key::Enter => match (p.check)(&line.text()) {
                    Ok(()) => {
                        screen.finish(&[]).map_err(failed)?;
                        return Ok(Ended::Text(line.text()));
                    }
                    Err(why) => refusal = Some(why),
                },
                Key::Escape => {
                    screen.finish(&[]).map_err(failed)?;
                    return Err(Stop::Paused);
                }
                Key::Interrupt => {
                    screen.finish(&[]).map_err(failed)?;
                    return Err(Stop::Interrupted);
                }
                k if p.keys.contains(&k) => {
                    screen.finish(&[]).map_err(failed)?;
                    return Ok(Ended::Key(k, line.text()));
                }
                _ => {}
            }
        }
    }

    /// Prints the answered question: `> question answer`, wrapped.
    fn answered(&self, message: &str, answer: &str) {
        let (w, _) = Screen::size();
        let text = format!("{message} {}", printable(answer));
        let lines: Vec<String> = wrap(&text, w, "> ", "  ")
            .into_iter()
            .map(|l| l.trim_end().to_string())
            .collect();
        say(&lines);
    }

    /// A typed answer: yes/no, numbers, text.
    fn typed(&self, ask: &Ask<'_>, message: &str, help: &str) -> Result<Reply, Stop> {
        let q = ask.question;
        let back_ok = ask.can_go_back;
        let check = move |input: &str| -> Result<(), String> {
            if back_ok && input.trim().eq_ignore_ascii_case(BACK_WORD) {
                return Ok(());
            }
            if input.trim().is_empty() && q.kind != Kind::Text {
                return Err("type an answer, or ? if it is not known".into());
            }
            parse_text_with(q, input, Reading::TYPED)
                .map(|_| ())
                .map_err(|e| refusal(q, &e.message))
        };
        let initial = match (ask.current, ask.changing) {
            (Some(v), _) => typed_form(q, v),
            (None, true) if q.kind != Kind::Text => "?".to_string(),
            (None, _) => String::new(),
        };
        let keys: &[Key] = if back_ok {
            &[Key::Up, Key::PageUp]
        } else {
            &[]
        };
        let ended = self.line(&LinePrompt {
            head: Vec::new(),
            message,
            help,
            initial,
            keys,
            check: &check,
        })?;
        let raw = match ended {
            Ended::Key(..) => return Ok(Reply::Back),
            Ended::Text(t) if back_ok && t.trim().eq_ignore_ascii_case(BACK_WORD) => {
                return Ok(Reply::Back)
            }
            Ended::Text(t) => t,
        };
        let value =
            parse_text_with(q, &raw, Reading::TYPED).map_err(|e| Stop::Failed(e.message))?;
        let answer = match &value {
            Some(v) => shown(q, v),
            None => "unknown".to_string(),
        };
        self.answered(message, &answer);
        Ok(Reply::Answer(value))
    }

    /// A choice: its labels in a list, plus "Unknown / not recorded", where the cursor starts
    /// unless the question already has an answer. Typing filters the list.
    fn choice(&self, ask: &Ask<'_>, message: &str, help: &str) -> Result<Reply, Stop> {
        let q = ask.question;
        let Kind::Choice(options) = &q.kind else {
            return Err(Stop::Failed(format!("{} is not a choice question", q.id)));
        };
        let mut labels: Vec<&str> = options.iter().map(|o| o.label.as_str()).collect();
        labels.push(UNKNOWN_OPTION);
        let ids: Vec<&str> = options.iter().map(|o| o.id.as_str()).collect();
        let unknown = options.len();
        let mut cursor = match ask.current {
            Some(Value::Choice(i)) if *i < options.len() => *i,
            _ => unknown,
        };
        let mut screen = Screen::open().map_err(failed)?;
        let mut filter = Line::new("");
        let mut visible: Vec<usize> = (0..labels.len()).collect();
        let mut note: Option<&str> = None;
        loop {
            let (w, h) = Screen::size();
            let frame = choice_frame(
                message, help, &filter, &labels, &visible, cursor, note, w, h,
            );
            screen.draw(&frame).map_err(failed)?;
            let at = visible.iter().position(|&i| i == cursor);
            match screen.read_key().map_err(failed)? {
                Key::Edit(edit) => {
                    filter.apply(edit);
                    note = None;
                    visible = filtered(&filter.text(), &labels, &ids);
                    // The best match is under the cursor; an empty filter leaves it be.
                    if !filter.is_empty() || !visible.contains(&cursor) {
                        cursor = visible.first().copied().unwrap_or(cursor);
                    }
                }
                Key::Up => {
                    if let Some(p) = at {
                        let n = visible.len();
                        cursor = visible[(p + n - 1) % n];
                    }
                }
                Key::Down => {
                    if let Some(p) = at {
                        cursor = visible[(p + 1) % visible.len()];
                    }
                }
                Key::PageUp if ask.can_go_back => {
                    screen.finish(&[]).map_err(failed)?;
                    return Ok(Reply::Back);
                }
                Key::Enter => {
                    let typed = filter.text();
                    if ask.can_go_back && typed.trim().eq_ignore_ascii_case(BACK_WORD) {
                        screen.finish(&[]).map_err(failed)?;
                        return Ok(Reply::Back);
                    }
                    if at.is_none() {
                        note = Some("nothing matches: Backspace or Ctrl-U to change the filter");
                        continue;
                    }
                    screen.finish(&[]).map_err(failed)?;
                    drop(screen);
                    self.answered(message, labels[cursor]);
                    return Ok(Reply::Answer(
                        (cursor < options.len()).then_some(Value::Choice(cursor)),
                    ));
                }
                Key::Escape => {
                    screen.finish(&[]).map_err(failed)?;
                    return Err(Stop::Paused);
                }
                Key::Interrupt => {
                    screen.finish(&[]).map_err(failed)?;
                    return Err(Stop::Interrupted);
                }
                _ => {}
            }
        }
    }
}

fn failed(e: std::io::Error) -> Stop {
    Stop::Failed(e.to_string())
}

/// A refusal says what is accepted, `?` included.
fn refusal(q: &Question, message: &str) -> String {
    match q.kind {
        Kind::Text => message.to_string(),
        _ => format!("{message}; or ? if not known"),
    }
}

/// An answer as the nurse would type it again (a number without its unit).
fn typed_form(q: &Question, v: &Value) -> String {
    v.display(q).to_string()
}

/// The question as put to the nurse, with its unit when the text does not already say it.
fn message(q: &Question) -> String {
    match &q.unit {
        Some(unit) if !q.text.contains(unit.as_str()) => format!("{} ({unit})", q.text),
        _ => q.text.clone(),
    }
}

/// The lines under the question: its help, what to type, the keys.
fn help_line(ask: &Ask<'_>) -> String {
    let q = ask.question;
    let keys = match &q.kind {
        Kind::YesNo => "y/n, ? = unknown".to_string(),
        Kind::Integer { .. } | Kind::Number { .. } => match q.bounds_text() {
            Some(b) => format!("{b}, ? = unknown"),
            None => "a number, ? = unknown".to_string(),
        },
        Kind::Choice(_) => "↑↓ then Enter, type to filter".to_string(),
        Kind::Text => "free text, Enter alone = nothing to add".to_string(),
    };
    let back = match (&q.kind, ask.can_go_back) {
        (_, false) => "",
        (Kind::Choice(_), true) => " | back or PgUp = previous question",
        (_, true) => " | back or ↑ = previous question",
    };
    let position = format!("{} of {}", ask.number, ask.total);
    match &q.help {
        Some(help) => format!("{help}\n{keys}{back} | Esc = pause | {position}"),
        None => format!("{keys}{back} | Esc = pause | {position}"),
    }
}

/// The frame of a line prompt at width `w`.
fn line_frame(p: &LinePrompt<'_>, line: &Line, refusal: Option<&str>, w: usize) -> Frame {
    let mut lines = p.head.clone();
    lines.extend(wrap(p.message, w, "? ", "  "));
    let (input, cursor) = input_rows(line, w);
    let row = lines.len() + cursor.0;
    lines.extend(input);
    if let Some(why) = refusal {
        lines.extend(wrap(why, w, "✗ ", "  "));
    }
    lines.extend(wrap(p.help, w, "  ", "  "));
    Frame {
        lines: lines
            .into_iter()
            .map(|l| l.trim_end().to_string())
            .collect(),
        cursor: (row, cursor.1),
    }
}

/// The typed text after `› `, cut into rows of the screen's width, and the cursor's place.
fn input_rows(line: &Line, w: usize) -> (Vec<String>, (usize, usize)) {
    let mut rows = vec![String::from("› ")];
    let mut col = 2;
    let mut cursor = None;
    let before = line.before_cursor().chars().count();
    for (i, c) in line.text().chars().enumerate() {
        if i == before {
            cursor = Some((rows.len() - 1, col));
        }
        let c = if c.is_control() { '?' } else { c };
        let cw = wrap::width(c.encode_utf8(&mut [0; 4]));
        if col + cw > w {
            rows.push(String::new());
            col = 0;
        }
        if let Some(r) = rows.last_mut() {
            r.push(c);
        }
        col += cw;
    }
    let cursor = cursor.unwrap_or_else(|| {
        if col >= w {
            rows.push(String::new());
            (rows.len() - 1, 0)
        } else {
            (rows.len() - 1, col)
        }
    });
    (rows, cursor)
}

/// Which options a filter shows: those whose label starts with it; failing that, whose id
/// does; failing that,
/// those with a word that starts with it; failing that, those containing it. An unknown
/// word (`?`, `unknown`, `not sure`) shows "Unknown / not recorded" alone. So `no` shows
/// "No" and "Not pregnant", not "Unknown / not recorded".
fn filtered(filter: &str, labels: &[&str], ids: &[&str]) -> Vec<usize> {
    let f = filter.trim().to_lowercase();
    if f.is_empty() {
        return (0..labels.len()).collect();
    }
    let unknown = labels.len() - 1;
    if is_unknown_word(&f) {
        return vec![unknown];
    }
    let label = |i: usize| labels[i].to_lowercase();
    let id = |i: usize| ids.get(i).map(|s| s.to_lowercase()).unwrap_or_default();
    let tiers: [&dyn Fn(usize) -> bool; 4] = [
        &|i| label(i).starts_with(&f),
        &|i| id(i).starts_with(&f),
        &|i| {
            label(i)
                .split(|c: char| !c.is_alphanumeric())
                .any(|word| word.starts_with(&f))
        },
        &|i| label(i).contains(&f) || id(i).contains(&f),
    ];
    for tier in tiers {
        let hits: Vec<usize> = (0..labels.len()).filter(|&i| tier(i)).collect();
        if !hits.is_empty() {
            return hits;
        }
    }
    Vec::new()
}

/// The frame of a choice list at width `w`, height `h`.
#[allow(clippy::too_many_arguments)]
fn choice_frame(
    message: &str,
    help: &str,
    filter: &Line,
    labels: &[&str],
    visible: &[usize],
    cursor: usize,
    note: Option<&str>,
    w: usize,
    h: usize,
) -> Frame {
    let mut lines = wrap(message, w, "? ", "  ");
    let (input, at) = input_rows(filter, w);
    let row = lines.len() + at.0;
    lines.extend(input);
    let helps = wrap(help, w, "  ", "  ");
    let room = h.saturating_sub(lines.len() + helps.len() + 2).clamp(3, 12);
    let pos = visible.iter().position(|&i| i == cursor).unwrap_or(0);
    let start = pos
        .saturating_sub(room - 1)
        .min(visible.len().saturating_sub(room));
    for &i in visible.iter().skip(start).take(room) {
        let mark = if i == cursor { "> " } else { "  " };
        lines.push(format!("{mark}{}", shorten(labels[i], w - 2)));
    }
    if visible.is_empty() {
        lines.push("  (nothing matches)".to_string());
    }
    if let Some(n) = note {
        lines.extend(wrap(n, w, "✗ ", "  "));
    }
    lines.extend(helps);
    Frame {
        lines: lines
            .into_iter()
            .map(|l| l.trim_end().to_string())
            .collect(),
        cursor: (row, at.1),
    }
}

impl Asker for Prompter {
    fn patient_id(&mut self, current: Option<&str>) -> Result<Option<String>, Stop> {
        self.check_signal()?;
        let message = "Patient id (optional):";
        let check = |_: &str| Ok(());
        let ended = self.line(&LinePrompt {
            head: Vec::new(),
            message,
            help: "as on the referral | Enter alone = leave it out | Esc = pause",
            initial: current.unwrap_or("").to_string(),
            keys: &[],
            check: &check,
        })?;
        let id = match ended {
            Ended::Text(t) | Ended::Key(_, t) => t.trim().to_string(),
        };
        self.answered(message, if id.is_empty() { "(none)" } else { &id });
        Ok((!id.is_empty()).then_some(id))
    }

    fn section(&mut self, title: &str) {
        let (w, _) = Screen::size();
        let heading = shorten(&format!("── {title} ──"), w);
        say(&[String::new(), self.bold(&heading)]);
    }

    fn ask(&mut self, ask: Ask<'_>) -> Result<Reply, Stop> {
        self.check_signal()?;
        let message = message(ask.question);
        let help = help_line(&ask);
        let reply = match ask.question.kind {
            Kind::Choice(_) => self.choice(&ask, &message, &help),
            _ => self.typed(&ask, &message, &help),
        }?;
        self.check_signal()?;
        Ok(reply)
    }

    fn confirm_section(
        &mut self,
        _title: &str,
        answers: &[(String, String)],
        since: &str,
    ) -> Result<bool, Stop> {
        self.check_signal()?;
        let (w, _) = Screen::size();
        let head = answer_lines(answers, w);
        let message = format!("Unchanged since {since}?");
        let check = |input: &str| match parse_yes_no(input) {
            Some(_) => Ok(()),
            None => Err("type y to keep these answers, or n to go through them one by one".into()),
        };
        let ended = self.line(&LinePrompt {
            head: head.clone(),
            message: &message,
            help: "y = keep these answers, n = go through them one by one | Esc = pause",
            initial: String::new(),
            keys: &[],
            check: &check,
        })?;
        let keep = match ended {
            Ended::Text(t) | Ended::Key(_, t) => parse_yes_no(&t).unwrap_or(false),
        };
        say(&head);
        self.answered(
            &message,
            if keep {
                "yes, kept"
            } else {
                "no, asking each question"
            },
        );
        self.check_signal()?;
        Ok(keep)
    }

    fn review(&mut self, interview: &Interview<'_>) -> Result<ReviewChoice, Stop> {
        self.check_signal()?;
        let rows = interview.review_rows();
        let marked = fired_reads(interview);
        let last = rows.len();
        let check = |input: &str| -> Result<(), String> {
            let t = input.trim();
            if t.is_empty() || t.eq_ignore_ascii_case("id") || t == "0" {
                return Ok(());
            }
            match t.parse::<usize>() {
                Ok(n) if (1..=last).contains(&n) => {
                    match rows.get(n - 1).map(|r| &r.state) {
                        Some(RowState::NotApplicable) => {
                            Err(format!("question {n} does not apply to this patient"))
                        }
                        _ => Ok(()),
                    }
                }
                _ => Err(format!(
                    "type a question number from 1 to {last}, id for the patient id, or Enter alone to confirm"
                )),
            }
        };
        let mut page = 0;
        let mut text = String::new();
        loop {
            let (w, h) = Screen::size();
            let message = format!(
                "{REVIEW_PROMPT} Enter = confirm and show the verdict; a number = change that answer; id = the patient id"
            );
            // A blank line, header, legend, the typed line, help, two lines for a refusal.
            let fixed = wrap(&message, w, "? ", "  ").len() + 7;
            let pages = review_pages(&rows, h.saturating_sub(fixed + 1).max(4));
            page = page.min(pages.len().saturating_sub(1));
            let head = review_page(interview, &rows, &marked, &pages, page, w);
            let help = if pages.len() > 1 {
                "PgDn/PgUp = more answers | Esc = pause"
            } else {
                "Esc = pause"
            };
            let ended = self.line(&LinePrompt {
                head: head.clone(),
                message: &message,
                help,
                initial: std::mem::take(&mut text),
                keys: &[Key::PageUp, Key::PageDown, Key::Up, Key::Down],
                check: &check,
            })?;
            self.check_signal()?;
            match ended {
                Ended::Key(Key::PageDown | Key::Down, t) => {
                    page = (page + 1).min(pages.len().saturating_sub(1));
                    text = t;
                }
                Ended::Key(_, t) => {
                    page = page.saturating_sub(1);
                    text = t;
                }
                Ended::Text(t) => {
                    let t = t.trim();
                    say(&head);
                    if t.is_empty() {
                        self.answered(REVIEW_PROMPT, "confirmed");
                        return Ok(ReviewChoice::Confirm);
                    }
                    if t.eq_ignore_ascii_case("id") || t == "0" {
                        self.answered(REVIEW_PROMPT, "change the patient id");
                        return Ok(ReviewChoice::ChangeId);
                    }
                    if let Some(row) = t.parse::<usize>().ok().and_then(|n| rows.get(n - 1)) {
                        self.answered(REVIEW_PROMPT, &format!("change question {}", row.number));
                        return Ok(ReviewChoice::Change(row.slot));
                    }
                }
            }
        }
    }
}

/// A section's previous answers, one line each: the question shortened, then the answer.
fn answer_lines(answers: &[(String, String)], w: usize) -> Vec<String> {
    let answer_w = answers
        .iter()
        .map(|(_, a)| width(a))
        .max()
        .unwrap_or(0)
        .min(w / 3);
    let longest = answers.iter().map(|(q, _)| width(q)).max().unwrap_or(0);
    let question_w = w.saturating_sub(answer_w + 4).min(longest).max(10);
    answers
        .iter()
        .map(|(q, a)| {
            let q = shorten(q, question_w);
            let pad = question_w - width(&q);
            format!(
                "  {q}{}  {}",
                " ".repeat(pad),
                shorten(&printable(a), answer_w)
            )
            .trim_end()
            .to_string()
        })
        .collect()
}

/// The questions read by a rule that fired, and answered: the answers that triggered a rule.
fn fired_reads(interview: &Interview<'_>) -> BTreeSet<Slot> {
    let verdict = engine::evaluate(interview.ruleset(), interview.answers());
    verdict
        .reasons
        .iter()
        .flat_map(|r| r.answers.iter().map(|(slot, _)| *slot))
        .filter(|&slot| interview.answers().get(slot).is_some())
        .collect()
}

/// The review's rows cut into pages of at most `room` lines, a section heading counted as a
/// line (and repeated at the top of a page that continues a section). Each page is a range
/// of row indexes.
fn review_pages(rows: &[ReviewRow<'_>], room: usize) -> Vec<std::ops::Range<usize>> {
    let mut pages = Vec::new();
    let mut start = 0;
    let mut used = 0;
    let mut section = "";
    for (i, row) in rows.iter().enumerate() {
        let title = row.question.section.as_str();
        let heading = usize::from(used == 0 || title != section);
        if used > 0 && used + heading + 1 > room {
            pages.push(start..i);
            start = i;
            used = 0;
        }
        used += usize::from(used == 0 || title != section) + 1;
        section = title;
    }
    pages.push(start..rows.len());
    pages
}

/// One page of the review: a header, each section's heading, one line per question (number,
/// a `*` on an answer that triggered a rule, the question shortened, the answer).
fn review_page(
    interview: &Interview<'_>,
    rows: &[ReviewRow<'_>],
    marked: &BTreeSet<Slot>,
    pages: &[std::ops::Range<usize>],
    page: usize,
    w: usize,
) -> Vec<String> {
    let id = printable(interview.id().unwrap_or("(none)"));
    let mut lines = Vec::new();
    let header = if pages.len() > 1 {
        format!(
            "── Review · patient {id} · page {} of {} ──",
            page + 1,
            pages.len()
        )
    } else {
        format!("── Review · patient {id} ──")
    };
    lines.push(String::new());
    lines.push(shorten(&header, w));
    let numbers = rows.len().to_string().len();
    let answers: Vec<String> = rows
        .iter()
        .map(|r| printable(&r.state.text()).into_owned())
        .collect();
    let answer_w = answers
        .iter()
        .map(|a| width(a))
        .max()
        .unwrap_or(0)
        .min(w / 3);
    let longest = rows
        .iter()
        .map(|r| width(&r.question.text))
        .max()
        .unwrap_or(0);
    let question_w = w
        .saturating_sub(numbers + 3 + answer_w + 2)
        .min(longest)
        .max(10);
    let mut section = "";
    let range = pages.get(page).cloned().unwrap_or(0..0);
    for (i, row) in rows.iter().enumerate().take(range.end).skip(range.start) {
        let title = row.question.section.as_str();
        if i == range.start || title != section {
            lines.push(shorten(&format!(" {title}"), w));
        }
        section = title;
        let mark = if marked.contains(&row.slot) { '*' } else { ' ' };
        let question = shorten(&row.question.text, question_w);
        let pad = question_w - width(&question);
        lines.push(format!(
            "{:>numbers$} {mark} {question}{}  {}",
            row.number,
            " ".repeat(pad),
            shorten(&answers[i], answer_w)
        ));
    }
    if !marked.is_empty() {
        lines.push("* this answer triggered a rule".to_string());
    }
    lines
        .into_iter()
        .map(|l| l.trim_end().to_string())
        .collect()
}

/// The review as one block (every page), at width `w`: for tests and logs.
pub fn review_text(interview: &Interview<'_>, w: usize) -> String {
    let rows = interview.review_rows();
    let marked = fired_reads(interview);
    let pages = [std::ops::Range {
        start: 0,
        end: rows.len(),
    }];
    review_page(interview, &rows, &marked, &pages, 0, w).join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::parse_text;
    use crate::ruleset::load_str;

    #[test]
    fn the_review_reads_as_the_questions_with_a_mark_on_what_triggered_a_rule() {
        let rs = load_str(
            r#"
ruleset: {id: t, version: 1, title: T, sources: {s: S}}
questions:
  - {id: age_years, section: Patient, text: How old is the patient?, type: integer, unit: years, min: 0, max: 120}
  - {id: systolic_bp, section: Vital signs, text: Seated systolic blood pressure after five minutes of rest, type: integer, unit: mmHg, min: 50, max: 300}
  - {id: pregnancy_status, section: Pregnancy, text: Pregnancy?, type: choice, options: [{id: not_applicable, label: Cannot become pregnant}, {id: pregnant, label: Pregnant}]}
  - {id: breastfeeding, section: Pregnancy, text: Feeding?, type: yes_no, ask_if: pregnancy_status != not_applicable}
rules:
  - {id: r, severity: review, when: systolic_bp > 140, message: m, source: s}
"#,
            "t.yaml",
        )
        .expect("loads");
        let mut iv = Interview::new(&rs);
        iv.set_id(Some("P-1".into()));
        for (id, raw) in [
            ("age_years", "45"),
            ("systolic_bp", "150"),
            ("pregnancy_status", "not_applicable"),
        ] {
            let slot = rs.slot(id).expect("id");
            iv.record(slot, parse_text(&rs.questions[slot], raw).expect("valid"));
        }
        assert_eq!(
            review_text(&iv, 60),
            "
── Review · patient P-1 ──
 Patient
1   How old is the patient?             45 years
 Vital signs
2 * Seated systolic blood pressure…     150 mmHg
 Pregnancy
3   Pregnancy?                          Cannot become…
4   Feeding?                            (does not apply)
* this answer triggered a rule"
        );
        let rows = iv.review_rows();
        // Two rows and a heading per page: a section going on is headed again.
        assert_eq!(review_pages(&rows, 4), vec![0..2, 2..4]);
        assert_eq!(review_pages(&rows, 3), vec![0..1, 1..2, 2..4]);
    }

    #[test]
    fn filtering_a_list_shows_what_starts_with_the_filter_first() {
        let labels = ["No", "Yes, in remission", "Yes, current", UNKNOWN_OPTION];
        let ids = ["none", "remission", "current"];
        assert_eq!(filtered("no", &labels, &ids), [0]);
        // An id is tried only when no label starts with the filter.
        assert_eq!(
            filtered(
                "no",
                &["Cannot become pregnant", "Not pregnant", UNKNOWN_OPTION],
                &["not_applicable", "not_pregnant"]
            ),
            [1]
        );
        assert_eq!(
            filtered(
                "not_a",
                &["Cannot become pregnant", "Not pregnant", UNKNOWN_OPTION],
                &["not_applicable", "not_pregnant"]
            ),
            [0]
        );
        assert_eq!(filtered("yes", &labels, &ids), [1, 2]);
        assert_eq!(filtered("rem", &labels, &ids), [1]);
        assert_eq!(filtered("curr", &labels, &ids), [2]);
        assert_eq!(filtered("?", &labels, &ids), [3]);
        assert_eq!(filtered("not sure", &labels, &ids), [3]);
        assert_eq!(filtered("recorded", &labels, &ids), [3]);
        assert_eq!(filtered("zzz", &labels, &ids), Vec::<usize>::new());
        assert_eq!(filtered("", &labels, &ids), [0, 1, 2, 3]);
    }

    #[test]
    fn the_typed_line_wraps_at_the_screen_edge_with_the_cursor_where_it_belongs() {
        let mut line = Line::new("abcdefgh");
        assert_eq!(
            input_rows(&line, 6),
            (vec!["› abcd".to_string(), "efgh".into()], (1, 4))
        );
        line.apply(super::super::line::Edit::Home);
        assert_eq!(input_rows(&line, 6).1, (0, 2));
        let full = Line::new("abcd");
        assert_eq!(
            input_rows(&full, 6),
            (vec!["› abcd".to_string(), String::new()], (1, 0))
        );
    }
}
