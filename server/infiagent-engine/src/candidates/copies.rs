//! Isolated copies of a site for candidate models: a git worktree when the site
//! lies in a git repository with a commit (plus the working tree's uncommitted and
//! untracked files), else a plain copy of the files the ignore rules keep; the
//! state each copy started from; what changed in it; and its removal.
//!
//! Copies live in the system's temporary folder, never under the workspace, so
//! neither the index scan nor a merge can pick them up. A [`CopyGroup`] removes
//! its copies when asked and, as a last resort, when dropped.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ignore::WalkBuilder;
use xxhash_rust::xxh3::xxh3_64;

use crate::config::STATE_DIR;

/// Files larger than this are neither copied nor compared.
pub(crate) const COPY_SIZE_LIMIT: u64 = 8 * 1024 * 1024;

/// Start of the name of each group's folder in the system's temporary folder.
const GROUP_PREFIX: &str = "infiagent-candidates-";

/// How a copy was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CopyMethod {
    /// `git worktree add --detach` at `HEAD`, then the working tree's changes.
    GitWorktree,
    /// The files the ignore rules keep, copied one by one.
    PlainCopy,
}

impl CopyMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            CopyMethod::GitWorktree => "git_worktree",
            CopyMethod::PlainCopy => "plain_copy",
        }
    }
}

/// One copy.
#[derive(Clone, Debug)]
pub(crate) struct WorkCopy {
    /// The folder made for it.
    pub dir: PathBuf,
    /// The copy of the site's root: `dir`, or a subfolder of it when the site is a
    /// subfolder of its repository.
    pub root: PathBuf,
    pub method: CopyMethod,
}

/// The git repository a site lies in.
#[derive(Clone, Debug)]
struct Repository {
    /// Its top level (canonical).
    top_level: PathBuf,
    /// The site's root relative to the top level, `/`-separated, empty or ending with `/`.
    prefix: String,
}

/// The copies made for one agent's candidates, removed together.
pub(crate) struct CopyGroup {
    dir: PathBuf,
    source: PathBuf,
    repository: Option<Repository>,
    copies: Vec<WorkCopy>,
    removed: bool,
}

impl CopyGroup {
    /// A new, empty group for copies of `source` (a canonical folder).
    pub async fn create(source: &Path, label: &str) -> io::Result<CopyGroup> {
        let source = source.to_path_buf();
        let label = sanitize(label);
        let task = move || -> io::Result<CopyGroup> {
            let dir = std::env::temp_dir()
                .join(format!("{GROUP_PREFIX}{label}-{:08x}", fastrand::u32(..)));
            std::fs::create_dir(&dir)?;
            let dir = std::fs::canonicalize(&dir)?;
            Ok(CopyGroup {
                repository: repository_of(&source),
                dir,
                source,
                copies: Vec::new(),
                removed: false,
            })
        };
        blocking(task).await
    }

    /// The group's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Makes a copy named `name`, with the files `inputs` (relative to the source)
    /// even when the ignore rules leave them out.
    pub async fn add(&mut self, name: &str, inputs: &[String]) -> io::Result<WorkCopy> {
        let dir = self.dir.join(sanitize(name));
        let method = match self.repository {
            Some(_) => CopyMethod::GitWorktree,
            None => CopyMethod::PlainCopy,
        };
        // Known before it exists, so that a failure halfway is cleaned up too.
        self.copies.push(WorkCopy {
            root: dir.clone(),
            dir: dir.clone(),
            method,
        });
        let index = self.copies.len() - 1;
        let source = self.source.clone();
        let repository = self.repository.clone();
        let inputs = inputs.to_vec();
        let copy = blocking(move || make_copy(&source, repository.as_ref(), &dir, &inputs)).await?;
        self.copies[index] = copy.clone();
        Ok(copy)
    }

    /// Removes every copy: worktrees with `git worktree remove --force` and
    /// `git worktree prune`, folders recursively.
    pub async fn remove(mut self) {
        self.removed = true;
        let (dir, repository, copies) = (
            self.dir.clone(),
            self.repository.clone(),
            self.copies.clone(),
        );
        let _ = tokio::task::spawn_blocking(move || {
            remove_copies(&dir, repository.as_ref(), &copies);
        })
        .await;
    }
}

impl Drop for CopyGroup {
    fn drop(&mut self) {
        if !self.removed {
            remove_copies(&self.dir, self.repository.as_ref(), &self.copies);
        }
    }
}

async fn blocking<T: Send + 'static>(
    task: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(task)
        .await
        .map_err(|err| io::Error::other(format!("the copy task failed: {err}")))?
}

fn make_copy(
    source: &Path,
    repository: Option<&Repository>,
    dir: &Path,
    inputs: &[String],
) -> io::Result<WorkCopy> {
    let mut copy = match repository {
        Some(repository) => match add_worktree(source, repository, dir) {
            Ok(copy) => copy,
            Err(err) => {
                tracing::warn!(%err, "git worktree failed; making a plain copy instead");
                remove_worktree(&repository.top_level, dir);
                let _ = std::fs::remove_dir_all(dir);
                plain_copy(source, dir)?
            }
        },
        None => plain_copy(source, dir)?,
    };
    for input in inputs {
        let Some(relative) = safe_relative(input) else {
            continue;
        };
        let destination = copy.root.join(&relative);
        let inside = std::fs::canonicalize(source.join(&relative))
            .is_ok_and(|resolved| resolved.starts_with(source));
        if inside && !destination.exists() {
            copy_regular_file(&source.join(&relative), &destination)?;
        }
    }
    copy.root = std::fs::canonicalize(&copy.root)?;
    Ok(copy)
}

fn add_worktree(source: &Path, repository: &Repository, dir: &Path) -> io::Result<WorkCopy> {
    let mut command = git(&repository.top_level);
    command
        .args(["worktree", "add", "--detach", "--quiet"])
        .arg(dir)
        .arg("HEAD");
    run_git(command)?;
    let root = dir.join(&repository.prefix);
    std::fs::create_dir_all(&root)?;
    let mut status = git(source);
    status.args([
        "status",
        "--porcelain",
        "-z",
        "--untracked-files=all",
        "--",
        ".",
    ]);
    let listing = run_git(status)?;
    for path in changed_paths(&listing) {
        let Some(relative) = path.strip_prefix(repository.prefix.as_str()) else {
            continue;
        };
        let Some(relative) = safe_relative(relative) else {
            continue;
        };
        sync_file(&source.join(&relative), &root.join(&relative))?;
    }
    Ok(WorkCopy {
        dir: dir.to_path_buf(),
        root,
        method: CopyMethod::GitWorktree,
    })
}

fn plain_copy(source: &Path, dir: &Path) -> io::Result<WorkCopy> {
    std::fs::create_dir_all(dir)?;
    for relative in walk_files(source) {
        copy_regular_file(&source.join(&relative), &dir.join(&relative))?;
    }
    Ok(WorkCopy {
        dir: dir.to_path_buf(),
        root: dir.to_path_buf(),
        method: CopyMethod::PlainCopy,
    })
}

/// Makes `destination` what `source` is in the working tree: a copy of a regular
/// file (within the size limit), or nothing when the source is gone.
fn sync_file(source: &Path, destination: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(source) {
        Ok(_) => copy_regular_file(source, destination),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            match std::fs::remove_file(destination) {
                Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
                _ => Ok(()),
            }
        }
        Err(err) => Err(err),
    }
}

/// Copies a regular file within the size limit; anything else is left out.
fn copy_regular_file(source: &Path, destination: &Path) -> io::Result<()> {
    let Ok(metadata) = std::fs::symlink_metadata(source) else {
        return Ok(());
    };
    if !metadata.is_file() || metadata.len() > COPY_SIZE_LIMIT {
        return Ok(());
    }
    if let Some(parent) = destination.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::copy(source, destination).map(|_| ())
}

/// A relative path that stays inside its root and outside `.git/` and `.infiagent/`.
fn safe_relative(path: &str) -> Option<PathBuf> {
    let path = path.trim_start_matches("./");
    let mut parts = path.split('/');
    let first = parts.next()?;
    let all_normal = path
        .split('/')
        .all(|part| !part.is_empty() && part != "." && part != ".." && part != ".git");
    (all_normal && first != STATE_DIR && !Path::new(path).is_absolute())
        .then(|| PathBuf::from(path))
}

/// The paths named by `git status --porcelain -z` (a rename names both).
fn changed_paths(listing: &[u8]) -> Vec<String> {
    let mut paths = Vec::new();
    let mut fields = listing
        .split(|byte| *byte == 0)
        .filter(|field| !field.is_empty());
    while let Some(field) = fields.next() {
        let Some(path) = field.get(3..) else {
            continue;
        };
        paths.push(String::from_utf8_lossy(path).into_owned());
        if matches!(field.first(), Some(b'R' | b'C'))
            && let Some(original) = fields.next()
        {
            paths.push(String::from_utf8_lossy(original).into_owned());
        }
    }
    paths
}

/// The repository `source` lies in, when it has a commit to check out.
fn repository_of(source: &Path) -> Option<Repository> {
    let mut top_level = git(source);
    top_level.args(["rev-parse", "--show-toplevel"]);
    let top_level = run_git(top_level).ok()?;
    let top_level = std::fs::canonicalize(String::from_utf8_lossy(&top_level).trim()).ok()?;
    let mut head = git(source);
    head.args(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]);
    run_git(head).ok()?;
    let inside = source.strip_prefix(&top_level).ok()?;
    let mut prefix = inside
        .components()
        .map(|component| component.as_os_str().to_str().map(str::to_string))
        .collect::<Option<Vec<_>>>()?
        .join("/");
    if !prefix.is_empty() {
        prefix.push('/');
    }
    Some(Repository { top_level, prefix })
}

/// `git -C dir` without hooks, without the caller's repository variables, and
/// without the optional index refresh that would take the user's index lock.
fn git(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .args(["-c", "core.hooksPath=/dev/null"])
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null());
    command
}

fn run_git(mut command: Command) -> io::Result<Vec<u8>> {
    let output = command.output()?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(io::Error::other(format!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

fn remove_worktree(top_level: &Path, dir: &Path) {
    let mut command = git(top_level);
    command
        .args(["worktree", "remove", "--force", "--force"])
        .arg(dir);
    if let Err(err) = run_git(command)
        && dir.exists()
    {
        tracing::warn!(%err, "cannot remove a candidate worktree");
    }
}

fn remove_copies(dir: &Path, repository: Option<&Repository>, copies: &[WorkCopy]) {
    if let Some(repository) = repository {
        for copy in copies {
            if copy.method == CopyMethod::GitWorktree && copy.dir.exists() {
                remove_worktree(&repository.top_level, &copy.dir);
            }
        }
    }
    match std::fs::remove_dir_all(dir) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => {
            tracing::warn!(path = %dir.display(), %err, "cannot remove candidate copies");
        }
        _ => {}
    }
    if let Some(repository) = repository {
        let mut prune = git(&repository.top_level);
        prune.args(["worktree", "prune"]);
        if let Err(err) = run_git(prune) {
            tracing::warn!(%err, "cannot prune candidate worktrees");
        }
    }
}

/// Keeps letters, digits, `-`, `_` and `.` of a name, for a folder.
fn sanitize(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    cleaned.trim_start_matches('.').chars().take(80).collect()
}

/// The regular files under `root` the ignore rules keep (`.gitignore`, `.ignore`,
/// git's excludes), `.git` and `.infiagent/` left out, within the size limit;
/// `/`-separated relative paths.
fn walk_files(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let walker = WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .filter_entry(|entry| {
            let name = entry.file_name();
            !(entry.depth() > 0
                && (name == ".git"
                    || (name == STATE_DIR && entry.file_type().is_some_and(|kind| kind.is_dir()))))
        })
        .build();
    for entry in walker.flatten() {
        let is_small_file = entry.file_type().is_some_and(|kind| kind.is_file())
            && entry
                .metadata()
                .is_ok_and(|metadata| metadata.len() <= COPY_SIZE_LIMIT);
        if !is_small_file {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(root) else {
            continue;
        };
        let parts: Option<Vec<&str>> = relative
            .components()
            .map(|component| component.as_os_str().to_str())
            .collect();
        if let Some(parts) = parts {
            files.push(parts.join("/"));
        }
    }
    files
}

/// A file's content, in short.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FileState {
    len: u64,
    hash: u64,
}

impl FileState {
    pub fn of(content: &[u8]) -> FileState {
        FileState {
            len: u64::try_from(content.len()).unwrap_or(u64::MAX),
            hash: xxh3_64(content),
        }
    }
}

/// What a change did to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    Created,
    Modified,
    Deleted,
}

/// One file changed in a copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Change {
    /// `/`-separated, relative to the copy's root.
    pub path: String,
    pub kind: ChangeKind,
}

/// The files of a copy and their contents, in short.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Snapshot {
    files: BTreeMap<String, FileState>,
}

impl Snapshot {
    /// The files under `root` the ignore rules keep, plus `extra` ones.
    pub fn take(root: &Path, extra: &[String]) -> io::Result<Snapshot> {
        let mut paths = walk_files(root);
        paths.extend(
            extra
                .iter()
                .filter_map(|path| safe_relative(path))
                .filter_map(|path| path.to_str().map(str::to_string)),
        );
        let mut files = BTreeMap::new();
        for path in paths {
            let absolute = root.join(&path);
            let small_file = std::fs::symlink_metadata(&absolute)
                .is_ok_and(|metadata| metadata.is_file() && metadata.len() <= COPY_SIZE_LIMIT);
            if small_file {
                files.insert(path, FileState::of(&std::fs::read(&absolute)?));
            }
        }
        Ok(Snapshot { files })
    }

    /// The state of `path`, if the snapshot has it.
    pub fn get(&self, path: &str) -> Option<FileState> {
        self.files.get(path).copied()
    }

    /// What changed from `before` to `self`, sorted by path.
    pub fn changes_since(&self, before: &Snapshot) -> Vec<Change> {
        let mut changes = Vec::new();
        for (path, state) in &self.files {
            let kind = match before.files.get(path) {
                None => ChangeKind::Created,
                Some(old) if old != state => ChangeKind::Modified,
                Some(_) => continue,
            };
            changes.push(Change {
                path: path.clone(),
                kind,
            });
        }
        for path in before.files.keys() {
            if !self.files.contains_key(path) {
                changes.push(Change {
                    path: path.clone(),
                    kind: ChangeKind::Deleted,
                });
            }
        }
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        changes
    }
}

/// Puts the editor's text of open files (unsaved changes included) into the copy,
/// so that candidates see what the agents of the workspace would see.
pub(crate) fn copy_open_buffers(
    copy_root: &Path,
    source: &Path,
    open_text: impl Fn(&Path) -> Option<String>,
) -> io::Result<()> {
    for relative in walk_files(copy_root) {
        let Some(text) = open_text(&source.join(&relative)) else {
            continue;
        };
        let destination = copy_root.join(&relative);
        if std::fs::read(&destination)? != text.as_bytes() {
            std::fs::write(&destination, text)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn git_in(dir: &Path, args: &[&str]) -> String {
        let output = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {output:?}");
        String::from_utf8(output.stdout).unwrap()
    }

    fn init_repository(root: &Path) {
        git_in(root, &["init", "--quiet"]);
        git_in(root, &["config", "user.name", "Test"]);
        git_in(root, &["config", "user.email", "test@example.invalid"]);
        git_in(root, &["config", "commit.gpgsign", "false"]);
    }

    fn files(root: &Path) -> Vec<String> {
        let mut files = walk_files(root);
        files.sort();
        files
    }

    #[test]
    fn porcelain_paths_include_both_sides_of_a_rename() {
        let listing = b" M src/a.py\0?? new file.txt\0R  b.py\0old b.py\0 D gone.md\0";
        assert_eq!(
            changed_paths(listing),
            ["src/a.py", "new file.txt", "b.py", "old b.py", "gone.md"]
        );
    }

    #[test]
    fn relative_paths_stay_inside_and_out_of_state_folders() {
        for (path, expected) in [
            ("a/b.py", Some("a/b.py")),
            ("./a.py", Some("a.py")),
            ("../a.py", None),
            ("a/../../b", None),
            (".infiagent/config.toml", None),
            ("a/.git/config", None),
            ("/etc/passwd", None),
            ("docs/.infiagent.md", Some("docs/.infiagent.md")),
        ] {
            assert_eq!(safe_relative(path), expected.map(PathBuf::from), "{path}");
        }
    }

    #[tokio::test]
    async fn a_plain_copy_keeps_what_the_ignore_rules_keep() {
        let workspace = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(workspace.path()).unwrap();
        write(&root, ".gitignore", "*.log\nbuild/\n");
        write(&root, "app.py", "print(1)\n");
        write(&root, "src/lib.py", "x = 1\n");
        write(&root, "debug.log", "noise\n");
        write(&root, "needed.log", "an input\n");
        write(&root, "build/out.bin", "artifact\n");
        write(&root, ".infiagent/config.toml", "[run]\n");
        write(&root, ".env.example", "A=1\n");
        let big = vec![b'x'; usize::try_from(COPY_SIZE_LIMIT).unwrap() + 1];
        std::fs::write(root.join("big.dat"), big).unwrap();

        let mut group = CopyGroup::create(&root, "run-agent").await.unwrap();
        let copy = group
            .add("0-model a", &["needed.log".to_string()])
            .await
            .unwrap();
        assert_eq!(copy.method, CopyMethod::PlainCopy);
        assert!(copy.root.starts_with(group.dir()));
        assert!(copy.root.ends_with("0-model_a"), "{}", copy.root.display());
        assert!(!copy.root.starts_with(&root));
        assert_eq!(
            files(&copy.root),
            [".env.example", ".gitignore", "app.py", "src/lib.py"]
        );
        assert!(copy.root.join("needed.log").is_file());
        assert!(!copy.root.join("debug.log").exists());

        let group_dir = group.dir().to_path_buf();
        group.remove().await;
        assert!(!group_dir.exists());
    }

    #[tokio::test]
    async fn a_worktree_copy_carries_uncommitted_and_untracked_files() {
        let workspace = tempfile::tempdir().unwrap();
        let top = std::fs::canonicalize(workspace.path()).unwrap();
        init_repository(&top);
        write(&top, ".gitignore", "*.log\n");
        write(&top, "project/kept.py", "kept = 1\n");
        write(&top, "project/edited.py", "old\n");
        write(&top, "project/removed.py", "removed\n");
        write(&top, "project/renamed.py", "renamed\n");
        write(&top, "outside.txt", "outside\n");
        git_in(&top, &["add", "."]);
        git_in(&top, &["commit", "--quiet", "-m", "start"]);
        write(&top, "project/edited.py", "new\n");
        std::fs::remove_file(top.join("project/removed.py")).unwrap();
        git_in(&top, &["mv", "project/renamed.py", "project/moved.py"]);
        write(&top, "project/untracked/data.csv", "a,b\n");
        write(&top, "project/run.log", "ignored\n");
        write(&top, "project/.infiagent/runs/x.jsonl", "{}\n");

        let root = top.join("project");
        let mut group = CopyGroup::create(&root, "run-agent").await.unwrap();
        let copy = group.add("1-strong", &[]).await.unwrap();
        assert_eq!(copy.method, CopyMethod::GitWorktree);
        assert!(copy.root.ends_with("1-strong/project"));
        assert_eq!(
            files(&copy.root),
            ["edited.py", "kept.py", "moved.py", "untracked/data.csv"]
        );
        assert_eq!(
            std::fs::read_to_string(copy.root.join("edited.py")).unwrap(),
            "new\n"
        );
        let listed = git_in(&top, &["worktree", "list", "--porcelain"]);
        assert_eq!(listed.matches("worktree ").count(), 2, "{listed}");

        let copy_dir = copy.dir.clone();
        group.remove().await;
        assert!(!copy_dir.exists());
        let listed = git_in(&top, &["worktree", "list", "--porcelain"]);
        assert_eq!(listed.matches("worktree ").count(), 1, "{listed}");
    }

    #[tokio::test]
    async fn a_repository_without_commits_gets_a_plain_copy_and_drop_cleans_up() {
        let workspace = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(workspace.path()).unwrap();
        init_repository(&root);
        write(&root, "a.py", "a = 1\n");
        let mut group = CopyGroup::create(&root, "run-agent").await.unwrap();
        let copy = group.add("0-m", &[]).await.unwrap();
        assert_eq!(copy.method, CopyMethod::PlainCopy);
        assert_eq!(files(&copy.root), ["a.py"]);
        let group_dir = group.dir().to_path_buf();
        drop(group);
        assert!(!group_dir.exists());
    }

    #[test]
    fn changes_are_created_modified_and_deleted() {
        let workspace = tempfile::tempdir().unwrap();
        let root = workspace.path();
        write(root, "same.txt", "same\n");
        write(root, "edited.txt", "before\n");
        write(root, "gone.txt", "gone\n");
        let before = Snapshot::take(root, &[]).unwrap();
        write(root, "edited.txt", "after!\n");
        write(root, "new/file.txt", "new\n");
        std::fs::remove_file(root.join("gone.txt")).unwrap();
        let after = Snapshot::take(root, &[]).unwrap();
        let changes: Vec<(String, ChangeKind)> = after
            .changes_since(&before)
            .into_iter()
            .map(|change| (change.path, change.kind))
            .collect();
        assert_eq!(
            changes,
            [
                ("edited.txt".to_string(), ChangeKind::Modified),
                ("gone.txt".to_string(), ChangeKind::Deleted),
                ("new/file.txt".to_string(), ChangeKind::Created),
            ]
        );
    }

    #[test]
    fn open_buffers_replace_the_disk_text_in_the_copy() {
        let source = tempfile::tempdir().unwrap();
        let copy = tempfile::tempdir().unwrap();
        write(copy.path(), "open.py", "on disk\n");
        write(copy.path(), "closed.py", "on disk\n");
        let open = source.path().join("open.py");
        copy_open_buffers(copy.path(), source.path(), |path| {
            (path == open).then(|| "unsaved\n".to_string())
        })
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(copy.path().join("open.py")).unwrap(),
            "unsaved\n"
        );
        assert_eq!(
            std::fs::read_to_string(copy.path().join("closed.py")).unwrap(),
            "on disk\n"
        );
    }
}
