//! Running one test of this test binary again, in a child process with a variable
//! set: a test cannot set a variable in its own process (`set_var` is unsafe).

use std::process::Command;

/// What the child process printed.
#[derive(Debug)]
pub struct Rerun {
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// Runs test `name` of module `module` (the caller's `module_path!()`) of the
/// current test binary, alone, with `variable=value` in its environment, and checks
/// that it ran and passed. The test itself does its checks only when it finds the
/// variable.
pub fn rerun_with_variable(module: &str, name: &str, variable: &str, value: &str) -> Rerun {
    // The test binary lists its tests by path without the crate's name.
    let test = match module.split_once("::") {
        Some((_, path)) => format!("{path}::{name}"),
        None => name.to_string(),
    };
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &test, "--nocapture", "--test-threads", "1"])
        .env(variable, value)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stdout.contains(&format!("test {test} ... ok")) && stdout.contains("1 passed"),
        "the checks did not run: {stdout}"
    );
    Rerun { stdout, stderr }
}
