//! Resolving a CSV header to question slots, once per file: each column becomes a question
//! (by `--map`, exact id, id in any case, or a ruleset alias), the patient identifier, or an
//! ignored column. The batch loop then reads cells by index and never matches a name again.
//! This module reads no rows and prints nothing: it reports what it found for the caller to tell.

use std::fmt;

use crate::ruleset::{Ruleset, Slot};

/// What `--map` sends a column to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Question(Slot),
    /// `COLUMN=-`: read nothing from this column.
    Ignore,
}

/// The user's instructions for reading the header: `--map` and `--id-column`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    /// Column name (as given) and where it goes.
    pub map: Vec<(String, Target)>,
    pub id_column: Option<String>,
}

/// Column names that carry the patient identifier when `--id-column` is not given, by priority.
pub const ID_COLUMNS: [&str; 2] = ["id", "patient_id"];

/// Why `--map` or `--id-column` could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("--map '{0}': expected COLUMN=QUESTION (or COLUMN=- to ignore a column)")]
    Shape(String),
    #[error("--map '{arg}': no question '{question}' in ruleset '{ruleset}'{hint}")]
    UnknownQuestion {
        arg: String,
        question: String,
        ruleset: String,
        hint: String,
    },
}

impl Mapping {
    /// Reads `--map COLUMN=QUESTION` arguments; QUESTION is matched like a header (id in any
    /// case, or an alias), `-` ignores the column.
    pub fn parse(
        ruleset: &Ruleset,
        map: &[String],
        id_column: Option<&str>,
    ) -> Result<Mapping, MappingError> {
        let mut mapping = Mapping {
            map: Vec::new(),
            id_column: id_column.map(|s| s.trim().to_string()),
        };
        for arg in map {
            let (column, question) = arg
                .rsplit_once('=')
                .filter(|(c, q)| !c.trim().is_empty() && !q.trim().is_empty())
                .ok_or_else(|| MappingError::Shape(arg.clone()))?;
            let target = match question.trim() {
                "-" => Target::Ignore,
                q => Target::Question(ruleset.resolve_name(q).ok_or_else(|| {
                    MappingError::UnknownQuestion {
                        arg: arg.clone(),
                        question: q.to_string(),
                        ruleset: ruleset.id.clone(),
                        hint: crate::suggest::hint(ruleset.suggest_question(q)),
                    }
                })?),
            };
            mapping.map.push((column.trim().to_string(), target));
        }
        Ok(mapping)
    }
}

/// What one column is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Question(Slot),
    Id,
    /// Matches no question (reported once).
    Unmapped,
    /// Ignored on purpose (`--map COLUMN=-`).
    Ignored,
}

/// The header, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    /// Each column's name for messages: the header text, or `column N` when it is blank.
    pub names: Vec<String>,
    pub roles: Vec<Role>,
    /// (column index, question slot) for every question column, in column order.
    pub questions: Vec<(usize, Slot)>,
    pub id: Option<usize>,
    /// Questions no column answers, in ruleset order.
    pub unasked: Vec<Slot>,
}

impl Columns {
    /// Number of fields a row must have.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Indices of the columns that match no question.
    pub fn unmapped(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.roles.len()).filter(|&i| self.roles[i] == Role::Unmapped)
    }
}

/// Why the header cannot be read as intended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// The input has no header row at all.
    Empty,
    /// A `--map` column is not in the header.
    MapColumnMissing { column: String },
    /// `--id-column` is not in the header.
    IdColumnMissing { column: String },
    /// Two columns answer the same question.
    SameQuestion {
        question: String,
        first: String,
        second: String,
    },
}

impl HeaderError {
    /// Whether the fix is on the command line (exit status 2) rather than in the file.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            HeaderError::MapColumnMissing { .. } | HeaderError::IdColumnMissing { .. }
        )
    }
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::Empty => f.write_str("no header row (the input is empty)"),
            HeaderError::MapColumnMissing { column } => {
                write!(f, "--map: no column '{column}' in the header")
            }
            HeaderError::IdColumnMissing { column } => {
                write!(f, "--id-column: no column '{column}' in the header")
            }
            HeaderError::SameQuestion {
                question,
                first,
                second,
            } => write!(
                f,
                "columns '{first}' and '{second}' both answer question '{question}'; \
                 keep one with --map (e.g. --map '{second}=-')"
            ),
        }
    }
}

impl std::error::Error for HeaderError {}

fn same_name(header: &str, name: &str) -> bool {
    header.trim().eq_ignore_ascii_case(name.trim())
}

/// Resolves a header row. Header cells are bytes: one that is not UTF-8 matches nothing and is
/// named, lossily decoded, in messages.
pub fn resolve<'h>(
    ruleset: &Ruleset,
    header: impl IntoIterator<Item = &'h [u8]>,
    mapping: &Mapping,
) -> Result<Columns, HeaderError> {
    let cells: Vec<&[u8]> = header.into_iter().collect();
    let raw: Vec<Option<&str>> = cells.iter().map(|c| std::str::from_utf8(c).ok()).collect();
    if cells.is_empty() || (cells.len() == 1 && cells[0].trim_ascii().is_empty()) {
        return Err(HeaderError::Empty);
    }
    let names: Vec<String> = cells
        .iter()
        .enumerate()
        .map(|(i, cell)| match String::from_utf8_lossy(cell).trim() {
            "" => format!("column {}", i + 1),
            name => name.to_string(),
        })
        .collect();
    let mut columns = Columns {
        names,
        roles: vec![Role::Unmapped; raw.len()],
        questions: Vec::new(),
        id: None,
        unasked: Vec::new(),
    };

    // 1. --map wins over everything else.
    for (column, target) in &mapping.map {
        let matched: Vec<usize> = (0..raw.len())
            .filter(|&i| raw[i].is_some_and(|h| same_name(h, column)))
            .collect();
        if matched.is_empty() {
            return Err(HeaderError::MapColumnMissing {
                column: column.clone(),
            });
        }
        for i in matched {
            columns.roles[i] = match target {
                Target::Question(slot) => Role::Question(*slot),
                Target::Ignore => Role::Ignored,
            };
        }
    }
    let free = |columns: &Columns, i: usize| columns.roles[i] == Role::Unmapped;

    // 2. The identifier column.
    let id = match &mapping.id_column {
        Some(name) => Some(
            (0..raw.len())
                .find(|&i| raw[i].is_some_and(|h| same_name(h, name)))
                .ok_or_else(|| HeaderError::IdColumnMissing {
                    column: name.clone(),
                })?,
        ),
        None => ID_COLUMNS.iter().find_map(|name| {
            (0..raw.len())
                .find(|&i| free(&columns, i) && raw[i].is_some_and(|h| same_name(h, name)))
        }),
    };
    if let Some(i) = id {
        columns.roles[i] = Role::Id;
        columns.id = Some(i);
    }

    // 3. Question ids and aliases.
    for (i, cell) in raw.iter().enumerate() {
        if !free(&columns, i) {
            continue;
        }
        if let Some(slot) = cell.and_then(|h| ruleset.resolve_name(h)) {
            columns.roles[i] = Role::Question(slot);
        }
    }

    let mut seen: Vec<Option<usize>> = vec![None; ruleset.questions.len()];
    for (i, role) in columns.roles.iter().enumerate() {
        if let Role::Question(slot) = *role {
            if let Some(first) = seen[slot] {
                return Err(HeaderError::SameQuestion {
                    question: ruleset.questions[slot].id.clone(),
                    first: columns.names[first].clone(),
                    second: columns.names[i].clone(),
                });
            }
            seen[slot] = Some(i);
            columns.questions.push((i, slot));
        }
    }
    columns.unasked = (0..ruleset.questions.len())
        .filter(|&s| seen[s].is_none())
        .collect();
    Ok(columns)
}

/// Resolves a header given as a `csv::ByteRecord`.
pub fn resolve_record(
    ruleset: &Ruleset,
    header: &csv::ByteRecord,
    mapping: &Mapping,
) -> Result<Columns, HeaderError> {
    resolve(ruleset, header.iter(), mapping)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ruleset::builtin;

    fn cols(header: &[&str], mapping: &Mapping) -> Result<Columns, HeaderError> {
        let rs = builtin().expect("built-in ruleset loads");
        resolve(&rs, header.iter().map(|h| h.as_bytes()), mapping)
    }

    fn slot(id: &str) -> Slot {
        builtin().expect("loads").slot(id).expect("known question")
    }

    #[test]
    fn ids_any_case_and_aliases_resolve_to_slots() {
        let c = cols(
            &[
                "Patient_ID",
                " SBP ",
                "Diastolic_BP",
                "age",
                "first_name",
                "",
            ],
            &Mapping::default(),
        )
        .expect("resolves");
        assert_eq!(c.id, Some(0));
        assert_eq!(
            c.questions,
            vec![
                (1, slot("systolic_bp")),
                (2, slot("diastolic_bp")),
                (3, slot("age_years"))
            ]
        );
        assert_eq!(c.unmapped().collect::<Vec<_>>(), vec![4, 5]);
        assert_eq!(c.names[5], "column 6");
        assert_eq!(c.names[1], "SBP");
        assert_eq!(c.unasked.len(), 43 - 3);
        assert!(!c.unasked.contains(&slot("systolic_bp")));
    }

    #[test]
    fn id_prefers_id_over_patient_id_and_id_column_overrides() {
        let c = cols(&["patient_id", "ID"], &Mapping::default()).expect("resolves");
        assert_eq!(c.id, Some(1));
        assert_eq!(c.roles[0], Role::Unmapped);
        let m = Mapping {
            map: vec![],
            id_column: Some("MRN".into()),
        };
        let c = cols(&["id", "mrn"], &m).expect("resolves");
        assert_eq!(c.id, Some(1));
        assert_eq!(c.roles[0], Role::Unmapped);
        assert_eq!(
            cols(&["id"], &m),
            Err(HeaderError::IdColumnMissing {
                column: "MRN".into()
            })
        );
    }

    #[test]
    fn map_wins_and_can_ignore_a_column() {
        let rs = builtin().expect("loads");
        let m = Mapping::parse(&rs, &["BP top=systolic_bp".into(), "stroke=-".into()], None)
            .expect("valid --map");
        let c = cols(&["bp top", "stroke", "sbp_old"], &m).expect("resolves");
        assert_eq!(c.questions, vec![(0, slot("systolic_bp"))]);
        assert_eq!(c.roles[1], Role::Ignored);
        assert_eq!(c.unmapped().collect::<Vec<_>>(), vec![2]);
        assert_eq!(
            cols(&["sbp"], &m),
            Err(HeaderError::MapColumnMissing {
                column: "BP top".into()
            })
        );
    }

    #[test]
    fn two_columns_for_one_question_is_an_error() {
        let err = cols(&["sbp", "systolic_bp"], &Mapping::default()).expect_err("ambiguous");
        assert_eq!(
            err.to_string(),
            "columns 'sbp' and 'systolic_bp' both answer question 'systolic_bp'; keep one with --map (e.g. --map 'systolic_bp=-')"
        );
    }

    #[test]
    fn map_arguments_are_checked_against_the_ruleset() {
        let rs = builtin().expect("loads");
        assert_eq!(
            Mapping::parse(&rs, &["x".into()], None),
            Err(MappingError::Shape("x".into()))
        );
        let err = Mapping::parse(&rs, &["BP=systolic_bpp".into()], None).expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "--map 'BP=systolic_bpp': no question 'systolic_bpp' in ruleset 'ketamine-default' (did you mean 'systolic_bp'?)"
        );
        let m = Mapping::parse(&rs, &["a=b=SBP".into()], Some(" MRN ")).expect("valid");
        assert_eq!(
            m,
            Mapping {
                map: vec![("a=b".into(), Target::Question(slot("systolic_bp")))],
                id_column: Some("MRN".into()),
            }
        );
    }

    #[test]
    fn empty_header_and_non_utf8_names() {
        assert_eq!(cols(&[], &Mapping::default()), Err(HeaderError::Empty));
        assert_eq!(cols(&[" "], &Mapping::default()), Err(HeaderError::Empty));
        let rs = builtin().expect("loads");
        let header = csv::ByteRecord::from(vec![&b"id"[..], &b"n\xffme"[..], &b"sbp"[..]]);
        let c = resolve_record(&rs, &header, &Mapping::default()).expect("resolves");
        assert_eq!(c.names[1], "n\u{fffd}me");
        assert_eq!(c.roles[1], Role::Unmapped);
        assert_eq!(c.questions, vec![(2, slot("systolic_bp"))]);
    }
}
