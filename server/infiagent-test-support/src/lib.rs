//! What the tests of every crate share.
//!
//! - [`model`]: an in-process [`infiagent_model::ChatModel`] that replies from a
//!   script and records every request.
//! - [`openai`]: a fake OpenAI-compatible chat endpoint on loopback (wiremock) and
//!   the replies and request readers tests need; [`fault_server`]: a misbehaving
//!   one (axum) for the faults of the transport: cut, hanging and flooding bodies.
//! - [`workspace`]: temporary workspaces with files, agents and a configuration,
//!   and the recorded fixtures of `infiagent-evolve`.
//! - [`lsp`]: LSP framing and a client for a language server over stdio;
//!   [`latency`]: percentiles of timed samples, for the benchmarks.
//! - [`rerun`]: running one test of the current test binary again in a child
//!   process with a variable set (a test cannot set one in its own process).
//! - [`tools`]: a context for calling the basic tools directly.
//! - [`slow_stream`]: an endpoint that streams one reply with a pause in it.
//!
//! Only tests and benchmarks depend on this crate: a helper that cannot do its
//! work panics, as a test would.
#![deny(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod fault_server;
pub mod latency;
pub mod lsp;
pub mod model;
pub mod openai;
pub mod rerun;
pub mod slow_stream;
pub mod tools;
pub mod workspace;
