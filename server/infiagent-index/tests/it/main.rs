//! The integration tests of `infiagent-index`, one binary: descriptors of every language, scans, ranking, live updates, problems.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod describe;
mod live;
mod problems;
mod rank;
mod scan;
