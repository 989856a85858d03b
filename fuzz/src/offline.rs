//! Keeps a fuzz target off the network.
//!
//! Fuzzed editor settings can name any model endpoint, and fuzzed commands start
//! runs that call it. Before fuzzing starts, the target restarts itself with every
//! HTTP proxy variable pointing at a closed loopback port (the model client honours
//! them for every host), without `NO_PROXY`, and without API keys or `INFIAGENT_*`
//! settings. Restarting (rather than changing the environment of the running
//! process) keeps the environment unchanged while threads may read it.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Set in the restarted process.
const MARKER: &str = "FUZZ_TARGET_OFFLINE";

/// Nothing listens on the discard port of the loopback interface.
const CLOSED_PROXY: &str = "http://127.0.0.1:9";

/// Every variable the HTTP client reads a proxy from.
const PROXY_VARIABLES: &[&str] = &[
    "ALL_PROXY",
    "all_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
];

/// Variables that would let a request bypass the proxy (`REQUEST_METHOD` makes the
/// client ignore `HTTP_PROXY`, as a CGI program must).
const BYPASS_VARIABLES: &[&str] = &["NO_PROXY", "no_proxy", "REQUEST_METHOD"];

/// Restarts the current process without network access unless it already is that
/// process. Call it once, from the target's `init`, before any thread starts.
pub fn ensure_offline() {
    if std::env::var_os(MARKER).is_some() {
        return;
    }
    let program = std::env::current_exe().expect("the fuzz target knows its own path");
    let mut arguments = std::env::args_os();
    let first_argument = arguments.next().unwrap_or_else(|| program.clone().into());
    let mut command = Command::new(&program);
    command
        .arg0(first_argument)
        .args(arguments)
        .env(MARKER, "1");
    for name in PROXY_VARIABLES {
        command.env(name, CLOSED_PROXY);
    }
    for name in BYPASS_VARIABLES {
        command.env_remove(name);
    }
    for (name, _) in std::env::vars_os() {
        if is_secret_or_setting(&name) {
            command.env_remove(name);
        }
    }
    let error = command.exec();
    panic!(
        "cannot restart {} without network access: {error}",
        program.display()
    );
}

/// API keys (`*_API_KEY`, `*_TOKEN`) and the engine's own settings.
fn is_secret_or_setting(name: &OsStr) -> bool {
    let name = name.as_bytes();
    name.starts_with(b"INFIAGENT_") || name.ends_with(b"_API_KEY") || name.ends_with(b"_TOKEN")
}
