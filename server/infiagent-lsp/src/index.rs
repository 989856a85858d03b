//! The workspace's memory index, kept current: scanned once at start, then each
//! open document re-parsed incrementally on every change (tree-sitter fed by the
//! same edits as the rope), files re-described when the client reports them
//! changed on disk, and agents' writes re-described by the runs themselves.

use std::path::Path;
use std::sync::{Arc, RwLock};

use tower_lsp_server::ls_types::{
    DidChangeWatchedFilesRegistrationOptions, FileChangeType, FileEvent, FileSystemWatcher,
    GlobPattern, Registration,
};

use crate::documents::{Document, file_path, relative_to};
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
                let documents = lock(&state.documents);
                let mut index = index
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for document in documents
                    .all()
                    .filter(|document| document.relative.is_some())
                {
                    index.insert(document.live.descriptor());
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

/// An open document's descriptor, from its incrementally kept tree, replaces the
/// disk's in the index (documents outside the workspace are not indexed).
pub(crate) fn document_changed(state: &State, document: &Document) {
    if document.relative.is_none() {
        return;
    }
    if let Some(index) = state.index.get() {
        let descriptor = document.live.descriptor();
        index
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(descriptor);
    }
}

/// A document was closed: the disk is the truth again.
pub(crate) fn closed(state: &State, document: &Document) {
    if let (Some(relative), Some(path)) = (&document.relative, &document.path) {
        refresh_from_disk(state, relative, path);
    }
}

/// Files changed on disk (outside the editor).
pub(crate) fn files_changed(state: &State, changes: &[FileEvent]) {
    let Some(root) = state.root() else {
        return;
    };
    for change in changes {
        if lock(&state.documents).get(&change.uri).is_some() {
            continue;
        }
        let Some(path) = file_path(&change.uri) else {
            continue;
        };
        let Some(relative) = relative_to(&root, &path) else {
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
