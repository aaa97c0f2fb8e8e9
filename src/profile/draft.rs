//! Drafting profiles for people to review: matching a column (or a REDCap field) to a question
//! by id, alias, label and question text, with how sure the match is, and `profile init`'s draft
//! from a file's header — every match shown with its grounds as a YAML comment, every column
//! left out and every question left without a column listed, and cell values seen in the file
//! that would not read as answers named so the author can add recodes. A draft is text on
//! stdout: nothing is used until someone saves it and `profile lint` passes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::answers;
use crate::ruleset::{Kind, Ruleset, Slot};

/// How a name matched a question, best first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Grounds {
    /// The question id itself (any case).
    Id,
    /// One of the question's aliases.
    Alias,
    /// The id or an alias once spaces and punctuation are set aside (`Systolic BP`).
    Spelling,
    /// Words shared with the question's id, aliases or text; the score is from 0 to 1.
    Words(f64),
}

impl Grounds {
    pub fn score(self) -> f64 {
        match self {
            Grounds::Id => 1.0,
            Grounds::Alias => 0.99,
            Grounds::Spelling => 0.95,
            // Shared words never beat a name: below `Spelling` even when every word matches.
            Grounds::Words(s) => s * 0.9,
        }
    }

    /// For the comment beside a match: what matched and how sure.
    pub fn describe(self) -> String {
        match self {
            Grounds::Id => "matched by question id (certain)".to_string(),
            Grounds::Alias => "matched by alias (certain)".to_string(),
            Grounds::Spelling => "matched by id spelling (near certain)".to_string(),
            Grounds::Words(s) => format!(
                "matched by words of the question, {:.0}% ({}): check it",
                s * 100.0,
                if s >= 0.8 { "likely" } else { "possible" }
            ),
        }
    }
}

/// Words below this score are no match.
const WORDS_THRESHOLD: f64 = 0.6;

const STOP_WORDS: [&str; 22] = [
    "the", "a", "an", "of", "or", "and", "is", "are", "does", "do", "has", "have", "to", "in",
    "on", "for", "with", "patient", "patients", "any", "you", "your",
];

/// Lowercase words of a text, HTML tags and punctuation set aside, stop words dropped.
pub fn words(text: &str) -> Vec<String> {
    let mut plain = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            c if c.is_alphanumeric() => plain.extend(c.to_lowercase()),
            _ => plain.push(' '),
        }
    }
    plain
        .split_whitespace()
        .filter(|w| !STOP_WORDS.contains(w))
        .map(str::to_string)
        .collect()
}

/// `Systolic BP` → `systolic_bp`.
pub fn normalize(name: &str) -> String {
    words(name).join("_")
}

/// Dice coefficient of two word lists, words compared whole (or one a prefix of the other,
/// at least 4 letters long: `hypertens` / `hypertension`).
pub fn dice(a: &[String], b: &[String]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let same = |x: &String, y: &String| {
        x == y
            || (x.len().min(y.len()) >= 4
                && (x.starts_with(y.as_str()) || y.starts_with(x.as_str())))
    };
    let shared = a.iter().filter(|x| b.iter().any(|y| same(x, y))).count();
    2.0 * shared as f64 / (a.len() + b.len()) as f64
}

/// The question a name (a header, a field name) and an optional label best match, if any.
pub fn match_question(
    ruleset: &Ruleset,
    name: &str,
    label: Option<&str>,
) -> Option<(Slot, Grounds)> {
    let name = name.trim();
    if let Some(slot) = ruleset.slot(name).or_else(|| {
        ruleset
            .questions
            .iter()
            .position(|q| q.id.eq_ignore_ascii_case(name))
    }) {
        return Some((slot, Grounds::Id));
    }
    if let Some(slot) = ruleset.resolve_name(name) {
        return Some((slot, Grounds::Alias));
    }
    let norm = normalize(name);
    for (slot, q) in ruleset.questions.iter().enumerate() {
        if normalize(&q.id) == norm || q.aliases.iter().any(|a| normalize(a) == norm) {
            return Some((slot, Grounds::Spelling));
        }
    }
    let mut texts: Vec<Vec<String>> = vec![words(name)];
    if let Some(label) = label {
        texts.push(words(label));
    }
    let mut best: Option<(Slot, f64)> = None;
    for (slot, q) in ruleset.questions.iter().enumerate() {
        let mut names: Vec<Vec<String>> = vec![words(&q.id), words(&q.text)];
        names.extend(q.aliases.iter().map(|a| words(a)));
        let score = texts
            .iter()
            .flat_map(|t| names.iter().map(move |n| dice(t, n)))
            .fold(0.0, f64::max);
        if score >= WORDS_THRESHOLD && best.is_none_or(|(_, s)| score > s) {
            best = Some((slot, score));
        }
    }
    best.map(|(slot, s)| (slot, Grounds::Words(s)))
}

/// A YAML scalar for any text: JSON's double-quoted form is valid YAML.
pub fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_string())
}

/// A profile id from a file name: `Riverside Intake.csv` → `riverside-intake`.
pub fn id_from_name(name: &str) -> String {
    let stem = std::path::Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("clinic");
    let id = words(stem).join("-");
    if id.is_empty() {
        "clinic".to_string()
    } else {
        id
    }
}

/// A comment line, with text from the input escaped onto one line.
pub fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// What `profile init` learnt from a file: its header, its delimiter, and some of its rows.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// How the file is named in the draft.
    pub name: String,
    pub delimiter: u8,
    pub header: Vec<String>,
    /// The first rows (at most a few thousand), cells as text.
    pub rows: Vec<Vec<String>>,
}

/// How many distinct unreadable values a draft names per column.
const NAMED_VALUES: usize = 8;

/// The unit text after a number that reads as an answer once the text is set aside:
/// `146 mm Hg` → `mm Hg`.
fn unit_of(question: &crate::ruleset::Question, value: &str) -> Option<String> {
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .filter(|&i| i > 0)?;
    let (number, unit) = value.split_at(split);
    let unit = unit.trim();
    (!unit.is_empty() && matches!(answers::parse_text(question, number.trim()), Ok(Some(_))))
        .then(|| unit.to_string())
}

/// Drafts a profile from a file's header and first rows; `id` names it (default: from the
/// file's name).
pub fn init(ruleset: &Ruleset, sample: &Sample, id: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Drafted by `ketascreen profile init` from {} for ruleset {} {}.",
        comment_text(&sample.name),
        ruleset.id,
        ruleset.version
    );
    out.push_str(
        "# Review every line before use: a wrong match screens patients wrongly. Then\n\
         # `ketascreen profile lint THIS_FILE` and `ketascreen batch FILE --profile THIS_FILE`.\n",
    );
    let _ = writeln!(
        out,
        "profile: {{id: {}, ruleset: {}}}",
        quote(
            &id.map(str::to_string)
                .unwrap_or_else(|| id_from_name(&sample.name))
        ),
        quote(&ruleset.id)
    );
    out.push_str("input:\n");
    let delimiter = match sample.delimiter {
        b'\t' => "\"\\t\"".to_string(),
        d => quote(&(d as char).to_string()),
    };
    let _ = writeln!(out, "  delimiter: {delimiter}");

    // Each column's best question; a question claimed twice goes to the better match.
    let mut claims: BTreeMap<Slot, (usize, Grounds)> = BTreeMap::new();
    let mut id_column = None;
    let mut left_out: Vec<(usize, String)> = Vec::new();
    for (i, name) in sample.header.iter().enumerate() {
        let lowered = name.trim().to_ascii_lowercase();
        if id_column.is_none()
            && (crate::patient::ID_KEYS.contains(&lowered.as_str())
                || matches!(
                    normalize(name).as_str(),
                    "id" | "record_id" | "patient_id" | "mrn" | "study_id"
                ))
        {
            id_column = Some(i);
            continue;
        }
        match match_question(ruleset, name, None) {
            Some((slot, grounds)) => match claims.get(&slot) {
                Some(&(other, g)) if g.score() >= grounds.score() => left_out.push((
                    i,
                    format!(
                        "also looks like '{}', which '{}' matches better",
                        ruleset.questions[slot].id,
                        comment_text(&sample.header[other])
                    ),
                )),
                Some(&(other, _)) => {
                    left_out.push((
                        other,
                        format!(
                            "also looks like '{}', which '{}' matches better",
                            ruleset.questions[slot].id,
                            comment_text(name)
                        ),
                    ));
                    claims.insert(slot, (i, grounds));
                }
                None => {
                    claims.insert(slot, (i, grounds));
                }
            },
            None => left_out.push((i, "matches no question".to_string())),
        }
    }
    match id_column {
        Some(i) => {
            let _ = writeln!(out, "  id_column: {}", quote(sample.header[i].trim()));
        }
        None => out.push_str(
            "  # id_column: \"...\"   # no id column found: records are known by row number\n",
        ),
    }

    // Values that would not read, per matched column; the ones in several columns look
    // like missing-data codes.
    let mut unreadable: BTreeMap<Slot, Vec<String>> = BTreeMap::new();
    let mut code_columns: BTreeMap<String, usize> = BTreeMap::new();
    let mut units: BTreeMap<Slot, String> = BTreeMap::new();
    for (&slot, &(column, _)) in &claims {
        let question = &ruleset.questions[slot];
        let mut seen: Vec<String> = Vec::new();
        for row in &sample.rows {
            let Some(cell) = row.get(column) else {
                continue;
            };
            let t = cell.trim();
            if t.is_empty() || seen.iter().any(|s| s == t) {
                continue;
            }
            if answers::parse_text(question, t).is_err() {
                seen.push(t.to_string());
            }
        }
        // `146 mm Hg` in a numeric column: the export's own unit text, read with `unit:`.
        if matches!(question.kind, Kind::Integer { .. } | Kind::Number { .. }) {
            let suffixes: Vec<Option<String>> = seen.iter().map(|v| unit_of(question, v)).collect();
            if let Some(Some(unit)) = suffixes.first() {
                if suffixes.iter().all(|s| s.as_deref() == Some(unit.as_str())) {
                    units.insert(slot, unit.clone());
                    seen.clear();
                }
            }
        }
        for v in &seen {
            *code_columns.entry(v.clone()).or_default() += 1;
        }
        if !seen.is_empty() {
            unreadable.insert(slot, seen);
        }
    }
    let codes: Vec<&String> = code_columns
        .iter()
        .filter(|(_, &n)| n >= 2)
        .map(|(c, _)| c)
        .collect();
    if !codes.is_empty() {
        let _ = writeln!(
            out,
            "# These values appear in several columns and read as no answer: if they mean \"not known\", keep them here.\nmissing_codes: [{}]",
            codes.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ")
        );
    }

    out.push_str("columns:\n");
    if claims.is_empty() {
        out.push_str("  {}   # no column matched a question: map them by hand, `question_id: {column: \"Header\"}`\n");
    }
    let mut by_column: Vec<(&Slot, &(usize, Grounds))> = claims.iter().collect();
    by_column.sort_by_key(|(_, (c, _))| *c);
    for (&slot, &(column, grounds)) in by_column {
        let q = &ruleset.questions[slot];
        let unit = units
            .get(&slot)
            .map(|u| format!(", unit: {}", quote(u)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {}: {{column: {}{unit}}}   # {}: \"{}\"",
            q.id,
            quote(sample.header[column].trim()),
            grounds.describe(),
            comment_text(&q.text)
        );
        if let Some(values) = unreadable.get(&slot) {
            let own: Vec<&String> = values.iter().filter(|v| !codes.contains(v)).collect();
            if !own.is_empty() {
                let shown: Vec<String> = own.iter().take(NAMED_VALUES).map(|v| quote(v)).collect();
                let more = own.len().saturating_sub(NAMED_VALUES);
                let hint = match &q.kind {
                    Kind::Choice(options) => format!(
                        "options: {}",
                        options
                            .iter()
                            .map(|o| o.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Kind::YesNo => "yes or no".to_string(),
                    Kind::Integer { .. } | Kind::Number { .. } => match &q.unit {
                        Some(u) => format!(
                            "a number in {u}; an export's own unit text goes in unit: \"...\""
                        ),
                        None => "a number".to_string(),
                    },
                    Kind::Text => "text".to_string(),
                };
                let _ = writeln!(
                    out,
                    "  #   values in the file that do not read as answers: {}{} -- add values: {{CODE: ANSWER}} ({hint})",
                    comment_text(&shown.join(", ")),
                    if more > 0 { format!(" and {more} more") } else { String::new() }
                );
            }
        }
    }
    if !left_out.is_empty() {
        left_out.sort_by_key(|(i, _)| *i);
        out.push_str("# Columns left out (never read, never echoed):\n");
        for (i, why) in &left_out {
            let _ = writeln!(out, "#   {}: {why}", quote(sample.header[*i].trim()));
        }
    }
    let unasked: Vec<&str> = ruleset
        .questions
        .iter()
        .enumerate()
        .filter(|(s, _)| !claims.contains_key(s))
        .map(|(_, q)| q.id.as_str())
        .collect();
    if !unasked.is_empty() {
        out.push_str(
            "# Questions no column answers (unanswered in every row unless you map them):\n",
        );
        for id in unasked {
            if let Some(q) = ruleset.slot(id).map(|s| &ruleset.questions[s]) {
                let _ = writeln!(out, "#   {id}: {}", comment_text(&q.text));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_drop_tags_punctuation_and_stop_words() {
        assert_eq!(
            words("<b>Is the patient</b> taking an MAOI?"),
            ["taking", "maoi"]
        );
        assert_eq!(normalize("Systolic BP"), "systolic_bp");
    }

    #[test]
    fn headers_match_by_id_alias_spelling_and_words() {
        let rs = crate::ruleset::builtin().expect("built-in ruleset");
        let id = |name: &str| {
            match_question(&rs, name, None).map(|(s, g)| (rs.questions[s].id.as_str(), g))
        };
        assert_eq!(id("systolic_bp"), Some(("systolic_bp", Grounds::Id)));
        assert_eq!(id("SBP"), Some(("systolic_bp", Grounds::Alias)));
        assert_eq!(id("Systolic BP"), Some(("systolic_bp", Grounds::Spelling)));
        assert!(matches!(id("Glaucoma?"), Some(("glaucoma", _))));
        assert_eq!(id("Surname"), None);
    }
}
