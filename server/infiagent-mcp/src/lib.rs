//! The tools of MCP servers for agents.
//!
//! `[mcp.servers.<name>]` ([`McpConfig`]) names a server: a program spoken to over
//! stdio or a streamable HTTP endpoint. [`McpServers`] starts a server the first
//! time an agent that lists its tools needs them (never when the engine opens),
//! keeps its tool list, offers its tools as `mcp__<server>__<tool>` with the
//! server's JSON schema, and calls them. Consent is the engine's (it asks before
//! calling, as the autonomy says).
//!
//! Architecture invariants:
//! - A server's program runs in its own process group, in the operating-system
//!   sandbox unless its configuration opts out, with only the variables it is
//!   given (API keys are not passed on); dropping its connection kills the group.
//! - A server never fails a run: a crash, a hang past `tool_timeout_s`, a broken
//!   protocol or a refusal comes back as an error text for the model, and the
//!   server is started again on the next call.
//! - The values of `env_from` and `headers_from` variables never leave this
//!   crate unredacted: every answer, description and error goes through the
//!   redactor, and the engine redacts them from the run's record
//!   ([`McpServers::secrets`]).
#![deny(missing_docs)]

mod config;
mod connect;
mod redact;
mod result;
mod servers;

pub use config::{McpConfig, McpServerConfig};
pub use result::MAX_RESULT_BYTES;
pub use servers::{Lookup, McpServers, McpTool, Offered, ServerState, ServerStatus};
