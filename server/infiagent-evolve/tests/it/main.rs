//! The integration tests of `infiagent-evolve`, one binary: dataset export, evolution and generation on real engine runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod dataset;
mod evolve;
mod generate;
mod support;
