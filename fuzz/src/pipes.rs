//! Broken pipes as errors, not deaths.
//!
//! A Rust program ignores SIGPIPE from the start (the standard library's start-up
//! sees to it), so writing to a pipe whose reader has gone, such as the stdin of a
//! script that exited without reading it, is an error the tools handle. A fuzz
//! target starts in libFuzzer's `main` instead, where SIGPIPE still kills the
//! process. Installing a handler through tokio restores the usual behaviour: the
//! handler does nothing and stays for the life of the process.

use tokio::signal::unix::{SignalKind, signal};

/// Makes SIGPIPE harmless for the whole process; `runtime` hosts the handler.
pub fn survive_broken_pipes(runtime: &tokio::runtime::Runtime) {
    let _entered = runtime.enter();
    // Dropping the stream leaves the handler installed.
    drop(signal(SignalKind::pipe()).expect("a SIGPIPE handler"));
}
