//! Unfinished interviews on disk, so nothing typed is lost: the draft document (schema
//! `ketascreen.interview-draft/v1`), reading a draft — or any answers document — back for
//! `--resume`, where drafts go, and writing patient files atomically with mode 0600.
//! It knows nothing of prompts; the walk's state comes from and goes to `Interview`.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value as Json};

use super::Interview;
use crate::front::{self, Existing};
use crate::output::escape;
use crate::output::json::answers_json;
use crate::patient::{self, DocumentError};
use crate::ruleset::Ruleset;

/// The schema id of a draft document.
pub const DRAFT_SCHEMA: &str = "ketascreen.interview-draft/v1";

/// The draft document: the patient id, the ruleset it was made with, which questions the
/// nurse went through (`asked`, so an "unknown" is not asked again) and every answer so far.
/// `ketascreen check` reads its `answers` like a saved interview's.
pub fn to_json(interview: &Interview<'_>) -> Json {
    let rs = interview.ruleset();
    let asked: Vec<&str> = rs
        .ask_order
        .iter()
        .filter(|&&s| interview.is_asked(s))
        .map(|&s| rs.questions[s].id.as_str())
        .collect();
    json!({
        "schema": DRAFT_SCHEMA,
        "id": interview.id(),
        "ruleset": {"id": rs.id, "version": rs.version, "sha256": rs.sha256},
        "asked": asked,
        "answers": answers_json(rs, interview.answers()),
    })
}

/// An interview read back for `--resume`, with what the nurse should be told about it.
#[derive(Debug)]
pub struct Loaded<'r> {
    pub interview: Interview<'r>,
    /// The file was a draft (not a saved interview or a plain answers file).
    pub is_draft: bool,
    /// Values that were rejected (those questions are asked again), unknown keys, a
    /// different ruleset.
    pub warnings: Vec<String>,
}

/// Reads a draft, a saved interview or a plain answers document. In a draft, the questions
/// listed in `asked` count as gone through; otherwise every answered question does, and the
/// unanswered ones are asked.
pub fn from_json<'r>(ruleset: &'r Ruleset, doc: &Json) -> Result<Loaded<'r>, DocumentError> {
    let patient = patient::from_document(ruleset, doc)?;
    let mut warnings = Vec::new();
    for e in &patient.errors {
        warnings.push(format!(
            "{} = {:?} was not accepted ({}); it will be asked again",
            e.question,
            e.value,
            escape::text(&e.message)
        ));
    }
    for (key, hint) in &patient.unknown_keys {
        let hint = crate::suggest::hint(hint.as_deref());
        warnings.push(format!(
            "ignoring {}: no such question in ruleset '{}'{hint}",
            escape::quoted(key),
            ruleset.id
        ));
    }
    let is_draft = doc.get("schema").and_then(Json::as_str) == Some(DRAFT_SCHEMA);
    if let Some(made_with) = doc.get("ruleset") {
        let sha = made_with.get("sha256").and_then(Json::as_str);
        if sha.is_some_and(|s| s != ruleset.sha256) {
            let field = |k: &str| {
                made_with
                    .get(k)
                    .and_then(Json::as_str)
                    .unwrap_or("?")
                    .to_string()
            };
            warnings.push(format!(
                "these answers were given under ruleset {} {}; continuing with {} {} (answers are matched by question id)",
                field("id"),
                field("version"),
                ruleset.id,
                ruleset.version
            ));
        }
    }
    let rejected: Vec<bool> = ruleset
        .questions
        .iter()
        .map(|q| patient.errors.iter().any(|e| e.question == q.id))
        .collect();
    let mut asked: Vec<bool> = (0..ruleset.questions.len())
        .map(|s| patient.answers.get(s).is_some())
        .collect();
    if is_draft {
        if let Some(list) = doc.get("asked").and_then(Json::as_array) {
            for name in list.iter().filter_map(Json::as_str) {
                if let Some(slot) = ruleset.resolve_name(name) {
                    asked[slot] = !rejected[slot];
                }
            }
        }
    }
    Ok(Loaded {
        interview: Interview::resume(ruleset, patient.id, patient.answers, asked),
        is_draft,
        warnings,
    })
}

/// The draft that goes with a `--save` file: `visit.json` → `visit.draft.json`.
pub fn beside(save: &Path) -> PathBuf {
    save.with_extension("draft.json")
}

/// The default draft place when nothing else is named: `ketascreen-draft-YYYYMMDD-HHMMSS.json`
/// (UTC) in the current directory, with `-2`, `-3`... added if that name is taken.
pub fn default_path(dir: &Path, now: SystemTime) -> PathBuf {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let stamp = utc_stamp(secs);
    let mut path = dir.join(format!("ketascreen-draft-{stamp}.json"));
    let mut n = 2;
    while front::exists(&path) {
        path = dir.join(format!("ketascreen-draft-{stamp}-{n}.json"));
        n += 1;
    }
    path
}

/// `YYYYMMDD-HHMMSS` in UTC for seconds since the Unix epoch.
fn utc_stamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// The draft file of one interview. The first write claims its name without replacing
/// anything: if the name was taken meanwhile (two interviews started in the same second, two
/// nurses saving to one name) it moves on to `-2`, `-3`...; later writes replace its own file.
#[derive(Debug, Clone)]
pub struct DraftFile {
    path: PathBuf,
    /// The file is ours: written by this interview, or the draft being resumed.
    owned: bool,
    written: bool,
}

impl DraftFile {
    /// A draft to be created at `path` (or beside it if the name is taken by then).
    pub fn new(path: PathBuf) -> Self {
        DraftFile {
            path,
            owned: false,
            written: false,
        }
    }

    /// The draft being resumed: it is replaced as the interview goes on.
    pub fn resumed(path: PathBuf) -> Self {
        DraftFile {
            path,
            owned: true,
            written: false,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this interview wrote the draft (or resumed it): only then is it removed at the end.
    pub fn is_ours(&self) -> bool {
        self.owned
    }

    /// Whether this interview has written the draft at least once.
    pub fn is_written(&self) -> bool {
        self.written
    }

    /// Writes the interview's answers so far.
    pub fn write(&mut self, interview: &Interview<'_>) -> io::Result<()> {
        let bytes = json_bytes(&to_json(interview));
        if self.owned {
            front::write_private(&self.path, &bytes, Existing::Replace)?;
            self.written = true;
            return Ok(());
        }
        let first = self.path.clone();
        for n in 2..=1000 {
            match front::write_private(&self.path, &bytes, Existing::Keep) {
                Ok(()) => {
                    self.owned = true;
                    self.written = true;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    self.path = front::numbered(&first, n);
                }
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} and 999 names beside it are taken", first.display()),
        ))
    }
}

/// Whether files can be created in `dir`: creates and drops an anonymous temporary file.
pub fn probe_writable(dir: &Path) -> io::Result<()> {
    tempfile::tempfile_in(dir).map(drop)
}

/// Pretty JSON with a final newline.
pub fn json_bytes(value: &Json) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_stamps() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(951_782_400), "20000229-000000");
        assert_eq!(utc_stamp(1_718_454_645), "20240615-123045");
    }

    #[test]
    fn drafts_sit_beside_the_save_file() {
        assert_eq!(
            beside(Path::new("out/p42.json")),
            PathBuf::from("out/p42.draft.json")
        );
        assert_eq!(beside(Path::new("p42")), PathBuf::from("p42.draft.json"));
    }

    // Broke: two interviews started in the same second shared one draft.
    #[test]
    fn two_interviews_given_one_draft_name_each_get_their_own() {
        let rs = crate::ruleset::builtin().expect("built-in");
        let dir = tempfile::tempdir().expect("tempdir");
        let name = dir.path().join("ketascreen-draft-20240615-123045.json");
        let (mut first, mut second) = (DraftFile::new(name.clone()), DraftFile::new(name.clone()));
        let mut a = Interview::new(&rs);
        a.set_id(Some("A".into()));
        let mut b = Interview::new(&rs);
        b.set_id(Some("B".into()));
        first.write(&a).expect("writes");
        second.write(&b).expect("writes");
        first.write(&a).expect("rewrites its own");
        assert_eq!(first.path(), name);
        assert_eq!(
            second.path(),
            dir.path().join("ketascreen-draft-20240615-123045-2.json")
        );
        let id = |p: &Path| {
            let doc: Json =
                serde_json::from_slice(&std::fs::read(p).expect("reads")).expect("json");
            doc["id"].clone()
        };
        assert_eq!(id(first.path()), "A");
        assert_eq!(id(second.path()), "B");
    }

    #[test]
    fn default_drafts_never_take_a_name_in_use() {
        let dir = tempfile::tempdir().expect("tempdir");
        let now = UNIX_EPOCH + std::time::Duration::from_secs(1_718_454_645);
        let first = default_path(dir.path(), now);
        assert_eq!(
            first.file_name().and_then(|n| n.to_str()),
            Some("ketascreen-draft-20240615-123045.json")
        );
        std::fs::write(&first, "{}").expect("writes");
        let second = default_path(dir.path(), now);
        assert_eq!(
            second.file_name().and_then(|n| n.to_str()),
            Some("ketascreen-draft-20240615-123045-2.json")
        );
    }
}
