//! The index of a workspace: a parallel, gitignore-aware scan into descriptors,
//! kept up to date file by file, cached on disk.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ignore::{DirEntry, WalkBuilder, WalkState};

use crate::cache;
use crate::descriptor::{Descriptor, Detail, content_hash, describe};
use crate::rank::{MemoryIndex, Ranked};
use crate::rank_terms::RankTerms;
use crate::tag::tag;

/// Folders never indexed, wherever they are.
const SKIPPED_FOLDERS: [&str; 4] = [".git", ".infiagent", "target", "node_modules"];

/// [`WorkspaceIndex::parse_files`] uses more threads only for more files than this each.
const PARSE_FILES_PER_THREAD: usize = 16;

/// A file holding a NUL byte in its first this many bytes is binary.
const BINARY_SNIFF_BYTES: usize = 8000;

/// How a workspace is scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexOptions {
    /// Files larger than this are skipped (default 1 MiB).
    pub max_file_bytes: u64,
    /// Where the descriptor cache lives (e.g. `<workspace>/.infiagent/index`);
    /// `None` for no cache.
    pub cache_dir: Option<PathBuf>,
}

impl Default for IndexOptions {
    fn default() -> IndexOptions {
        IndexOptions {
            max_file_bytes: 1024 * 1024,
            cache_dir: None,
        }
    }
}

/// Counts of the last scan and of the index now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexStats {
    /// Files in the index.
    pub files: usize,
    /// Files described since the scan started (tagged, parsed, or read for
    /// unknown languages), not taken from the cache.
    pub parsed: usize,
    /// Files whose descriptor came from the cache.
    pub cached: usize,
    /// Files skipped by the scan: binary, too large, unreadable.
    pub skipped: usize,
    /// Bytes of the indexed files.
    pub bytes: u64,
    /// Definitions in all descriptors.
    pub definitions: usize,
    /// How long the scan took.
    pub duration: Duration,
}

/// Why a workspace cannot be indexed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The workspace folder cannot be read.
    #[error("cannot read the workspace folder {}: {source}; check that it exists and is readable", root.display())]
    Root {
        /// The folder given.
        root: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The workspace is a file, not a folder.
    #[error("the workspace {} is not a folder; give the folder that holds the files", root.display())]
    NotADirectory {
        /// The path given.
        root: PathBuf,
    },
    /// The descriptor cache cannot be written.
    #[error("cannot write the index cache {}: {source}; make its folder writable or index without a cache", path.display())]
    CacheWrite {
        /// The cache file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// The descriptors of every file of a workspace, by workspace-relative path.
#[derive(Debug, Clone)]
pub struct WorkspaceIndex {
    root: PathBuf,
    options: IndexOptions,
    pub(crate) files: BTreeMap<String, Descriptor>,
    /// What the ranking reads, kept in step with `files`.
    pub(crate) terms: RankTerms,
    parsed: usize,
    cached: usize,
    skipped: usize,
    duration: Duration,
}

/// What the scan makes of one walked entry.
enum Scanned {
    Described(Descriptor),
    Cached(Descriptor),
    Skipped,
}

impl WorkspaceIndex {
    /// Scans `root` on all cores: honours `.gitignore`, `.ignore` and hidden
    /// files; skips `.git`, `.infiagent`, `target`, `node_modules`, binary files
    /// and files over [`IndexOptions::max_file_bytes`]. Source files are tagged
    /// lexically ([`Detail::Tagged`]); the ones an agent reads are parsed later
    /// ([`WorkspaceIndex::unparsed_paths`]). With a cache folder, only files
    /// whose content changed are described again, and the cache is written back
    /// when anything changed.
    pub fn scan(root: &Path, options: &IndexOptions) -> Result<WorkspaceIndex, IndexError> {
        let started = Instant::now();
        let metadata = fs::metadata(root).map_err(|source| IndexError::Root {
            root: root.to_path_buf(),
            source,
        })?;
        if !metadata.is_dir() {
            return Err(IndexError::NotADirectory {
                root: root.to_path_buf(),
            });
        }
        let cached_descriptors = options
            .cache_dir
            .as_deref()
            .map(cache::load)
            .unwrap_or_default();
        let (sender, receiver) = mpsc::channel();
        WalkBuilder::new(root)
            .require_git(false)
            .filter_entry(|entry| {
                !(entry.depth() > 0
                    && entry.file_type().is_some_and(|kind| kind.is_dir())
                    && entry
                        .file_name()
                        .to_str()
                        .is_some_and(|name| SKIPPED_FOLDERS.contains(&name)))
            })
            .build_parallel()
            .run(|| {
                let sender = sender.clone();
                let cached_descriptors = &cached_descriptors;
                Box::new(move |entry| {
                    let scanned = match entry {
                        Ok(entry) => match scan_entry(root, &entry, options, cached_descriptors) {
                            Some(scanned) => scanned,
                            None => return WalkState::Continue,
                        },
                        Err(_) => Scanned::Skipped,
                    };
                    match sender.send(scanned) {
                        Ok(()) => WalkState::Continue,
                        Err(_) => WalkState::Quit,
                    }
                })
            });
        drop(sender);
        let mut index = WorkspaceIndex {
            root: root.to_path_buf(),
            options: options.clone(),
            files: BTreeMap::new(),
            terms: RankTerms::default(),
            parsed: 0,
            cached: 0,
            skipped: 0,
            duration: Duration::ZERO,
        };
        for scanned in receiver {
            match scanned {
                Scanned::Described(descriptor) => {
                    index.parsed += 1;
                    index.files.insert(descriptor.path.clone(), descriptor);
                }
                Scanned::Cached(descriptor) => {
                    index.cached += 1;
                    index.files.insert(descriptor.path.clone(), descriptor);
                }
                Scanned::Skipped => index.skipped += 1,
            }
        }
        for (path, descriptor) in &index.files {
            index.terms.set(path, Some(descriptor));
        }
        let cache_is_current = index.parsed == 0 && index.cached == cached_descriptors.len();
        if !cache_is_current {
            index.save()?;
        }
        index.duration = started.elapsed();
        Ok(index)
    }

    /// Writes the descriptor cache, when the options name a cache folder.
    pub fn save(&self) -> Result<(), IndexError> {
        match &self.options.cache_dir {
            Some(cache_dir) => cache::save(cache_dir, self.files.values()),
            None => Ok(()),
        }
    }

    /// The workspace folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// How the workspace was scanned.
    pub fn options(&self) -> &IndexOptions {
        &self.options
    }

    /// Describes one file again, from its new text (after an agent's write, or
    /// a change seen by a file watcher).
    pub fn update(&mut self, relative_path: &str, text: &str) {
        let path = normalize(relative_path);
        let descriptor = describe(&path, text);
        self.parsed += 1;
        self.put(path, descriptor);
    }

    /// Puts `descriptor` at `path`, updating what the ranking reads only when
    /// the names, references or words changed (most keystrokes change none).
    fn put(&mut self, path: String, descriptor: Descriptor) {
        let same_terms = self.files.get(&path).is_some_and(|current| {
            current.summary == descriptor.summary
                && current.references == descriptor.references
                && current.words == descriptor.words
                && current
                    .definitions
                    .iter()
                    .map(|definition| &definition.name)
                    .eq(descriptor
                        .definitions
                        .iter()
                        .map(|definition| &definition.name))
        });
        if !same_terms {
            self.terms.set(&path, Some(&descriptor));
        }
        self.files.insert(path, descriptor);
    }

    /// The tagged files among the first of `ranked` that
    /// [`WorkspaceIndex::render_within`] is likely to show within
    /// `budget_tokens`: parse them ([`WorkspaceIndex::parse_files`],
    /// [`WorkspaceIndex::refine`]) before rendering, so an agent reads
    /// signatures from the grammar; the few it misses are found after rendering
    /// ([`WorkspaceIndex::tagged_paths`]).
    pub fn unparsed_paths(&self, ranked: &[Ranked], budget_tokens: usize) -> Vec<String> {
        // Characters per token of rendered descriptors, counted low, and a
        // quarter more than the budget: parsing is the slow part of a
        // context, so the estimate stays close.
        const CHARACTERS_PER_TOKEN: usize = 6;
        let ceiling = budget_tokens.saturating_add(budget_tokens / 4);
        let mut estimated = 0_usize;
        let mut paths = Vec::new();
        for item in ranked {
            if estimated > ceiling {
                break;
            }
            let Some(descriptor) = self.files.get(&item.path) else {
                continue;
            };
            estimated += descriptor.render().len() / CHARACTERS_PER_TOKEN;
            if descriptor.detail == Detail::Tagged {
                paths.push(item.path.clone());
            }
        }
        paths
    }

    /// The files `memory` shows that are still tagged: the estimate of
    /// [`WorkspaceIndex::unparsed_paths`] missed them; parse them and render again.
    pub fn tagged_paths(&self, memory: &MemoryIndex) -> Vec<String> {
        memory
            .files
            .iter()
            .filter(|file| {
                self.files
                    .get(&file.path)
                    .is_some_and(|descriptor| descriptor.detail == Detail::Tagged)
            })
            .map(|file| file.path.clone())
            .collect()
    }

    /// Reads and parses files of the workspace at `root` (workspace-relative
    /// paths); unreadable, binary and too large files are left out. Takes no
    /// index, so a shared one is not locked meanwhile: parse, then
    /// [`WorkspaceIndex::refine`].
    pub fn parse_files(
        root: &Path,
        options: &IndexOptions,
        relative_paths: &[String],
    ) -> Vec<Descriptor> {
        let parse = |relative: &String| {
            let path = normalize(relative);
            let text = read_text(&root.join(&path), options.max_file_bytes)?;
            Some(describe(&path, &text))
        };
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(relative_paths.len() / PARSE_FILES_PER_THREAD)
            .max(1);
        if threads == 1 {
            return relative_paths.iter().filter_map(parse).collect();
        }
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|first| {
                    scope.spawn(move || {
                        relative_paths
                            .iter()
                            .skip(first)
                            .step_by(threads)
                            .filter_map(parse)
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| worker.join().unwrap_or_default())
                .collect()
        })
    }

    /// Puts parsed descriptors in place of tagged ones; a file described since
    /// (an open document's descriptor, an agent's write) is left as it is.
    pub fn refine(&mut self, parsed: Vec<Descriptor>) {
        for descriptor in parsed {
            let path = normalize(&descriptor.path);
            if let Some(current) = self.files.get_mut(&path)
                && current.detail == Detail::Tagged
            {
                // The same text keeps its lexical names for ranking: the
                // grammar's outline can leave some out (functions a macro
                // wraps), and a task naming one must still find the file.
                if current.content_hash != descriptor.content_hash {
                    self.terms.set(&path, Some(&descriptor));
                }
                *current = descriptor;
            }
        }
    }

    /// Takes a descriptor made elsewhere (an open document's, kept current
    /// incrementally by a [`crate::LiveDocument`]).
    pub fn insert(&mut self, descriptor: Descriptor) {
        let path = normalize(&descriptor.path);
        self.put(path, descriptor);
    }

    /// Forgets one file.
    pub fn remove(&mut self, relative_path: &str) {
        let path = normalize(relative_path);
        self.terms.set(&path, None);
        self.files.remove(&path);
    }

    /// The descriptor of one file.
    pub fn get(&self, relative_path: &str) -> Option<&Descriptor> {
        self.files.get(&normalize(relative_path))
    }

    /// The number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether the index holds no file.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Every descriptor, sorted by path.
    pub fn descriptors(&self) -> impl Iterator<Item = &Descriptor> {
        self.files.values()
    }

    /// Counts of the last scan (parsed, cached, skipped, duration) and of the
    /// index now (files, bytes, definitions).
    pub fn stats(&self) -> IndexStats {
        IndexStats {
            files: self.files.len(),
            parsed: self.parsed,
            cached: self.cached,
            skipped: self.skipped,
            bytes: self.files.values().map(|descriptor| descriptor.size).sum(),
            definitions: self
                .files
                .values()
                .map(|descriptor| descriptor.definitions.len())
                .sum(),
            duration: self.duration,
        }
    }
}

/// `./src\a.rs` → `src/a.rs`.
fn normalize(relative_path: &str) -> String {
    let path = relative_path.replace('\\', "/");
    let mut path = path.as_str();
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    path.to_owned()
}

/// The workspace-relative path of an entry, with `/` separators.
fn relative_path(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<_> = relative
        .components()
        .map(|component| component.as_os_str().to_string_lossy())
        .collect();
    parts.join("/")
}

/// Describes one walked file, or takes it from the cache; `None` for folders
/// and anything that is not a regular file.
fn scan_entry(
    root: &Path,
    entry: &DirEntry,
    options: &IndexOptions,
    cached_descriptors: &HashMap<String, Descriptor>,
) -> Option<Scanned> {
    if !entry.file_type().is_some_and(|kind| kind.is_file()) {
        return None;
    }
    let Some(text) = read_text(entry.path(), options.max_file_bytes) else {
        return Some(Scanned::Skipped);
    };
    let path = relative_path(root, entry.path());
    if let Some(cached) = cached_descriptors.get(&path)
        && cached.content_hash == content_hash(&text)
        && cached.size == text.len() as u64
    {
        return Some(Scanned::Cached(cached.clone()));
    }
    Some(Scanned::Described(tag(&path, &text)))
}

/// The text of a file; `None` when it is too large, binary or unreadable.
/// Invalid UTF-8 is replaced, not refused.
fn read_text(path: &Path, max_file_bytes: u64) -> Option<String> {
    let file = fs::File::open(path).ok()?;
    let size = file.metadata().ok()?.len();
    if size > max_file_bytes {
        return None;
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max_file_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .ok()?;
    if bytes.len() as u64 > max_file_bytes {
        return None;
    }
    let sniffed = &bytes[..bytes.len().min(BINARY_SNIFF_BYTES)];
    if sniffed.contains(&0) {
        return None;
    }
    Some(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized() {
        assert_eq!(normalize("./src\\a.rs"), "src/a.rs");
        assert_eq!(normalize("src/a.rs"), "src/a.rs");
        assert_eq!(
            relative_path(Path::new("/w"), Path::new("/w/src/a.rs")),
            "src/a.rs"
        );
    }

    #[test]
    fn missing_roots_and_files_as_roots_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = WorkspaceIndex::scan(&dir.path().join("nope"), &IndexOptions::default());
        assert!(matches!(missing, Err(IndexError::Root { .. })));
        let file = dir.path().join("file.txt");
        fs::write(&file, "x").unwrap();
        let error = WorkspaceIndex::scan(&file, &IndexOptions::default()).unwrap_err();
        assert!(error.to_string().contains("is not a folder"), "{error}");
    }

    #[test]
    fn update_get_and_remove() {
        let dir = tempfile::tempdir().unwrap();
        let mut index = WorkspaceIndex::scan(dir.path(), &IndexOptions::default()).unwrap();
        assert!(index.is_empty());
        index.update("./src/a.rs", "fn alpha() {}\n");
        assert_eq!(index.len(), 1);
        assert_eq!(index.get("src/a.rs").unwrap().definitions[0].name, "alpha");
        index.remove("src/a.rs");
        assert!(index.get("src/a.rs").is_none());
    }
}
