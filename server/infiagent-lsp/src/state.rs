//! The server's shared state. Every lock is a short synchronous scope: none is
//! held across an `.await`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard, OnceLock};

use infiagent_engine::SharedIndex;

use tower_lsp_server::Client;

use crate::diagnostics::DiagnosticStore;
use crate::documents::Documents;
use crate::runs::Runs;
use crate::settings::Settings;

/// What the client said it supports.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ClientSupport {
    pub work_done_progress: bool,
    pub configuration: bool,
    pub change_annotations: bool,
    pub document_changes: bool,
    pub watched_files: bool,
}

pub(crate) struct State {
    pub client: Client,
    pub root: Mutex<Option<PathBuf>>,
    pub support: Mutex<ClientSupport>,
    pub documents: Mutex<Documents>,
    pub settings: Mutex<Settings>,
    pub runs: Mutex<Runs>,
    pub diagnostics: Mutex<DiagnosticStore>,
    /// Tools the user allowed "always" for this workspace.
    pub always_allowed: Mutex<BTreeSet<String>>,
    /// The model configuration problem was shown once already.
    pub model_warning_shown: AtomicBool,
    /// The workspace's memory index, once scanned; runs share it.
    pub index: OnceLock<SharedIndex>,
}

impl State {
    pub fn new(client: Client) -> State {
        State {
            client,
            root: Mutex::new(None),
            support: Mutex::new(ClientSupport::default()),
            documents: Mutex::new(Documents::default()),
            settings: Mutex::new(Settings::default()),
            runs: Mutex::new(Runs::default()),
            diagnostics: Mutex::new(DiagnosticStore::default()),
            always_allowed: Mutex::new(BTreeSet::new()),
            model_warning_shown: AtomicBool::new(false),
            index: OnceLock::new(),
        }
    }

    pub fn root(&self) -> Option<PathBuf> {
        lock(&self.root).clone()
    }

    pub fn support(&self) -> ClientSupport {
        *lock(&self.support)
    }
}

/// Locks a mutex, recovering the data if a panic poisoned it (the state stays usable).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
