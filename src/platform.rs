//! The few things that differ between Unix (Linux, macOS) and Windows, in one place so that
//! the rest of the program builds for both (many clinics run Windows): owner-only file modes,
//! whether two open files are the same file, the metadata of a redirected stdin, and removing
//! a half-written output on Ctrl-C. Each has a Unix body and a Windows one (or a stated
//! fallback); nothing else in the crate names `std::os::unix` or `std::os::windows`.

use std::fs::{File, Metadata};
use std::path::PathBuf;

/// Makes a file readable and writable by its owner only (mode 0600). On Windows a new file
/// takes its directory's access list (the user's own folders are private to the user); there
/// is no mode to set.
pub fn make_private(file: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(())
    }
}

/// Whether two files' metadata describe the same file (device and inode). Windows' file ids
/// are not in stable Rust, so there this is false and callers compare canonical paths too.
pub fn same_file(a: &Metadata, b: &Metadata) -> bool {
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

/// The metadata of the file stdin is redirected from (`< intake.csv`), if it is one.
pub fn stdin_metadata() -> Option<Metadata> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        let fd = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
        File::from(fd).metadata().ok()
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::AsHandle;
        let handle = std::io::stdin().as_handle().try_clone_to_owned().ok()?;
        File::from(handle).metadata().ok()
    }
    #[cfg(not(any(unix, windows)))]
    {
        None
    }
}

/// On Ctrl-C (or SIGTERM, or SIGHUP when the terminal closes) removes `temp` — a half-written output holding patient data — and
/// exits 130. On Windows there is no signal iterator; Ctrl-C ends the process as usual and the
/// temporary file (named `.ketascreen-*.tmp`, beside the output) may be left behind.
pub fn remove_on_interrupt(temp: PathBuf) {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return; // without a handler the default applies: the process ends, the output is untouched
        };
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                let _ = std::fs::remove_file(&temp);
                eprintln!("ketascreen: interrupted: no output written");
                std::process::exit(130);
            }
        });
    }
    #[cfg(not(unix))]
    {
        let _ = temp;
    }
}
