//! Python for the agents: the workspace's virtual environment and `pip_install`.
//!
//! `pip_install` creates the environment (`python3 -m venv`) on first use; scripts
//! and shell commands run with it active once it exists.

use std::path::PathBuf;

use serde::Deserialize;

use infiagent_sandbox::Network;

use crate::process::{Always, ToolProcess, ask_approval, run_tool_process};
use crate::spec::ToolResult;
use crate::{ToolContext, ToolOutput};

/// Longest package requirement accepted.
const MAX_PACKAGE_SPEC_BYTES: usize = 200;

/// The virtual environment's interpreter, when the environment exists.
fn venv_python(ctx: &ToolContext) -> Option<PathBuf> {
    let python = ctx.venv_dir.join("bin").join("python");
    python.exists().then_some(python)
}

/// The interpreter for `.py` scripts: the virtual environment's, else `python3`.
pub(crate) fn python_program(ctx: &ToolContext) -> PathBuf {
    venv_python(ctx).unwrap_or_else(|| PathBuf::from("python3"))
}

/// Puts the virtual environment (when it exists) first on the command's `PATH`.
pub(crate) fn activate_venv(command: &mut tokio::process::Command, ctx: &ToolContext) {
    if venv_python(ctx).is_none() {
        return;
    }
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let directories =
        std::iter::once(ctx.venv_dir.join("bin")).chain(std::env::split_paths(&inherited));
    if let Ok(path) = std::env::join_paths(directories) {
        command.env("PATH", path).env("VIRTUAL_ENV", &ctx.venv_dir);
    }
}

/// Arguments of `pip_install`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PipInstallArgs {
    packages: Vec<String>,
}

/// Installs packages into the workspace's virtual environment once the user approves.
pub(crate) async fn pip_install(args: PipInstallArgs, ctx: &ToolContext) -> ToolResult {
    if args.packages.is_empty() {
        return Err("packages is empty; give at least one package, like [\"numpy\"]".into());
    }
    for spec in &args.packages {
        check_package_spec(spec)?;
    }
    let summary = format!("pip install {}", args.packages.join(" "));
    ask_approval("pip_install", &summary, Always::ThisCommand, ctx).await?;

    let mut creation_note = String::new();
    if venv_python(ctx).is_none() {
        let creation = create_venv(ctx).await?;
        if creation.is_error {
            return Ok(creation);
        }
        creation_note = format!("{}\n\n", creation.content);
    }
    let install = ToolProcess {
        program: python_program(ctx).into(),
        args: [
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
        ]
        .into_iter()
        .map(String::from)
        .chain(args.packages)
        .map(Into::into)
        .collect(),
        stdin: None,
        network: Network::Allowed,
        limits: &ctx.limits,
    };
    let mut output = run_tool_process(install, ctx).await?;
    output.content.insert_str(0, &creation_note);
    Ok(output)
}

/// Creates the virtual environment; the output says where, or why it failed.
async fn create_venv(ctx: &ToolContext) -> ToolResult {
    let shown = ctx.sandbox.relative(&ctx.venv_dir);
    // Made here, so that the sandbox can keep it writable inside the protected
    // `.infiagent/`.
    tokio::fs::create_dir_all(&ctx.venv_dir)
        .await
        .map_err(|error| format!("cannot create the virtual environment at '{shown}': {error}"))?;
    let command = ToolProcess {
        program: "python3".into(),
        args: vec!["-m".into(), "venv".into(), ctx.venv_dir.clone().into()],
        stdin: None,
        network: Network::AsPolicy,
        limits: &ctx.limits,
    };
    let output = run_tool_process(command, ctx).await?;
    Ok(if output.is_error {
        ToolOutput::error(format!(
            "cannot create the virtual environment at '{shown}' with `python3 -m venv`:\n{}",
            output.content
        ))
    } else {
        ToolOutput::ok(format!("created the virtual environment at '{shown}'"))
    })
}

/// Accepts a pip requirement such as `numpy`, `pandas>=2.0` or `uvicorn[standard]`;
/// refuses options, paths and URLs.
fn check_package_spec(spec: &str) -> Result<(), String> {
    let allowed =
        |character: char| character.is_ascii_alphanumeric() || "-_.[],<>=!~ ".contains(character);
    let acceptable = spec.len() <= MAX_PACKAGE_SPEC_BYTES
        && spec.starts_with(|first: char| first.is_ascii_alphanumeric())
        && spec.chars().all(allowed);
    if acceptable {
        Ok(())
    } else {
        Err(format!(
            "{:?} is not a package requirement pip_install accepts: give a name with an optional version, like \"numpy\" or \"pandas>=2.0\" (letters, digits and -_.[],<>=!~ and spaces; no options, paths or URLs)",
            spec.chars()
                .take(MAX_PACKAGE_SPEC_BYTES)
                .collect::<String>()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_specs() {
        for accepted in [
            "numpy",
            "pandas>=2.0",
            "uvicorn[standard]",
            "requests ~= 2.31",
            "scikit-learn!=1.0,<2",
            "zope.interface",
            "typing_extensions",
        ] {
            assert_eq!(check_package_spec(accepted), Ok(()), "{accepted}");
        }
        for refused in [
            "",
            "-e .",
            "--index-url=http://evil",
            "./local",
            "/abs/path.whl",
            "git+https://github.com/x/y",
            "https://example.com/x.tar.gz",
            "numpy; sys_platform == 'linux'",
            "pkg @ file:///tmp/x",
            " numpy",
            "numpy\n--pre",
            &"a".repeat(201),
        ] {
            let error = check_package_spec(refused).unwrap_err();
            assert!(error.contains("is not a package requirement"), "{error}");
        }
    }
}
