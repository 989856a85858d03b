//! The tools the pyramid offers as an MCP server: their schemas and their
//! arguments.

use std::sync::Arc;

use rmcp::model::{JsonObject, Tool};
use serde::Deserialize;
use serde_json::json;

/// The tools, as `tools/list` answers.
pub(crate) fn tools() -> Vec<Tool> {
    let files = json!({
        "type": "array",
        "description": "Workspace files the task is about (paths relative to the workspace).",
        "items": {"type": "string"}
    });
    vec![
        tool(
            "run_task",
            "Delegates a task to InfiAgent's pyramid of agents in the workspace: the router picks the agent (or name one), agents write and run code in the sandbox, a judge checks results. Returns the final output with the run id and the path of the run's summary.",
            json!({
                "type": "object",
                "properties": {
                    "task": {"type": "string", "description": "What to do, in words."},
                    "agent": {"type": "string", "description": "The agent to run (see `route`); default: the router's choice."},
                    "files": files,
                },
                "required": ["task"],
                "additionalProperties": false
            }),
        ),
        tool(
            "plan",
            "Plans a project from a requirement file: one design file per script in project_designs/ and project_designs/project_design_summary.md with the build order, checked by the judge.",
            json!({
                "type": "object",
                "properties": {
                    "requirement_path": {"type": "string", "description": "The requirement file, relative to the workspace."}
                },
                "required": ["requirement_path"],
                "additionalProperties": false
            }),
        ),
        tool(
            "build",
            "Builds every script of a summary design's build order, in parallel where the order allows, each by a builder agent whose result the judge checks.",
            json!({
                "type": "object",
                "properties": {
                    "summary_path": {"type": "string", "description": "The summary design (default project_designs/project_design_summary.md)."},
                    "jobs": {"type": "integer", "minimum": 1, "description": "Builder runs at the same time (default: [run] jobs)."}
                },
                "additionalProperties": false
            }),
        ),
        tool(
            "judge",
            "Has the judge agent verify a file (it reads and runs it); the verdict lists findings at file and line.",
            json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "The file to judge, relative to the workspace."},
                    "instruction": {"type": "string", "description": "What it must do (default: be correct, complete, and run without errors)."}
                },
                "required": ["path"],
                "additionalProperties": false
            }),
        ),
        tool(
            "route",
            "Says which agent of the pyramid a request would go to, with the router's scores. Runs nothing.",
            json!({
                "type": "object",
                "properties": {"request": {"type": "string"}},
                "required": ["request"],
                "additionalProperties": false
            }),
        ),
        tool(
            "runs",
            "Lists the workspace's recent runs (newest first): id, agent, task, how each ended, and its summary's path.",
            json!({"type": "object", "properties": {}, "additionalProperties": false}),
        ),
    ]
}

fn tool(name: &'static str, description: &'static str, schema: serde_json::Value) -> Tool {
    let schema: JsonObject = match schema {
        serde_json::Value::Object(object) => object,
        _ => JsonObject::new(),
    };
    Tool::new(name, description, Arc::new(schema))
}

/// `run_task`'s arguments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunTaskArgs {
    pub task: String,
    pub agent: Option<String>,
    #[serde(default)]
    pub files: Vec<String>,
}

/// `plan`'s arguments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlanArgs {
    pub requirement_path: String,
}

/// `build`'s arguments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BuildArgs {
    pub summary_path: Option<String>,
    pub jobs: Option<usize>,
}

/// `judge`'s arguments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JudgeArgs {
    pub path: String,
    #[serde(default)]
    pub instruction: String,
}

/// `route`'s arguments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RouteArgs {
    pub request: String,
}

/// `runs`' arguments (none).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunsArgs {}
