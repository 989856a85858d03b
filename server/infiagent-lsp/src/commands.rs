//! `workspace/executeCommand`: each command checks its arguments, starts a run (or
//! answers from state) and returns at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use infiagent_agents::{GraphFormat, Role, load_registry, render_graph};
use infiagent_engine::build_order::{
    BuildOrder, DESIGN_SUMMARY_NAME, is_design_summary, script_for_design,
};
use infiagent_engine::{QualityScores, summarize};
use infiagent_protocol::FileRef;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::{Diagnostic, Range, Uri};

use crate::builds;
use crate::command::{Command, Error};
use crate::documents::{char_index, file_path, relative_to};
use crate::evolution;
use crate::runs::{self, AgentPick, RunSpec};
use crate::state::{State, lock};
use crate::undo;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RunArgs {
    task: Option<String>,
    agent: Option<String>,
    #[serde(default)]
    files: Vec<FileRef>,
    uri: Option<Uri>,
    range: Option<Range>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FileArgs {
    uri: Uri,
    range: Option<Range>,
    instruction: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RepairArgs {
    uri: Uri,
    diagnostic: Diagnostic,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CancelArgs {
    run_id: String,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct UndoArgs {
    pub run_id: Option<String>,
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    pub dry_run: bool,
}

/// Runs one command.
pub(crate) async fn execute(
    state: &Arc<State>,
    command: &str,
    arguments: Vec<Value>,
) -> jsonrpc::Result<Option<Value>> {
    let command: Command = command.parse()?;
    let spec = match command {
        Command::Run => run_spec(state, parse_run(&arguments)?)?,
        Command::Plan => plan_spec(state, parse(command, &arguments)?)?,
        Command::Build => {
            let args: FileArgs = parse(command, &arguments)?;
            let (_, relative_path) = relative(state, &args.uri)?;
            if is_design_summary(&relative_path) {
                let build_id = builds::start_build(state, &relative_path).await?;
                return Ok(Some(json!({"runId": build_id})));
            }
            build_spec(state, args)?
        }
        Command::Judge => judge_spec(state, parse(command, &arguments)?)?,
        Command::Repair => repair_spec(state, parse(command, &arguments)?)?,
        Command::Cancel => {
            let args: CancelArgs = parse(command, &arguments)?;
            let found = lock(&state.runs).cancel(&args.run_id);
            if !found {
                return Err(
                    invalid(format!("no run '{}' (see infiagent.runs)", args.run_id)).into(),
                );
            }
            return Ok(Some(json!({"runId": args.run_id, "cancelled": true})));
        }
        Command::Runs => return Ok(Some(runs::runs_json(state))),
        Command::Health => return Ok(Some(runs::health_json(state))),
        Command::Agents => return Ok(Some(agents_json(state))),
        Command::Evolve => {
            let args = match arguments.as_slice() {
                [] => evolution::EvolveArgs::default(),
                _ => parse(command, &arguments)?,
            };
            return evolution::evolve(state, args).await.map(Some);
        }
        Command::GeneratePyramid => {
            let args = parse(command, &arguments)?;
            return evolution::generate(state, args).await.map(Some);
        }
        Command::Undo => {
            let args = match arguments.as_slice() {
                [] | [Value::Null] => UndoArgs::default(),
                _ => parse(command, &arguments)?,
            };
            return Ok(Some(undo::undo(state, args).await?));
        }
        Command::Resume => {
            let args: CancelArgs = parse(command, &arguments)?;
            let run_id = runs::resume_run(state, &args.run_id).await?;
            return Ok(Some(json!({"runId": run_id})));
        }
    };
    let run_id = runs::start_run(state, spec).await?;
    Ok(Some(json!({"runId": run_id})))
}

/// Arguments that do not fit.
pub(crate) fn invalid(message: String) -> Error {
    Error::InvalidArguments(message)
}

fn parse<T: DeserializeOwned>(command: Command, arguments: &[Value]) -> Result<T, Error> {
    let expected = command.arguments();
    let [argument] = arguments else {
        return Err(invalid(format!(
            "{command} takes one argument, {expected}; got {} arguments",
            arguments.len()
        )));
    };
    serde_json::from_value(argument.clone())
        .map_err(|err| invalid(format!("{command} expects {expected}: {err}")))
}

fn parse_run(arguments: &[Value]) -> Result<RunArgs, Error> {
    if let [Value::String(task)] = arguments {
        return Ok(RunArgs {
            task: Some(task.clone()),
            agent: None,
            files: Vec::new(),
            uri: None,
            range: None,
        });
    }
    parse(Command::Run, arguments)
}

/// The workspace-relative path of a document URI, checked to be inside the workspace.
pub(crate) fn relative(state: &State, uri: &Uri) -> Result<(PathBuf, String), Error> {
    let root = state
        .root()
        .ok_or_else(|| invalid("no workspace folder is open".into()))?;
    let path =
        file_path(uri).ok_or_else(|| invalid(format!("{} is not a file URI", uri.as_str())))?;
    let relative = relative_to(&root, &path).ok_or_else(|| {
        invalid(format!(
            "{} is outside the workspace {}",
            path.display(),
            root.display()
        ))
    })?;
    Ok((path, relative))
}

/// The text of `range` in the document (the editor's text if open).
pub(crate) fn selected_text(
    state: &State,
    path: &Path,
    uri: &Uri,
    range: Option<Range>,
) -> Option<String> {
    let range = range.filter(|range| range.start != range.end)?;
    let documents = lock(&state.documents);
    let text = match documents.get(uri) {
        Some(document) => document.text().clone(),
        None => ropey::Rope::from_str(&std::fs::read_to_string(path).ok()?),
    };
    let start = char_index(&text, range.start);
    let end = char_index(&text, range.end).max(start);
    Some(text.slice(start..end).to_string())
}

fn run_spec(state: &State, args: RunArgs) -> Result<RunSpec, Error> {
    let mut files = args.files;
    let mut selection = None;
    if let Some(uri) = &args.uri {
        let (path, relative) = relative(state, uri)?;
        selection = selected_text(state, &path, uri, args.range);
        files.push(FileRef {
            path: relative,
            description: "the file the user is in".into(),
        });
    }
    let task = match (args.task.filter(|task| !task.trim().is_empty()), selection) {
        (Some(task), Some(selection)) => format!("{task}\n\nSelected text:\n{selection}"),
        (Some(task), None) => task,
        (None, Some(selection)) => selection,
        (None, None) => {
            return Err(invalid(
                "infiagent.run needs a task (or a uri with a non-empty range)".into(),
            ));
        }
    };
    Ok(RunSpec {
        agent: args.agent.map_or(AgentPick::Routed, AgentPick::Named),
        title: summarize(&task, 60),
        task,
        files,
    })
}

fn plan_spec(state: &State, args: FileArgs) -> Result<RunSpec, Error> {
    let (path, relative) = relative(state, &args.uri)?;
    let mut task = infiagent_protocol::plan_task(Some(&relative));
    if let Some(selection) = selected_text(state, &path, &args.uri, args.range) {
        task.push_str(&format!(
            "\n\nThe requirement is this part of the file:\n{selection}"
        ));
    }
    Ok(RunSpec {
        agent: AgentPick::Role(Role::Planner),
        title: format!("plan {relative}"),
        task,
        files: vec![FileRef {
            path: relative,
            description: "the project requirement".into(),
        }],
    })
}

fn build_spec(state: &State, args: FileArgs) -> Result<RunSpec, Error> {
    let (path, relative) = relative(state, &args.uri)?;
    let script = design_script(&path, &relative).ok_or_else(|| {
        invalid(format!(
            "{relative} is not a design file: infiagent.build takes project_designs/project_design_<script>.md, or project_designs/project_design_summary.md to build every script"
        ))
    })?;
    let mut files = vec![FileRef {
        path: relative.clone(),
        description: format!("design of {script}"),
    }];
    if path.with_file_name("project_design_summary.md").is_file() {
        files.push(FileRef {
            path: "project_designs/project_design_summary.md".into(),
            description: "the project's summary design".into(),
        });
    }
    Ok(RunSpec {
        agent: AgentPick::Role(Role::Builder),
        title: format!("build {script}"),
        task: format!("Build {script} from its design."),
        files,
    })
}

fn judge_spec(state: &State, args: FileArgs) -> Result<RunSpec, Error> {
    let (_, relative) = relative(state, &args.uri)?;
    let instruction = args.instruction.unwrap_or_default();
    Ok(RunSpec {
        agent: AgentPick::Role(Role::Judge),
        title: format!("judge {relative}"),
        task: infiagent_protocol::judge_task(&relative, &instruction),
        files: vec![FileRef {
            path: relative,
            description: "the file to judge".into(),
        }],
    })
}

fn repair_spec(state: &State, args: RepairArgs) -> Result<RunSpec, Error> {
    let (_, relative) = relative(state, &args.uri)?;
    let line = args.diagnostic.range.start.line + 1;
    Ok(RunSpec {
        agent: AgentPick::Role(Role::Editor),
        title: format!("repair {relative}:{line}"),
        task: format!(
            "Repair this problem the judge found in {relative} at line {line}: {}\nFix it with the smallest change and check that the file still works.",
            args.diagnostic.message
        ),
        files: vec![FileRef {
            path: relative,
            description: "the file to repair".into(),
        }],
    })
}

/// The script the design file at `path` (`project_designs/…` relative to the
/// workspace: `relative`) is for, as the build order of the summary design beside
/// it says, or the design's heading (see [`script_for_design`]).
pub(crate) fn design_script(path: &Path, relative: &str) -> Option<String> {
    if !relative.starts_with("project_designs/") {
        return None;
    }
    let summary = path.with_file_name(DESIGN_SUMMARY_NAME);
    let order = std::fs::read_to_string(&summary)
        .ok()
        .and_then(|text| BuildOrder::parse(Path::new(relative), &text).ok());
    let design = std::fs::read_to_string(path).ok();
    script_for_design(relative, order.as_ref(), design.as_deref())
}

fn agents_json(state: &State) -> Value {
    let root = state.root();
    let (registry, problems) = load_registry(root.as_deref());
    let graph: Value =
        serde_json::from_str(&render_graph(&registry, GraphFormat::Json)).unwrap_or_default();
    let quality = root.as_deref().map(QualityScores::load).unwrap_or_default();
    json!({
        "graph": graph,
        "quality": quality,
        "problems": problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn design_scripts_follow_the_summary_beside_them() {
        let root = tempfile::tempdir().unwrap();
        let designs = root.path().join("project_designs");
        std::fs::create_dir_all(&designs).unwrap();
        std::fs::write(
            designs.join(DESIGN_SUMMARY_NAME),
            "## Build order\n- train.py — depends on: none\n- Makefile — depends on: train.py\n",
        )
        .unwrap();
        let script = |relative: &str| design_script(&root.path().join(relative), relative);
        assert_eq!(
            script("project_designs/project_design_train.md").as_deref(),
            Some("train.py")
        );
        assert_eq!(
            script("project_designs/project_design_Makefile.md").as_deref(),
            Some("Makefile")
        );
        assert_eq!(
            script("project_designs/project_design_app.js.md").as_deref(),
            Some("app.js")
        );
        assert_eq!(script("project_designs/project_design_summary.md"), None);
        assert_eq!(script("docs/project_design_train.md"), None);
    }
}
