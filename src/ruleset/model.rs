//! The loaded, checked ruleset: questions in interview order, rules with compiled conditions,
//! and the sources they cite. Everything here is already validated; the engine and the front
//! ends read it and never re-parse text. Questions are addressed by their slot (their index).

use std::collections::HashMap;
use std::fmt;

use crate::expr::Cond;

/// A question's index in `Ruleset::questions`; answers and conditions are indexed by it.
pub type Slot = usize;

/// How serious a rule is when it fires.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Exclude,
    Review,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Exclude => "exclude",
            Severity::Review => "review",
            Severity::Note => "note",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One option of a choice question.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceOption {
    pub id: String,
    pub label: String,
}

/// A question's type, with its bounds or options.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    YesNo,
    Integer { min: Option<i64>, max: Option<i64> },
    Number { min: Option<f64>, max: Option<f64> },
    Choice(Vec<ChoiceOption>),
    Text,
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::YesNo => "yes_no",
            Kind::Integer { .. } => "integer",
            Kind::Number { .. } => "number",
            Kind::Choice(_) => "choice",
            Kind::Text => "text",
        }
    }

    /// The option with this id, compared case-insensitively.
    pub fn option_index(&self, id: &str) -> Option<usize> {
        match self {
            Kind::Choice(options) => options.iter().position(|o| o.id.eq_ignore_ascii_case(id)),
            _ => None,
        }
    }
}

/// One question of the checklist.
#[derive(Debug, Clone)]
pub struct Question {
    pub id: String,
    pub section: String,
    pub text: String,
    pub help: Option<String>,
    pub kind: Kind,
    pub unit: Option<String>,
    pub aliases: Vec<String>,
    /// When present and false, the question is skipped (not applicable).
    pub ask_if: Option<Cond>,
    pub ask_if_text: Option<String>,
}

impl Question {
    /// The bounds as a nurse reads them: "between 50 and 300 mmHg".
    pub fn bounds_text(&self) -> Option<String> {
        let unit = self
            .unit
            .as_deref()
            .map(|u| format!(" {u}"))
            .unwrap_or_default();
        let (min, max) = match &self.kind {
            Kind::Integer { min, max } => (min.map(|v| v.to_string()), max.map(|v| v.to_string())),
            Kind::Number { min, max } => (min.map(|v| v.to_string()), max.map(|v| v.to_string())),
            _ => return None,
        };
        match (min, max) {
            (Some(lo), Some(hi)) => Some(format!("between {lo} and {hi}{unit}")),
            (Some(lo), None) => Some(format!("at least {lo}{unit}")),
            (None, Some(hi)) => Some(format!("at most {hi}{unit}")),
            (None, None) => None,
        }
    }
}

/// A piece of a rule's message: literal text or the answer to a question.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    Answer(Slot),
}

/// One rule: when its condition is true it fires with its severity.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub severity: Severity,
    pub urgent: bool,
    pub when: Cond,
    pub when_text: String,
    pub message: Vec<Piece>,
    pub message_text: String,
    pub source: String,
    /// Every question the condition reads, in order of first appearance.
    pub reads: Vec<Slot>,
}

/// A complete, checked ruleset.
#[derive(Debug, Clone)]
pub struct Ruleset {
    pub id: String,
    pub version: String,
    pub title: String,
    /// Source key and full citation, in file order.
    pub sources: Vec<(String, String)>,
    pub questions: Vec<Question>,
    pub rules: Vec<Rule>,
    /// Questions in an order where every `ask_if` is decided before the question it guards.
    pub ask_order: Vec<Slot>,
    /// Hex SHA-256 of the ruleset file's bytes.
    pub sha256: String,
    /// Where it came from: a path, or `built-in` for the compiled-in default.
    pub origin: String,
    names: HashMap<String, Slot>,
    /// The questions that have an `ask_if`, in `ask_order` (for the engine, computed once).
    guarded: Vec<Slot>,
    /// By slot, the questions its `ask_if` reads, in order of first appearance (for the
    /// engine's reasons why an answer is ignored, computed once).
    ask_if_reads: Vec<Vec<Slot>>,
}

impl Ruleset {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: String,
        version: String,
        title: String,
        sources: Vec<(String, String)>,
        questions: Vec<Question>,
        rules: Vec<Rule>,
        ask_order: Vec<Slot>,
        sha256: String,
        origin: String,
    ) -> Self {
        let mut names = HashMap::new();
        for (slot, q) in questions.iter().enumerate() {
            for alias in &q.aliases {
                names.entry(alias.to_ascii_lowercase()).or_insert(slot);
            }
        }
        for (slot, q) in questions.iter().enumerate() {
            names.insert(q.id.to_ascii_lowercase(), slot);
        }
        // Comparisons of questions that are never skipped read their answers directly.
        let has_ask_if: Vec<bool> = questions.iter().map(|q| q.ask_if.is_some()).collect();
        let has_ask_if = |slot: Slot| has_ask_if.get(slot).copied().unwrap_or(true);
        let mut questions = questions;
        let mut rules = rules;
        for cond in questions
            .iter_mut()
            .filter_map(|q| q.ask_if.as_mut())
            .chain(rules.iter_mut().map(|r| &mut r.when))
        {
            cond.mark_always_asked(&has_ask_if);
        }
        let guarded = ask_order
            .iter()
            .copied()
            .filter(|&slot| questions[slot].ask_if.is_some())
            .collect();
        let ask_if_reads = questions
            .iter()
            .map(|q| {
                let mut reads = Vec::new();
                if let Some(cond) = &q.ask_if {
                    cond.reads(&mut reads);
                }
                reads
            })
            .collect();
        Ruleset {
            id,
            version,
            title,
            sources,
            questions,
            rules,
            ask_order,
            sha256,
            origin,
            names,
            guarded,
            ask_if_reads,
        }
    }

    /// The questions that have an `ask_if`, in `ask_order`: the only ones that can be skipped.
    pub fn guarded(&self) -> &[Slot] {
        &self.guarded
    }

    /// The questions the `ask_if` of the question in `slot` reads, in order of first
    /// appearance (none without one).
    pub fn ask_if_reads(&self, slot: Slot) -> &[Slot] {
        self.ask_if_reads.get(slot).map_or(&[], Vec::as_slice)
    }

    /// The question with exactly this id.
    pub fn slot(&self, id: &str) -> Option<Slot> {
        self.questions.iter().position(|q| q.id == id)
    }

    /// The question a CSV header or answers key names: exact id, id in any case, or an alias.
    pub fn resolve_name(&self, name: &str) -> Option<Slot> {
        let name = name.trim();
        self.slot(name)
            .or_else(|| self.names.get(&name.to_ascii_lowercase()).copied())
    }

    /// The closest question id to a name that matched none, for "did you mean".
    pub fn suggest_question(&self, name: &str) -> Option<&str> {
        crate::suggest::closest(name, self.questions.iter().map(|q| q.id.as_str()))
    }

    pub fn source_citation(&self, key: &str) -> Option<&str> {
        self.sources
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}
