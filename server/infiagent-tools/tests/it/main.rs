//! The integration tests of `infiagent-tools`, one binary: the file and process tools through `call_tool`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod code_tools;
mod file_tools;
mod process_tools;
mod support;
