//! `infiagent demo --lsp [DIR]`: the offline demo in an editor. Prepares a
//! workspace with the bundled requirement and a configuration that points at the
//! scripted model, serves that model on a free loopback port, prints the editor
//! steps, and serves until Ctrl-C.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use infiagent_agents::{Role, load_registry};
use infiagent_demo::{REJECTED_SCRIPT, SCRIPTED_MODEL_NAME, files, rejection_findings};

/// The folder used when none is given.
const DEFAULT_DIR: &str = "infiagent-lsp-demo";

/// The first line of the configuration this command writes; a folder whose
/// configuration starts with it may be prepared again.
const CONFIG_MARKER: &str = "# Written by `infiagent demo --lsp`";

/// The code action titles of the steps, as the language server offers them.
const PLAN_TITLE: &str = "Plan project from this requirement";

pub(crate) async fn run(dir: Option<PathBuf>) -> anyhow::Result<u8> {
    let dir = dir.unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    check_folder(&dir)?;
    std::fs::create_dir_all(dir.join(".infiagent"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let requirement = dir.join("requirement.md");
    if !requirement.is_file() {
        std::fs::write(&requirement, files::REQUIREMENT)
            .with_context(|| format!("cannot write {}", requirement.display()))?;
    }
    let endpoint = infiagent_demo::serve(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .context("cannot listen on a loopback port for the scripted model")?;
    let config = dir.join(".infiagent").join("config.toml");
    std::fs::write(&config, workspace_config(&endpoint.base_url()))
        .with_context(|| format!("cannot write {}", config.display()))?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
    let executable = std::env::current_exe()
        .map(|path| path.display().to_string())
        .unwrap_or_else(|_| "infiagent".into());
    let steps = editor_steps(&DemoSetup {
        dir: &dir,
        base_url: &endpoint.base_url(),
        executable: &executable,
    });
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(steps.as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot print the editor steps")?;
    drop(stdout);
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    Ok(0)
}

/// A new or empty folder, or one this command prepared before.
fn check_folder(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let mut entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    if entries.next().is_none() {
        return Ok(());
    }
    let config =
        std::fs::read_to_string(dir.join(".infiagent").join("config.toml")).unwrap_or_default();
    if config.starts_with(CONFIG_MARKER) {
        return Ok(());
    }
    bail!(
        "{} exists and was not prepared by `infiagent demo --lsp`: pass a new folder, e.g. `infiagent demo --lsp /tmp/infiagent-lsp-demo-2`",
        dir.display()
    )
}

/// `.infiagent/config.toml` of the demo workspace: the scripted model at
/// `base_url`, no approvals, and no automatic repair after the judge's rejection.
fn workspace_config(base_url: &str) -> String {
    format!(
        r#"{CONFIG_MARKER} while it serves the scripted demo model.
# The port changes each time that command starts; it rewrites this file.
[model]
base_url = "{base_url}"
name = "scripted"

[run]
autonomy = "auto"
# The judge's rejection stays in the editor as a diagnostic, for you to repair
# with its quick fix (by default the builder is sent back to repair at once).
max_repairs = 0
"#
    )
}

/// What the printed steps name.
struct DemoSetup<'a> {
    dir: &'a Path,
    base_url: &'a str,
    executable: &'a str,
}

/// The editor steps for VS Code and Neovim, true to the server's code actions.
fn editor_steps(setup: &DemoSetup) -> String {
    // The demo's workspace has the built-in pyramid: the repair goes to its editor.
    let editor = load_registry(None)
        .0
        .with_role(Role::Editor)
        .map(|agent| agent.name.clone())
        .unwrap_or_default();
    let repair_title = format!("Repair with {editor}");
    let dir = setup.dir.display();
    let build_title = format!("Build {REJECTED_SCRIPT} from this design");
    let (line, message) = rejection_findings()
        .into_iter()
        .next()
        .map(|finding| (finding.line.unwrap_or(1), finding.message))
        .unwrap_or_default();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "InfiAgent in your editor, offline, in {dir}\n\
         Model: {SCRIPTED_MODEL_NAME}, a SCRIPTED model bundled for this demo, served at {} (no network, no API key).\n\
         Wrote requirement.md and .infiagent/config.toml (this model, autonomy auto, max_repairs = 0: the judge's\n\
         rejection stays as a diagnostic for you to repair). Editor settings for the model override that file: leave them unset.\n",
        setup.base_url
    );
    let _ = writeln!(
        text,
        "What happens: the planner writes the designs; the builder writes {REJECTED_SCRIPT}, its self-test fails and it\n\
         fixes it; the judge then reads the design and rejects the script, because a function lacks a check the design\n\
         asks for. You repair it with the quick fix, and the judge approves.\n"
    );
    let _ = writeln!(
        text,
        "VS Code (the InfiAgent extension, see docs/editors.md; set \"infiagent.path\" to {} if infiagent is not on your PATH):\n  \
         1. code {dir}   then open requirement.md\n  \
         2. Ctrl+. (or the light bulb) → \"{PLAN_TITLE}\"; three designs appear in project_designs/.\n  \
         3. Open project_designs/project_design_numstats.md, Ctrl+. → \"{build_title}\".\n     \
            The build ends with a warning: the judge rejected the output.\n  \
         4. Open {REJECTED_SCRIPT}: line {line} has an error from infiagent (Problems: Ctrl+Shift+M):\n     \
            {message}\n  \
         5. Cursor on line {line}, Ctrl+. → \"{repair_title}\". The repair rewrites {REJECTED_SCRIPT}, the judge\n     \
            approves, and the error clears (a lens \"✓ judged: success\" shows on the first line).\n",
        setup.executable
    );
    let _ = writeln!(
        text,
        "Neovim 0.10+ (the plugin in extensions/nvim, see docs/editors.md):\n  \
         1. nvim {dir}/requirement.md   with require(\"infiagent\").setup({{ cmd = {{ \"{}\", \"lsp\" }} }})\n  \
         2. gra (Neovim 0.11) or :lua vim.lsp.buf.code_action() → \"{PLAN_TITLE}\"; :InfiRuns shows the runs.\n  \
         3. :edit project_designs/project_design_numstats.md, code action → \"{build_title}\".\n  \
         4. :edit {REJECTED_SCRIPT}: line {line} has an error from infiagent (:lua vim.diagnostic.open_float()).\n  \
         5. :{line}, code action → \"{repair_title}\"; the error clears.\n",
        setup.executable
    );
    text.push_str("Serving the model until Ctrl-C.\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_name_the_real_actions_and_the_rejection() {
        let steps = editor_steps(&DemoSetup {
            dir: Path::new("/tmp/demo"),
            base_url: "http://127.0.0.1:4321/v1",
            executable: "/usr/local/bin/infiagent",
        });
        insta::assert_snapshot!(steps);
    }

    #[test]
    fn the_config_points_at_the_model_and_keeps_rejections() {
        let workspace = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(workspace.path().join(".infiagent")).unwrap();
        std::fs::write(
            workspace.path().join(".infiagent/config.toml"),
            workspace_config("http://127.0.0.1:4321/v1"),
        )
        .unwrap();
        let config = infiagent_engine::Config::load(workspace.path()).unwrap();
        assert_eq!(
            config.model.base_url.as_deref(),
            Some("http://127.0.0.1:4321/v1")
        );
        assert_eq!(config.run.max_repairs, 0);
        assert_eq!(config.run.autonomy, infiagent_engine::Autonomy::Auto);
        config.validate().unwrap();
        check_folder(workspace.path()).unwrap();
    }

    #[test]
    fn only_new_empty_or_prepared_folders_are_used() {
        let parent = tempfile::tempdir().unwrap();
        check_folder(&parent.path().join("new")).unwrap();
        check_folder(parent.path()).unwrap();
        std::fs::write(parent.path().join("notes.txt"), "mine").unwrap();
        let refused = check_folder(parent.path()).unwrap_err().to_string();
        assert!(
            refused.contains("was not prepared by `infiagent demo --lsp`"),
            "{refused}"
        );
    }
}
