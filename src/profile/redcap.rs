//! REDCap, both ways. Reading a REDCap data dictionary (the CSV from Project Setup →
//! Data Dictionary) and drafting the profile that maps the project's raw exports onto the
//! ruleset: fields matched to questions by name and label, `1, Yes | 0, No` choice codes matched
//! to options by label, yesno/truefalse and checkbox fields, the record id, each form's
//! `<form>_complete` status, REDCap's standard missing-data codes. And writing one: the
//! ruleset as a data dictionary valid for REDCap's upload (field types, choices, validation
//! min/max from the bounds, branching logic from `ask_if`), whose exports the drafted profile
//! maps with no edits. Pure: text in, text out.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::draft::{
    comment_text, dice, id_from_name, match_question, normalize, quote, words, Grounds,
};
use super::REDCAP_MISSING_CODES;
use crate::answers;
use crate::expr::{self, Ast, Atom, CmpOp};
use crate::ruleset::{Kind, Question, Ruleset, Slot};

/// The columns of a REDCap data dictionary, in REDCap's order.
pub const DICTIONARY_HEADER: [&str; 18] = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
];

/// One field of a data dictionary.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Field {
    pub name: String,
    pub form: String,
    pub kind: String,
    pub label: String,
    /// `code, label` pairs of radio, dropdown and checkbox fields.
    pub choices: Vec<(String, String)>,
    pub validation: String,
}

/// Why a dictionary could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DictionaryError {
    #[error("not a REDCap data dictionary: the header has no '{0}' column")]
    Header(&'static str),
    #[error("line {line}: {message}")]
    Row { line: u64, message: String },
    #[error("the dictionary has no fields")]
    Empty,
}

/// Splits REDCap choices: `1, Yes | 0, No` → `[("1", "Yes"), ("0", "No")]`.
pub fn parse_choices(text: &str) -> Vec<(String, String)> {
    text.split('|')
        .filter_map(|item| {
            let item = item.trim();
            if item.is_empty() {
                return None;
            }
            let (code, label) = item.split_once(',').unwrap_or((item, item));
            Some((code.trim().to_string(), label.trim().to_string()))
        })
        .collect()
}

/// Reads a data dictionary's CSV text.
pub fn read_dictionary(text: &str) -> Result<Vec<Field>, DictionaryError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| DictionaryError::Row {
            line: 1,
            message: e.to_string(),
        })?
        .iter()
        .map(normalize)
        .collect();
    let column = |name: &'static str| {
        let want = normalize(name);
        header
            .iter()
            .position(|h| *h == want)
            .ok_or(DictionaryError::Header(name))
    };
    let (name, form, kind, label, choices, validation) = (
        column(DICTIONARY_HEADER[0])?,
        column(DICTIONARY_HEADER[1])?,
        column(DICTIONARY_HEADER[3])?,
        column(DICTIONARY_HEADER[4])?,
        column(DICTIONARY_HEADER[5])?,
        column(DICTIONARY_HEADER[7])?,
    );
    let mut fields = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| DictionaryError::Row {
            line: e.position().map(|p| p.line()).unwrap_or(0),
            message: e.to_string(),
        })?;
        let get = |i: usize| record.get(i).unwrap_or("").trim().to_string();
        if get(name).is_empty() {
            continue;
        }
        let kind = get(kind).to_ascii_lowercase();
        let choices = match kind.as_str() {
            "radio" | "dropdown" | "checkbox" => parse_choices(&get(choices)),
            _ => Vec::new(),
        };
        fields.push(Field {
            name: get(name),
            form: get(form),
            kind,
            label: get(label),
            choices,
            validation: get(validation).to_ascii_lowercase(),
        });
    }
    if fields.is_empty() {
        return Err(DictionaryError::Empty);
    }
    Ok(fields)
}

/// The export column of one checkbox choice: `meds` + `3` → `meds___3`.
pub fn checkbox_column(field: &str, code: &str) -> String {
    let code: String = code
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{field}___{code}")
}

/// How a choice label reads as an answer to a question: `Some(None)` for "unknown" labels.
fn read_label(question: &Question, label: &str) -> Option<Option<String>> {
    let plain = words(label).join(" ");
    if answers::is_unknown_word(label) || answers::is_unknown_word(&plain) {
        return Some(None);
    }
    for text in [label.trim(), plain.as_str()] {
        if let Ok(Some(v)) = answers::parse_text(question, text) {
            return Some(Some(v.display(question).to_string()));
        }
    }
    if let Kind::Choice(options) = &question.kind {
        let label_words = words(label);
        let mut best: Option<(usize, f64)> = None;
        for (i, o) in options.iter().enumerate() {
            let score = dice(&label_words, &words(&o.label)).max(dice(&label_words, &words(&o.id)));
            if score >= 0.6 && best.is_none_or(|(_, s)| score > s) {
                best = Some((i, score));
            }
        }
        return best.map(|(i, _)| Some(options[i].id.clone()));
    }
    None
}

/// One field or checkbox choice matched to a question.
struct Claim {
    field: usize,
    /// The export column (the field name, or `field___code` for a checkbox choice).
    column: String,
    /// For a checkbox choice: its code and label.
    choice: Option<(String, String)>,
    grounds: Grounds,
}

/// Drafts a profile from a data dictionary. `events`: for longitudinal projects, the unique
/// event names whose rows are the screening; `id` names the profile (default: from the
/// dictionary's file name).
pub fn draft_profile(
    ruleset: &Ruleset,
    fields: &[Field],
    name: &str,
    events: &[String],
    id: Option<&str>,
) -> String {
    let record_id = fields
        .first()
        .map(|f| f.name.as_str())
        .unwrap_or("record_id");
    let mut claims: BTreeMap<Slot, Claim> = BTreeMap::new();
    let mut left_out: Vec<String> = Vec::new();
    let mut claim = |slot: Slot, new: Claim, left_out: &mut Vec<String>| match claims.get(&slot) {
        Some(old) if old.grounds.score() >= new.grounds.score() => left_out.push(format!(
            "{}: also looks like '{}', which '{}' matches better",
            new.column, ruleset.questions[slot].id, old.column
        )),
        old => {
            if let Some(old) = old {
                left_out.push(format!(
                    "{}: also looks like '{}', which '{}' matches better",
                    old.column, ruleset.questions[slot].id, new.column
                ));
            }
            claims.insert(slot, new);
        }
    };
    for (i, f) in fields.iter().enumerate().skip(1) {
        match f.kind.as_str() {
            "descriptive" | "file" | "signature" | "sql" => {
                left_out.push(format!("{}: a {} field", f.name, f.kind));
            }
            "checkbox" => {
                let mut any = false;
                for (code, label) in &f.choices {
                    let column = checkbox_column(&f.name, code);
                    // The export column by id or alias, else the choice's label alone (the
                    // field's label is about the whole list, not this choice).
                    let by_name = ruleset.resolve_name(&column).map(|s| {
                        let exact = ruleset.questions[s].id.eq_ignore_ascii_case(&column);
                        (s, if exact { Grounds::Id } else { Grounds::Alias })
                    });
                    let matched = by_name
                        .or_else(|| match_question(ruleset, label, None))
                        .filter(|(s, _)| ruleset.questions[*s].kind == Kind::YesNo);
                    match matched {
                        Some((slot, grounds)) => {
                            any = true;
                            claim(
                                slot,
                                Claim {
                                    field: i,
                                    column,
                                    choice: Some((code.clone(), label.clone())),
                                    grounds,
                                },
                                &mut left_out,
                            );
                        }
                        None => left_out.push(format!(
                            "{column}: checkbox choice '{}' matches no yes/no question",
                            comment_text(label)
                        )),
                    }
                }
                if !any && f.choices.is_empty() {
                    left_out.push(format!("{}: a checkbox field with no choices", f.name));
                }
            }
            _ => match match_question(ruleset, &f.name, Some(&f.label)) {
                Some((slot, grounds)) => claim(
                    slot,
                    Claim {
                        field: i,
                        column: f.name.clone(),
                        choice: None,
                        grounds,
                    },
                    &mut left_out,
                ),
                None => left_out.push(format!("{}: matches no question", f.name)),
            },
        }
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Drafted by `ketascreen profile redcap` from {} for ruleset {} {}.",
        comment_text(name),
        ruleset.id,
        ruleset.version
    );
    out.push_str(
        "# Review every line before use: a wrong match screens patients wrongly. Then\n\
         # `ketascreen profile lint THIS_FILE` and `ketascreen batch EXPORT.csv --profile THIS_FILE`\n\
         # on a raw export (Data Exports: CSV / Microsoft Excel (raw data)).\n",
    );
    let _ = writeln!(
        out,
        "profile: {{id: {}, ruleset: {}}}",
        quote(&id.map(str::to_string).unwrap_or_else(|| id_from_name(name))),
        quote(&ruleset.id)
    );
    out.push_str("input:\n");
    let _ = writeln!(out, "  id_column: {}", quote(record_id));
    match events {
        [] => out.push_str(
            "  # Longitudinal project? One row per event: keep only the event holding the screening\n\
             \x20 # forms (its unique event name), or every other event's row is screened as a patient.\n\
             \x20 # rows: {column: redcap_event_name, equals: [EVENT_NAME]}\n",
        ),
        events => {
            let names: Vec<String> = events.iter().map(|e| quote(e)).collect();
            let _ = writeln!(
                out,
                "  rows: {{column: redcap_event_name, equals: [{}]}}",
                names.join(", ")
            );
        }
    }
    if claims
        .values()
        .any(|c| fields[c.field].validation == "number_comma_decimal")
    {
        out.push_str("  decimal: \",\"   # the project has fields validated as 'Number (comma as decimal)'\n");
    }
    let _ = writeln!(
        out,
        "# REDCap's standard missing-data codes: read as unanswered, without an error.\nmissing_codes: [{}]",
        REDCAP_MISSING_CODES.join(", ")
    );
    let mut forms: Vec<&str> = Vec::new();
    for c in claims.values() {
        let form = fields[c.field].form.as_str();
        if !form.is_empty() && !forms.contains(&form) {
            forms.push(form);
        }
    }
    if !forms.is_empty() {
        out.push_str(
            "# A form's answers count only when its status is Complete (2); an unfilled form's\n\
             # questions are unanswered (its checkboxes export as 0, which must not read as 'no').\n\
             # Add \"1\" to complete to accept Unverified forms.\nforms:\n",
        );
        for form in &forms {
            let _ = writeln!(
                out,
                "  {form}: {{status_column: {}, complete: [\"2\"]}}",
                quote(&format!("{form}_complete"))
            );
        }
    }
    out.push_str("columns:\n");
    if claims.is_empty() {
        out.push_str("  {}   # no field matched a question: map them by hand, `question_id: {column: field_name}`\n");
    }
    let mut ordered: Vec<(&Slot, &Claim)> = claims.iter().collect();
    ordered.sort_by_key(|(_, c)| (c.field, c.column.clone()));
    for (&slot, c) in ordered {
        let f = &fields[c.field];
        let q = &ruleset.questions[slot];
        let form = if f.form.is_empty() {
            String::new()
        } else {
            format!(", form: {}", f.form)
        };
        let mut unmatched: Vec<String> = Vec::new();
        let entry = if c.choice.is_some() {
            format!("{{checkbox: {}{form}}}", quote(&c.column))
        } else {
            let table: Vec<(String, Option<String>)> = match f.kind.as_str() {
                "yesno" | "truefalse" => vec![
                    ("1".into(), Some("yes".into())),
                    ("0".into(), Some("no".into())),
                ]
                .into_iter()
                .filter(|_| q.kind == Kind::YesNo)
                .collect(),
                "radio" | "dropdown" => f
                    .choices
                    .iter()
                    .filter_map(|(code, label)| match read_label(q, label) {
                        Some(v) => Some((code.clone(), v)),
                        None => {
                            unmatched.push(format!("{code} = '{}'", comment_text(label)));
                            None
                        }
                    })
                    .collect(),
                _ => Vec::new(),
            };
            if table.is_empty() {
                format!("{{column: {}{form}}}", quote(&c.column))
            } else {
                let values: Vec<String> = table
                    .iter()
                    .map(|(code, v)| {
                        format!(
                            "{}: {}",
                            quote(code),
                            v.as_deref().map(quote).unwrap_or_else(|| "null".into())
                        )
                    })
                    .collect();
                format!(
                    "{{column: {}, values: {{{}}}{form}}}",
                    quote(&c.column),
                    values.join(", ")
                )
            }
        };
        let kind = match &c.choice {
            Some((code, label)) => format!("checkbox, choice {code} '{}'", comment_text(label)),
            None if f.validation.is_empty() => f.kind.clone(),
            None => format!("{}, {}", f.kind, f.validation),
        };
        let label = match c.grounds {
            Grounds::Words(_) => format!(" \"{}\"", comment_text(&words(&f.label).join(" "))),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {}: {entry}   # field '{}' ({kind}){label}: {}",
            q.id,
            f.name,
            c.grounds.describe()
        );
        if !unmatched.is_empty() {
            let _ = writeln!(
                out,
                "  #   codes that match no answer of '{}' (they read as input errors until added): {}",
                q.id,
                unmatched.join(", ")
            );
        }
    }
    if !left_out.is_empty() {
        out.push_str("# Fields left out (never read, never echoed):\n");
        for l in &left_out {
            let _ = writeln!(out, "#   {}", comment_text(l));
        }
    }
    let unasked: Vec<&Question> = ruleset
        .questions
        .iter()
        .enumerate()
        .filter(|(s, _)| !claims.contains_key(s))
        .map(|(_, q)| q)
        .collect();
    if !unasked.is_empty() {
        out.push_str(
            "# Questions no field answers (unanswered in every row unless you map them):\n",
        );
        for q in unasked {
            let _ = writeln!(out, "#   {}: {}", q.id, comment_text(&q.text));
        }
    }
    out
}

/// A REDCap form (instrument) name from a ruleset id: lowercase letters, digits and `_`.
pub fn form_name(ruleset: &Ruleset) -> String {
    let mut name: String = ruleset
        .id
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name.insert_str(0, "screening_");
    }
    name
}

/// The choices of a question as REDCap writes them, codes 1, 2, 3... in option order.
fn choices_text(q: &Question) -> String {
    match &q.kind {
        Kind::Choice(options) => options
            .iter()
            .enumerate()
            .map(|(i, o)| format!("{}, {}", i + 1, o.label.replace('|', "/")))
            .collect::<Vec<_>>()
            .join(" | "),
        _ => String::new(),
    }
}

/// A literal as its REDCap code for a question: yes → 1, an option → its code.
fn literal(ruleset: &Ruleset, slot: Slot, atom: &Atom) -> String {
    let q = &ruleset.questions[slot];
    match atom {
        Atom::Number { value, .. } => value.to_string(),
        Atom::Word(w) => match (&q.kind, w.text.as_str()) {
            (Kind::YesNo, "yes") => "'1'".into(),
            (Kind::YesNo, "no") => "'0'".into(),
            (kind, word) => match kind.option_index(word) {
                Some(i) => format!("'{}'", i + 1),
                None => format!("'{word}'"),
            },
        },
    }
}

fn negate(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Eq => CmpOp::Ne,
        CmpOp::Ne => CmpOp::Eq,
        CmpOp::Lt => CmpOp::Ge,
        CmpOp::Le => CmpOp::Gt,
        CmpOp::Gt => CmpOp::Le,
        CmpOp::Ge => CmpOp::Lt,
    }
}

fn redcap_op(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "<>",
        other => other.as_str(),
    }
}

/// A condition as REDCap branching logic. REDCap has no `not`, so negations are pushed down
/// to the comparisons (`not (a or b)` → `a <> .. and b <> ..`).
fn branching(ruleset: &Ruleset, ast: &Ast, negated: bool) -> String {
    let slot_of = |name: &str| ruleset.resolve_name(name);
    let join = |items: &[Ast], word: &str| {
        let parts: Vec<String> = items
            .iter()
            .map(|a| {
                let s = branching(ruleset, a, negated);
                if matches!(a, Ast::Or(_) | Ast::And(_) | Ast::In { .. }) {
                    format!("({s})")
                } else {
                    s
                }
            })
            .collect();
        parts.join(&format!(" {word} "))
    };
    match ast {
        Ast::Or(items) => join(items, if negated { "and" } else { "or" }),
        Ast::And(items) => join(items, if negated { "or" } else { "and" }),
        Ast::Not(inner) => branching(ruleset, inner, !negated),
        Ast::Bare(name) => {
            let op = if negated { "<>" } else { "=" };
            format!("[{}] {op} '1'", name.text)
        }
        Ast::Cmp { lhs, op, rhs, .. } => {
            let op = if negated { negate(*op) } else { *op };
            let value = slot_of(&lhs.text)
                .map(|s| literal(ruleset, s, rhs))
                .unwrap_or_default();
            let field = slot_of(&lhs.text)
                .map(|s| ruleset.questions[s].id.clone())
                .unwrap_or_else(|| lhs.text.clone());
            format!("[{field}] {} {value}", redcap_op(op))
        }
        Ast::In {
            lhs,
            negated: not_in,
            items,
        } => {
            let inside = negated != *not_in;
            let field = slot_of(&lhs.text)
                .map(|s| ruleset.questions[s].id.clone())
                .unwrap_or_else(|| lhs.text.clone());
            let parts: Vec<String> = items
                .iter()
                .map(|a| {
                    let v = slot_of(&lhs.text)
                        .map(|s| literal(ruleset, s, a))
                        .unwrap_or_default();
                    format!("[{field}] {} {v}", if inside { "<>" } else { "=" })
                })
                .collect();
            parts.join(if inside { " and " } else { " or " })
        }
    }
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

/// The ruleset as a REDCap data dictionary (CSV text), one instrument named after the ruleset,
/// a `record_id` field first.
pub fn template(ruleset: &Ruleset) -> String {
    let form = form_name(ruleset);
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(Vec::new());
    let _ = w.write_record(DICTIONARY_HEADER);
    let mut row = |cells: [String; 18]| {
        let _ = w.write_record(&cells);
    };
    let blank = || String::new();
    row([
        "record_id".into(),
        form.clone(),
        blank(),
        "text".into(),
        "Record ID".into(),
        blank(),
        blank(),
        blank(),
        blank(),
        blank(),
        blank(),
        blank(),
        blank(),
        blank(),
        blank(),
        blank(),
        blank(),
        blank(),
    ]);
    let mut section = String::new();
    for q in &ruleset.questions {
        let header = if q.section != section {
            section = q.section.clone();
            q.section.clone()
        } else {
            blank()
        };
        let (kind, validation, min, max) = match &q.kind {
            Kind::YesNo => ("yesno", "", None, None),
            Kind::Integer { min, max } => (
                "text",
                "integer",
                min.map(|v| v.to_string()),
                max.map(|v| v.to_string()),
            ),
            Kind::Number { min, max } => ("text", "number", min.map(number), max.map(number)),
            Kind::Choice(_) => ("radio", "", None, None),
            Kind::Text => ("notes", "", None, None),
        };
        let help = q.help.as_deref().map(str::trim).unwrap_or_default();
        let note = match (&q.unit, help.is_empty()) {
            (Some(unit), true) => format!("Unit: {unit}"),
            (Some(unit), false) => format!("{help} Unit: {unit}"),
            (None, _) => help.to_string(),
        };
        let logic = q
            .ask_if_text
            .as_deref()
            .and_then(|t| expr::parse(t).ok())
            .map(|ast| branching(ruleset, &ast, false))
            .unwrap_or_default();
        row([
            q.id.clone(),
            form.clone(),
            header,
            kind.into(),
            q.text.trim().to_string(),
            choices_text(q),
            note,
            validation.into(),
            min.unwrap_or_default(),
            max.unwrap_or_default(),
            blank(),
            logic,
            blank(),
            blank(),
            blank(),
            blank(),
            blank(),
            blank(),
        ]);
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_split_on_bars_and_first_commas() {
        assert_eq!(
            parse_choices("1, Yes | 0, No, never | 9"),
            vec![
                ("1".to_string(), "Yes".to_string()),
                ("0".to_string(), "No, never".to_string()),
                ("9".to_string(), "9".to_string())
            ]
        );
        assert_eq!(checkbox_column("meds", "3"), "meds___3");
        assert_eq!(checkbox_column("race", "-99"), "race____99");
    }

    #[test]
    fn ask_if_becomes_branching_logic_without_not() {
        let rs = crate::ruleset::builtin().expect("built-in ruleset");
        let text = |t: &str| branching(&rs, &expr::parse(t).expect("parses"), false);
        assert_eq!(text("current_psychosis == no"), "[current_psychosis] = '0'");
        assert_eq!(
            text("pregnancy_status != not_applicable"),
            "[pregnancy_status] <> '1'"
        );
        assert_eq!(
            text("not (glaucoma or age_years >= 65)"),
            "[glaucoma] <> '1' and [age_years] < 65"
        );
        assert_eq!(
            text("substance_use_disorder in [in_remission, current]"),
            "[substance_use_disorder] = '2' or [substance_use_disorder] = '3'"
        );
    }
}
