//! ketascreen: screening adults for ketamine / esketamine therapy candidacy against a YAML
//! ruleset of contraindications. One pure engine (`engine::evaluate`) turns one patient's
//! `Answers` into a `Verdict` with its reasons; the front ends (`check`, and in time the
//! interview and batch) only gather answers and render verdicts.
//!
//! This is clinical decision support: it never replaces the prescriber's judgement.

pub mod answers;
pub mod app;
pub mod batch;
pub mod cases;
pub mod cli;
pub mod color;
pub mod engine;
pub mod expr;
pub mod fhir;
pub mod front;
pub mod interview;
pub mod json_input;
pub mod output;
pub mod patient;
pub mod platform;
pub mod profile;
pub mod ruleset;
pub mod suggest;
pub mod toolkit;
