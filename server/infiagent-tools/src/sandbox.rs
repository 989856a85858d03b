//! The workspace sandbox: turns a path a model gives into an absolute path under the
//! workspace root, or refuses it.
//!
//! This is the one place confinement is enforced. A path is checked lexically first
//! (`.` and `..` are folded, a `..` above the root is refused), then the longest
//! existing ancestor is canonicalized so that symbolic links are followed, and the
//! result must still lie under the canonical root. Writes are further kept out of
//! version-control data and InfiAgent's own state directory.

use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Longest path accepted, in bytes.
const MAX_PATH_BYTES: usize = 4096;
/// Longest single path component accepted, in bytes.
const MAX_NAME_BYTES: usize = 255;
/// How many characters of a requested path are quoted back in messages.
const MAX_QUOTED_CHARS: usize = 200;

/// Why a path was refused. The messages are written for the model: they say what to do.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The workspace root could not be opened.
    #[error("cannot use '{root}' as the workspace root: {source}")]
    Root {
        /// The root as given.
        root: PathBuf,
        /// What the file system said.
        source: io::Error,
    },
    /// The workspace root is not a directory.
    #[error("cannot use '{root}' as the workspace root: it is not a directory")]
    RootNotDirectory {
        /// The root as given.
        root: PathBuf,
    },
    /// The requested path is empty.
    #[error(
        "the path is empty; give a path relative to the workspace root, for example 'notes.md'"
    )]
    Empty,
    /// The requested path contains a NUL byte.
    #[error("path '{path}' contains a NUL byte; remove it")]
    NulByte {
        /// The requested path, quoted for display.
        path: String,
    },
    /// The requested path is longer than the file system allows.
    #[error(
        "path '{path}' is {length} bytes long, more than the {MAX_PATH_BYTES} allowed; use a shorter path"
    )]
    PathTooLong {
        /// The requested path, quoted for display.
        path: String,
        /// Its length in bytes.
        length: usize,
    },
    /// A component of the requested path is longer than the file system allows.
    #[error(
        "path '{path}' has a name of {length} bytes, more than the {MAX_NAME_BYTES} allowed; use shorter names"
    )]
    NameTooLong {
        /// The requested path, quoted for display.
        path: String,
        /// The length of the longest component in bytes.
        length: usize,
    },
    /// The requested path lies outside the workspace.
    #[error("path '{path}' is outside the workspace; use a path relative to the workspace root")]
    OutsideWorkspace {
        /// The requested path, quoted for display.
        path: String,
    },
    /// The requested path goes through a symbolic link that leads outside the workspace.
    #[error(
        "path '{path}' goes through a symbolic link that leads outside the workspace; use a path inside the workspace"
    )]
    SymlinkEscape {
        /// The requested path, quoted for display.
        path: String,
    },
    /// The requested path goes through a symbolic link whose target does not exist.
    #[error(
        "path '{path}' goes through a broken symbolic link (its target does not exist); use another path"
    )]
    BrokenSymlink {
        /// The requested path, quoted for display.
        path: String,
    },
    /// A write into a directory the tools must not change.
    #[error("path '{path}' is inside {directory}, which {reason}; write somewhere else")]
    Protected {
        /// The requested path, quoted for display.
        path: String,
        /// The protected directory, as `.git/`.
        directory: &'static str,
        /// Why it is protected.
        reason: &'static str,
    },
    /// A write to the workspace root itself.
    #[error("path '{path}' is the workspace root itself; give a file or directory inside it")]
    WorkspaceRoot {
        /// The requested path, quoted for display.
        path: String,
    },
    /// The file system failed while the path was checked.
    #[error("cannot check path '{path}': {source}")]
    Io {
        /// The requested path, quoted for display.
        path: String,
        /// What the file system said.
        source: io::Error,
    },
}

/// The workspace root and the rules for paths under it.
#[derive(Clone, Debug)]
pub struct Sandbox {
    root: PathBuf,
}

impl Sandbox {
    /// A sandbox rooted at `root`, which must be an existing directory. The root is
    /// canonicalized.
    pub fn new(root: &Path) -> Result<Sandbox, SandboxError> {
        let canonical = std::fs::canonicalize(root).map_err(|source| SandboxError::Root {
            root: root.to_path_buf(),
            source,
        })?;
        if !canonical.is_dir() {
            return Err(SandboxError::RootNotDirectory {
                root: root.to_path_buf(),
            });
        }
        Ok(Sandbox { root: canonical })
    }

    /// The canonical workspace root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The absolute path under the root for `requested`, which may exist or not.
    ///
    /// Relative paths are taken from the root; absolute paths are accepted only
    /// inside it. Symbolic links are followed and must stay inside the workspace.
    pub fn resolve(&self, requested: &str) -> Result<PathBuf, SandboxError> {
        check_shape(requested)?;
        let lexical = self.normalize(requested)?;
        let resolved = canonicalize_existing(&lexical).map_err(|error| match error {
            Missing::BrokenSymlink => SandboxError::BrokenSymlink {
                path: quoted(requested),
            },
            Missing::Io(source) => SandboxError::Io {
                path: quoted(requested),
                source,
            },
        })?;
        if resolved.starts_with(&self.root) {
            Ok(resolved)
        } else if lexical.starts_with(&self.root) {
            Err(SandboxError::SymlinkEscape {
                path: quoted(requested),
            })
        } else {
            Err(SandboxError::OutsideWorkspace {
                path: quoted(requested),
            })
        }
    }

    /// Like [`Sandbox::resolve`], and also refuses the workspace root itself, the
    /// workspace's `.infiagent/` directory and any `.git/` directory.
    pub fn resolve_for_write(&self, requested: &str) -> Result<PathBuf, SandboxError> {
        let resolved = self.resolve(requested)?;
        let inside = resolved.strip_prefix(&self.root).unwrap_or(&resolved);
        let mut names = inside.components().map(Component::as_os_str);
        let Some(first) = names.next() else {
            return Err(SandboxError::WorkspaceRoot {
                path: quoted(requested),
            });
        };
        let protected = |directory, reason| SandboxError::Protected {
            path: quoted(requested),
            directory,
            reason,
        };
        if first == ".infiagent" {
            return Err(protected(
                ".infiagent/",
                "holds InfiAgent's own state (run records, the Python environment)",
            ));
        }
        if first == ".git" || names.any(|name| name == ".git") {
            return Err(protected(
                ".git/",
                "holds version-control data that a direct write could corrupt",
            ));
        }
        Ok(resolved)
    }

    /// The workspace-relative form of `absolute` with `/` separators, `.` for the
    /// root itself; a path outside the root is shown as is.
    pub fn relative(&self, absolute: &Path) -> String {
        match absolute.strip_prefix(&self.root) {
            Ok(inside) if inside.as_os_str().is_empty() => ".".to_string(),
            Ok(inside) => inside
                .components()
                .map(|component| component.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
            Err(_) => absolute.display().to_string(),
        }
    }

    /// `requested` made absolute and with `.` and `..` folded, without touching
    /// the file system. A relative path may not climb above the root.
    fn normalize(&self, requested: &str) -> Result<PathBuf, SandboxError> {
        let requested_path = Path::new(requested);
        let (mut normalized, floor) = if requested_path.is_absolute() {
            (PathBuf::from("/"), 1)
        } else {
            (self.root.clone(), self.root.components().count())
        };
        for component in requested_path.components() {
            match component {
                Component::Prefix(_) | Component::RootDir | Component::CurDir => {}
                Component::Normal(name) => normalized.push(name),
                Component::ParentDir if normalized.components().count() > floor => {
                    normalized.pop();
                }
                Component::ParentDir => {
                    return Err(SandboxError::OutsideWorkspace {
                        path: quoted(requested),
                    });
                }
            }
        }
        Ok(normalized)
    }
}

/// Refuses paths no file system would take: empty, with NUL, or too long.
fn check_shape(requested: &str) -> Result<(), SandboxError> {
    if requested.is_empty() {
        return Err(SandboxError::Empty);
    }
    if requested.contains('\0') {
        return Err(SandboxError::NulByte {
            path: quoted(requested),
        });
    }
    if requested.len() > MAX_PATH_BYTES {
        return Err(SandboxError::PathTooLong {
            path: quoted(requested),
            length: requested.len(),
        });
    }
    let longest_name = requested.split('/').map(str::len).max().unwrap_or(0);
    if longest_name > MAX_NAME_BYTES {
        return Err(SandboxError::NameTooLong {
            path: quoted(requested),
            length: longest_name,
        });
    }
    Ok(())
}

/// Why the existing part of a path could not be canonicalized.
enum Missing {
    /// A symbolic link on the path points to nothing.
    BrokenSymlink,
    /// Any other file-system failure.
    Io(io::Error),
}

/// Canonicalizes the longest existing ancestor of the absolute `lexical` path and
/// appends the part that does not exist yet.
fn canonicalize_existing(lexical: &Path) -> Result<PathBuf, Missing> {
    let mut existing = lexical.to_path_buf();
    let mut missing_tail: Vec<OsString> = Vec::new();
    loop {
        match std::fs::canonicalize(&existing) {
            Ok(mut canonical) => {
                canonical.extend(missing_tail.iter().rev());
                return Ok(canonical);
            }
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                // The entry itself exists, so it is a link whose target is missing.
                if existing.symlink_metadata().is_ok() {
                    return Err(Missing::BrokenSymlink);
                }
                let Some(name) = existing.file_name() else {
                    return Err(Missing::Io(error));
                };
                missing_tail.push(name.to_os_string());
                existing.pop();
            }
            Err(error) => return Err(Missing::Io(error)),
        }
    }
}

/// `requested` for an error message: control characters escaped, cut when huge.
fn quoted(requested: &str) -> String {
    let mut shown = String::new();
    for (count, character) in requested.chars().enumerate() {
        if count == MAX_QUOTED_CHARS {
            shown.push_str(&format!("... ({} bytes in all)", requested.len()));
            break;
        }
        if character.is_control() {
            shown.extend(character.escape_default());
        } else {
            shown.push(character);
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::os::unix::fs::symlink;

    /// A workspace with `a/b/file.txt`, `.git/config`, a link `out` to a directory
    /// outside, a link `inner` to `a/b`, and a broken link `broken`.
    struct Fixture {
        _outside: tempfile::TempDir,
        _workspace: tempfile::TempDir,
        sandbox: Sandbox,
    }

    fn fixture() -> Fixture {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "secret").unwrap();
        let workspace = tempfile::tempdir().unwrap();
        let root = workspace.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/file.txt"), "text").unwrap();
        std::fs::create_dir(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/config"), "").unwrap();
        symlink(outside.path(), root.join("out")).unwrap();
        symlink(root.join("a/b"), root.join("inner")).unwrap();
        symlink(root.join("nowhere"), root.join("broken")).unwrap();
        let sandbox = Sandbox::new(root).unwrap();
        Fixture {
            _outside: outside,
            _workspace: workspace,
            sandbox,
        }
    }

    /// What a resolution should give: a path relative to the root, or an error
    /// message fragment.
    enum Expected {
        Inside(&'static str),
        Refused(&'static str),
    }
    use Expected::{Inside, Refused};

    fn check(
        sandbox: &Sandbox,
        requested: &str,
        result: Result<PathBuf, SandboxError>,
        expected: &Expected,
    ) {
        match (result, expected) {
            (Ok(path), Inside(relative)) => {
                assert_eq!(path, sandbox.root().join(relative), "{requested}");
            }
            (Err(error), Refused(fragment)) => {
                let message = error.to_string();
                assert!(
                    message.contains(fragment),
                    "{requested}: '{message}' lacks '{fragment}'"
                );
            }
            (Ok(path), Refused(_)) => panic!("{requested} resolved to {path:?}"),
            (Err(error), Inside(_)) => panic!("{requested} was refused: {error}"),
        }
    }

    #[test]
    fn resolve_table() {
        let fixture = fixture();
        let sandbox = &fixture.sandbox;
        let absolute_inside = format!("{}/a/b/file.txt", sandbox.root().display());
        let long_path = "a/".repeat(2500);
        let long_name = "n".repeat(256);
        let table: Vec<(&str, Expected)> = vec![
            ("a/b/file.txt", Inside("a/b/file.txt")),
            ("new/dir/file.txt", Inside("new/dir/file.txt")),
            (
                "../x",
                Refused("path '../x' is outside the workspace; use a path relative"),
            ),
            ("a/../../x", Refused("is outside the workspace")),
            (
                "/etc/passwd",
                Refused("path '/etc/passwd' is outside the workspace"),
            ),
            (&absolute_inside, Inside("a/b/file.txt")),
            ("out", Refused("symbolic link that leads outside")),
            ("out/secret", Refused("symbolic link that leads outside")),
            ("out/new.txt", Refused("symbolic link that leads outside")),
            ("inner/file.txt", Inside("a/b/file.txt")),
            ("broken", Refused("broken symbolic link")),
            ("broken/x", Refused("broken symbolic link")),
            ("a..b", Inside("a..b")),
            ("..a/b", Inside("..a/b")),
            ("foo/./bar", Inside("foo/bar")),
            ("a/b/../b/./file.txt", Inside("a/b/file.txt")),
            ("a//b", Inside("a/b")),
            (".", Inside("")),
            (
                &long_path,
                Refused("5000 bytes long, more than the 4096 allowed"),
            ),
            (&long_name, Refused("a name of 256 bytes")),
            ("a\0b", Refused("path 'a\\u{0}b' contains a NUL byte")),
            ("", Refused("the path is empty")),
            (".git/config", Inside(".git/config")),
            (".infiagent/x", Inside(".infiagent/x")),
        ];
        for (requested, expected) in &table {
            check(sandbox, requested, sandbox.resolve(requested), expected);
        }
    }

    #[test]
    fn resolve_for_write_table() {
        let fixture = fixture();
        let sandbox = &fixture.sandbox;
        let table = [
            ("a/b/new.txt", Inside("a/b/new.txt")),
            (
                ".git/config",
                Refused("inside .git/, which holds version-control data"),
            ),
            ("a/.git/HEAD", Refused("inside .git/")),
            (
                ".infiagent/x",
                Refused("inside .infiagent/, which holds InfiAgent's own state"),
            ),
            ("a/.infiagent", Inside("a/.infiagent")),
            (".gitignore", Inside(".gitignore")),
            (".", Refused("is the workspace root itself")),
            ("a/..", Refused("is the workspace root itself")),
            ("../x", Refused("is outside the workspace")),
        ];
        for (requested, expected) in &table {
            check(
                sandbox,
                requested,
                sandbox.resolve_for_write(requested),
                expected,
            );
        }
    }

    #[test]
    fn a_link_to_the_git_directory_is_refused_for_write() {
        let fixture = fixture();
        let root = fixture.sandbox.root();
        symlink(root.join(".git"), root.join("g")).unwrap();
        let error = fixture.sandbox.resolve_for_write("g/config").unwrap_err();
        assert!(error.to_string().contains("inside .git/"), "{error}");
    }

    #[test]
    fn huge_paths_are_quoted_short_and_escaped() {
        let requested = format!("{}\n", "x".repeat(300));
        let shown = quoted(&requested);
        assert_eq!(shown, format!("{}... (301 bytes in all)", "x".repeat(200)));
        assert_eq!(quoted("a\tb\n"), "a\\tb\\n");
    }

    #[test]
    fn relative_uses_slashes_and_dot_for_the_root() {
        let fixture = fixture();
        let sandbox = &fixture.sandbox;
        assert_eq!(
            sandbox.relative(&sandbox.root().join("a/b/c.txt")),
            "a/b/c.txt"
        );
        assert_eq!(sandbox.relative(sandbox.root()), ".");
        assert_eq!(sandbox.relative(Path::new("/etc/passwd")), "/etc/passwd");
    }

    #[test]
    fn the_root_must_be_an_existing_directory() {
        let fixture = fixture();
        let file = fixture.sandbox.root().join("a/b/file.txt");
        assert!(matches!(
            Sandbox::new(&file),
            Err(SandboxError::RootNotDirectory { .. })
        ));
        assert!(matches!(
            Sandbox::new(&fixture.sandbox.root().join("missing")),
            Err(SandboxError::Root { .. })
        ));
    }

    fn component() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "..", ".", "a", "b", "out", "inner", "broken", "file.txt", "", ".git",
        ])
    }

    proptest! {
        #[test]
        fn resolved_paths_never_leave_the_root(
            leading_slash in any::<bool>(),
            components in prop::collection::vec(component(), 1..8),
        ) {
            let fixture = fixture();
            let sandbox = &fixture.sandbox;
            let mut requested = components.join("/");
            if leading_slash {
                requested.insert(0, '/');
            }
            let results = [sandbox.resolve(&requested), sandbox.resolve_for_write(&requested)];
            for resolved in results.into_iter().flatten() {
                prop_assert!(resolved.starts_with(sandbox.root()), "{requested} -> {resolved:?}");
                prop_assert!(!resolved.components().any(|c| c == Component::ParentDir));
            }
        }

        #[test]
        fn absolute_prefixes_of_the_root_stay_inside(
            components in prop::collection::vec(component(), 0..6),
        ) {
            let fixture = fixture();
            let sandbox = &fixture.sandbox;
            let requested = format!("{}/{}", sandbox.root().display(), components.join("/"));
            if let Ok(resolved) = sandbox.resolve(&requested) {
                prop_assert!(resolved.starts_with(sandbox.root()), "{requested} -> {resolved:?}");
            }
        }
    }
}
