//! The MCP server's handler: each tool call a run (or a build) of the engine,
//! its events sent as progress notifications, cancelled with the request.

use std::path::Path;
use std::sync::Arc;

use infiagent_build::{BuildEvent, BuildOptions, BuildPlan, DESIGN_SUMMARY};
use infiagent_engine::{Engine, RunRequest, SUMMARY_FILE, recent_runs};
use infiagent_protocol::{ActiveCalls, FileRef, Role, RunEnd, RunEvent, RunOutcome};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ProgressNotificationParam, ProgressToken,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::consent::ClientConsent;
use crate::tools::{self, BuildArgs, JudgeArgs, PlanArgs, RouteArgs, RunTaskArgs, RunsArgs};

/// Runs listed by `runs`.
const RUNS_LISTED: usize = 20;

/// The pyramid of one workspace as an MCP server.
#[derive(Clone)]
pub struct PyramidServer {
    engine: Engine,
}

impl PyramidServer {
    /// The server over `engine` (opened for the workspace, its configuration in
    /// effect). Runs need consent as `[run] autonomy` says: with `auto` nothing
    /// asks; otherwise the client is asked through elicitation when it can be,
    /// and what cannot be asked is refused (the run is told so).
    pub fn new(engine: Engine) -> PyramidServer {
        PyramidServer { engine }
    }

    fn editor(&self, context: &RequestContext<RoleServer>) -> Arc<ClientConsent> {
        Arc::new(ClientConsent {
            autonomy: self.engine.config().run.autonomy,
            peer: context.peer.clone(),
        })
    }
}

/// Where progress goes: the client's token, if it gave one.
struct Progress {
    token: Option<ProgressToken>,
    peer: rmcp::Peer<RoleServer>,
    count: u32,
    calls: ActiveCalls,
}

impl Progress {
    fn new(context: &RequestContext<RoleServer>) -> Progress {
        Progress {
            token: context.meta.get_progress_token(),
            peer: context.peer.clone(),
            count: 0,
            calls: ActiveCalls::default(),
        }
    }

    async fn say(&mut self, message: String) {
        let Some(token) = &self.token else {
            return;
        };
        self.count += 1;
        let param = ProgressNotificationParam::new(token.clone(), f64::from(self.count))
            .with_message(message);
        if let Err(error) = self.peer.notify_progress(param).await {
            tracing::debug!(%error, "a progress notification was not sent");
        }
    }

    /// Reports what a run's event says worth a line: an agent starting or
    /// ending, a tool call, a verdict.
    async fn event(&mut self, prefix: &str, event: &RunEvent) {
        self.calls.apply(event);
        let line = match event {
            RunEvent::AgentStarted { frame } => Some(format!("{} started", frame.label)),
            RunEvent::ToolStarted { tool, summary, .. } => {
                let stack = self.calls.stacks().into_iter().next().unwrap_or_default();
                Some(format!("{stack}: {tool} {summary}"))
            }
            RunEvent::Verdict { .. } | RunEvent::AgentFinished { .. } => {
                Some(self.calls.stacks().join("; "))
            }
            _ => None,
        };
        if let Some(line) = line.filter(|line| !line.trim().is_empty()) {
            self.say(format!("{prefix}{}", line.trim())).await;
        }
    }
}

fn text_result(text: String, is_error: bool) -> CallToolResult {
    let content = vec![ContentBlock::text(text)];
    if is_error {
        CallToolResult::error(content)
    } else {
        CallToolResult::success(content)
    }
}

fn json_result(value: &Value, is_error: bool) -> CallToolResult {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    let mut result = text_result(text, is_error);
    result.structured_content = Some(value.clone());
    result
}

fn arguments<T: DeserializeOwned>(request: &CallToolRequestParams) -> Result<T, ErrorData> {
    let value = Value::Object(request.arguments.clone().unwrap_or_default());
    serde_json::from_value(value).map_err(|error| {
        ErrorData::invalid_params(
            format!(
                "the arguments of '{}' do not fit its schema: {error}",
                request.name
            ),
            None,
        )
    })
}

impl PyramidServer {
    fn role_agent(&self, role: Role) -> Result<String, ErrorData> {
        self.engine
            .registry()
            .require_role(role)
            .map(|agent| agent.name.clone())
            .map_err(|error| ErrorData::invalid_params(error.to_string(), None))
    }

    /// A workspace path the caller gave, which must exist.
    fn existing(&self, path: &str, what: &str) -> Result<String, ErrorData> {
        let sandbox = self.engine.sandbox();
        match sandbox.resolve(path) {
            Ok(resolved) if resolved.is_file() => Ok(sandbox.relative(&resolved)),
            _ => Err(ErrorData::invalid_params(
                format!(
                    "{what} '{path}' is not a file of the workspace {}",
                    sandbox.root().display()
                ),
                None,
            )),
        }
    }

    /// Runs `agent` (the router's choice when `None`) on `task` to its end.
    async fn run(
        &self,
        agent: Option<String>,
        task: String,
        files: Vec<FileRef>,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        if task.trim().is_empty() {
            return Err(ErrorData::invalid_params(
                "the task is empty: say what to do",
                None,
            ));
        }
        let mut handle = self
            .engine
            .start(RunRequest {
                agent,
                task,
                files,
                editor: self.editor(context),
            })
            .map_err(|error| ErrorData::invalid_params(error.to_string(), None))?;
        let mut progress = Progress::new(context);
        progress
            .say(format!("run {} started ({})", handle.id, handle.agent))
            .await;
        loop {
            tokio::select! {
                () = context.ct.cancelled() => {
                    handle.cancel.cancel();
                    break;
                }
                event = handle.events.recv() => match event {
                    Some(event) => progress.event("", &event).await,
                    None => break,
                }
            }
        }
        let outcome = handle.completion.wait().await;
        Ok(outcome_result(&outcome, self.engine.workspace()))
    }

    async fn build(
        &self,
        args: BuildArgs,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let summary = args
            .summary_path
            .unwrap_or_else(|| DESIGN_SUMMARY.to_string());
        let plan = BuildPlan::load(self.engine.workspace(), Path::new(&summary))
            .map_err(|error| ErrorData::invalid_params(error.to_string(), None))?;
        if args.jobs == Some(0) {
            return Err(ErrorData::invalid_params("jobs must be at least 1", None));
        }
        let mut handle = infiagent_build::start(
            self.engine.clone(),
            plan,
            BuildOptions {
                jobs: args.jobs,
                editor: self.editor(context),
            },
        )
        .map_err(|error| ErrorData::invalid_params(error.to_string(), None))?;
        let mut progress = Progress::new(context);
        let cancel: CancellationToken = context.ct.clone();
        loop {
            tokio::select! {
                () = cancel.cancelled() => {
                    handle.cancel.cancel();
                    break;
                }
                event = handle.events.recv() => match event {
                    Some(BuildEvent::Started { script, run_id }) => {
                        progress.say(format!("{script}: run {run_id} started")).await;
                    }
                    Some(BuildEvent::Progress { script, event, .. }) => {
                        progress.event(&format!("{script}: "), &event).await;
                    }
                    Some(BuildEvent::Finished(report) | BuildEvent::Skipped(report)) => {
                        progress.say(format!("{}: {}", report.script, report.status.as_str())).await;
                    }
                    None => break,
                }
            }
        }
        let report = handle.completion.wait().await;
        let value = serde_json::to_value(&report).unwrap_or_default();
        Ok(json_result(&value, !report.succeeded()))
    }
}

/// A run's end as the tool's result: the outcome (with the top agent's final
/// output), the run id and the path of its summary; an error unless the final
/// output is a success.
fn outcome_result(outcome: &RunOutcome, workspace: &Path) -> CallToolResult {
    let mut value = serde_json::to_value(outcome).unwrap_or_default();
    let summary = format!(".infiagent/runs/{}/{SUMMARY_FILE}", outcome.run_id);
    if let Some(object) = value.as_object_mut()
        && workspace.join(&summary).is_file()
    {
        object.insert("summary".into(), summary.into());
    }
    let success = matches!(&outcome.end, RunEnd::Finished { output } if output.status == infiagent_protocol::Status::Success);
    json_result(&value, !success)
}

impl ServerHandler for PyramidServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("infiagent", env!("CARGO_PKG_VERSION")))
            .with_instructions(format!(
                "InfiAgent's pyramid of agents for the workspace {}. Delegate a whole task with run_task (or plan a requirement file, build its designs, judge a file); see where a request would go with route, and past runs with runs. Long runs report progress and stop when cancelled.",
                self.engine.workspace().display()
            ))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools::tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let result = match request.name.as_ref() {
            "run_task" => {
                let args: RunTaskArgs = arguments(&request)?;
                let mut files = Vec::new();
                for path in &args.files {
                    files.push(FileRef {
                        path: self.existing(path, "file")?,
                        description: String::new(),
                    });
                }
                self.run(args.agent, args.task, files, &context).await?
            }
            "plan" => {
                let args: PlanArgs = arguments(&request)?;
                let path = self.existing(&args.requirement_path, "requirement")?;
                let agent = self.role_agent(Role::Planner)?;
                let files = vec![FileRef {
                    path: path.clone(),
                    description: "the project requirement".into(),
                }];
                let task = infiagent_protocol::plan_task(Some(&path));
                self.run(Some(agent), task, files, &context).await?
            }
            "build" => self.build(arguments(&request)?, &context).await?,
            "judge" => {
                let args: JudgeArgs = arguments(&request)?;
                let path = self.existing(&args.path, "file")?;
                let agent = self.role_agent(Role::Judge)?;
                let task = infiagent_protocol::judge_task(&path, &args.instruction);
                let files = vec![FileRef {
                    path,
                    description: "the file to judge".into(),
                }];
                self.run(Some(agent), task, files, &context).await?
            }
            "route" => {
                let args: RouteArgs = arguments(&request)?;
                let router = infiagent_router::Router::new(self.engine.registry())
                    .map_err(|error| ErrorData::internal_error(error.to_string(), None))?;
                let routing = router.route(&args.request);
                json_result(&serde_json::to_value(&routing).unwrap_or_default(), false)
            }
            "runs" => {
                let _: RunsArgs = arguments(&request)?;
                let runs = recent_runs(self.engine.workspace(), RUNS_LISTED);
                json_result(&json!({ "runs": runs }), false)
            }
            other => {
                return Err(ErrorData::invalid_params(
                    format!(
                        "no tool '{other}': the tools are run_task, plan, build, judge, route and runs"
                    ),
                    None,
                ));
            }
        };
        Ok(result.into())
    }
}
