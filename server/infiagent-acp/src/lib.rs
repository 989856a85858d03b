//! The Agent Client Protocol front-end (`infiagent acp`): the pyramid as an ACP
//! agent for Zed, Neovim (CodeCompanion, avante.nvim), Emacs (agent-shell) and
//! every other ACP client. See `docs/architecture.md`.
#![deny(missing_docs)]

mod editor;
mod mcp;
mod prompt;
mod replay;
mod server;
mod session;
mod updates;

pub use server::{ConfigLoader, serve};

/// Stdin and stdout as the ACP transport.
pub use agent_client_protocol::Stdio;
