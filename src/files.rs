//! The files ketascreen writes, in one place: patient files written atomically with mode 0600,
//! either replacing what is there (only where the user asked for that file) or never
//! (a no-clobber rename that fails when the name was taken meanwhile); exclusive creation for
//! files that must not replace anything; "does this name exist" that counts a dangling
//! symlink; and "are these the same file" by file identity, not by name. It knows nothing of
//! what the files hold.

use std::io::{self, Write};
use std::path::Path;

/// What to do when the target name exists at the moment of writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Replace it (the rename replaces a symlink itself, never what it points to).
    Replace,
    /// Fail with `io::ErrorKind::AlreadyExists`, even if it appeared a moment ago.
    Keep,
}

/// The directory a file goes in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes a file that holds patient data: to a temporary file in the same directory (mode
/// 0600), synced, then renamed onto `path` — over what is there, or only if nothing is — so a
/// reader never sees half a file and no one else can read it.
pub fn write_private(path: &Path, bytes: &[u8], existing: Existing) -> io::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".ketascreen-")
        .suffix(".tmp")
        .tempfile_in(parent_dir(path))
        .map_err(without_temp_name)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    match existing {
        Existing::Replace => tmp.persist(path).map_err(|e| e.error)?,
        Existing::Keep => tmp.persist_noclobber(path).map_err(|e| e.error)?,
    };
    Ok(())
}

/// tempfile names its random temporary file in errors ("... at path /d/.ketascreen-x1Yz.tmp");
/// the user named `path`, so the error says only what went wrong.
fn without_temp_name(e: io::Error) -> io::Error {
    let text = e.to_string();
    match text.find(" at path \"") {
        Some(cut) => io::Error::new(e.kind(), &text[..cut]),
        None => e,
    }
}

/// Creates a new file with these bytes; fails with `AlreadyExists` if the name is taken, by a
/// file or by a symlink (which is never followed).
pub fn create_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Whether something has this name: a file, a directory, or a symlink, even a dangling one.
pub fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Whether two names are the same file (device and inode, through symlinks and hard links);
/// false when either does not exist.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => same_identity(&a, &b),
        _ => false,
    }
}

/// Whether two metadata describe the same file.
pub fn same_identity(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        a.dev() == b.dev() && a.ino() == b.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        false
    }
}

/// `x.json` → `x-2.json` (n = 2): another name beside a taken one.
pub fn numbered(path: &Path, n: u32) -> std::path::PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn private_files_are_0600_and_kept_files_are_never_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.json");
        write_private(&path, b"one", Existing::Keep).expect("writes");
        let err = write_private(&path, b"two", Existing::Keep).expect_err("kept");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).expect("reads"), b"one");
        write_private(&path, b"three", Existing::Replace).expect("replaces");
        assert_eq!(std::fs::read(&path).expect("reads"), b"three");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_count_as_taken_and_are_never_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("target");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert!(exists(&link) && !link.exists());
        assert_eq!(
            create_new(&link, b"x").expect_err("taken").kind(),
            io::ErrorKind::AlreadyExists
        );
        assert_eq!(
            write_private(&link, b"x", Existing::Keep)
                .expect_err("taken")
                .kind(),
            io::ErrorKind::AlreadyExists
        );
        assert!(!target.exists(), "nothing written through the link");
    }

    #[test]
    fn same_file_by_identity() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a");
        std::fs::write(&a, "x").expect("writes");
        let b = dir.path().join("b");
        std::fs::hard_link(&a, &b).expect("link");
        assert!(same_file(&a, &b));
        assert!(!same_file(&a, &dir.path().join("missing")));
        assert_eq!(
            numbered(Path::new("d/v.draft.json"), 2),
            Path::new("d/v.draft-2.json")
        );
    }
}
