//! The ruleset as a FHIR R4 `Questionnaire`, for form builders and EHRs: one group item per
//! section, one item per question (`linkId` = question id), choice options as `answerOption`
//! codings, units and bounds as the core `questionnaire-unit`, `minValue` and `maxValue`
//! extensions, help text as a `help` display item, and each `ask_if` as `enableWhen` where
//! FHIR can say it (else as an SDC `enableWhenExpression` in FHIRPath). The rules themselves
//! are not exported: a form collects answers, ketascreen decides.

use serde::Serialize;

use super::{options_system, questionnaire_url, ucum_code, SHA256_SYSTEM, UCUM};
use crate::expr::{CmpOp, Cond, Lit, Test};
use crate::ruleset::{Kind, Question, Ruleset};

const EXT_MIN: &str = "http://hl7.org/fhir/StructureDefinition/minValue";
const EXT_MAX: &str = "http://hl7.org/fhir/StructureDefinition/maxValue";
const EXT_UNIT: &str = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit";
const EXT_ITEM_CONTROL: &str = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl";
const ITEM_CONTROL_SYSTEM: &str = "http://hl7.org/fhir/questionnaire-item-control";
const EXT_ENABLE_WHEN_EXPRESSION: &str =
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression";

/// `Questionnaire`, with the elements we fill.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Questionnaire {
    pub resource_type: &'static str,
    pub url: String,
    pub identifier: Vec<Identifier>,
    pub version: String,
    pub name: String,
    pub title: String,
    pub status: &'static str,
    pub subject_type: Vec<&'static str>,
    pub description: String,
    pub item: Vec<Item>,
}

#[derive(Debug, Serialize)]
pub struct Identifier {
    pub system: &'static str,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Coding {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CodeableConcept {
    pub coding: Vec<Coding>,
}

#[derive(Debug, Serialize)]
pub struct Expression {
    pub language: &'static str,
    pub expression: String,
}

/// An extension's `value[x]`.
#[derive(Debug, Serialize)]
pub enum ExtensionValue {
    #[serde(rename = "valueInteger")]
    Integer(i64),
    #[serde(rename = "valueDecimal")]
    Decimal(f64),
    #[serde(rename = "valueCoding")]
    Coding(Coding),
    #[serde(rename = "valueCodeableConcept")]
    CodeableConcept(CodeableConcept),
    #[serde(rename = "valueExpression")]
    Expression(Expression),
}

#[derive(Debug, Serialize)]
pub struct Extension {
    pub url: &'static str,
    #[serde(flatten)]
    pub value: ExtensionValue,
}

/// `enableWhen.answer[x]`.
#[derive(Debug, Clone, Serialize)]
pub enum EnableAnswer {
    #[serde(rename = "answerBoolean")]
    Boolean(bool),
    #[serde(rename = "answerInteger")]
    Integer(i64),
    #[serde(rename = "answerDecimal")]
    Decimal(f64),
    #[serde(rename = "answerCoding")]
    Coding(Coding),
}

#[derive(Debug, Clone, Serialize)]
pub struct EnableWhen {
    pub question: String,
    pub operator: &'static str,
    #[serde(flatten)]
    pub answer: EnableAnswer,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnswerOption {
    pub value_coding: Coding,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extension: Vec<Extension>,
    pub link_id: String,
    pub text: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub enable_when: Vec<EnableWhen>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_behavior: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub answer_option: Vec<AnswerOption>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub item: Vec<Item>,
}

/// The FHIR item type of a question.
pub fn item_type(kind: &Kind) -> &'static str {
    match kind {
        Kind::YesNo => "boolean",
        Kind::Integer { .. } => "integer",
        Kind::Number { .. } => "decimal",
        Kind::Choice(_) => "choice",
        Kind::Text => "string",
    }
}

/// A FHIR `name` (`[A-Z][A-Za-z0-9_]*`) from a ruleset id: `ketamine-default` -> `KetamineDefault`.
fn computable_name(id: &str) -> String {
    let mut name = String::new();
    for part in id.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.extend(chars);
        }
    }
    if !name.starts_with(|c: char| c.is_ascii_uppercase()) {
        name.insert(0, 'Q');
    }
    name.truncate(255);
    name
}

/// The ruleset as a Questionnaire.
pub fn build(ruleset: &Ruleset) -> Questionnaire {
    let mut sections: Vec<(String, Vec<Item>)> = Vec::new();
    for question in &ruleset.questions {
        let item = question_item(ruleset, question);
        match sections.iter_mut().find(|(s, _)| *s == question.section) {
            Some((_, items)) => items.push(item),
            None => sections.push((question.section.clone(), vec![item])),
        }
    }
    let item = sections
        .into_iter()
        .enumerate()
        .map(|(i, (section, items))| Item {
            extension: Vec::new(),
            link_id: format!("section-{}", i + 1),
            text: section,
            kind: "group",
            enable_when: Vec::new(),
            enable_behavior: None,
            answer_option: Vec::new(),
            item: items,
        })
        .collect();
    Questionnaire {
        resource_type: "Questionnaire",
        url: questionnaire_url(ruleset),
        identifier: vec![Identifier {
            system: SHA256_SYSTEM,
            value: ruleset.sha256.clone(),
        }],
        version: ruleset.version.clone(),
        name: computable_name(&ruleset.id),
        title: ruleset.title.clone(),
        status: "active",
        subject_type: vec!["Patient"],
        description: format!(
            "The questions of ketascreen ruleset {} {} (sha256 {}), exported by ketascreen {}. \
             Screen a QuestionnaireResponse to it with `ketascreen check`. Clinical decision \
             support: the prescriber makes the treatment decision.",
            ruleset.id,
            ruleset.version,
            ruleset.sha256,
            env!("CARGO_PKG_VERSION")
        ),
        item,
    }
}

/// The Questionnaire as pretty JSON, with a final newline.
pub fn render(ruleset: &Ruleset) -> String {
    let mut text = serde_json::to_string_pretty(&build(ruleset)).unwrap_or_default();
    text.push('\n');
    text
}

fn question_item(ruleset: &Ruleset, question: &Question) -> Item {
    let mut extension = Vec::new();
    match &question.kind {
        Kind::Integer { min, max } => {
            if let Some(v) = min {
                extension.push(Extension {
                    url: EXT_MIN,
                    value: ExtensionValue::Integer(*v),
                });
            }
            if let Some(v) = max {
                extension.push(Extension {
                    url: EXT_MAX,
                    value: ExtensionValue::Integer(*v),
                });
            }
        }
        Kind::Number { min, max } => {
            if let Some(v) = min {
                extension.push(Extension {
                    url: EXT_MIN,
                    value: ExtensionValue::Decimal(*v),
                });
            }
            if let Some(v) = max {
                extension.push(Extension {
                    url: EXT_MAX,
                    value: ExtensionValue::Decimal(*v),
                });
            }
        }
        _ => {}
    }
    if let Some(unit) = &question.unit {
        let code = ucum_code(unit);
        extension.push(Extension {
            url: EXT_UNIT,
            value: ExtensionValue::Coding(Coding {
                system: code.map(|_| UCUM.to_string()),
                code: code.map(str::to_string),
                display: Some(unit.clone()),
            }),
        });
    }
    let (enable_when, enable_behavior) = match &question.ask_if {
        None => (Vec::new(), None),
        Some(cond) => match enable_when(ruleset, cond) {
            Some((clauses, behavior)) => {
                let behavior = (clauses.len() > 1).then_some(behavior);
                (clauses, behavior)
            }
            None => {
                extension.push(Extension {
                    url: EXT_ENABLE_WHEN_EXPRESSION,
                    value: ExtensionValue::Expression(Expression {
                        language: "text/fhirpath",
                        expression: fhirpath_enable(ruleset, cond),
                    }),
                });
                (Vec::new(), None)
            }
        },
    };
    let answer_option = match &question.kind {
        Kind::Choice(options) => options
            .iter()
            .map(|o| AnswerOption {
                value_coding: Coding {
                    system: Some(options_system(ruleset, &question.id)),
                    code: Some(o.id.clone()),
                    display: Some(o.label.clone()),
                },
            })
            .collect(),
        _ => Vec::new(),
    };
    let item = question
        .help
        .iter()
        .map(|help| Item {
            extension: vec![Extension {
                url: EXT_ITEM_CONTROL,
                value: ExtensionValue::CodeableConcept(CodeableConcept {
                    coding: vec![Coding {
                        system: Some(ITEM_CONTROL_SYSTEM.to_string()),
                        code: Some("help".to_string()),
                        display: Some("Help-Button".to_string()),
                    }],
                }),
            }],
            link_id: format!("{}-help", question.id),
            text: help.clone(),
            kind: "display",
            enable_when: Vec::new(),
            enable_behavior: None,
            answer_option: Vec::new(),
            item: Vec::new(),
        })
        .collect();
    Item {
        extension,
        link_id: question.id.clone(),
        text: question.text.clone(),
        kind: item_type(&question.kind),
        enable_when,
        enable_behavior,
        answer_option,
        item,
    }
}

/// How several `enableWhen` clauses combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behavior {
    Single,
    All,
    Any,
}

impl Behavior {
    fn code(self) -> &'static str {
        match self {
            Behavior::Any => "any",
            Behavior::Single | Behavior::All => "all",
        }
    }
}

/// `ask_if` as `enableWhen` clauses, when FHIR's flat all/any of comparisons can say it.
fn enable_when(ruleset: &Ruleset, cond: &Cond) -> Option<(Vec<EnableWhen>, &'static str)> {
    let (clauses, behavior) = clauses(ruleset, cond, false)?;
    Some((clauses, behavior.code()))
}

fn clauses(ruleset: &Ruleset, cond: &Cond, negate: bool) -> Option<(Vec<EnableWhen>, Behavior)> {
    match cond {
        Cond::Not(inner) => clauses(ruleset, inner, !negate),
        Cond::Test { slot, test, .. } => {
            let question = &ruleset.questions[*slot];
            match test {
                Test::Cmp(op, lit) => {
                    let op = if negate { inverse(*op) } else { *op };
                    Some((vec![clause(ruleset, question, op, lit)?], Behavior::Single))
                }
                Test::In { negated, lits } => {
                    let negated = *negated != negate;
                    let op = if negated { CmpOp::Ne } else { CmpOp::Eq };
                    let list = lits
                        .iter()
                        .map(|lit| clause(ruleset, question, op, lit))
                        .collect::<Option<Vec<_>>>()?;
                    let behavior = match (list.len(), negated) {
                        (1, _) => Behavior::Single,
                        (_, true) => Behavior::All,
                        (_, false) => Behavior::Any,
                    };
                    Some((list, behavior))
                }
            }
        }
        Cond::All(children) | Cond::Any(children) => {
            // De Morgan: not (a and b) = not a or not b.
            let want = match (cond, negate) {
                (Cond::All(_), false) | (Cond::Any(_), true) => Behavior::All,
                _ => Behavior::Any,
            };
            let mut all = Vec::new();
            for child in children {
                let (list, behavior) = clauses(ruleset, child, negate)?;
                if behavior != Behavior::Single && behavior != want {
                    return None;
                }
                all.extend(list);
            }
            Some((all, want))
        }
    }
}

/// An operator as FHIR (enableWhen and FHIRPath alike) spells it: `=` where we write `==`.
fn fhir_operator(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        other => other.as_str(),
    }
}

fn inverse(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Eq => CmpOp::Ne,
        CmpOp::Ne => CmpOp::Eq,
        CmpOp::Lt => CmpOp::Ge,
        CmpOp::Ge => CmpOp::Lt,
        CmpOp::Gt => CmpOp::Le,
        CmpOp::Le => CmpOp::Gt,
    }
}

fn clause(ruleset: &Ruleset, question: &Question, op: CmpOp, lit: &Lit) -> Option<EnableWhen> {
    let answer = match (lit, &question.kind) {
        (Lit::YesNo(b), _) => EnableAnswer::Boolean(*b),
        (Lit::Number(x), Kind::Integer { .. }) => {
            if x.fract() != 0.0 || x.abs() > 9.0e15 {
                return None;
            }
            EnableAnswer::Integer(*x as i64)
        }
        (Lit::Number(x), _) => EnableAnswer::Decimal(*x),
        (Lit::Choice(i), Kind::Choice(options)) => {
            let option = options.get(*i)?;
            EnableAnswer::Coding(Coding {
                system: Some(options_system(ruleset, &question.id)),
                code: Some(option.id.clone()),
                display: None,
            })
        }
        (Lit::Choice(_), _) => return None,
    };
    Some(EnableWhen {
        question: question.id.clone(),
        operator: fhir_operator(op),
        answer,
    })
}

/// `ask_if` in FHIRPath over the response being filled in. FHIRPath is three-valued like our
/// conditions (a comparison with no answer is empty); an undecided condition shows the
/// question, as the interview asks it, so the expression is `(E).empty() or (E)`.
pub fn fhirpath_enable(ruleset: &Ruleset, cond: &Cond) -> String {
    let e = fhirpath(ruleset, cond);
    format!("({e}).empty() or ({e})")
}

fn fhirpath(ruleset: &Ruleset, cond: &Cond) -> String {
    match cond {
        Cond::Any(children) => join(ruleset, children, " or "),
        Cond::All(children) => join(ruleset, children, " and "),
        Cond::Not(inner) => format!("({}).not()", fhirpath(ruleset, inner)),
        Cond::Test { slot, test, .. } => {
            let question = &ruleset.questions[*slot];
            let value = answer_path(question);
            match test {
                Test::Cmp(op, lit) => {
                    format!("{value} {} {}", fhir_operator(*op), literal(question, lit))
                }
                Test::In { negated, lits } => {
                    let (op, glue) = if *negated {
                        ("!=", " and ")
                    } else {
                        ("=", " or ")
                    };
                    let parts: Vec<String> = lits
                        .iter()
                        .map(|lit| format!("{value} {op} {}", literal(question, lit)))
                        .collect();
                    format!("({})", parts.join(glue))
                }
            }
        }
    }
}

fn join(ruleset: &Ruleset, children: &[Cond], glue: &str) -> String {
    let parts: Vec<String> = children.iter().map(|c| fhirpath(ruleset, c)).collect();
    format!("({})", parts.join(glue))
}

fn answer_path(question: &Question) -> String {
    let code = if matches!(question.kind, Kind::Choice(_)) {
        ".code"
    } else {
        ""
    };
    format!(
        "%resource.repeat(item).where(linkId = '{}').answer.value{code}",
        question.id
    )
}

fn literal(question: &Question, lit: &Lit) -> String {
    match lit {
        Lit::YesNo(b) => b.to_string(),
        Lit::Number(x) => x.to_string(),
        Lit::Choice(i) => match &question.kind {
            Kind::Choice(options) => {
                format!("'{}'", options.get(*i).map(|o| o.id.as_str()).unwrap_or(""))
            }
            _ => "''".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computable_names_follow_fhir_que_0() {
        assert_eq!(computable_name("ketamine-default"), "KetamineDefault");
        assert_eq!(computable_name("9-lives"), "Q9Lives");
        assert_eq!(computable_name("clinic_a.v2"), "ClinicAV2");
    }
}
