//! The ruleset file as written: serde types mirroring the YAML, with unknown fields rejected.
//! Nothing is checked here beyond shape; `load` turns this into the checked model.

use serde::Deserialize;

use super::Severity;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub ruleset: RawHeader,
    pub questions: Vec<RawQuestion>,
    #[serde(default)]
    pub rules: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeader {
    pub id: String,
    pub version: Scalar,
    pub title: String,
    #[serde(default)]
    pub sources: serde_yaml::Mapping,
}

/// A scalar kept as text: `version: 1.0.0` and `version: 2` both read as a string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Text(String),
    Integer(i64),
    Float(f64),
}

impl Scalar {
    pub fn into_string(self) -> String {
        match self {
            Scalar::Text(s) => s,
            Scalar::Integer(n) => n.to_string(),
            Scalar::Float(x) => x.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawKind {
    YesNo,
    Integer,
    Number,
    Choice,
    Text,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuestion {
    pub id: String,
    pub section: String,
    pub text: String,
    pub help: Option<String>,
    #[serde(rename = "type")]
    pub kind: RawKind,
    pub unit: Option<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub options: Option<Vec<RawOption>>,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub ask_if: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOption {
    pub id: String,
    pub label: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub id: String,
    pub severity: Severity,
    #[serde(default)]
    pub urgent: bool,
    pub when: String,
    pub message: String,
    pub source: String,
}
