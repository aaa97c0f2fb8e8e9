//! Generates a synthetic intake CSV for benchmarking `ketascreen batch`: an `id` column and one
//! column per question of the built-in ruleset, plausible values with every verdict represented,
//! about 2% blank cells, and the spellings real exports use (yes/no, Y/N, 1/0, TRUE/FALSE,
//! choice ids and labels). Deterministic for a given seed. Not patient data: every value is
//! drawn from a pseudo-random generator.
//!
//! With `--profile` it prints instead an intake profile for such a file that recodes every
//! column (each yes/no column's two spellings and each choice's ids and labels through
//! `values:`, each number column through `unit:`, REDCap's missing-data codes): the benchmark
//! of `batch --profile` against `batch` on the same file.
//!
//! Usage: cargo run --release --example gen_intake -- ROWS [SEED] [--no-id] > intake.csv
//!        cargo run --release --example gen_intake -- --profile > profile.yaml

use std::io::{self, BufWriter, Write};

use ketascreen::ruleset::{self, Kind, Question};

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

/// How one yes/no column is spelt throughout the file, as one export system would.
const YES_NO: [(&str, &str); 5] = [
    ("yes", "no"),
    ("Yes", "No"),
    ("1", "0"),
    ("Y", "N"),
    ("TRUE", "FALSE"),
];

/// How often each yes/no question is answered yes.
fn yes_rate(id: &str) -> f64 {
    match id {
        "consent_capacity" => 0.99,
        "has_ride_home" => 0.95,
        "can_stay_two_hours" => 0.97,
        "hypertension_treated" => 0.25,
        "takes_benzodiazepine" => 0.2,
        "takes_lamotrigine" => 0.05,
        "uses_contraception" | "takes_oral_antidepressant" => 0.85,
        "takes_opioid_or_sedative" => 0.1,
        "recent_suicidal_behavior" => 0.02,
        "suicidal_intent_or_plan" => 0.03,
        "current_psychosis" | "current_mania" | "ketamine_allergy" => 0.004,
        _ => 0.012,
    }
}

fn integer(rng: &mut Rng, id: &str, min: Option<i64>, max: Option<i64>) -> i64 {
    match id {
        "age_years" if rng.chance(0.01) => rng.range(15, 17),
        "age_years" => rng.range(18, 85),
        "failed_antidepressant_trials" => rng.range(0, 7).min(rng.range(1, 7)),
        "systolic_bp" if rng.chance(0.02) => rng.range(180, 200),
        "systolic_bp" => rng.range(100, 150),
        "diastolic_bp" if rng.chance(0.01) => rng.range(110, 120),
        "diastolic_bp" => rng.range(60, 95),
        "phq9_total" => rng.range(6, 27),
        "spo2_percent" if rng.chance(0.02) => rng.range(85, 92),
        "spo2_percent" => rng.range(93, 100),
        _ => rng.range(min.unwrap_or(0), max.unwrap_or(100)),
    }
}

fn choice(rng: &mut Rng, id: &str, n: usize) -> usize {
    let weights: &[u32] = match id {
        "primary_diagnosis" => &[90, 6, 4],
        "substance_use_disorder" => &[93, 5, 2],
        "pregnancy_status" => &[45, 54, 1],
        _ => &[],
    };
    if weights.len() != n {
        return (rng.next() % n as u64) as usize;
    }
    let total: u32 = weights.iter().sum();
    let mut pick = (rng.next() % u64::from(total)) as u32;
    for (i, w) in weights.iter().enumerate() {
        if pick < *w {
            return i;
        }
        pick -= w;
    }
    0
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let numbers: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let rows = numbers.first().copied().unwrap_or(1_000_000);
    let mut rng = Rng(numbers.get(1).copied().unwrap_or(42).max(1));
    let with_id = !args.iter().any(|a| a == "--no-id");
    let ruleset = ruleset::builtin().map_err(io::Error::other)?;
    let questions: &[Question] = &ruleset.questions;
    if args.iter().any(|a| a == "--profile") {
        return print_profile(questions);
    }

    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut header: Vec<&str> = Vec::new();
    if with_id {
        header.push("id");
    }
    header.extend(questions.iter().map(|q| q.id.as_str()));
    writeln!(out, "{}", header.join(","))?;

    let slot = |id: &str| ruleset.slot(id);
    let (psychosis, history) = (slot("current_psychosis"), slot("psychosis_history"));
    let (pregnancy, breastfeeding) = (slot("pregnancy_status"), slot("breastfeeding"));
    let mut cells: Vec<String> = vec![String::new(); questions.len()];
    for row in 1..=rows {
        for (i, q) in questions.iter().enumerate() {
            let spelling = YES_NO[i % YES_NO.len()];
            cells[i] = match &q.kind {
                Kind::YesNo => {
                    let yes = rng.chance(yes_rate(&q.id));
                    (if yes { spelling.0 } else { spelling.1 }).to_string()
                }
                Kind::Integer { min, max } => integer(&mut rng, &q.id, *min, *max).to_string(),
                Kind::Number { min, max } => {
                    let lo = min.unwrap_or(0.0);
                    let hi = max.unwrap_or(100.0);
                    format!(
                        "{:.1}",
                        lo + (hi - lo) * (rng.next() % 1000) as f64 / 1000.0
                    )
                }
                Kind::Choice(options) => {
                    let pick = choice(&mut rng, &q.id, options.len());
                    // One export in ten writes the label instead of the id.
                    if rng.chance(0.1) {
                        options[pick].label.clone()
                    } else {
                        options[pick].id.clone()
                    }
                }
                Kind::Text => "free text".to_string(),
            };
            if rng.chance(0.02) {
                cells[i].clear();
            }
        }
        // Forms leave follow-up questions blank when they do not apply.
        if let (Some(p), Some(h)) = (psychosis, history) {
            if cells[p] == YES_NO[p % YES_NO.len()].0 {
                cells[h].clear();
            }
        }
        if let (Some(p), Some(b)) = (pregnancy, breastfeeding) {
            if cells[p].starts_with("not_applicable") || cells[p].starts_with("Not applicable") {
                cells[b].clear();
            }
        }
        if with_id {
            write!(out, "P-{row:07},")?;
        }
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            if cell.contains([',', '"', '\n']) {
                write!(out, "\"{}\"", cell.replace('"', "\"\""))?;
            } else {
                out.write_all(cell.as_bytes())?;
            }
        }
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// A profile for the generated file that recodes every column.
fn print_profile(questions: &[Question]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "profile: {{id: bench-recode-all, ruleset: ketamine-default}}"
    )?;
    writeln!(out, "input: {{id_column: id}}")?;
    writeln!(
        out,
        "missing_codes: [{}]",
        ketascreen::profile::REDCAP_MISSING_CODES.join(", ")
    )?;
    writeln!(out, "columns:")?;
    for (i, q) in questions.iter().enumerate() {
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
        match &q.kind {
            Kind::YesNo => {
                let (yes, no) = YES_NO[i % YES_NO.len()];
                writeln!(
                    out,
                    "  {}: {{column: {}, values: {{{}: yes, {}: no}}}}",
                    q.id,
                    q.id,
                    quote(yes),
                    quote(no)
                )?;
            }
            Kind::Choice(options) => {
                let codes: Vec<String> = options
                    .iter()
                    .flat_map(|o| {
                        // Codes match in any case: a label that is its id in another case is one code.
                        let label = (!o.label.eq_ignore_ascii_case(&o.id))
                            .then(|| format!("{}: {}", quote(&o.label), o.id));
                        std::iter::once(format!("{}: {}", quote(&o.id), o.id)).chain(label)
                    })
                    .collect();
                writeln!(
                    out,
                    "  {}: {{column: {}, values: {{{}}}}}",
                    q.id,
                    q.id,
                    codes.join(", ")
                )?;
            }
            Kind::Integer { .. } | Kind::Number { .. } => {
                let unit = q.unit.as_deref().unwrap_or("units");
                writeln!(
                    out,
                    "  {}: {{column: {}, unit: {}}}",
                    q.id,
                    q.id,
                    quote(&format!("{unit} (as exported)"))
                )?;
            }
            Kind::Text => writeln!(out, "  {}: {{column: {}}}", q.id, q.id)?,
        }
    }
    Ok(())
}
