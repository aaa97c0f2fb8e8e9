//! Typed answers to a ruleset's questions, and the one place where raw input ("Y", "146",
//! JSON `true`, a choice label) becomes a typed value. Every front end — interview, `check`,
//! `batch` — goes through here, so all of them accept and reject exactly the same spellings.
//! A blank, `null`, "unknown", "not sure" or `?` is *unanswered*, never "no". A number may
//! carry its question's own unit (`146 mmHg`, `146mmhg`); a decimal comma (`37,5`) is read
//! only where it cannot be misread, which the caller says with a `Reading`.

use std::borrow::Cow;
use std::fmt;

use crate::ruleset::{Kind, Question, Ruleset, Slot};

/// One typed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    YesNo(bool),
    Integer(i64),
    Number(f64),
    /// Index into the question's options.
    Choice(usize),
    Text(String),
}

impl Value {
    /// The answer as written in conditions and output: `yes`, `146`, `not_pregnant`.
    pub fn display<'a>(&'a self, question: &'a Question) -> impl fmt::Display + 'a {
        DisplayValue {
            value: self,
            question,
        }
    }
}

struct DisplayValue<'a> {
    value: &'a Value,
    question: &'a Question,
}

impl fmt::Display for DisplayValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value {
            Value::YesNo(true) => f.write_str("yes"),
            Value::YesNo(false) => f.write_str("no"),
            Value::Integer(n) => fmt::Display::fmt(n, f),
            Value::Number(x) => fmt::Display::fmt(x, f),
            Value::Choice(i) => match &self.question.kind {
                Kind::Choice(options) => {
                    f.write_str(options.get(*i).map(|o| o.id.as_str()).unwrap_or("?"))
                }
                _ => f.write_str("?"),
            },
            Value::Text(t) => f.write_str(t),
        }
    }
}

/// Why a raw value could not become an answer. The message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidValue {
    pub message: String,
}

/// An `InvalidValue` with this message.
pub fn invalid(message: impl Into<String>) -> InvalidValue {
    InvalidValue {
        message: message.into(),
    }
}

/// Words that mean "no answer" (compared case-insensitively).
const UNKNOWN_WORDS: [&str; 10] = [
    "unknown",
    "unsure",
    "not known",
    "not sure",
    "?",
    "dk",
    "don't know",
    "don\u{2019}t know",
    "dont know",
    "do not know",
];

/// `str::trim`, with a fast path for the usual cell that has nothing to trim (both ends
/// printable ASCII). This runs for every cell of a batch, so it is worth the two checks.
fn trim(raw: &str) -> &str {
    let bytes = raw.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => raw,
        _ => raw.trim(),
    }
}

/// Words that mean "no answer": the question stays unanswered (unknown).
pub fn is_unknown_word(raw: &str) -> bool {
    is_unknown_trimmed(trim(raw))
}

fn is_unknown_trimmed(t: &str) -> bool {
    match t.as_bytes().first() {
        None => true,
        // Every unknown word starts with one of these: most answers are rejected right here.
        Some(b) => {
            matches!(b.to_ascii_lowercase(), b'u' | b'n' | b'd' | b'?')
                && UNKNOWN_WORDS.iter().any(|w| t.eq_ignore_ascii_case(w))
        }
    }
}

/// Parses yes/no spellings: yes/no, y/n, true/false, 1/0, case-insensitive and trimmed.
pub fn parse_yes_no(raw: &str) -> Option<bool> {
    yes_no_trimmed(trim(raw))
}

fn yes_no_trimmed(t: &str) -> Option<bool> {
    let is = |word: &str| t.eq_ignore_ascii_case(word);
    match t.len() {
        1 => match t.as_bytes()[0].to_ascii_lowercase() {
            b'y' | b'1' => Some(true),
            b'n' | b'0' => Some(false),
            _ => None,
        },
        2 if is("no") => Some(false),
        3 if is("yes") => Some(true),
        4 if is("true") => Some(true),
        5 if is("false") => Some(false),
        _ => None,
    }
}

/// What a question accepts, for messages: "expected yes or no".
pub fn expected(question: &Question) -> String {
    match &question.kind {
        Kind::YesNo => "expected yes or no (y/n, true/false, 1/0)".to_string(),
        Kind::Integer { .. } => match question.bounds_text() {
            Some(b) => format!("expected a whole number {b}"),
            None => "expected a whole number".to_string(),
        },
        Kind::Number { .. } => match question.bounds_text() {
            Some(b) => format!("expected a number {b}"),
            None => "expected a number".to_string(),
        },
        Kind::Choice(options) => {
            let ids: Vec<&str> = options.iter().map(|o| o.id.as_str()).collect();
            format!("expected one of: {}", ids.join(", "))
        }
        Kind::Text => "expected text".to_string(),
    }
}

fn within<T: PartialOrd>(value: T, min: Option<T>, max: Option<T>) -> bool {
    !(min.is_some_and(|lo| value < lo) || max.is_some_and(|hi| value > hi))
}

fn check_bounds<T: PartialOrd + fmt::Display + Copy>(
    question: &Question,
    value: T,
    min: Option<T>,
    max: Option<T>,
) -> Result<(), InvalidValue> {
    if !within(value, min, max) {
        let bounds = question.bounds_text().unwrap_or_default();
        return Err(invalid(format!(
            "{value} is out of range: must be {bounds}"
        )));
    }
    Ok(())
}

/// Excel's way of keeping leading zeros in a CSV cell: `="00123"` reads as `00123` (inner
/// quotes doubled, as in any Excel string: `="a""b"` is `a"b`). Any other cell is returned as
/// it is, including a formula that is not one plain string (`="a"&B2`).
pub fn excel_text(cell: &[u8]) -> Cow<'_, [u8]> {
    let t = cell.trim_ascii();
    let Some(inner) = t
        .strip_prefix(b"=\"")
        .and_then(|rest| rest.strip_suffix(b"\""))
    else {
        return Cow::Borrowed(cell);
    };
    if !inner.contains(&b'"') {
        return Cow::Borrowed(inner);
    }
    // Every quote inside must be doubled; a lone one means this is not one string literal.
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        if inner[i] == b'"' {
            if inner.get(i + 1) != Some(&b'"') {
                return Cow::Borrowed(cell);
            }
            i += 1;
        }
        out.push(inner[i]);
        i += 1;
    }
    Cow::Owned(out)
}

/// `excel_text` for text.
pub fn excel_text_str(cell: &str) -> Cow<'_, str> {
    match excel_text(cell.as_bytes()) {
        // Stripping ASCII bytes from valid UTF-8 leaves valid UTF-8.
        Cow::Borrowed(b) => Cow::Borrowed(std::str::from_utf8(b).unwrap_or(cell)),
        Cow::Owned(b) => Cow::Owned(String::from_utf8_lossy(&b).into_owned()),
    }
}

/// How lenient to be with a number's spelling, beyond what every front end accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reading {
    /// Read `37,5` as 37.5 on a decimal question. Only where it cannot be misread: typed in
    /// the interview, or a file whose intake profile says its decimals are commas.
    pub decimal_comma: bool,
}

impl Reading {
    /// Files and JSON: a comma is never a decimal point.
    pub const FILE: Reading = Reading {
        decimal_comma: false,
    };
    /// Typed by a person in the interview.
    pub const TYPED: Reading = Reading {
        decimal_comma: true,
    };
}

/// Parses typed text (a CSV cell, a JSON string) for this question, as files are read.
/// `Ok(None)` means unanswered.
pub fn parse_text(question: &Question, raw: &str) -> Result<Option<Value>, InvalidValue> {
    parse_text_with(question, raw, Reading::FILE)
}

/// `parse_text`, with the leniency the caller can afford (`Reading::TYPED` in the interview).
pub fn parse_text_with(
    question: &Question,
    raw: &str,
    reading: Reading,
) -> Result<Option<Value>, InvalidValue> {
    let mut t = trim(raw);
    // Excel's text-preserving `="00123"`, read as `00123` everywhere.
    let unwrapped;
    if t.starts_with("=\"") {
        unwrapped = excel_text_str(t);
        t = trim(&unwrapped);
    }
    let raw = if t.len() == raw.len() { raw } else { t };
    if is_unknown_trimmed(t) {
        return Ok(None);
    }
    let value = match &question.kind {
        Kind::YesNo => Value::YesNo(yes_no_trimmed(t).ok_or_else(|| invalid(expected(question)))?),
        Kind::Integer { min, max } => {
            let n = parse_integer(t)
                .or_else(|| parse_integer(without_unit(question, t)?))
                .ok_or_else(|| invalid(expected(question)))?;
            check_bounds(question, n, *min, *max)?;
            Value::Integer(n)
        }
        Kind::Number { min, max } => {
            // The number as written: the text itself, or the part before the unit.
            let written = match parse_number(t, reading) {
                Some(_) => t,
                None => without_unit(question, t).unwrap_or(t),
            };
            let x = parse_number(written, reading).ok_or_else(|| invalid(expected(question)))?;
            // Checked in its written form: "17.99999999999999999" is not 18, though it
            // rounds to 18.0 as a float, so a value the float cannot hold is refused.
            if !holds_exactly(&written.replacen(',', ".", 1), x) {
                return Err(invalid(format!(
                    "{} has more digits than can be compared exactly; round it to at most 15 significant digits",
                    echo(written)
                )));
            }
            check_bounds(question, x, *min, *max)?;
            Value::Number(x)
        }
        Kind::Choice(options) => {
            let index = options
                .iter()
                .position(|o| o.id.eq_ignore_ascii_case(t))
                .or_else(|| {
                    options
                        .iter()
                        .position(|o| o.label.trim().eq_ignore_ascii_case(t))
                })
                .ok_or_else(|| {
                    let hint =
                        crate::suggest::did_you_mean(t, options.iter().map(|o| o.id.as_str()));
                    invalid(format!("{}{hint}", expected(question)))
                })?;
            Value::Choice(index)
        }
        Kind::Text => Value::Text(raw.to_string()),
    };
    Ok(Some(value))
}

/// What `parse_text` makes of the usual number cell — 1 to 15 ASCII digits and nothing else —
/// for a whole-number or number question, read from the bytes (no UTF-8 check, no trimming, no
/// unknown words to rule out). `None` for any other cell or question, and for a number out of
/// the question's bounds: `parse_text` then says what it makes of it. Up to 15 digits, a
/// number is an exact `f64` too. Batch reads number cells through here first: 15,626 -> 14,837
/// instructions a row (-5.0%; ruleset 2.0.0 18,032 -> 17,093, -5.2%), one thread, `--format
/// csv`, 20k-row slices, callgrind.
pub fn parse_digits(question: &Question, cell: &[u8]) -> Option<Value> {
    let whole = || -> Option<i64> {
        if cell.is_empty() || cell.len() > 15 {
            return None;
        }
        let mut n = 0;
        for &b in cell {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                return None;
            }
            n = n * 10 + i64::from(digit);
        }
        Some(n)
    };
    match question.kind {
        Kind::Integer { min, max } => whole().filter(|&n| within(n, min, max)).map(Value::Integer),
        Kind::Number { min, max } => whole()
            .map(|n| n as f64)
            .filter(|&x| within(x, min, max))
            .map(Value::Number),
        _ => None,
    }
}

/// A decimal number as written, `[+-]digits[.digits][e[+-]digits]`, reduced to its sign,
/// significant digits (no leading or trailing zeros) and power of ten. `None` if it is not
/// written that way.
fn decimal_parts(t: &str) -> Option<(bool, Vec<u8>, i64)> {
    let (negative, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
        None => (rest, 0),
    };
    let (whole, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !all_digits(whole) || !all_digits(frac) {
        return None;
    }
    let mut digits: Vec<u8> = whole.bytes().chain(frac.bytes()).collect();
    let mut power = exponent.checked_sub(i64::try_from(frac.len()).ok()?)?;
    while digits.last() == Some(&b'0') {
        digits.pop();
        power = power.checked_add(1)?;
    }
    let first = digits
        .iter()
        .position(|&b| b != b'0')
        .unwrap_or(digits.len());
    let digits = digits.split_off(first);
    if digits.is_empty() {
        return Some((false, Vec::new(), 0));
    }
    Some((negative, digits, power))
}

/// Whether the float `x` read from `t` is the number written in `t`: the shortest decimal
/// that reads back as `x` has the same digits and power of ten as `t`.
fn holds_exactly(t: &str, x: f64) -> bool {
    let shortest = format!("{x:e}");
    match (decimal_parts(t), decimal_parts(&shortest)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Whether a decimal number, as written, is exactly the float it reads as (see `holds_exactly`).
pub fn is_exact_decimal(t: &str) -> bool {
    t.parse::<f64>().is_ok_and(|x| holds_exactly(t, x))
}

/// The number before the question's own unit (`146 mmHg`, `146mmhg`, `146 mm Hg`): the unit
/// compared without case or spaces. `None` when there is no unit, or the text ends otherwise.
/// Tried only once the plain number failed, so it costs a batch nothing.
fn without_unit<'t>(question: &Question, t: &'t str) -> Option<&'t str> {
    let unit = question.unit.as_deref()?;
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | ',')))
        .filter(|&i| i > 0)?;
    let (number, rest) = t.split_at(end);
    let mut written = rest.chars().filter(|c| !c.is_whitespace());
    let mut wanted = unit.chars().filter(|c| !c.is_whitespace());
    loop {
        match (written.next(), wanted.next()) {
            (None, None) => return Some(number),
            (Some(a), Some(b)) if a.to_lowercase().eq(b.to_lowercase()) => {}
            _ => return None,
        }
    }
}

/// A decimal number, finite. With a decimal comma allowed, `37,5` is 37.5; a comma followed
/// by exactly three digits (`1,000`) could be a thousands separator and is refused.
fn parse_number(t: &str, reading: Reading) -> Option<f64> {
    if let Ok(x) = t.parse::<f64>() {
        return Some(x).filter(|x| x.is_finite());
    }
    if !reading.decimal_comma || t.contains('.') || t.matches(',').count() != 1 {
        return None;
    }
    let (whole, frac) = t.split_once(',')?;
    if frac.len() == 3 || frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    format!("{whole}.{frac}")
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
}

/// Whole numbers, also written with a zero fraction ("146.0") as spreadsheets export them.
fn parse_integer(t: &str) -> Option<i64> {
    if let Ok(n) = t.parse::<i64>() {
        return Some(n);
    }
    let (whole, frac) = match t.split_once('.') {
        Some(parts) => parts,
        // A whole number in exponent form, as JSON writers may give it: 1.2e2 is 120.
        None if t.contains(['e', 'E']) => return whole_from_parts(t),
        None => return None,
    };
    if !frac.is_empty() && frac.bytes().all(|b| b == b'0') {
        whole.parse().ok()
    } else if frac.contains(['e', 'E']) {
        whole_from_parts(t)
    } else {
        None
    }
}

/// A whole number written with an exponent (`1.2e2`), exactly, or `None`.
fn whole_from_parts(t: &str) -> Option<i64> {
    let (negative, digits, power) = decimal_parts(t)?;
    if power < 0 || digits.len() > 19 {
        return None;
    }
    let mut n: i64 = 0;
    for d in digits {
        n = n.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    for _ in 0..power {
        n = n.checked_mul(10)?;
    }
    Some(if negative { -n } else { n })
}

/// What one question is for one patient once skip logic has run — the one type for
/// answered / unanswered / skipped. Conditions read `Seen<&Value>`; a verdict's reasons keep
/// `Seen<Value>`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Seen<V> {
    Answered(V),
    Unanswered,
    /// Not applicable: its `ask_if` is false.
    Skipped,
}

impl<V> Seen<V> {
    pub fn is_skipped(&self) -> bool {
        matches!(self, Seen::Skipped)
    }

    /// "answered", "unanswered" or "skipped".
    pub fn state(&self) -> &'static str {
        match self {
            Seen::Answered(_) => "answered",
            Seen::Unanswered => "unanswered",
            Seen::Skipped => "skipped",
        }
    }
}

impl Seen<&Value> {
    /// An owned copy, for keeping beyond the answers.
    pub fn cloned(self) -> Seen<Value> {
        match self {
            Seen::Answered(v) => Seen::Answered(v.clone()),
            Seen::Unanswered => Seen::Unanswered,
            Seen::Skipped => Seen::Skipped,
        }
    }
}

impl Seen<Value> {
    pub fn as_ref(&self) -> Seen<&Value> {
        match self {
            Seen::Answered(v) => Seen::Answered(v),
            Seen::Unanswered => Seen::Unanswered,
            Seen::Skipped => Seen::Skipped,
        }
    }
}

/// The answers for one patient, indexed by question slot. `None` is unanswered.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Answers {
    values: Vec<Option<Value>>,
}

impl Answers {
    /// Every question unanswered.
    pub fn new(ruleset: &Ruleset) -> Self {
        Answers {
            values: vec![None; ruleset.questions.len()],
        }
    }

    pub fn get(&self, slot: Slot) -> Option<&Value> {
        self.values.get(slot).and_then(Option::as_ref)
    }

    pub fn set(&mut self, slot: Slot, value: Option<Value>) {
        if let Some(cell) = self.values.get_mut(slot) {
            *cell = value;
        }
    }

    /// Unanswers every question, keeping the buffer (for the batch loop).
    pub fn clear(&mut self) {
        self.values.iter_mut().for_each(|v| *v = None);
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// How many characters of a rejected value an input error repeats.
pub const ECHO_CHARS: usize = 200;

/// A rejected value as an input error repeats it: trimmed, and cut after `ECHO_CHARS`
/// characters (saying how long it was) so a runaway cell cannot flood the output.
pub fn echo(raw: &str) -> String {
    let t = raw.trim();
    match t.char_indices().nth(ECHO_CHARS) {
        None => t.to_string(),
        Some((cut, _)) => format!("{}... ({} bytes in all)", &t[..cut], t.len()),
    }
}

/// An input problem for one patient: which question, what was given, what was wrong.
/// Never fatal: the answer counts as unanswered. A problem with a whole form (an intake
/// profile's form that is not complete) has no question (empty here, `null` in JSON) and
/// names the form.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InputError {
    #[serde(serialize_with = "question_or_null")]
    pub question: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
    pub value: String,
    pub message: String,
}

impl InputError {
    /// A problem with one question's answer.
    pub fn new(
        question: impl Into<String>,
        value: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        InputError {
            question: question.into(),
            form: None,
            value: value.into(),
            message: message.into(),
        }
    }
}

/// What an input error is about, as text output names it: the question, or `form NAME`.
pub struct Subject<'a>(&'a InputError);

impl fmt::Display for Subject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.form {
            Some(form) => write!(f, "form {form}"),
            None => f.write_str(&self.0.question),
        }
    }
}

impl InputError {
    /// What the error is about, for text output: the question, or `form NAME`.
    pub fn subject(&self) -> Subject<'_> {
        Subject(self)
    }
}

fn question_or_null<S: serde::Serializer>(question: &str, s: S) -> Result<S::Ok, S::Error> {
    if question.is_empty() {
        s.serialize_none()
    } else {
        s.serialize_str(question)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ruleset::ChoiceOption;

    fn question(kind: Kind, unit: Option<&str>) -> Question {
        Question {
            id: "q".into(),
            section: "S".into(),
            text: "Q?".into(),
            help: None,
            kind,
            unit: unit.map(str::to_string),
            aliases: vec![],
            ask_if: None,
            ask_if_text: None,
        }
    }

    #[test]
    fn echoed_values_are_cut_short() {
        assert_eq!(echo("  146 "), "146");
        let long = "9".repeat(10_000);
        assert_eq!(
            echo(&long),
            format!("{}... (10000 bytes in all)", "9".repeat(ECHO_CHARS))
        );
    }

    #[test]
    fn yes_no_spellings() {
        let q = question(Kind::YesNo, None);
        for yes in ["yes", "Y", " TRUE ", "1"] {
            assert_eq!(parse_text(&q, yes), Ok(Some(Value::YesNo(true))), "{yes}");
        }
        for no in ["No", "n", "false", "0"] {
            assert_eq!(parse_text(&q, no), Ok(Some(Value::YesNo(false))), "{no}");
        }
        for unknown in [
            "",
            "  ",
            "unknown",
            "Unsure",
            " DK ",
            "Don't know",
            "?",
            "\u{a0}not known\u{2003}",
            "\u{b}",
        ] {
            assert_eq!(parse_text(&q, unknown), Ok(None), "{unknown}");
        }
        assert!(parse_text(&q, "maybe").is_err());
        // Unicode spaces are trimmed too; words that only start like a spelling are not one.
        assert_eq!(
            parse_text(&q, "\u{a0}Yes\u{3000}"),
            Ok(Some(Value::YesNo(true)))
        );
        for bad in ["ye", "yess", "10", "nope", "t", "f"] {
            assert!(parse_text(&q, bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_yes_no("\u{b}no\t"), Some(false));
        assert!(is_unknown_word(" Unknown\r\n"));
        assert!(!is_unknown_word("no"));
    }

    #[test]
    fn integers_are_bounded() {
        let q = question(
            Kind::Integer {
                min: Some(50),
                max: Some(300),
            },
            Some("mmHg"),
        );
        assert_eq!(parse_text(&q, "146"), Ok(Some(Value::Integer(146))));
        assert_eq!(parse_text(&q, "146.0"), Ok(Some(Value::Integer(146))));
        assert_eq!(
            parse_text(&q, "400").map_err(|e| e.message),
            Err("400 is out of range: must be between 50 and 300 mmHg".to_string())
        );
        assert_eq!(
            parse_text(&q, "146.5").map_err(|e| e.message),
            Err("expected a whole number between 50 and 300 mmHg".to_string())
        );
    }

    #[test]
    fn digit_cells_read_as_parse_text_reads_them() {
        let bounded = |min, max| Kind::Integer { min, max };
        let kinds = [
            bounded(Some(50), Some(300)),
            bounded(None, None),
            bounded(Some(-5), None),
            Kind::Number {
                min: Some(18.5),
                max: Some(200.0),
            },
            Kind::Number {
                min: None,
                max: None,
            },
            Kind::YesNo,
            Kind::Text,
        ];
        let cells = [
            "",
            "0",
            "1",
            "7",
            "49",
            "50",
            "0050",
            "146",
            "300",
            "301",
            "200",
            "201",
            "18",
            "19",
            "999999999999999",
            "1000000000000000",
            "9223372036854775807",
            "1a",
            "a1",
            " 1",
            "1 ",
            "+1",
            "-1",
            "1.0",
            "1,0",
            "١",
        ];
        for kind in kinds {
            let q = question(kind.clone(), Some("mmHg"));
            for cell in cells {
                let digit_cell = !cell.is_empty()
                    && cell.len() <= 15
                    && cell.bytes().all(|b| b.is_ascii_digit());
                let expected = match parse_text(&q, cell) {
                    Ok(Some(v @ (Value::Integer(_) | Value::Number(_)))) if digit_cell => Some(v),
                    _ => None,
                };
                assert_eq!(
                    parse_digits(&q, cell.as_bytes()),
                    expected,
                    "{kind:?} {cell:?}"
                );
            }
        }
    }

    #[test]
    fn numbers_reject_nan_and_infinity() {
        let q = question(
            Kind::Number {
                min: None,
                max: None,
            },
            None,
        );
        assert_eq!(parse_text(&q, "1.5"), Ok(Some(Value::Number(1.5))));
        for bad in ["NaN", "inf", "-inf", "1e400"] {
            assert!(parse_text(&q, bad).is_err(), "{bad}");
        }
    }

    // Broke: "17.99999999999999999" read as the float 18.0 passed a minimum of 18.
    #[test]
    fn numbers_are_checked_as_written_not_as_rounded() {
        let q = question(
            Kind::Number {
                min: Some(18.0),
                max: None,
            },
            None,
        );
        assert_eq!(
            parse_text(&q, "17.99999999999999999"),
            Err(invalid(
                "17.99999999999999999 has more digits than can be compared exactly; round it to at most 15 significant digits"
            ))
        );
        for good in [
            "18", "18.0", "+18", "1.8e1", "18.000", "0018.5", "1e2", "99.95",
        ] {
            assert!(parse_text(&q, good).is_ok(), "{good}");
        }
        assert!(parse_text(&q, "18.00000000000000001").is_err());
        let whole = question(
            Kind::Integer {
                min: Some(18),
                max: None,
            },
            None,
        );
        assert_eq!(parse_text(&whole, "1.2e2"), Ok(Some(Value::Integer(120))));
        assert_eq!(parse_text(&whole, "18.0"), Ok(Some(Value::Integer(18))));
        for bad in ["17.99999999999999999", "1.25e1", "1e30", "18.0e-1"] {
            assert!(parse_text(&whole, bad).is_err(), "{bad}");
        }
        let any = question(
            Kind::Number {
                min: None,
                max: None,
            },
            None,
        );
        for good in [
            "0",
            "-0",
            "0.1",
            "-2.5",
            ".5",
            "5.",
            "1e-300",
            "0.30000000000000004",
        ] {
            assert!(parse_text(&any, good).is_ok(), "{good}");
        }
        for bad in ["0.30000000000000001", "1e-400", "123456789012345678901"] {
            assert!(parse_text(&any, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn choices_by_id_or_label_in_any_case() {
        let q = question(
            Kind::Choice(vec![
                ChoiceOption {
                    id: "none".into(),
                    label: "No substance use disorder".into(),
                },
                ChoiceOption {
                    id: "current".into(),
                    label: "Current disorder".into(),
                },
            ]),
            None,
        );
        assert_eq!(parse_text(&q, "CURRENT"), Ok(Some(Value::Choice(1))));
        assert_eq!(
            parse_text(&q, "current disorder"),
            Ok(Some(Value::Choice(1)))
        );
        assert_eq!(
            parse_text(&q, "curent").map_err(|e| e.message),
            Err("expected one of: none, current (did you mean 'current'?)".to_string())
        );
    }

    #[test]
    fn answers_as_people_type_them_not_sure_units_and_decimal_commas() {
        let yn = question(Kind::YesNo, None);
        for unknown in [
            "not sure",
            "Not Sure",
            "don\u{2019}t know",
            "do not know",
            " ? ",
        ] {
            assert_eq!(parse_text(&yn, unknown), Ok(None), "{unknown}");
        }
        let bp = question(
            Kind::Integer {
                min: Some(50),
                max: Some(300),
            },
            Some("mmHg"),
        );
        for typed in ["146 mmHg", "146mmhg", "146 MMHG", "146 mm Hg", "146.0 mmHg"] {
            assert_eq!(
                parse_text(&bp, typed),
                Ok(Some(Value::Integer(146))),
                "{typed}"
            );
        }
        assert_eq!(parse_text(&bp, "not sure"), Ok(None));
        // Another unit, or a unit alone, is not this question's number.
        for bad in ["146 kPa", "mmHg", "146 mmHgx", "146 mm"] {
            assert_eq!(
                parse_text(&bp, bad).map_err(|e| e.message),
                Err("expected a whole number between 50 and 300 mmHg".to_string()),
                "{bad}"
            );
        }
        assert_eq!(
            parse_text(&bp, "400 mmHg").map_err(|e| e.message),
            Err("400 is out of range: must be between 50 and 300 mmHg".to_string())
        );
        let temp = question(
            Kind::Number {
                min: Some(30.0),
                max: Some(45.0),
            },
            Some("°C"),
        );
        assert_eq!(
            parse_text_with(&temp, "37,5", Reading::TYPED),
            Ok(Some(Value::Number(37.5)))
        );
        assert_eq!(
            parse_text_with(&temp, "37,5 °c", Reading::TYPED),
            Ok(Some(Value::Number(37.5)))
        );
        assert_eq!(
            parse_text_with(&temp, "37.5°C", Reading::FILE),
            Ok(Some(Value::Number(37.5)))
        );
        // In a file a comma is never a decimal point; typed, "1,000" could be a thousand.
        assert!(parse_text(&temp, "37,5").is_err());
        let any = question(
            Kind::Number {
                min: None,
                max: None,
            },
            None,
        );
        for bad in ["1,000", "1,5,0", "1.5,0", "37,", ",", "37,5e"] {
            assert!(parse_text_with(&any, bad, Reading::TYPED).is_err(), "{bad}");
        }
        assert_eq!(
            parse_text_with(&any, "-0,25", Reading::TYPED),
            Ok(Some(Value::Number(-0.25)))
        );
    }

    /// The fast paths must accept exactly what the plain definitions accept.
    #[test]
    fn fast_spelling_checks_agree_with_the_plain_definitions() {
        fn plain_unknown(raw: &str) -> bool {
            let t = raw.trim();
            t.is_empty() || UNKNOWN_WORDS.iter().any(|w| t.eq_ignore_ascii_case(w))
        }
        fn plain_yes_no(raw: &str) -> Option<bool> {
            let t = raw.trim();
            if ["yes", "y", "true", "1"]
                .iter()
                .any(|w| t.eq_ignore_ascii_case(w))
            {
                Some(true)
            } else if ["no", "n", "false", "0"]
                .iter()
                .any(|w| t.eq_ignore_ascii_case(w))
            {
                Some(false)
            } else {
                None
            }
        }
        let pieces = [
            "",
            " ",
            "\t",
            "\u{a0}",
            "\u{b}",
            "y",
            "Y",
            "e",
            "S",
            "n",
            "O",
            "1",
            "0",
            "t",
            "R",
            "u",
            "E",
            "f",
            "a",
            "l",
            "s",
            "?",
            "d",
            "k",
            "yes",
            "no",
            "true",
            "FALSE",
            "unknown",
            "unsure",
            "not known",
            "dk",
            "don't know",
            "dont know",
            "é",
        ];
        let mut checked = 0;
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let raw = format!("{a}{b}{c}");
                    assert_eq!(is_unknown_word(&raw), plain_unknown(&raw), "{raw:?}");
                    assert_eq!(parse_yes_no(&raw), plain_yes_no(&raw), "{raw:?}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, pieces.len().pow(3));
    }

    fn text(c: Cow<'_, [u8]>) -> String {
        String::from_utf8(c.into_owned()).expect("utf-8")
    }

    #[test]
    fn excel_text_keeps_leading_zeros() {
        assert_eq!(text(excel_text(b"=\"00123\"")), "00123");
        assert_eq!(text(excel_text(b" =\"00123\" ")), "00123");
        assert_eq!(text(excel_text(b"=\"a\"\"b\"")), "a\"b");
        assert_eq!(text(excel_text(b"=\"\"")), "");
        assert_eq!(excel_text_str("=\"P-7\""), "P-7");
    }

    #[test]
    fn excel_text_leaves_everything_else() {
        for cell in [
            &b"00123"[..],
            b"=A1",
            b"=\"a\"&B2",
            b"=\"a\"b\"",
            b"\"00123\"",
            b"=\"",
            b"",
        ] {
            assert_eq!(excel_text(cell), Cow::Borrowed(cell), "{cell:?}");
        }
    }

    #[test]
    fn excel_text_is_read_in_answers() {
        let q = question(
            Kind::Integer {
                min: Some(0),
                max: Some(120),
            },
            Some("years"),
        );
        assert_eq!(parse_text(&q, "=\"40\""), Ok(Some(Value::Integer(40))));
    }
}
