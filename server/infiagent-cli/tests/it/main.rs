//! The integration tests of `infiagent-cli`, one binary: the `infiagent` binary as a user meets it, over a fake model endpoint where it needs one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bench_humaneval;
mod build_over_http;
mod commands;
mod crash_safety;
mod evolution;
mod load;
mod pyramid_over_http;
mod real_repos;
mod resume_undo;
mod sandbox_escapes;
mod secrets;
mod support;
