//! What the fuzz targets share: a process without network access, fuzzed JSON
//! values, a language server session over in-memory pipes, and broken pipes that
//! do not kill the process.
//!
//! The targets themselves are in `fuzz_targets/`; `run.sh` runs each of them for a
//! few seconds, and `docs/architecture.md` ("Fuzzing") says how to run them longer.

pub mod json;
pub mod lsp;
pub mod offline;
pub mod pipes;
