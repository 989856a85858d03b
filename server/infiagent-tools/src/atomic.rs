//! Atomic file writes: a temporary file beside the target is written, synced and
//! renamed over it, so readers see the old or the new file, never a part.
//!
//! The one implementation is blocking ([`write_atomically_blocking`]); async callers
//! use [`write_atomically`], which runs it on the blocking pool.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// What the temporary files of [`write_atomically`] are called after `.NAME`.
const TEMP_MARK: &str = ".infiagent-";

/// A fresh temporary file name beside `path` for an atomic write of it:
/// `.NAME.infiagent-XXXXXXXX.tmp` (hidden, and recognised by
/// [`is_atomic_write_temp`] when a crash leaves one behind). `None` when `path`
/// has no file name.
pub fn atomic_write_temp(path: &Path) -> Option<PathBuf> {
    let (parent, name) = (path.parent()?, path.file_name()?);
    let mut short_name = name.to_string_lossy().into_owned();
    let mut cut = short_name.len().min(100);
    while !short_name.is_char_boundary(cut) {
        cut -= 1;
    }
    short_name.truncate(cut);
    Some(parent.join(format!(
        ".{short_name}{TEMP_MARK}{:08x}.tmp",
        fastrand::u32(..)
    )))
}

/// Whether `name` is that of a temporary file of an atomic write (see
/// [`atomic_write_temp`]).
pub fn is_atomic_write_temp(name: &str) -> bool {
    let Some(stem) = name
        .strip_prefix('.')
        .and_then(|rest| rest.strip_suffix(".tmp"))
    else {
        return false;
    };
    stem.rsplit_once(TEMP_MARK)
        .is_some_and(|(original, suffix)| {
            !original.is_empty()
                && suffix.len() == 8
                && suffix.bytes().all(|byte| byte.is_ascii_hexdigit())
        })
}

/// Replaces `path` with `content` so that readers see the old or the new file, never
/// a part: the missing folders are created, a temp file in the same directory is
/// written, synced and renamed over (keeping the replaced file's permissions). The
/// temp file is removed when any step fails.
pub fn write_atomically_blocking(path: &Path, content: &[u8]) -> io::Result<()> {
    let (Some(parent), Some(temp)) = (path.parent(), atomic_write_temp(path)) else {
        return Err(io::Error::other("the path has no file name"));
    };
    std::fs::create_dir_all(parent)?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)?;
    let result = fill_and_rename(file, &temp, path, content);
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// [`write_atomically_blocking`] on the runtime's blocking pool.
pub async fn write_atomically(path: &Path, content: &[u8]) -> io::Result<()> {
    let (path, content) = (path.to_path_buf(), content.to_vec());
    tokio::task::spawn_blocking(move || write_atomically_blocking(&path, &content))
        .await
        .map_err(io::Error::other)?
}

fn fill_and_rename(
    mut file: std::fs::File,
    temp: &Path,
    path: &Path,
    content: &[u8],
) -> io::Result<()> {
    file.write_all(content)?;
    file.sync_all()?;
    drop(file);
    // Keep the replaced file's permissions (an executable script stays executable).
    if let Ok(existing) = std::fs::metadata(path) {
        std::fs::set_permissions(temp, existing.permissions())?;
    }
    std::fs::rename(temp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_files_of_atomic_writes_are_recognised() {
        for path in ["notes.md", "src/main.rs", "no_extension", ".hidden"] {
            let temp = atomic_write_temp(Path::new(path)).unwrap();
            let name = temp.file_name().unwrap().to_str().unwrap();
            assert!(is_atomic_write_temp(name), "{path}: {name}");
            assert_eq!(temp.parent(), Path::new(path).parent());
        }
        let check = |name: &str, expected: bool| {
            assert_eq!(is_atomic_write_temp(name), expected, "{name}");
        };
        check(".a.txt.infiagent-0badf00d.tmp", true);
        check("a.txt.infiagent-0badf00d.tmp", false);
        check(".a.txt.infiagent-0badf00.tmp", false);
        check(".a.txt.infiagent-0badf00g.tmp", false);
        check(".infiagent-0badf00d.tmp", false);
        check(".a.txt.tmp", false);
        check("report.tmp", false);
    }

    #[test]
    fn writes_create_folders_replace_files_and_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/notes.txt");
        write_atomically_blocking(&path, b"one").unwrap();
        write_atomically_blocking(&path, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["notes.txt"]);
    }
}
