//! The server's shared state. Every lock is a short synchronous scope: none is
//! held across an `.await`.
//!
//! Lock order: the `Mutex`es of [`State`] are taken one at a time; where a scope
//! needs two, it takes `documents` before `index` (the index is re-described
//! from a document while the document is borrowed), and nothing is taken while
//! `engine` is held.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard, OnceLock};

use infiagent_engine::{Engine, SharedIndex};

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
    /// `workspace/codeLens/refresh`.
    pub code_lens_refresh: bool,
}

/// The last run that can be undone and the files it changed, if any.
pub(crate) type UndoableRun = Option<(String, Vec<String>)>;

pub(crate) struct State {
    pub client: Client,
    pub root: Mutex<Option<PathBuf>>,
    pub support: Mutex<ClientSupport>,
    pub documents: Mutex<Documents>,
    pub settings: Mutex<Settings>,
    pub runs: Mutex<Runs>,
    pub diagnostics: Mutex<DiagnosticStore>,
    /// The model configuration problem was shown once already.
    pub model_warning_shown: AtomicBool,
    /// The workspace's memory index, once scanned; runs share it.
    pub index: OnceLock<SharedIndex>,
    /// The workspace's engine, opened on the first run and kept until the
    /// configuration or an agent file changes.
    pub engine: Mutex<EngineSlot>,
    /// The workspace's interrupted runs were recovered (once per server).
    pub recovered: AtomicBool,
    /// What the process sandbox enforces was checked, and said when incomplete
    /// (once per server).
    pub sandbox_checked: AtomicBool,
    /// The last run that can be undone, with the files it changed: read from
    /// the run records once, and again after a run, a build or an undo ends
    /// (code actions ask on every move of the cursor). `None`: not read yet.
    pub undoable: Mutex<Option<UndoableRun>>,
}

/// The engine in use and the generation of the settings and agent files it was
/// opened from: an engine opened while they changed is not kept.
#[derive(Default)]
pub(crate) struct EngineSlot {
    pub generation: u64,
    pub engine: Option<Engine>,
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
            model_warning_shown: AtomicBool::new(false),
            index: OnceLock::new(),
            engine: Mutex::new(EngineSlot::default()),
            recovered: AtomicBool::new(false),
            sandbox_checked: AtomicBool::new(false),
            undoable: Mutex::new(None),
        }
    }

    /// Drops the engine in use: the configuration or an agent file changed.
    pub fn invalidate_engine(&self) {
        let mut slot = lock(&self.engine);
        slot.generation += 1;
        slot.engine = None;
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
