//! Path confinement: any path a model may give (relative or absolute, with `..`,
//! links, NUL bytes, any Unicode) is resolved by the sandbox of a workspace full of
//! links, inside and out. In the input, `{root}` stands for the workspace root and
//! `{outside}` for a folder beside it, outside the workspace.
//!
//! Properties: nothing panics; a resolved path is absolute, plain (no `.` or `..`)
//! and under the canonical root, and the part of it that exists, canonicalized
//! again here, is under the root too; a path resolved for writing is neither the
//! root nor inside `.infiagent/` or a `.git/` folder.

#![no_main]

use std::os::unix::fs::symlink;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

use infiagent_tools::Sandbox;
use libfuzzer_sys::fuzz_target;

/// The workspace and the folder outside it, kept for the whole run.
struct Fixture {
    outside: tempfile::TempDir,
    _workspace: tempfile::TempDir,
    sandbox: Sandbox,
}

/// Files, folders and links: absolute and relative links that stay inside, that
/// lead out (directly, through `..`, through other links), a broken link and a
/// link loop.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let outside = tempfile::tempdir().expect("a folder outside");
        std::fs::write(outside.path().join("secret"), "secret").expect("a secret");
        let outside_name = outside
            .path()
            .file_name()
            .expect("the outside folder has a name")
            .to_owned();
        let workspace = tempfile::Builder::new()
            .prefix("fuzz-workspace")
            .tempdir_in(outside.path().parent().expect("the temporary folder"))
            .expect("a workspace");
        let root = workspace.path();
        for folder in ["a/b", ".git", ".infiagent", "c"] {
            std::fs::create_dir_all(root.join(folder)).expect("a folder");
        }
        std::fs::write(root.join("a/b/file.txt"), "text").expect("a file");
        std::fs::write(root.join(".git/config"), "").expect("a git file");
        let links: Vec<(PathBuf, &str)> = vec![
            (outside.path().to_path_buf(), "out"),
            (Path::new("..").join(&outside_name), "out_relative"),
            (root.join("a/b"), "inner"),
            (PathBuf::from("a/b"), "inner_relative"),
            (PathBuf::from(".."), "up"),
            (root.to_path_buf(), "root_link"),
            (root.join("nowhere"), "broken"),
            (PathBuf::from("loop"), "loop"),
            (PathBuf::from("../.."), "a/b/back_to_root"),
            (PathBuf::from("../../.."), "a/b/escape"),
            (PathBuf::from("../up"), "c/through_up"),
            (PathBuf::from("../.git"), "c/git"),
            (PathBuf::from("/"), "slash"),
        ];
        for (target, link) in links {
            symlink(target, root.join(link)).expect("a link");
        }
        let sandbox = Sandbox::new(root).expect("a sandbox");
        Fixture {
            outside,
            _workspace: workspace,
            sandbox,
        }
    })
}

/// Panics unless `resolved` is a plain absolute path whose existing part is
/// under `root`, even canonicalized again.
fn check_inside(requested: &str, resolved: &Path, root: &Path) {
    assert!(
        resolved.starts_with(root),
        "{requested:?} resolved to {resolved:?}, outside {root:?}"
    );
    assert!(
        resolved
            .components()
            .skip(1)
            .all(|component| matches!(component, Component::Normal(_))),
        "{requested:?} resolved to {resolved:?}, which is not plain"
    );
    let mut existing = resolved.to_path_buf();
    while existing.symlink_metadata().is_err() && existing.pop() {}
    if let Ok(canonical) = existing.canonicalize() {
        assert!(
            canonical.starts_with(root),
            "{requested:?} resolved to {resolved:?}, whose existing part {existing:?} is really {canonical:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let root = fixture.sandbox.root();
    let requested = String::from_utf8_lossy(data)
        .replace("{root}", &root.to_string_lossy())
        .replace("{outside}", &fixture.outside.path().to_string_lossy());

    match fixture.sandbox.resolve(&requested) {
        Ok(resolved) => check_inside(&requested, &resolved, root),
        Err(error) => assert!(!error.to_string().is_empty()),
    }
    match fixture.sandbox.resolve_for_write(&requested) {
        Ok(resolved) => {
            check_inside(&requested, &resolved, root);
            let inside = resolved.strip_prefix(root).expect("under the root");
            let mut names = inside.components().map(Component::as_os_str);
            let first = names.next();
            assert!(
                first.is_some(),
                "{requested:?}: the root itself resolved for write"
            );
            assert!(
                first != Some(".infiagent".as_ref()) && first != Some(".git".as_ref()),
                "{requested:?} resolved for write to {resolved:?}"
            );
            assert!(
                names.all(|name| name != ".git"),
                "{requested:?} resolved for write to {resolved:?}"
            );
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
});
