//! Reading a profile's YAML and checking it against the ruleset it is used with: every key
//! known, every question and option real, every recode target a valid answer, every form
//! declared. Each problem is reported at its file, line and column with a "did you mean", in
//! the ruleset loader's format (`ruleset::Diagnostic`, placed by `ruleset::Locations`), all of
//! them at once rather than the first.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Deserialize;
use serde_yaml::{Mapping, Value as Yaml};
use sha2::{Digest, Sha256};

use super::{ColumnSpec, Encoding, Form, Input, Profile, Rows, Source};
use crate::answers::{self, Value};
use crate::ruleset::{serde_message, Diagnostic, Kind, Level, Locations, Pos, Ruleset};
use crate::suggest::did_you_mean;

/// Why a profile could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{}", render(file, diagnostics, "the profile was not loaded"))]
    Invalid {
        file: String,
        diagnostics: Vec<Diagnostic>,
    },
}

impl ProfileError {
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ProfileError::Invalid { diagnostics, .. } => diagnostics,
        }
    }
}

/// Diagnostics one per paragraph, then a count.
pub(crate) fn render(file: &str, diagnostics: &[Diagnostic], outcome: &str) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let _ = writeln!(out, "{d}");
    }
    let n = diagnostics.len();
    let _ = write!(
        out,
        "{file}: {n} error{} found; {outcome}",
        if n == 1 { "" } else { "s" }
    );
    out
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    profile: RawHeader,
    #[serde(default)]
    input: RawInput,
    #[serde(default)]
    missing_codes: Vec<Yaml>,
    #[serde(default)]
    forms: Mapping,
    #[serde(default)]
    columns: Mapping,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    id: String,
    ruleset: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    delimiter: Option<String>,
    encoding: Option<String>,
    sheet: Option<Yaml>,
    id_column: Option<Yaml>,
    rows: Option<RawRows>,
    decimal: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRows {
    column: Yaml,
    equals: Vec<Yaml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForm {
    status_column: Yaml,
    complete: Option<Vec<Yaml>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    column: Option<Yaml>,
    checkbox: Option<Yaml>,
    unit: Option<String>,
    values: Option<Mapping>,
    form: Option<String>,
}

/// A YAML scalar as text (`2` and `"2"` alike); `None` for null, lists and maps.
fn scalar(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Loads a profile from its text; `file` names it in messages. It is checked against the
/// ruleset it will be used with.
pub fn load_str(text: &str, file: &str, ruleset: &Ruleset) -> Result<Profile, ProfileError> {
    let mut loader = Loader {
        file,
        text,
        loc: OnceCell::new(),
        diags: Vec::new(),
    };
    let raw: RawProfile = match serde_yaml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let (message, pos) = serde_message(&e);
            loader.push(pos, message);
            return Err(loader.into_error());
        }
    };
    let profile = loader.build(raw, ruleset);
    if loader.diags.is_empty() {
        Ok(profile)
    } else {
        Err(loader.into_error())
    }
}

struct Loader<'a> {
    file: &'a str,
    text: &'a str,
    loc: OnceCell<Locations>,
    diags: Vec<Diagnostic>,
}

impl Loader<'_> {
    fn loc(&self) -> &Locations {
        self.loc.get_or_init(|| Locations::index(self.text))
    }

    fn push(&mut self, pos: Option<Pos>, message: String) {
        let pos = pos.unwrap_or(Pos { line: 1, column: 1 });
        self.diags.push(Diagnostic {
            level: Level::Error,
            file: self.file.to_string(),
            line: pos.line,
            column: pos.column,
            width: 1,
            message,
            source_line: self.loc().line_text(pos.line),
        });
    }

    /// An error about the value at `path` (or its key when it has no value).
    fn at(&mut self, path: &str, message: String) {
        let pos = self.loc().value(path).or_else(|| self.loc().key(path));
        self.push(pos, message);
    }

    /// An error about the key of the entry at `path`.
    fn at_key(&mut self, path: &str, message: String) {
        let pos = self.loc().key(path).or_else(|| self.loc().value(path));
        self.push(pos, message);
    }

    fn into_error(mut self) -> ProfileError {
        self.diags.sort_by_key(|d| (d.line, d.column));
        self.diags.dedup();
        ProfileError::Invalid {
            file: self.file.to_string(),
            diagnostics: self.diags,
        }
    }

    /// A scalar that must be non-empty text (a column name, a code).
    fn text(&mut self, path: &str, v: &Yaml, what: &str) -> Option<String> {
        match scalar(v) {
            Some(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            _ => {
                self.at(path, format!("{what} must be non-empty text"));
                None
            }
        }
    }

    /// Reads a sub-document with serde, placing its error at `path`.
    fn entry<T: serde::de::DeserializeOwned>(&mut self, path: &str, v: &Yaml) -> Option<T> {
        match serde_yaml::from_value::<T>(v.clone()) {
            Ok(t) => Some(t),
            Err(e) => {
                let (message, _) = serde_message(&e);
                self.at(path, message);
                None
            }
        }
    }

    fn build(&mut self, raw: RawProfile, ruleset: &Ruleset) -> Profile {
        let id = raw.profile.id.trim().to_string();
        if id.is_empty() || id.chars().any(char::is_control) {
            self.at(
                "profile.id",
                "the profile id must be non-empty text on one line".to_string(),
            );
        }
        if let Some(r) = &raw.profile.ruleset {
            if r.trim() != ruleset.id {
                self.at(
                    "profile.ruleset",
                    format!(
                        "this profile is for ruleset '{}', and the ruleset in use is '{}' ({})",
                        r.trim(),
                        ruleset.id,
                        ruleset.origin
                    ),
                );
            }
        }
        let input = self.input(&raw.input);
        let mut missing_codes = Vec::new();
        for (i, v) in raw.missing_codes.iter().enumerate() {
            if let Some(code) = self.text(&format!("missing_codes[{i}]"), v, "a missing-data code")
            {
                missing_codes.push(code);
            }
        }
        let forms = self.forms(&raw.forms);
        let columns = self.columns(&raw.columns, &forms, ruleset, &missing_codes);
        let digest = Sha256::digest(self.text.as_bytes());
        let sha256 = digest.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
        Profile {
            id,
            ruleset: raw.profile.ruleset.map(|r| r.trim().to_string()),
            sha256,
            origin: self.file.to_string(),
            input,
            missing_codes,
            forms,
            columns,
            text: self.text.to_string(),
        }
    }

    fn input(&mut self, raw: &RawInput) -> Input {
        let mut input = Input {
            decimal: b'.',
            ..Input::default()
        };
        if let Some(d) = &raw.delimiter {
            input.delimiter = match d.as_str() {
                "auto" => None,
                "tab" | "\\t" | "\t" => Some(b'\t'),
                "," | ";" | "|" => Some(d.as_bytes()[0]),
                _ => {
                    self.at(
                        "input.delimiter",
                        format!("delimiter '{}': expected auto, \",\", \";\", \"\\t\" (or tab) or \"|\"", d.escape_debug()),
                    );
                    None
                }
            };
        }
        if let Some(e) = &raw.encoding {
            match Encoding::from_name(e) {
                Some(enc) => input.encoding = enc,
                None => {
                    let names = Encoding::NAMES.map(|(k, _)| k);
                    let hint = did_you_mean(e, names);
                    self.at(
                        "input.encoding",
                        format!(
                            "unknown encoding '{e}': expected one of {}{hint}",
                            names.join(", ")
                        ),
                    );
                }
            }
        }
        if let Some(v) = &raw.sheet {
            input.sheet = self.text("input.sheet", v, "the sheet name");
        }
        if let Some(v) = &raw.id_column {
            input.id_column = self.text("input.id_column", v, "the id column");
        }
        if let Some(d) = &raw.decimal {
            match d.as_str() {
                "." => input.decimal = b'.',
                "," => input.decimal = b',',
                _ => self.at(
                    "input.decimal",
                    format!("decimal '{d}': expected \".\" or \",\""),
                ),
            }
        }
        if let Some(rows) = &raw.rows {
            let column = self.text("input.rows.column", &rows.column, "the rows column");
            let mut equals = Vec::new();
            for (i, v) in rows.equals.iter().enumerate() {
                if let Some(s) = self.text(&format!("input.rows.equals[{i}]"), v, "a value") {
                    equals.push(s);
                }
            }
            if rows.equals.is_empty() {
                self.at(
                    "input.rows.equals",
                    "rows: 'equals' needs at least one value (the rows that are patients)"
                        .to_string(),
                );
            }
            input.rows = column.map(|column| Rows { column, equals });
        }
        input
    }

    fn forms(&mut self, raw: &Mapping) -> Vec<Form> {
        let mut forms = Vec::new();
        for (key, value) in raw {
            let Some(name) = scalar(key) else {
                self.at("forms", "form names must be text".to_string());
                continue;
            };
            let path = format!("forms.{name}");
            let Some(rf) = self.entry::<RawForm>(&path, value) else {
                continue;
            };
            let status = self.text(
                &format!("{path}.status_column"),
                &rf.status_column,
                "the status column",
            );
            let complete = match &rf.complete {
                None => vec!["2".to_string()],
                Some(list) => {
                    if list.is_empty() {
                        self.at(
                            &format!("{path}.complete"),
                            format!("form '{name}': 'complete' needs at least one status value"),
                        );
                    }
                    list.iter()
                        .enumerate()
                        .filter_map(|(i, v)| {
                            self.text(&format!("{path}.complete[{i}]"), v, "a status value")
                        })
                        .collect()
                }
            };
            if let Some(status_column) = status {
                forms.push(Form {
                    name,
                    status_column,
                    complete,
                });
            }
        }
        forms
    }

    fn columns(
        &mut self,
        raw: &Mapping,
        forms: &[Form],
        ruleset: &Ruleset,
        missing_codes: &[String],
    ) -> Vec<ColumnSpec> {
        let mut specs: Vec<ColumnSpec> = Vec::new();
        let mut by_slot: HashMap<usize, String> = HashMap::new();
        let mut by_column: HashMap<String, String> = HashMap::new();
        for (key, value) in raw {
            let Some(key) = scalar(key) else {
                self.at("columns", "question ids must be text".to_string());
                continue;
            };
            let path = format!("columns.{key}");
            let Some(slot) = ruleset.resolve_name(&key) else {
                let hint = crate::suggest::hint(ruleset.suggest_question(&key));
                self.at_key(
                    &path,
                    format!("no question '{key}' in ruleset '{}'{hint}", ruleset.id),
                );
                continue;
            };
            let question = &ruleset.questions[slot];
            if let Some(first) = by_slot.insert(slot, key.clone()) {
                self.at_key(
                    &path,
                    format!(
                        "question '{}' is already mapped (as '{first}')",
                        question.id
                    ),
                );
                continue;
            }
            // `systolic_bp: "Systolic BP"` is short for `{column: "Systolic BP"}`.
            let rc = match value {
                Yaml::Mapping(_) => match self.entry::<RawColumn>(&path, value) {
                    Some(rc) => rc,
                    None => continue,
                },
                v => match scalar(v) {
                    Some(_) => RawColumn {
                        column: Some(v.clone()),
                        checkbox: None,
                        unit: None,
                        values: None,
                        form: None,
                    },
                    None => {
                        self.at(
                            &path,
                            format!("question '{key}': expected a column name or {{column: ..., values: ..., form: ...}}"),
                        );
                        continue;
                    }
                },
            };
            let source = match (&rc.column, &rc.checkbox) {
                (Some(c), None) => self
                    .text(&format!("{path}.column"), c, "the column name")
                    .map(Source::Column),
                (None, Some(c)) => self
                    .text(&format!("{path}.checkbox"), c, "the checkbox column")
                    .map(Source::Checkbox),
                (Some(_), Some(_)) => {
                    self.at(
                        &format!("{path}.checkbox"),
                        format!("question '{key}': give 'column' or 'checkbox', not both"),
                    );
                    None
                }
                (None, None) => {
                    self.at(
                        &path,
                        format!(
                            "question '{key}': say where its answer is: 'column' or 'checkbox'"
                        ),
                    );
                    None
                }
            };
            let kind_name = question.kind.name();
            if let Some(Source::Checkbox(_)) = &source {
                if question.kind != Kind::YesNo {
                    self.at(
                        &format!("{path}.checkbox"),
                        format!(
                            "a checkbox answers yes or no, and '{}' is {kind_name}",
                            question.id
                        ),
                    );
                }
                if rc.values.is_some() {
                    self.at(
                        &format!("{path}.values"),
                        format!("question '{key}': a checkbox reads 1/Checked and 0/Unchecked; 'values' applies to 'column'"),
                    );
                }
                if rc.form.is_none() {
                    self.at(
                        &format!("{path}.checkbox"),
                        format!("checkbox '{key}' needs 'form': an unfilled form exports its checkboxes as 0, which must not read as 'no' (without a completion status, use {{column: ..., values: {{\"1\": yes, \"0\": no}}}} and accept that risk)"),
                    );
                }
            }
            if let Some(unit) = &rc.unit {
                if !matches!(question.kind, Kind::Integer { .. } | Kind::Number { .. }) {
                    self.at(
                        &format!("{path}.unit"),
                        format!("'unit' applies only to integer and number questions, and '{}' is {kind_name}", question.id),
                    );
                } else if unit.trim().is_empty()
                    || unit.trim().starts_with(|c: char| c.is_ascii_digit())
                {
                    self.at(
                        &format!("{path}.unit"),
                        format!("question '{key}': the unit must be text that follows the number, such as 'mm Hg'"),
                    );
                }
            }
            let values = rc
                .values
                .as_ref()
                .map(|map| self.values(&path, &key, map, ruleset, slot, missing_codes));
            let form = match &rc.form {
                None => None,
                Some(f) => match forms.iter().position(|x| x.name == *f) {
                    Some(i) => Some(i),
                    None => {
                        let hint = did_you_mean(f, forms.iter().map(|x| x.name.as_str()));
                        let declared = if forms.is_empty() {
                            " (no forms are declared under 'forms:')".to_string()
                        } else {
                            hint
                        };
                        self.at(
                            &format!("{path}.form"),
                            format!("question '{key}': no form '{f}'{declared}"),
                        );
                        None
                    }
                },
            };
            let Some(source) = source else {
                continue;
            };
            let column_key = source.column().to_ascii_lowercase();
            if let Some(first) = by_column.insert(column_key, key.clone()) {
                self.at(
                    &path,
                    format!(
                        "column '{}' already answers question '{first}'",
                        source.column()
                    ),
                );
                continue;
            }
            specs.push(ColumnSpec {
                slot,
                source,
                unit: rc.unit.map(|u| u.trim().to_string()),
                values,
                form,
                key,
            });
        }
        for (i, f) in forms.iter().enumerate() {
            if !specs.iter().any(|s| s.form == Some(i)) {
                self.at_key(
                    &format!("forms.{}", f.name),
                    format!(
                        "form '{}' gates no question (no 'form: {}' under 'columns:')",
                        f.name, f.name
                    ),
                );
            }
        }
        specs
    }

    /// A `values:` recode table: every target a valid answer for the question (`null` for
    /// unanswered).
    fn values(
        &mut self,
        path: &str,
        key: &str,
        map: &Mapping,
        ruleset: &Ruleset,
        slot: usize,
        missing_codes: &[String],
    ) -> Vec<(String, Option<Value>)> {
        let question = &ruleset.questions[slot];
        let mut table: Vec<(String, Option<Value>)> = Vec::new();
        for (code, target) in map {
            let Some(code) = scalar(code).map(|c| c.trim().to_string()) else {
                self.at(
                    &format!("{path}.values"),
                    format!("question '{key}': codes must be text"),
                );
                continue;
            };
            let vpath = format!("{path}.values.{code}");
            if code.is_empty() {
                self.at_key(
                    &vpath,
                    "a blank cell is already unanswered: it needs no code".to_string(),
                );
                continue;
            }
            if table.iter().any(|(c, _)| c.eq_ignore_ascii_case(&code)) {
                self.at_key(&vpath, format!("code '{code}' is given twice"));
                continue;
            }
            if missing_codes.iter().any(|m| m.eq_ignore_ascii_case(&code)) {
                self.at_key(
                    &vpath,
                    format!("code '{code}' is also a missing-data code, which is read first"),
                );
                continue;
            }
            let value = match target {
                Yaml::Null => None,
                t => match scalar(t) {
                    None => {
                        self.at(
                            &vpath,
                            format!("code '{code}': expected an answer, e.g. an option id"),
                        );
                        continue;
                    }
                    Some(text) => match answers::parse_text(question, &text) {
                        Ok(v) => v,
                        Err(e) => {
                            let hint = match &question.kind {
                                Kind::Choice(options) => {
                                    did_you_mean(&text, options.iter().map(|o| o.id.as_str()))
                                }
                                _ => String::new(),
                            };
                            let message = if hint.is_empty() {
                                e.message
                            } else {
                                e.message
                                    .split(" (did you mean")
                                    .next()
                                    .unwrap_or_default()
                                    .to_string()
                                    + &hint
                            };
                            self.at(
                                &vpath,
                                format!("code '{code}' reads as '{text}', not an answer to '{}': {message}", question.id),
                            );
                            continue;
                        }
                    },
                },
            };
            table.push((code, value));
        }
        table
    }
}
