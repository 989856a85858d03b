//! The read allow-list: Landlock only grants, so paths the policy denies are kept
//! out by granting everything around them instead.

use std::path::{Path, PathBuf};

/// Directories (and files) to grant read access to: everything under `roots`
/// except what lies under a path of `deny`.
///
/// A root with a denied path below it is replaced by its entries, recursively, so
/// that no granted path contains a denied one. Entries are resolved (symbolic links
/// followed) before they are granted, since Landlock grants the target of a link.
pub fn read_allow_list(roots: &[PathBuf], deny: &[PathBuf]) -> Vec<PathBuf> {
    let deny: Vec<PathBuf> = deny.iter().map(|path| resolve_lenient(path)).collect();
    let mut granted = Vec::new();
    for root in roots {
        grant(&resolve_lenient(root), &deny, &mut granted);
    }
    granted.sort();
    granted.dedup();
    granted
}

fn grant(path: &Path, deny: &[PathBuf], granted: &mut Vec<PathBuf>) {
    if deny.iter().any(|denied| path.starts_with(denied)) {
        return;
    }
    let splits = deny
        .iter()
        .any(|denied| denied.starts_with(path) && denied != path);
    if !splits {
        granted.push(path.to_path_buf());
        return;
    }
    // An unreadable directory is left out: nothing under it is granted.
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for entry in entries.flatten() {
        if let Ok(resolved) = std::fs::canonicalize(entry.path()) {
            grant(&resolved, deny, granted);
        }
    }
}

/// `path` with symbolic links resolved as far as it exists.
fn resolve_lenient(path: &Path) -> PathBuf {
    if let Ok(resolved) = std::fs::canonicalize(path) {
        return resolved;
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) if parent != path => resolve_lenient(parent).join(name),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denied_path_is_under_no_granted_path() {
        let root = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(root.path()).unwrap();
        for directory in ["home/.ssh", "home/project/src", "usr/lib"] {
            std::fs::create_dir_all(root.join(directory)).unwrap();
        }
        std::fs::write(root.join("home/.netrc"), "secret").unwrap();
        std::fs::write(root.join("home/notes.txt"), "fine").unwrap();
        std::os::unix::fs::symlink(root.join("home/.ssh"), root.join("home/keys")).unwrap();

        let deny = [
            root.join("home/.ssh"),
            root.join("home/.netrc"),
            root.join("home/.aws"),
        ];
        let granted = read_allow_list(std::slice::from_ref(&root), &deny);
        assert_eq!(
            granted,
            [
                root.join("home/notes.txt"),
                root.join("home/project"),
                root.join("usr"),
            ]
        );
        for denied in &deny {
            assert!(granted.iter().all(|path| !denied.starts_with(path)));
        }
    }

    #[test]
    fn without_denials_the_roots_are_granted_whole() {
        let root = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(root.path()).unwrap();
        let roots = std::slice::from_ref(&root);
        assert_eq!(read_allow_list(roots, &[]), roots);
        assert!(
            read_allow_list(std::slice::from_ref(&root), std::slice::from_ref(&root)).is_empty()
        );
    }
}
