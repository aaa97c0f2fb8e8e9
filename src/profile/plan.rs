//! A profile compiled against one file's header, once: each column's role (question slot with
//! its recode table, checkbox, form status, row filter, id, or ignored) resolved to an index,
//! so that reading a row is a walk over a few small vectors with no name matched and nothing
//! allocated. `Reader` applies the plan to one row's cells: forms first (an incomplete form
//! makes its questions unanswered, never skipped, never "no", and is reported once), then each
//! question column through its recodes, missing-data codes and unit text, and finally the
//! shared answer parser (`answers::parse_text`) that every front end uses.
//!
//! Questions the profile does not list map by id or alias, as without a profile.

use std::fmt;

use super::{Profile, Source};
use crate::answers::{self, Answers, InputError, Value};
use crate::ruleset::{Diagnostic, Kind, Level, Locations, Ruleset, Slot};
use crate::suggest::did_you_mean;

/// Column names that carry the patient identifier when the profile names none.
const ID_COLUMNS: [&str; 2] = ["id", "patient_id"];

/// The profile does not fit the header: each problem placed in the profile file.
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderMismatch {
    pub file: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for HeaderMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::load::render(
            &self.file,
            &self.diagnostics,
            "the profile does not fit this file",
        ))
    }
}

impl std::error::Error for HeaderMismatch {}

/// How a question column's cells become an answer.
#[derive(Debug, Clone, PartialEq)]
enum How {
    /// The shared parser, after stripping the profile's unit text and reading a decimal comma.
    Parse { unit: Option<String> },
    /// A code from the table (any case); anything else is an input error.
    Recode(Vec<(String, Option<Value>)>),
    /// 1/Checked is yes, 0/Unchecked is no.
    Checkbox,
}

#[derive(Debug, Clone, PartialEq)]
struct Read {
    column: usize,
    slot: Slot,
    form: Option<usize>,
    how: How,
}

#[derive(Debug, Clone, PartialEq)]
struct FormPlan {
    name: String,
    column: usize,
    complete: Vec<String>,
    /// How many questions it gates, for the message.
    questions: usize,
}

/// A profile resolved against one header.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Each column's name for messages (the header text, or `column N` when blank).
    pub names: Vec<String>,
    pub id: Option<usize>,
    rows: Option<(usize, Vec<String>)>,
    forms: Vec<FormPlan>,
    reads: Vec<Read>,
    missing_codes: MissingCodes,
    decimal_comma: bool,
    /// Columns that answer nothing and serve the profile in no way, in order.
    pub unmapped: Vec<usize>,
    /// Questions no column answers, in ruleset order.
    pub unasked: Vec<Slot>,
}

/// The missing-data codes, with a quick rejection of the usual cell (an answer) by its length
/// and first byte before any comparison: every cell of every column is checked against them.
/// (With REDCap's 18 codes on the 1M-row benchmark, comparing each cell with each code cost
/// about a tenth of `batch --profile`'s time.)
#[derive(Debug, Clone, PartialEq)]
struct MissingCodes {
    codes: Vec<String>,
    /// Bit `n` set when some code is `n` bytes long (codes over 63 bytes set bit 63).
    lengths: u64,
    /// Lowercased first bytes of the codes.
    first: [bool; 256],
}

impl MissingCodes {
    fn new(codes: &[String]) -> Self {
        let mut set = MissingCodes {
            codes: codes.to_vec(),
            lengths: 0,
            first: [false; 256],
        };
        for c in codes {
            set.lengths |= 1 << c.len().min(63);
            if let Some(&b) = c.as_bytes().first() {
                set.first[usize::from(b.to_ascii_lowercase())] = true;
            }
        }
        set
    }

    /// Whether a trimmed, non-empty cell is one of the codes (in any case).
    fn contains(&self, t: &str) -> bool {
        let b = t.as_bytes()[0].to_ascii_lowercase();
        self.lengths & (1 << t.len().min(63)) != 0
            && self.first[usize::from(b)]
            && self.codes.iter().any(|c| c.eq_ignore_ascii_case(t))
    }
}

/// Finds a column by name: exactly (trimmed), else in any case.
fn find(names: &[String], name: &str) -> Option<usize> {
    let name = name.trim();
    names
        .iter()
        .position(|n| n == name)
        .or_else(|| names.iter().position(|n| n.eq_ignore_ascii_case(name)))
}

impl Plan {
    /// Resolves `profile` against a header. `id_override` is `--id-column`, which wins over
    /// the profile's `input.id_column`; `file` names the input in messages.
    pub fn compile(
        profile: &Profile,
        ruleset: &Ruleset,
        header: &[&str],
        id_override: Option<&str>,
        file: &str,
    ) -> Result<Plan, HeaderMismatch> {
        let names: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let t = h.trim().trim_start_matches('\u{feff}');
                if t.is_empty() {
                    format!("column {}", i + 1)
                } else {
                    t.to_string()
                }
            })
            .collect();
        let mut used = vec![false; names.len()];
        let mut problems: Vec<(String, bool, String)> = Vec::new();
        let loc = std::cell::OnceCell::new();
        let mut lookup =
            |used: &mut Vec<bool>, name: &str, path: String, what: &str| match find(&names, name) {
                Some(i) => {
                    used[i] = true;
                    Some(i)
                }
                None => {
                    let hint = did_you_mean(name, names.iter().map(String::as_str));
                    problems.push((
                        path,
                        false,
                        format!("{what} '{name}' is not in the header of {file}{hint}"),
                    ));
                    None
                }
            };

        let id = match (id_override, &profile.input.id_column) {
            (Some(name), _) => lookup(&mut used, name, "input".into(), "--id-column"),
            (None, Some(name)) => {
                lookup(&mut used, name, "input.id_column".into(), "the id column")
            }
            (None, None) => ID_COLUMNS.iter().find_map(|c| {
                let i = names.iter().position(|n| n.eq_ignore_ascii_case(c))?;
                used[i] = true;
                Some(i)
            }),
        };
        let rows = profile.input.rows.as_ref().and_then(|r| {
            lookup(
                &mut used,
                &r.column,
                "input.rows.column".into(),
                "the rows column",
            )
            .map(|i| (i, r.equals.clone()))
        });
        let mut forms: Vec<FormPlan> = Vec::new();
        let mut form_index: Vec<Option<usize>> = Vec::new();
        for f in &profile.forms {
            let column = lookup(
                &mut used,
                &f.status_column,
                format!("forms.{}.status_column", f.name),
                "the status column",
            );
            form_index.push(column.map(|column| {
                forms.push(FormPlan {
                    name: f.name.clone(),
                    column,
                    complete: f.complete.clone(),
                    questions: 0,
                });
                forms.len() - 1
            }));
        }
        let mut reads = Vec::new();
        let mut mapped = vec![false; ruleset.questions.len()];
        for spec in &profile.columns {
            mapped[spec.slot] = true;
            let (path, what) = match spec.source {
                Source::Column(_) => (format!("columns.{}.column", spec.key), "column"),
                Source::Checkbox(_) => {
                    (format!("columns.{}.checkbox", spec.key), "checkbox column")
                }
            };
            let Some(column) = lookup(&mut used, spec.source.column(), path, what) else {
                continue;
            };
            let form = spec.form.and_then(|f| form_index[f]);
            if let Some(f) = form {
                forms[f].questions += 1;
            }
            let how = match (&spec.source, &spec.values) {
                (Source::Checkbox(_), _) => How::Checkbox,
                (Source::Column(_), Some(table)) => How::Recode(table.clone()),
                (Source::Column(_), None) => How::Parse {
                    unit: spec.unit.clone(),
                },
            };
            reads.push(Read {
                column,
                slot: spec.slot,
                form,
                how,
            });
        }
        // The rest of the header maps by id or alias, as without a profile.
        let mut unmapped = Vec::new();
        let mut fallback: Vec<Option<usize>> = vec![None; ruleset.questions.len()];
        for (i, name) in names.iter().enumerate() {
            if used[i] {
                continue;
            }
            match ruleset.resolve_name(name) {
                Some(slot) if !mapped[slot] => {
                    if let Some(first) = fallback[slot] {
                        problems.push((
                            "columns".into(),
                            true,
                            format!(
                                "columns '{}' and '{name}' of {file} both answer question '{}'; say which one under 'columns:'",
                                names[first], ruleset.questions[slot].id
                            ),
                        ));
                        continue;
                    }
                    fallback[slot] = Some(i);
                    reads.push(Read {
                        column: i,
                        slot,
                        form: None,
                        how: How::Parse { unit: None },
                    });
                }
                _ => unmapped.push(i),
            }
        }
        if !problems.is_empty() {
            let loc = loc.get_or_init(|| Locations::index(profile.text()));
            let diagnostics = problems
                .into_iter()
                .map(|(path, key, message)| {
                    let pos = if key {
                        loc.key(&path).or_else(|| loc.value(&path))
                    } else {
                        loc.value(&path).or_else(|| loc.key(&path))
                    }
                    .unwrap_or(crate::ruleset::Pos { line: 1, column: 1 });
                    Diagnostic {
                        level: Level::Error,
                        file: profile.origin.clone(),
                        line: pos.line,
                        column: pos.column,
                        width: 1,
                        message,
                        source_line: loc.line_text(pos.line),
                    }
                })
                .collect();
            return Err(HeaderMismatch {
                file: profile.origin.clone(),
                diagnostics,
            });
        }
        reads.sort_by_key(|r| r.column);
        let answered: Vec<bool> = (0..ruleset.questions.len())
            .map(|s| reads.iter().any(|r| r.slot == s))
            .collect();
        Ok(Plan {
            names,
            id,
            rows,
            forms,
            reads,
            missing_codes: MissingCodes::new(&profile.missing_codes),
            decimal_comma: profile.input.decimal == b',',
            unmapped,
            unasked: (0..ruleset.questions.len())
                .filter(|&s| !answered[s])
                .collect(),
        })
    }

    /// Number of fields a row must have.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// (column, question slot) of every column read as an answer, in column order.
    pub fn question_columns(&self) -> impl Iterator<Item = (usize, Slot)> + '_ {
        self.reads.iter().map(|r| (r.column, r.slot))
    }

    /// The `input.rows` column, when the profile says which rows are patients.
    pub fn rows_column(&self) -> Option<usize> {
        self.rows.as_ref().map(|(c, _)| *c)
    }

    /// Whether a row is a patient, given its `input.rows` cell (always, without `input.rows`).
    pub fn is_patient(&self, rows_cell: &[u8]) -> bool {
        match &self.rows {
            None => true,
            Some((_, equals)) => {
                let t = String::from_utf8_lossy(rows_cell);
                let t = t.trim();
                equals.iter().any(|e| e == t)
            }
        }
    }

    /// A reader of rows by this plan, with its own scratch space.
    pub fn reader(&self) -> Reader<'_> {
        Reader {
            plan: self,
            complete: vec![false; self.forms.len()],
            last: vec![(Vec::new(), None, false); self.reads.len()],
        }
    }
}

/// Applies a plan to rows, one after another, reusing its buffers.
#[derive(Debug, Clone)]
pub struct Reader<'p> {
    plan: &'p Plan,
    complete: Vec<bool>,
    /// Per question column, the last cell read and its answer, when it read without error:
    /// a column repeats its last value most of the time ("no", "0"), and then nothing is
    /// parsed again. With it, `batch --profile` on the 1M-row benchmark takes about 0.8 of
    /// the CPU time it takes without it (bench/profile.sh, --format csv, one thread).
    last: Vec<(Vec<u8>, Option<Value>, bool)>,
}

/// Strips `unit` (any case, spaces before it optional) from the end of `t`.
fn strip_unit<'t>(t: &'t str, unit: &str) -> &'t str {
    let n = unit.len();
    if t.len() > n && t.is_char_boundary(t.len() - n) && t[t.len() - n..].eq_ignore_ascii_case(unit)
    {
        t[..t.len() - n].trim_end()
    } else {
        t
    }
}

const CHECKED: [&str; 2] = ["1", "checked"];
const UNCHECKED: [&str; 2] = ["0", "unchecked"];

impl Reader<'_> {
    /// Reads one row's cells (`cell(i)` is column `i`'s bytes; the row has every column) into
    /// `answers`, setting every question the plan reads, and pushes the row's input errors.
    pub fn read<'c>(
        &mut self,
        ruleset: &Ruleset,
        cell: impl Fn(usize) -> &'c [u8],
        answers: &mut Answers,
        errors: &mut Vec<InputError>,
    ) {
        let plan = self.plan;
        for (f, form) in plan.forms.iter().enumerate() {
            let status = String::from_utf8_lossy(cell(form.column));
            let status = status.trim();
            let complete = form.complete.iter().any(|c| c == status);
            self.complete[f] = complete;
            if !complete {
                let shown = if status.is_empty() {
                    "blank".to_string()
                } else {
                    format!("'{}'", answers::echo(status))
                };
                errors.push(InputError {
                    question: String::new(),
                    form: Some(form.name.clone()),
                    value: answers::echo(status),
                    message: format!(
                        "form '{}' is not complete ('{}' is {shown}, complete is {}): its {} unanswered",
                        form.name,
                        plan.names[form.column],
                        form.complete
                            .iter()
                            .map(|c| format!("'{c}'"))
                            .collect::<Vec<_>>()
                            .join(" or "),
                        if form.questions == 1 {
                            "question is".to_string()
                        } else {
                            format!("{} questions are", form.questions)
                        }
                    ),
                });
            }
        }
        for (r, read) in plan.reads.iter().enumerate() {
            if read.form.is_some_and(|f| !self.complete[f]) {
                answers.set(read.slot, None);
                continue;
            }
            let raw = cell(read.column);
            let (last, last_value, valid) = &self.last[r];
            if *valid && last.as_slice() == raw {
                answers.set(read.slot, last_value.clone());
                continue;
            }
            let question = &ruleset.questions[read.slot];
            let result = match std::str::from_utf8(raw) {
                Ok(text) => self.value(question, &read.how, text),
                Err(_) => Err((
                    String::from_utf8_lossy(raw).into_owned(),
                    "not valid UTF-8 text (re-export the file as UTF-8, or set input.encoding); treated as unanswered".to_string(),
                )),
            };
            let memo = &mut self.last[r];
            memo.2 = result.is_ok();
            match result {
                Ok(value) => {
                    memo.0.clear();
                    memo.0.extend_from_slice(raw);
                    memo.1.clone_from(&value);
                    answers.set(read.slot, value);
                }
                Err((value, message)) => {
                    answers.set(read.slot, None);
                    errors.push(InputError::new(
                        question.id.clone(),
                        answers::echo(&value),
                        format!("column '{}': {message}", plan.names[read.column]),
                    ));
                }
            }
        }
    }

    /// One cell's answer, or the value and message of its input error.
    fn value(
        &self,
        question: &crate::ruleset::Question,
        how: &How,
        text: &str,
    ) -> Result<Option<Value>, (String, String)> {
        let plan = self.plan;
        let t = text.trim();
        if t.is_empty() || plan.missing_codes.contains(t) {
            return Ok(None);
        }
        match how {
            How::Recode(table) => table
                .iter()
                .find(|(code, _)| code == t)
                .or_else(|| table.iter().find(|(code, _)| code.eq_ignore_ascii_case(t)))
                .map(|(_, v)| v.clone())
                .ok_or_else(|| {
                    let codes: Vec<&str> = table.iter().map(|(c, _)| c.as_str()).collect();
                    (
                        t.to_string(),
                        format!(
                            "'{}' is not one of this column's codes ({})",
                            answers::echo(t),
                            codes.join(", ")
                        ),
                    )
                }),
            How::Checkbox => {
                if CHECKED.iter().any(|c| c.eq_ignore_ascii_case(t)) {
                    Ok(Some(Value::YesNo(true)))
                } else if UNCHECKED.iter().any(|c| c.eq_ignore_ascii_case(t)) {
                    Ok(Some(Value::YesNo(false)))
                } else {
                    Err((
                        t.to_string(),
                        "expected a checkbox: 1 or Checked, 0 or Unchecked".to_string(),
                    ))
                }
            }
            How::Parse { unit } => {
                let numeric = matches!(question.kind, Kind::Integer { .. } | Kind::Number { .. });
                let mut t = t;
                if let (Some(unit), true) = (unit, numeric) {
                    t = strip_unit(t, unit);
                }
                let comma;
                if numeric && plan.decimal_comma && t.contains(',') && !t.contains('.') {
                    comma = t.replacen(',', ".", 1);
                    t = &comma;
                }
                answers::parse_text(question, t).map_err(|e| (t.to_string(), e.message))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = "\
ruleset: {id: t, version: 1, title: T, sources: {s: S}}
questions:
  - {id: temp, section: A, text: Temperature, type: number, unit: C, min: 30, max: 45}
  - {id: dx, section: A, text: Diagnosis, type: choice, options: [{id: mdd, label: MDD}, {id: bp, label: Bipolar}]}
  - {id: maoi, section: A, text: MAOI?, type: yes_no}
  - {id: glaucoma, section: A, text: Glaucoma?, type: yes_no}
rules:
  - {id: r, severity: review, when: maoi or glaucoma or dx == bp or temp > 38, message: m, source: s}
";

    const PROFILE: &str = "\
profile: {id: p}
input: {id_column: ID, decimal: \",\", rows: {column: event, equals: [screen]}}
missing_codes: [UNK, \"-999\"]
forms:
  meds: {status_column: meds_complete}
columns:
  temp: {column: \"Temp (C)\", unit: \"deg C\"}
  dx: {column: Diagnosis, values: {\"1\": mdd, \"2\": bp, \"9\": null}}
  maoi: {checkbox: meds___1, form: meds}
";

    /// Reads one row of `cells` (for the header below) through the test profile.
    fn read(cells: &[&str]) -> (Vec<String>, Vec<String>) {
        let rs = crate::ruleset::load_str(RULES, "t.yaml").expect("ruleset");
        let profile = super::super::load_str(PROFILE, "p.yaml", &rs).expect("profile");
        let header = [
            "ID",
            "event",
            "Temp (C)",
            "Diagnosis",
            "meds___1",
            "meds_complete",
            "Glaucoma",
            "Name",
        ];
        let plan = Plan::compile(&profile, &rs, &header, None, "f.csv").expect("fits");
        assert_eq!(plan.unmapped, vec![7]);
        assert_eq!(plan.id, Some(0));
        let mut answers = Answers::new(&rs);
        let mut errors = Vec::new();
        plan.reader()
            .read(&rs, |i| cells[i].as_bytes(), &mut answers, &mut errors);
        let shown = (0..rs.questions.len())
            .map(|s| match answers.get(s) {
                Some(v) => v.display(&rs.questions[s]).to_string(),
                None => "-".to_string(),
            })
            .collect();
        let errors = errors
            .iter()
            .map(|e| format!("{}|{}|{}", e.question, e.value, e.message))
            .collect();
        (shown, errors)
    }

    #[test]
    fn cells_read_through_units_decimal_commas_codes_and_checkboxes() {
        let (answers, errors) = read(&[
            "P1",
            "screen",
            "38,5 deg C",
            "2",
            "Checked",
            "2",
            "no",
            "Ann",
        ]);
        assert_eq!(answers, ["38.5", "bp", "yes", "no"]);
        assert!(errors.is_empty(), "{errors:?}");
        let (answers, errors) = read(&["P1", "screen", "-999", "9", "0", "2", "UNK", "Ann"]);
        assert_eq!(answers, ["-", "-", "no", "-"]);
        assert!(errors.is_empty(), "{errors:?}");
        let (answers, errors) = read(&["P1", "screen", "38 F", "3", "x", "2", "", ""]);
        assert_eq!(answers, ["-", "-", "-", "-"]);
        assert_eq!(
            errors,
            [
                "temp|38 F|column 'Temp (C)': expected a number between 30 and 45 C",
                "dx|3|column 'Diagnosis': '3' is not one of this column's codes (1, 2, 9)",
                "maoi|x|column 'meds___1': expected a checkbox: 1 or Checked, 0 or Unchecked",
            ]
        );
    }

    #[test]
    fn an_incomplete_form_makes_its_checkboxes_unanswered_and_says_so_once() {
        let (answers, errors) = read(&["P1", "screen", "", "", "0", "0", "", ""]);
        assert_eq!(answers[2], "-");
        assert_eq!(
            errors,
            ["|0|form 'meds' is not complete ('meds_complete' is '0', complete is '2'): its question is unanswered"]
        );
        let (_, errors) = read(&["P1", "screen", "", "", "1", "", "", ""]);
        assert_eq!(
            errors,
            ["||form 'meds' is not complete ('meds_complete' is blank, complete is '2'): its question is unanswered"]
        );
    }

    #[test]
    fn a_profile_that_does_not_fit_the_header_is_placed_in_the_profile() {
        let rs = crate::ruleset::load_str(RULES, "t.yaml").expect("ruleset");
        let profile = super::super::load_str(PROFILE, "p.yaml", &rs).expect("profile");
        let header = [
            "ID",
            "event",
            "Temp C",
            "Diagnosis",
            "meds___1",
            "meds_complete",
        ];
        let e = Plan::compile(&profile, &rs, &header, None, "f.csv").expect_err("does not fit");
        assert_eq!(
            e.to_string(),
            "p.yaml:7:18: column 'Temp (C)' is not in the header of f.csv (did you mean 'Temp C'?)\n   |\n 7 |   temp: {column: \"Temp (C)\", unit: \"deg C\"}\n   |                  ^\np.yaml: 1 error found; the profile does not fit this file"
        );
        assert!(!Plan::compile(
            &profile,
            &rs,
            &[
                "ID",
                "event",
                "Temp (C)",
                "Diagnosis",
                "meds___1",
                "meds_complete"
            ],
            None,
            "f"
        )
        .expect("fits")
        .is_patient(b"follow_up"));
    }

    #[test]
    fn units_are_stripped_in_any_case() {
        assert_eq!(strip_unit("146 mm Hg", "mm Hg"), "146");
        assert_eq!(strip_unit("146MM HG", "mm Hg"), "146");
        assert_eq!(strip_unit("146", "mm Hg"), "146");
        assert_eq!(strip_unit("mm Hg", "mm Hg"), "mm Hg");
        assert_eq!(strip_unit("146 é", "mm Hg"), "146 é");
    }
}
