//! The language server: the pyramid inside any LSP editor.
//!
//! Commands and code actions start runs on the engine; each run reports work-done
//! progress (its live call stack, tokens, cost) and is cancellable; the judge's
//! verdicts become diagnostics. Documents are kept in ropey from incremental
//! sync, and agents read the editor's text of open files.
//!
//! Architecture invariants:
//! - This is the only crate that knows LSP. It converts between `ls_types` and the
//!   engine's own types by hand (`commands.rs`, `diagnostics.rs`, `runs.rs`).
//! - No request handler waits on a model or a process: runs start on tasks of
//!   their own and are reported through notifications.
//! - Document changes are applied synchronously in the handler, before any
//!   `.await`, so they apply in order; no lock is held across an `.await`.
//! - An agent never overwrites a buffer with unsaved changes; writes to open,
//!   clean documents go through versioned `workspace/applyEdit`.
#![deny(missing_docs)]

mod builds;
mod code_actions;
mod command;
mod commands;
mod diagnostics;
mod documents;
mod editor;
mod evolution;
mod index;
mod progress;
mod run_notes;
mod runs;
mod server;
mod settings;
mod state;
mod undo;

#[cfg(test)]
mod tests;

use tower_lsp_server::{ClientSocket, LspService};

pub use command::{COMMANDS, Command};
pub use server::Server;

/// Requests and notifications handled at once (document changes stay ordered).
const CONCURRENCY: usize = 32;

/// The service and its client socket, for [`serve`] or an in-process transport.
pub fn service() -> (LspService<Server>, ClientSocket) {
    LspService::build(Server::new)
        .custom_method(
            "window/workDoneProgress/cancel",
            Server::work_done_progress_cancel,
        )
        .finish()
}

/// Serves the language server over a reader and writer (stdio in production).
pub async fn serve<I, O>(input: I, output: O)
where
    I: tokio::io::AsyncRead + Unpin,
    O: tokio::io::AsyncWrite,
{
    let (service, socket) = service();
    tower_lsp_server::Server::new(input, output, socket)
        .concurrency_level(CONCURRENCY)
        .serve(service)
        .await;
}
