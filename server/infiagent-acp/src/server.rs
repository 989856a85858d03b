//! The ACP agent: `initialize`, `session/new`, `session/load`,
//! `session/set_mode`, `session/prompt` and `session/cancel`, each turn a run of
//! the pyramid (or a build) whose events stream to the client as session
//! updates.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use agent_client_protocol::schema::ProtocolVersion;
use agent_client_protocol::v1::schema::{
    AgentCapabilities, AvailableCommandsUpdate, CancelNotification, ClientCapabilities,
    CurrentModeUpdate, Implementation, InitializeRequest, InitializeResponse, LoadSessionRequest,
    LoadSessionResponse, McpCapabilities, McpServer, NewSessionRequest, NewSessionResponse,
    PromptCapabilities, PromptRequest, PromptResponse, SessionId, SessionNotification,
    SessionUpdate, SetSessionModeRequest, SetSessionModeResponse, StopReason, ToolCall, ToolCallId,
    ToolCallStatus, ToolCallUpdate, ToolCallUpdateFields, ToolKind,
};
use agent_client_protocol::v1::{ConnectionTo, Responder};
use agent_client_protocol::{Agent, Client, ConnectTo, Error};
use infiagent_build::{BuildEvent, BuildOptions, BuildPlan, DESIGN_SUMMARY};
use infiagent_engine::{Config, Engine, RunRequest};
use infiagent_protocol::{Budget, RunEnd, RunOutcome};
use infiagent_tools::Approval;
use tokio_util::sync::CancellationToken;

use crate::editor::{AcpEditor, Calls, lock, staged_diffs};
use crate::mcp;
use crate::prompt::{self, Command, Prompt};
use crate::replay::replay;
use crate::session::{self, Session, SessionRecord};
use crate::updates::{self, Translator};

/// The configuration of a workspace as the front-end sees it: its file, the
/// environment, the command line's flags.
pub type ConfigLoader = Arc<dyn Fn(&Path) -> anyhow::Result<Config> + Send + Sync>;

/// The agent's state across sessions.
struct Server {
    load_config: ConfigLoader,
    client: OnceLock<ClientCapabilities>,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    /// Workspaces whose interrupted runs were recovered.
    recovered: Mutex<BTreeSet<PathBuf>>,
    /// Whether an incomplete process sandbox has been looked for (and said).
    sandbox_checked: AtomicBool,
}

/// Serves ACP on `transport` (stdin/stdout for `infiagent acp`) until the
/// client closes it.
pub async fn serve(
    load_config: ConfigLoader,
    transport: impl ConnectTo<Agent> + 'static,
) -> anyhow::Result<()> {
    let server = Arc::new(Server {
        load_config,
        client: OnceLock::new(),
        sessions: Mutex::new(HashMap::new()),
        recovered: Mutex::new(BTreeSet::new()),
        sandbox_checked: AtomicBool::new(false),
    });
    let initialize = server.clone();
    let new_session = server.clone();
    let load_session = server.clone();
    let set_mode = server.clone();
    let prompt = server.clone();
    let cancel = server;
    Agent
        .v1()
        .name("infiagent")
        .on_receive_request(
            async move |request: InitializeRequest,
                        responder: Responder<InitializeResponse>,
                        _connection: ConnectionTo<Client>| {
                responder.respond(initialize.initialize(request))
            },
            agent_client_protocol::on_receive_request!(),
        )
        .on_receive_request(
            async move |request: NewSessionRequest,
                        responder: Responder<NewSessionResponse>,
                        connection: ConnectionTo<Client>| {
                match new_session.new_session(request) {
                    Ok(session) => {
                        let response = NewSessionResponse::new(session.id.clone())
                            .modes(session::modes(session.mode()));
                        responder.respond(response)?;
                        send(&connection, &session.id, commands_update())
                    }
                    Err(error) => responder.respond_with_error(error),
                }
            },
            agent_client_protocol::on_receive_request!(),
        )
        .on_receive_request(
            async move |request: LoadSessionRequest,
                        responder: Responder<LoadSessionResponse>,
                        connection: ConnectionTo<Client>| {
                load_session.load_session(request, responder, connection)
            },
            agent_client_protocol::on_receive_request!(),
        )
        .on_receive_request(
            async move |request: SetSessionModeRequest,
                        responder: Responder<SetSessionModeResponse>,
                        connection: ConnectionTo<Client>| {
                match set_mode.set_mode(&request) {
                    Ok(()) => {
                        send(
                            &connection,
                            &request.session_id.to_string(),
                            SessionUpdate::CurrentModeUpdate(CurrentModeUpdate::new(
                                request.mode_id.clone(),
                            )),
                        )?;
                        responder.respond(SetSessionModeResponse::new())
                    }
                    Err(error) => responder.respond_with_error(error),
                }
            },
            agent_client_protocol::on_receive_request!(),
        )
        .on_receive_request(
            async move |request: PromptRequest,
                        responder: Responder<PromptResponse>,
                        connection: ConnectionTo<Client>| {
                prompt.prompt(request, responder, connection)
            },
            agent_client_protocol::on_receive_request!(),
        )
        .on_receive_notification(
            async move |notification: CancelNotification, _connection: ConnectionTo<Client>| {
                if let Some(session) = cancel.session(&notification.session_id.to_string()) {
                    session.cancel();
                }
                Ok(())
            },
            agent_client_protocol::on_receive_notification!(),
        )
        .connect_to(transport)
        .await
        .map_err(|err| anyhow::anyhow!("the ACP connection failed: {}", err.message))
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(-32602, message.into())
}

fn send(
    connection: &ConnectionTo<Client>,
    session: &str,
    update: SessionUpdate,
) -> Result<(), Error> {
    connection.send_notification(SessionNotification::new(session.to_string(), update))
}

fn commands_update() -> SessionUpdate {
    SessionUpdate::AvailableCommandsUpdate(AvailableCommandsUpdate::new(
        Command::ALL.into_iter().map(Command::available).collect(),
    ))
}

impl Server {
    fn initialize(&self, request: InitializeRequest) -> InitializeResponse {
        let _ = self.client.set(request.client_capabilities);
        // Version 1 is the one this agent speaks; a client asking for a later one
        // is answered with 1, and may disconnect.
        InitializeResponse::new(ProtocolVersion::V1)
            .agent_capabilities(
                AgentCapabilities::new()
                    .load_session(true)
                    .prompt_capabilities(PromptCapabilities::new().embedded_context(true))
                    .mcp_capabilities(McpCapabilities::new().http(true)),
            )
            .agent_info(
                Implementation::new("infiagent", env!("CARGO_PKG_VERSION"))
                    .title("InfiAgent".to_string()),
            )
    }

    fn session(&self, id: &str) -> Option<Arc<Session>> {
        lock(&self.sessions).get(id).cloned()
    }

    /// The engine of the workspace `cwd` with the client's MCP servers added to
    /// the configured ones (so that agent files may name them), its interrupted
    /// runs recovered once.
    fn open_engine(&self, cwd: &Path, servers: &[McpServer]) -> Result<Engine, Error> {
        if !cwd.is_absolute() {
            return Err(invalid(format!(
                "cwd must be an absolute path: {}",
                cwd.display()
            )));
        }
        let root = cwd
            .canonicalize()
            .map_err(|err| invalid(format!("cwd {}: {err}", cwd.display())))?;
        let mut config = (self.load_config)(&root).map_err(|err| invalid(format!("{err:#}")))?;
        let (servers, lookup) = mcp::client_servers(servers);
        let with_client_servers = !servers.is_empty();
        config.mcp.servers.extend(servers);
        config
            .mcp
            .validate()
            .map_err(|err| invalid(format!("the client's MCP servers: {err}")))?;
        let mut engine = Engine::open(&root, config).map_err(|err| invalid(err.to_string()))?;
        if with_client_servers {
            engine = engine.with_mcp_lookup(lookup);
        }
        if lock(&self.recovered).insert(root) {
            engine.recover();
        }
        Ok(engine)
    }

    fn new_session(&self, request: NewSessionRequest) -> Result<Arc<Session>, Error> {
        let engine = self.open_engine(&request.cwd, &request.mcp_servers)?;
        let record = SessionRecord {
            cwd: request.cwd.clone(),
            mode: engine.config().run.autonomy,
            runs: Vec::new(),
            mcp_servers: mcp::recorded(&request.mcp_servers),
        };
        let session = Arc::new(Session::new(session::new_id(), engine, record));
        session
            .save()
            .map_err(|err| invalid(format!("cannot record the session: {err}")))?;
        lock(&self.sessions).insert(session.id.clone(), session.clone());
        Ok(session)
    }

    fn load_session(
        &self,
        request: LoadSessionRequest,
        responder: Responder<LoadSessionResponse>,
        connection: ConnectionTo<Client>,
    ) -> Result<(), Error> {
        let id = request.session_id.to_string();
        let loaded = self
            .open_engine(&request.cwd, &request.mcp_servers)
            .and_then(
                |engine| match session::load_record(engine.workspace(), &id) {
                    None => Err(invalid(format!(
                        "no session {id} in {}",
                        request.cwd.display()
                    ))),
                    Some(Err(err)) => Err(invalid(format!(
                        "the session's record does not read: {err}"
                    ))),
                    Some(Ok(record)) => Ok(Arc::new(Session::new(id.clone(), engine, record))),
                },
            );
        let session = match loaded {
            Ok(session) => session,
            Err(error) => return responder.respond_with_error(error),
        };
        if self.session(&id).is_some_and(|live| live.busy()) {
            return responder.respond_with_error(invalid(format!(
                "session {id} has a turn in flight; cancel it first"
            )));
        }
        lock(&self.sessions).insert(id.clone(), session.clone());
        // The history is sent before the answer, as the protocol asks.
        let agents = agent_names(&session.engine);
        for run in session.record().runs {
            for update in replay(session.root(), &run, &agents) {
                send(&connection, &id, update)?;
            }
        }
        send(&connection, &id, commands_update())?;
        responder.respond(LoadSessionResponse::new().modes(session::modes(session.mode())))
    }

    fn set_mode(&self, request: &SetSessionModeRequest) -> Result<(), Error> {
        let id = request.session_id.to_string();
        let session = self
            .session(&id)
            .ok_or_else(|| invalid(format!("no session {id}")))?;
        let mode = session::parse_mode(&request.mode_id.to_string()).ok_or_else(|| {
            invalid(format!(
                "no mode {}; the modes are ask, auto and review",
                request.mode_id
            ))
        })?;
        session
            .set_mode(mode)
            .map_err(|err| invalid(format!("cannot record the mode: {err}")))
    }

    /// Starts a turn; its answer is sent when the run ends.
    fn prompt(
        &self,
        request: PromptRequest,
        responder: Responder<PromptResponse>,
        connection: ConnectionTo<Client>,
    ) -> Result<(), Error> {
        let id = request.session_id.to_string();
        let Some(session) = self.session(&id) else {
            return responder.respond_with_error(invalid(format!(
                "no session {id}: create one with session/new or load it with session/load"
            )));
        };
        let prompt = match prompt::read(session.root(), &request.prompt) {
            Ok(prompt) => prompt,
            Err(message) => return responder.respond_with_error(invalid(message)),
        };
        let Some(cancel) = session.begin_turn() else {
            return responder.respond_with_error(invalid(format!(
                "session {id} already has a turn in flight; cancel it first"
            )));
        };
        let fs = self
            .client
            .get()
            .map(|client| client.fs.clone())
            .unwrap_or_default();
        let turn = Turn {
            session: session.clone(),
            connection: connection.clone(),
            fs,
            cancel,
            check_sandbox: !self.sandbox_checked.swap(true, Ordering::SeqCst),
        };
        connection.spawn(async move {
            let stop = turn.run(prompt).await;
            turn.session.end_turn();
            match stop {
                Ok(stop) => responder.respond(PromptResponse::new(stop)),
                Err(error) => responder.respond_with_error(error),
            }
        })
    }
}

fn agent_names(engine: &Engine) -> BTreeSet<String> {
    engine
        .registry()
        .agents()
        .map(|agent| agent.name.clone())
        .collect()
}

/// One `session/prompt` in flight.
struct Turn {
    session: Arc<Session>,
    connection: ConnectionTo<Client>,
    fs: agent_client_protocol::v1::schema::FileSystemCapabilities,
    cancel: CancellationToken,
    /// The first turn of the server says when the process sandbox is incomplete.
    check_sandbox: bool,
}

impl Turn {
    /// Sends an update; a client gone is noted, and the turn goes on to its end.
    fn send(&self, update: SessionUpdate) {
        if let Err(err) = send(&self.connection, &self.session.id, update) {
            tracing::warn!(err = %err.message, "a session update was not sent");
        }
    }

    fn editor(&self, calls: Calls) -> Arc<AcpEditor> {
        Arc::new(AcpEditor::new(
            self.connection.clone(),
            SessionId::new(self.session.id.clone()),
            self.fs.clone(),
            self.session.mode(),
            calls,
        ))
    }

    async fn run(&self, prompt: Prompt) -> Result<StopReason, Error> {
        let engine = &self.session.engine;
        if self.check_sandbox {
            let processes = engine.processes().clone();
            let warning = tokio::task::spawn_blocking(move || processes.support().warning())
                .await
                .ok()
                .flatten();
            if let Some(warning) = warning {
                self.send(updates::message(format!("Warning: {warning}\n\n")));
            }
        }
        let (agent, task) = match prompt.command {
            None => (None, prompt.text.clone()),
            Some(Command::Agents) => {
                self.send(updates::message(agents_text(engine)));
                return Ok(StopReason::EndTurn);
            }
            Some(Command::Route) => {
                self.send(updates::message(route_text(engine, &prompt.text)));
                return Ok(StopReason::EndTurn);
            }
            Some(Command::Undo) => {
                let text = undo_text(engine, &prompt.text, self.editor(Calls::One).as_ref()).await;
                self.send(updates::message(text));
                return Ok(StopReason::EndTurn);
            }
            Some(Command::Resume) => return self.resume(prompt.text.trim()).await,
            Some(Command::Build) => return self.build(&prompt).await,
            Some(Command::Plan) => (
                Some(role_agent(engine, infiagent_protocol::Role::Planner)?),
                plan_task(&prompt),
            ),
            Some(Command::Judge) => (
                Some(role_agent(engine, infiagent_protocol::Role::Judge)?),
                judge_task(&prompt),
            ),
        };
        if task.trim().is_empty() {
            return Err(invalid(
                "the prompt has no task: write what to do (with the files attached, if any)",
            ));
        }
        let editor = self.editor(Calls::One);
        let handle = engine
            .start(RunRequest {
                agent,
                task,
                files: prompt.files.clone(),
                editor: editor.clone(),
            })
            .map_err(|err| invalid(err.to_string()))?;
        self.follow(handle, editor).await
    }

    /// `/resume [RUN_ID]`: goes on with the run (default: the session's last
    /// run) from its record.
    async fn resume(&self, run_id: &str) -> Result<StopReason, Error> {
        let run_id = match run_id {
            "" => self.session.record().runs.last().cloned().ok_or_else(|| {
                invalid("this session has no run to resume: write /resume RUN_ID")
            })?,
            id => id.to_string(),
        };
        let editor = self.editor(Calls::One);
        let handle = self
            .session
            .engine
            .resume(&run_id, editor.clone())
            .map_err(|err| invalid(err.to_string()))?;
        self.follow(handle, editor).await
    }

    /// Streams a started run's events as session updates until it ends; its
    /// final message and stop reason.
    async fn follow(
        &self,
        mut handle: infiagent_engine::RunHandle,
        editor: Arc<AcpEditor>,
    ) -> Result<StopReason, Error> {
        let engine = &self.session.engine;
        if !self.session.record().runs.contains(&handle.id)
            && let Err(err) = self.session.add_run(&handle.id)
        {
            tracing::warn!(%err, "the session's record was not saved");
        }
        let mut translator = Translator::new(
            "",
            engine.workspace(),
            agent_names(engine),
            engine.config().run.max_tokens,
        );
        // After a cancel, the run's last events are read but not shown: the
        // client has already marked the turn's calls cancelled.
        let mut cancelled = false;
        loop {
            tokio::select! {
                () = self.cancel.cancelled(), if !cancelled => {
                    handle.cancel.cancel();
                    cancelled = true;
                }
                event = handle.events.recv() => match event {
                    Some(_) if cancelled => {}
                    Some(event) => {
                        let diffs = editor.take_diffs(engine.workspace(), &event);
                        for update in translator.updates(&event, diffs) {
                            self.send(update);
                        }
                    }
                    None => break,
                },
            }
        }
        let outcome = handle.completion.wait().await;
        self.review(&editor, &outcome).await;
        self.send(updates::message(format!(
            "\n\n{}",
            updates::final_message(&outcome)
        )));
        Ok(stop_reason(&outcome, self.cancel.is_cancelled()))
    }

    /// In `review`: the turn's writes shown as diffs, applied if the user accepts.
    async fn review(&self, editor: &AcpEditor, outcome: &RunOutcome) {
        let staged = editor.take_staged();
        if staged.is_empty() {
            return;
        }
        let id = ToolCallId::new(format!("review-{}", outcome.run_id));
        let title = match staged.len() {
            1 => "Apply the file change of this turn".to_string(),
            count => format!("Apply the {count} file changes of this turn"),
        };
        self.send(SessionUpdate::ToolCall(
            ToolCall::new(id.clone(), title.clone())
                .kind(ToolKind::Edit)
                .status(ToolCallStatus::Pending)
                .content(staged_diffs(&staged)),
        ));
        let answer = if self.cancel.is_cancelled() {
            Approval::Deny
        } else {
            editor
                .ask(id.clone(), ToolCallUpdateFields::new().title(title), false)
                .await
        };
        let mut failed = Vec::new();
        if answer != Approval::Deny {
            for (path, content) in &staged {
                if let Err(err) = editor.write_through(path, content).await {
                    failed.push(format!("{}: {err}", path.display()));
                }
            }
        }
        let (status, text) = match (answer, failed.is_empty()) {
            (Approval::Deny, _) => (ToolCallStatus::Failed, "Not applied.".to_string()),
            (_, true) => (ToolCallStatus::Completed, "Applied.".to_string()),
            (_, false) => (
                ToolCallStatus::Failed,
                format!("Not all were applied:\n{}", failed.join("\n")),
            ),
        };
        self.send(SessionUpdate::ToolCallUpdate(ToolCallUpdate::new(
            id,
            ToolCallUpdateFields::new()
                .status(status)
                .content(vec![updates::text_block(text).into()]),
        )))
    }

    /// `/build`: every script of the summary design's build order, a tool call
    /// each, their runs' calls inside.
    async fn build(&self, prompt: &Prompt) -> Result<StopReason, Error> {
        let engine = self.session.engine.clone();
        let summary = prompt
            .files
            .first()
            .map_or_else(|| DESIGN_SUMMARY.to_string(), |file| file.path.clone());
        let plan = BuildPlan::load(engine.workspace(), Path::new(&summary))
            .map_err(|err| invalid(err.to_string()))?;
        let editor = self.editor(Calls::Many);
        let root = engine.workspace().to_path_buf();
        let agents = agent_names(&engine);
        let max_tokens = engine.config().run.max_tokens;
        let mut handle = infiagent_build::start(
            engine,
            plan,
            BuildOptions {
                jobs: None,
                editor: editor.clone(),
            },
        )
        .map_err(|err| invalid(err.to_string()))?;
        let mut translators: HashMap<String, Translator> = HashMap::new();
        let mut cancelled = false;
        loop {
            tokio::select! {
                () = self.cancel.cancelled(), if !cancelled => {
                    handle.cancel.cancel();
                    cancelled = true;
                }
                event = handle.events.recv() => match event {
                    Some(_) if cancelled => {}
                    Some(BuildEvent::Started { script, run_id }) => {
                        if let Err(err) = self.session.add_run(&run_id) {
                            tracing::warn!(%err, "the session's record was not saved");
                        }
                        self.send(SessionUpdate::ToolCall(
                            ToolCall::new(format!("build-{run_id}"), format!("build {script}"))
                                .kind(ToolKind::Think)
                                .status(ToolCallStatus::InProgress),
                        ));
                        translators.insert(
                            run_id.clone(),
                            Translator::new(format!("{run_id}/"), &root, agents.clone(), max_tokens),
                        );
                    }
                    Some(BuildEvent::Progress { run_id, event, .. }) => {
                        let Some(translator) = translators.get_mut(&run_id) else {
                            continue;
                        };
                        let diffs = editor.take_diffs(&root, &event);
                        for update in translator.updates(&event, diffs) {
                            // One plan for the whole build: the scripts' calls say
                            // where each run is.
                            if !matches!(update, SessionUpdate::Plan(_)) {
                                self.send(update);
                            }
                        }
                    }
                    Some(BuildEvent::Finished(report) | BuildEvent::Skipped(report)) => {
                        let id = match &report.run_id {
                            Some(run_id) => format!("build-{run_id}"),
                            None => {
                                let id = format!("build-skipped-{}", report.script);
                                self.send(SessionUpdate::ToolCall(ToolCall::new(
                                    id.clone(),
                                    format!("build {}", report.script),
                                ).kind(ToolKind::Think)));
                                id
                            }
                        };
                        let status = if report.status == infiagent_build::ScriptStatus::Succeeded {
                            ToolCallStatus::Completed
                        } else {
                            ToolCallStatus::Failed
                        };
                        let text = format!(
                            "{}{}",
                            report.status.as_str(),
                            report.reason.as_deref().map(|reason| format!(": {reason}")).unwrap_or_default()
                        );
                        self.send(SessionUpdate::ToolCallUpdate(ToolCallUpdate::new(
                            id,
                            ToolCallUpdateFields::new()
                                .status(status)
                                .content(vec![updates::text_block(text).into()]),
                        )));
                    }
                    None => break,
                },
            }
        }
        let report = handle.completion.wait().await;
        self.send(updates::message(report.describe()));
        Ok(if self.cancel.is_cancelled() || report.cancelled {
            StopReason::Cancelled
        } else {
            StopReason::EndTurn
        })
    }
}

/// How a turn's run ended, as ACP says it.
fn stop_reason(outcome: &RunOutcome, cancelled: bool) -> StopReason {
    match &outcome.end {
        RunEnd::Cancelled => StopReason::Cancelled,
        _ if cancelled => StopReason::Cancelled,
        RunEnd::Aborted {
            budget: Some(Budget::Tokens),
            ..
        } => StopReason::MaxTokens,
        RunEnd::Aborted {
            budget: Some(Budget::Cost),
            ..
        } => StopReason::MaxTurnRequests,
        RunEnd::Finished { .. } | RunEnd::Aborted { .. } => StopReason::EndTurn,
    }
}

fn role_agent(engine: &Engine, role: infiagent_protocol::Role) -> Result<String, Error> {
    engine
        .registry()
        .require_role(role)
        .map(|agent| agent.name.clone())
        .map_err(|err| invalid(err.to_string()))
}

fn plan_task(prompt: &Prompt) -> String {
    let task = infiagent_protocol::plan_task(prompt.files.first().map(|file| file.path.as_str()));
    if prompt.text.is_empty() {
        task
    } else {
        format!("{task}\n\n{}", prompt.text)
    }
}

fn judge_task(prompt: &Prompt) -> String {
    let files: Vec<&str> = prompt.files.iter().map(|file| file.path.as_str()).collect();
    let what = if files.is_empty() {
        "the workspace".to_string()
    } else {
        files.join(", ")
    };
    infiagent_protocol::judge_task(&what, &prompt.text)
}

fn agents_text(engine: &Engine) -> String {
    let mut agents: Vec<_> = engine.registry().agents().collect();
    agents.sort_by(|a, b| b.level.cmp(&a.level).then(a.name.cmp(&b.name)));
    let lines: Vec<String> = agents
        .iter()
        .map(|agent| {
            let role = agent
                .role
                .map(|role| format!(", role {}", role.as_str()))
                .unwrap_or_default();
            format!(
                "- **{}** (level {}{role}): {}",
                agent.name,
                agent.level,
                agent.description.trim()
            )
        })
        .collect();
    format!("The pyramid, top first:\n\n{}", lines.join("\n"))
}

fn route_text(engine: &Engine, request: &str) -> String {
    if request.trim().is_empty() {
        return "Write the request after /route.".into();
    }
    match infiagent_router::Router::new(engine.registry()) {
        Ok(router) => {
            let routing = router.route(request);
            let mut text = format!(
                "It would go to **{}** (level {}, score {:.2}; matched: {}).",
                routing.choice.agent,
                routing.choice.level,
                routing.choice.score,
                routing.choice.matched.join(", ")
            );
            if let Some(runner_up) = &routing.runner_up {
                text.push_str(&format!(
                    "\nRunner-up: {} (score {:.2}){}.",
                    runner_up.agent,
                    runner_up.score,
                    if routing.close {
                        "; close enough that the model picks between them"
                    } else {
                        ""
                    }
                ));
            }
            text
        }
        Err(err) => format!("No agent can take requests: {err}"),
    }
}

/// `/undo [RUN_ID]`: the run's files put back (through the client for the
/// files it serves), what was done or left, as a message.
async fn undo_text(engine: &Engine, run_id: &str, editor: &dyn infiagent_tools::Editor) -> String {
    let run_id = run_id.trim();
    let run_id = (!run_id.is_empty()).then_some(run_id);
    let plan = match infiagent_engine::UndoPlan::of(engine.workspace(), run_id, &|_| None) {
        Ok(plan) => plan,
        Err(err) => return format!("Nothing undone: {err}"),
    };
    match plan.apply(engine.workspace(), false, editor).await {
        Ok(report) => {
            let mut text = format!(
                "Undid run {}: {} restored, {} removed.",
                plan.run_id,
                report.restored.len(),
                report.removed.len()
            );
            for path in report.restored.iter().chain(&report.removed) {
                text.push_str(&format!("\n- `{path}`"));
            }
            for (path, why) in &report.left {
                text.push_str(&format!("\n- left `{path}`: {why}"));
            }
            text
        }
        Err(err) => format!("Nothing undone: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use infiagent_protocol::{FinalOutput, Totals};

    use super::*;

    fn outcome(end: RunEnd) -> RunOutcome {
        RunOutcome {
            run_id: "r".into(),
            agent: "lead".into(),
            end,
            totals: Totals::default(),
            duration_ms: 0,
            changed_paths: Vec::new(),
            agents: Vec::new(),
        }
    }

    #[test]
    fn a_run_s_end_is_a_stop_reason() {
        let aborted = |budget| RunEnd::Aborted {
            reason: "stopped".into(),
            budget,
        };
        let cases = [
            (
                RunEnd::Finished {
                    output: FinalOutput::error("", "failed"),
                },
                false,
                StopReason::EndTurn,
            ),
            (RunEnd::Cancelled, false, StopReason::Cancelled),
            (aborted(None), false, StopReason::EndTurn),
            (aborted(None), true, StopReason::Cancelled),
            (aborted(Some(Budget::Tokens)), false, StopReason::MaxTokens),
            (
                aborted(Some(Budget::Cost)),
                false,
                StopReason::MaxTurnRequests,
            ),
        ];
        for (end, cancelled, expected) in cases {
            assert_eq!(
                stop_reason(&outcome(end.clone()), cancelled),
                expected,
                "{end:?}"
            );
        }
    }
}
