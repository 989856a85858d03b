//! The integration tests of `infiagent-engine`, one binary: runs against fake models: audits, cancellation, candidates, context, faults, the loop guard, spend per agent, resume and undo, run retention, MCP tools.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit;
mod cancellation;
mod candidates;
mod context;
mod faults;
mod loops;
mod mcp;
mod model_faults;
mod resume;
mod retention;
mod spend;
mod streaming;
mod support;
