//! The workspace's memory index, kept current: scanned once at start, then each
//! open document re-parsed incrementally on every change (tree-sitter fed by the
//! same edits as the rope), files re-described when the client reports them
//! changed on disk, and agents' writes re-described by the runs themselves.

use std::path::Path;
use std::sync::{Arc, RwLock};

use infiagent_index::LiveDocument;
use tower_lsp_server::ls_types::{
    DidChangeWatchedFilesRegistrationOptions, FileChangeType, FileEvent, FileSystemWatcher,
    GlobPattern, Registration, TextDocumentContentChangeEvent, Uri,
};

use crate::documents::file_path;
use crate::state::{State, lock};

/// Scans the workspace in the background, then asks the client to report file changes.
pub(crate) async fn start(state: Arc<State>) {
    let Some(root) = state.root() else {
        return;
    };
    match tokio::task::spawn_blocking(move || infiagent_engine::scan_index(&root)).await {
        Ok(Ok(index)) => {
            let index = Arc::new(RwLock::new(index));
            // Documents opened during the scan: their text wins over the disk's.
            {
                let live = lock(&state.live);
                let mut index = index
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for document in live.values() {
                    index.insert(document.descriptor());
                }
            }
            let _ = state.index.set(index);
        }
        Ok(Err(err)) => tracing::warn!(%err, "the workspace could not be indexed"),
        Err(err) => tracing::warn!(%err, "the index scan failed"),
    }
    let watchers = DidChangeWatchedFilesRegistrationOptions {
        watchers: vec![FileSystemWatcher {
            glob_pattern: GlobPattern::String("**/*".into()),
            kind: None,
        }],
    };
    let registration = Registration {
        id: "infiagent-watched-files".into(),
        method: "workspace/didChangeWatchedFiles".into(),
        register_options: serde_json::to_value(watchers).ok(),
    };
    if state.support().watched_files {
        let _ = state.client.register_capability(vec![registration]).await;
    }
}

/// The workspace-relative path of a document, if it is in the workspace.
fn relative(state: &State, uri: &Uri) -> Option<String> {
    let root = state.root()?;
    let path = file_path(uri)?;
    Some(
        path.strip_prefix(&root)
            .ok()?
            .to_string_lossy()
            .replace('\\', "/"),
    )
}

fn describe_live(state: &State, document: &LiveDocument) {
    if let Some(index) = state.index.get() {
        let descriptor = document.descriptor();
        index
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(descriptor);
    }
}

/// A document was opened: parse it and index the editor's text.
pub(crate) fn opened(state: &State, uri: &Uri, text: &str) {
    let Some(relative) = relative(state, uri) else {
        return;
    };
    let document = LiveDocument::new(&relative, text);
    describe_live(state, &document);
    lock(&state.live).insert(uri.as_str().to_string(), document);
}

/// A document changed: re-parse incrementally and re-describe (synchronous, so
/// changes apply in order).
pub(crate) fn changed(state: &State, uri: &Uri, changes: &[TextDocumentContentChangeEvent]) {
    let mut live = lock(&state.live);
    let Some(document) = live.get_mut(uri.as_str()) else {
        return;
    };
    for change in changes {
        let range = change.range.map(|range| {
            (
                (range.start.line, range.start.character),
                (range.end.line, range.end.character),
            )
        });
        document.apply_change(range, &change.text);
    }
    describe_live(state, document);
}

/// A document was closed: the disk is the truth again.
pub(crate) fn closed(state: &State, uri: &Uri) {
    lock(&state.live).remove(uri.as_str());
    if let (Some(relative), Some(path)) = (relative(state, uri), file_path(uri)) {
        refresh_from_disk(state, &relative, &path);
    }
}

/// Files changed on disk (outside the editor).
pub(crate) fn files_changed(state: &State, changes: &[FileEvent]) {
    for change in changes {
        if lock(&state.live).contains_key(change.uri.as_str()) {
            continue;
        }
        let (Some(relative), Some(path)) = (relative(state, &change.uri), file_path(&change.uri))
        else {
            continue;
        };
        if relative.starts_with(".infiagent/") || relative.starts_with(".git/") {
            continue;
        }
        if change.typ == FileChangeType::DELETED {
            if let Some(index) = state.index.get() {
                index
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .remove(&relative);
            }
        } else {
            refresh_from_disk(state, &relative, &path);
        }
    }
}

fn refresh_from_disk(state: &State, relative: &str, path: &Path) {
    let Some(index) = state.index.get() else {
        return;
    };
    let mut index = index
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match std::fs::read_to_string(path) {
        Ok(text) => index.update(relative, &text),
        Err(_) => index.remove(relative),
    }
}
