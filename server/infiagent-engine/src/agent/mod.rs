//! One agent's loop: ask the model, run its tool calls (child agents included, at
//! the same time), until it calls `final_output`. Children are tools: the parent
//! sees only their final output, never their trajectory.

mod dispatch;
mod repeats;
mod turn;

pub(crate) use dispatch::tool_specs;

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use infiagent_agents::AgentDef;
use infiagent_mcp::McpTool;
use infiagent_model::{ChatRequest, ChatResponse, Message, ModelError, ToolSpec};
use infiagent_tools::ToolContext;

use crate::audit;
use crate::candidates;
use crate::candidates::site::Site;
use crate::context::Environment;
use crate::models::ModelEntry;
use crate::prompt::{self, FileRef, Placeholders, StackEntry};
use crate::run::replay::Recorded;
use crate::run::report::Fact;
use crate::run::{Abort, RunShared};
use infiagent_protocol::FinalOutput;
use infiagent_protocol::{CallId, Frame, FrameId, Record, RunEvent};

/// Malformed replies in a row (unreadable, no tool call, bad arguments, unknown
/// tool) an agent may make before it is ended with an error.
const MALFORMED_LIMIT: u32 = 3;

/// What one model call came to.
enum Asked {
    /// A reply to take apart.
    Reply(ChatResponse),
    /// A reply from the record of a resumed run (accounted before).
    Recorded(ChatResponse),
    /// An unusable reply; the model was told and is asked again.
    Retry,
    /// Too many unusable replies: the agent ends with this output.
    Finished(FinalOutput),
}

/// What an agent hands back to its caller.
pub(crate) struct AgentResult {
    pub output: FinalOutput,
    /// Files it and its children changed.
    pub changed: BTreeSet<String>,
    /// The judge's verdict on this output, when the judge gave one (for the judge
    /// itself: the verdict it gave).
    pub verdict: Option<Verdict>,
    /// It ended before the run was resumed: its result is the record's.
    pub replayed: bool,
}

/// A verdict of the judge, scored.
#[derive(Clone, Debug)]
pub(crate) struct Verdict {
    pub output: FinalOutput,
    /// In [0, 1]: the judge's own score when its output gives one (`score: 0.8`),
    /// else 1 for success and 0 for error; 0 when the runtime overruled it.
    pub score: f64,
    /// The judge's frame.
    pub frame: FrameId,
}

/// One invocation of an agent.
pub(crate) struct Invocation {
    pub agent: String,
    pub task: String,
    pub files: Vec<FileRef>,
    pub parent: Option<FrameId>,
    /// Callers, the top first (this agent not included).
    pub stack: Vec<StackEntry>,
    /// Set when the runtime asks the judge to audit another agent's output.
    pub audit: Option<AuditSubject>,
    /// Where its tools act (inherited by its children).
    pub site: Arc<Site>,
    /// The candidate model it runs on, when it is one of its agent's candidates.
    pub candidate: Option<String>,
    /// The tool call of its caller that started it; `None` for the top agent and
    /// audits.
    pub call: Option<CallId>,
    /// The model's id of that tool call (what a resumed run matches it by).
    pub call_key: Option<String>,
    /// Started by a step replayed from the record of a resumed run (or the
    /// resumed run's top agent): its own record is looked up.
    pub replay: bool,
}

/// The output the runtime asks the judge to audit.
#[derive(Clone, Debug)]
pub(crate) struct AuditSubject {
    pub agent: String,
    pub output: String,
    /// Files the audited agent wrote.
    pub changed: Vec<String>,
}

/// Whether the judge is asked for a score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scoring {
    /// A verdict is enough.
    VerdictOnly,
    /// A verdict and a `score:` line.
    Scored,
}

type AgentFuture = Pin<Box<dyn Future<Output = Result<AgentResult, Abort>> + Send>>;

/// The MCP tools `def` lists, their servers started if needed (only where the
/// tools act on the workspace: a candidate's copy gets none). What cannot be
/// offered is told to the agent at the end of its task.
async fn offer_mcp_tools(
    shared: &RunShared,
    def: &AgentDef,
    invocation: &mut Invocation,
) -> Vec<McpTool> {
    let lists_mcp = def
        .tools
        .iter()
        .any(|tool| tool.starts_with(infiagent_protocol::MCP_PREFIX));
    if !lists_mcp || !invocation.site.is_workspace() {
        return Vec::new();
    }
    let offered = shared.mcp.offered(&def.tools).await;
    if !offered.problems.is_empty() {
        tracing::warn!(agent = %def.name, problems = ?offered.problems, "MCP tools not offered");
        invocation.task.push_str(&format!(
            "\n\nNote from the runtime: some of your MCP tools are not available now:\n- {}\n",
            offered.problems.join("\n- ")
        ));
    }
    offered.tools
}

/// Runs an agent to its final output (boxed: agents call agents).
pub(crate) fn run_agent(shared: Arc<RunShared>, invocation: Invocation) -> AgentFuture {
    Box::pin(async move {
        let Some(def) = shared.registry.get(&invocation.agent).cloned() else {
            return Err(Abort::Fatal(format!(
                "agent '{}' is not defined",
                invocation.agent
            )));
        };
        if candidates::applies(&def, &invocation) {
            return candidates::run(shared, def, invocation).await;
        }
        let replayed = shared.replayed_frame(&invocation);
        if let Some(frame) = replayed
            && let Some(ended) = shared
                .replay
                .as_ref()
                .and_then(|replay| replay.ended(frame))
        {
            return Ok(recorded_result(&def, frame, ended));
        }
        let frame = replayed.unwrap_or_else(|| shared.next_frame_id());
        announce(&shared, &def, &invocation, frame, replayed.is_some()).await;
        let mut invocation = invocation;
        let evidence = if def.is_judge() {
            let evidence = gather_evidence(&shared, &invocation, frame).await;
            invocation.task.push_str(&evidence.render());
            Some(evidence)
        } else {
            None
        };
        let mcp_tools = offer_mcp_tools(&shared, &def, &mut invocation).await;
        let mut agent = AgentLoop::new(shared.clone(), def, invocation, frame, &mcp_tools);
        agent.replaying = replayed.is_some();
        let mut result = agent.run().await;
        if let (Ok(result), Some(evidence)) = (&mut result, &evidence) {
            settle_verdict(&shared, &agent.invocation, frame, result, evidence).await;
        }
        match &result {
            Ok(result) => {
                shared
                    .report(Fact::AgentEnded {
                        frame,
                        agent: &agent.def.name,
                        output: &result.output,
                        changed_paths: result.changed.iter().cloned().collect(),
                        tools: &agent.tools,
                        messages: &agent.messages,
                    })
                    .await;
            }
            Err(_) => {
                let output = FinalOutput::error("", "stopped before finishing");
                shared.emit(RunEvent::AgentFinished { frame, output }).await;
            }
        }
        result
    })
}

/// The result of an invocation whose end was recorded before the run was
/// resumed (a judge's: its verdict, scored as it was).
fn recorded_result(
    def: &AgentDef,
    frame: FrameId,
    ended: crate::run::replay::Ended,
) -> AgentResult {
    let verdict = def.is_judge().then(|| Verdict {
        score: if ended.overruled {
            0.0
        } else {
            candidates::score(&ended.output)
        },
        output: ended.output.clone(),
        frame,
    });
    AgentResult {
        output: ended.output,
        changed: ended.changed.into_iter().collect(),
        verdict,
        replayed: true,
    }
}

/// The label of an invocation in progress and in the summary.
fn invocation_label(def: &AgentDef, invocation: &Invocation) -> String {
    let mut label = label(&def.name, &invocation.files);
    if let Some(model) = &invocation.candidate {
        label.push_str(&format!(" [{model}]"));
    }
    label
}

/// Tells front-ends that an agent started (the journal knows an agent resumed
/// from the record already).
async fn announce(
    shared: &RunShared,
    def: &AgentDef,
    invocation: &Invocation,
    frame: FrameId,
    resumed: bool,
) {
    let frame = Frame {
        id: frame,
        parent: invocation.parent,
        agent: def.name.clone(),
        label: invocation_label(def, invocation),
        task_summary: prompt::summarize(&invocation.task, 120),
        depth: u32::try_from(invocation.stack.len() + 1).unwrap_or(u32::MAX),
        call: invocation.call,
    };
    if !resumed {
        shared.journal(|journal| journal.agent_started(&frame));
    }
    shared.emit(RunEvent::AgentStarted { frame }).await;
}

/// The judge's output checked against the runtime's evidence (overruled when the
/// evidence contradicts a `success`), scored, and reported as a verdict.
async fn settle_verdict(
    shared: &RunShared,
    invocation: &Invocation,
    frame: FrameId,
    result: &mut AgentResult,
    evidence: &audit::Evidence,
) {
    let judge_said = result.output.clone();
    let (mut verdict, overruled) = audit::overrule(judge_said.clone(), evidence);
    verdict.findings.extend(evidence.notes());
    let score = if overruled {
        0.0
    } else {
        candidates::score(&verdict)
    };
    result.output = verdict;
    result.verdict = Some(Verdict {
        output: result.output.clone(),
        score,
        frame,
    });
    shared
        .report(Fact::Verdict {
            frame,
            audited_agent: invocation
                .audit
                .as_ref()
                .map(|subject| subject.agent.clone()),
            verdict: &result.output,
            overruled: overruled.then_some(&judge_said),
            // A verdict on a candidate's copy concerns files the workspace may
            // never hold: the winner's is reported once its changes are merged.
            files: invocation.site.is_workspace().then(|| {
                let mut files = verdict_files(invocation, &result.output);
                files.extend(shared.check_files(&evidence.checks));
                files.sort();
                files.dedup();
                files
            }),
        })
        .await;
}

fn label(agent: &str, files: &[FileRef]) -> String {
    match files.first() {
        Some(file) => {
            let name = file.path.rsplit('/').next().unwrap_or(&file.path);
            format!("{agent}({name})")
        }
        None => agent.to_string(),
    }
}

/// The files a verdict concerns: what the audited agent wrote (or, for a judge
/// called directly, the files it was given) and the files of its findings.
fn verdict_files(invocation: &Invocation, verdict: &FinalOutput) -> Vec<String> {
    let mut paths: BTreeSet<String> = match &invocation.audit {
        Some(subject) if !subject.changed.is_empty() => subject.changed.iter().cloned().collect(),
        _ => invocation
            .files
            .iter()
            .map(|file| file.path.clone())
            .collect(),
    };
    paths.extend(verdict.findings.iter().map(|finding| finding.path.clone()));
    paths.into_iter().collect()
}

/// The runtime's own checks before the judge's model looks (see [`audit`]).
async fn gather_evidence(
    shared: &RunShared,
    invocation: &Invocation,
    frame: FrameId,
) -> audit::Evidence {
    let context = ToolContext {
        cancel: invocation.site.tools.cancel.child_token(),
        agent: invocation.agent.clone(),
        caller: frame,
        ..invocation.site.tools.clone()
    };
    let (named, generated) = match &invocation.audit {
        Some(subject) => (audit::named_paths(&subject.output), subject.changed.clone()),
        None => {
            let given: Vec<String> = invocation
                .files
                .iter()
                .map(|file| file.path.clone())
                .collect();
            (given.clone(), given)
        }
    };
    audit::gather(&context, &named, &generated, &shared.config.checks).await
}

struct AgentLoop {
    shared: Arc<RunShared>,
    def: AgentDef,
    invocation: Invocation,
    frame: FrameId,
    tools: Vec<ToolSpec>,
    messages: Vec<Message>,
    changed: BTreeSet<String>,
    /// Files whose last change was this agent's own `file_write` or
    /// `file_edit`: it knows their text, so C_LM updates leave them out.
    written: BTreeSet<String>,
    malformed_in_a_row: u32,
    last_malformed: String,
    repairs: u32,
    /// The model this agent talks to (known once it runs).
    model_name: String,
    /// The judge's last verdict on an output of this agent.
    last_verdict: Option<Verdict>,
    /// C_ENV: its own trajectory, compressed as it grows.
    environment: Environment,
    /// How many touched files C_LM last accounted for, and the descriptors
    /// the agent has been sent (in its system prompt or in updates since).
    memory: Option<(usize, BTreeSet<String>)>,
    /// The loop guard's counts (calls of one reply run at the same time).
    repeats: std::sync::Mutex<repeats::Repeats>,
    /// While true, the record of a resumed run answers for the model and the
    /// tools (until the first step it has no reply for).
    replaying: bool,
}

/// How often the text a model is writing is shown, at most.
const TEXT_INTERVAL: std::time::Duration = std::time::Duration::from_millis(100);
/// The most characters of it shown.
const TEXT_CHARS: usize = 160;

/// The last line of `text` that says something, its end kept when shortened.
fn latest_line(text: &str) -> Option<String> {
    let line = text
        .lines()
        .rev()
        .map(str::trim)
        .find(|line| !line.is_empty())?;
    let count = line.chars().count();
    Some(if count <= TEXT_CHARS {
        line.to_owned()
    } else {
        let tail: String = line.chars().skip(count - (TEXT_CHARS - 1)).collect();
        format!("…{tail}")
    })
}

impl AgentLoop {
    fn new(
        shared: Arc<RunShared>,
        def: AgentDef,
        invocation: Invocation,
        frame: FrameId,
        mcp_tools: &[McpTool],
    ) -> Self {
        let tools = tool_specs(&shared.registry, &shared.basic_tools, mcp_tools, &def);
        let environment = Environment::new(shared.config.context.tau);
        let messages = vec![Message::User {
            content: prompt::task_message(&invocation.task, &invocation.files),
        }];
        AgentLoop {
            shared,
            def,
            invocation,
            frame,
            tools,
            messages,
            changed: BTreeSet::new(),
            written: BTreeSet::new(),
            malformed_in_a_row: 0,
            last_malformed: String::new(),
            repairs: 0,
            model_name: String::new(),
            last_verdict: None,
            environment,
            memory: None,
            repeats: std::sync::Mutex::new(repeats::Repeats::default()),
            replaying: false,
        }
    }

    fn stack(&self) -> Vec<StackEntry> {
        let mut stack = self.invocation.stack.clone();
        stack.push(StackEntry {
            agent: self.def.name.clone(),
            task_summary: prompt::summarize(&self.invocation.task, 160),
        });
        stack
    }

    /// The agent's first record: its model, system prompt, task and tools (a
    /// resumed agent's is there).
    fn record_start(&self, entry: &ModelEntry, system: &str) {
        if self.replaying {
            return;
        }
        self.shared.trajectory.record(Record::AgentStart {
            frame: self.frame,
            parent: self.invocation.parent,
            agent: self.def.name.clone(),
            role: self.def.role,
            model: entry.model.name().to_string(),
            system: system.to_string(),
            task: self.messages.first().cloned(),
            tools: self.tools.iter().map(|tool| tool.name.clone()).collect(),
            // A candidate's run is not replayed: its key is one no lookup makes.
            call_id: match &self.invocation.candidate {
                Some(model) => Some(format!(
                    "{}@{model}",
                    self.invocation.call_key.as_deref().unwrap_or_default()
                )),
                None => self.invocation.call_key.clone(),
            },
            label: Some(invocation_label(&self.def, &self.invocation)),
        });
    }

    /// One model call: its reply, or a retry after an unusable reply (the model is
    /// told), or the agent's end after too many; a model failure stops the run.
    /// Reports the text written since the last report (`written[*shown..]`).
    async fn show_text(&self, written: &str, shown: &mut usize) {
        let delta = written.get(*shown..).unwrap_or_default();
        if delta.is_empty() {
            return;
        }
        *shown = written.len();
        self.shared
            .emit(RunEvent::AgentText {
                frame: self.frame,
                text: latest_line(written).unwrap_or_default(),
                delta: delta.to_string(),
            })
            .await;
    }

    async fn ask(
        &mut self,
        entry: &ModelEntry,
        request: &ChatRequest,
        step: u32,
    ) -> Result<Asked, Abort> {
        if self.replaying {
            match self
                .shared
                .replay
                .as_ref()
                .and_then(|replay| replay.reply(self.frame, step))
            {
                Some(Recorded::Reply(response)) => return Ok(Asked::Recorded(response)),
                Some(Recorded::Unusable(error)) => return Ok(self.unusable(step, error, false)),
                None => self.replaying = false,
            }
        }
        // The reply's text as it streams in becomes `AgentText` events, at
        // most one per TEXT_INTERVAL.
        let (pieces_sender, mut pieces) = tokio::sync::mpsc::unbounded_channel::<String>();
        let sink = move |piece: &str| {
            let _ = pieces_sender.send(piece.to_owned());
        };
        let chat = entry.model.chat_with_text(request, &sink);
        tokio::pin!(chat);
        let mut written = String::new();
        let mut shown = 0;
        let mut last_shown: Option<Instant> = None;
        let reply = loop {
            tokio::select! {
                biased;
                () = self.invocation.site.tools.cancel.cancelled() => return Err(self.invocation.site.abort_reason(&self.shared)),
                Some(piece) = pieces.recv() => {
                    written.push_str(&piece);
                    if last_shown.is_none_or(|shown| shown.elapsed() >= TEXT_INTERVAL)
                        && latest_line(&written).is_some()
                    {
                        last_shown = Some(Instant::now());
                        self.show_text(&written, &mut shown).await;
                    }
                }
                reply = &mut chat => break reply,
            }
        };
        // The end of the text, when the last pieces came within the interval; the
        // whole text of a reply that was not streamed.
        while let Ok(piece) = pieces.try_recv() {
            written.push_str(&piece);
        }
        if written.is_empty()
            && let Ok(response) = &reply
            && let Some(content) = &response.content
        {
            written.push_str(content);
        }
        self.show_text(&written, &mut shown).await;
        match reply {
            Ok(response) => Ok(Asked::Reply(response)),
            Err(err @ (ModelError::EmptyResponse | ModelError::Decode(_))) => {
                Ok(self.unusable(step, err.to_string(), true))
            }
            Err(err) => {
                let reason = format!(
                    "model '{}' failed for agent '{}': {err}",
                    entry.model.name(),
                    self.def.name
                );
                Err(self.invocation.site.abort(&self.shared, reason))
            }
        }
    }

    /// A reply that could not be used (`error`): the model is told, or the
    /// agent ends after too many; `record` unless it is replayed.
    fn unusable(&mut self, step: u32, error: String, record: bool) -> Asked {
        if record {
            self.shared.trajectory.record(Record::ModelError {
                frame: self.frame,
                step,
                error: error.clone(),
            });
        }
        if let Some(output) =
            self.malformed(format!("the model's reply could not be used: {error}"))
        {
            return Asked::Finished(output);
        }
        self.messages.push(Message::User {
            content: format!("Your last reply could not be used ({error}). Reply with tool calls; finish by calling final_output."),
        });
        Asked::Retry
    }

    async fn run(&mut self) -> Result<AgentResult, Abort> {
        let model = self
            .invocation
            .candidate
            .as_deref()
            .or(self.def.model.as_deref());
        let entry = self
            .shared
            .models
            .get(model)
            .map_err(|err| Abort::Fatal(format!("agent '{}': {err}", self.def.name)))?;
        self.model_name = entry.model.name().to_string();
        let shared = self.shared.clone();
        let placeholders = Placeholders {
            task_id: &shared.run_id,
            date: &shared.date,
            confinement: &shared.confinement,
        };
        let stack = self.stack();
        // The system prompt never changes during the agent's life, so every
        // request starts with the same prefix a provider can cache; C_LM
        // updates are appended as messages.
        let memory = self.memory_index().await;
        let system = prompt::system_prompt(&self.def, &placeholders, &memory, &stack);
        self.record_start(&entry, &system);
        let max_steps = self
            .def
            .max_steps
            .unwrap_or(self.shared.config.run.max_steps);
        for step in 1..=max_steps {
            if self.invocation.site.tools.cancel.is_cancelled() {
                return Err(self.invocation.site.abort_reason(&self.shared));
            }
            self.shared
                .emit(RunEvent::AgentStep {
                    frame: self.frame,
                    step,
                })
                .await;
            if let Some(update) = self.memory_update().await {
                self.messages.push(update);
            }
            self.compress(&entry, step).await?;
            let request = ChatRequest {
                system: system.clone(),
                messages: self.request_messages(),
                tools: self.tools.clone(),
            };
            let started = Instant::now();
            let response = match self.ask(&entry, &request, step).await? {
                Asked::Reply(response) => {
                    self.shared
                        .account(self.frame, step, &response, entry.price, started.elapsed())
                        .await?;
                    response
                }
                Asked::Recorded(response) => response,
                Asked::Retry => continue,
                Asked::Finished(output) => return Ok(self.finish(output)),
            };
            if let Some(output) = self.take_turn(response).await? {
                return Ok(self.finish(output));
            }
        }
        let reason = format!(
            "'{}' reached its step limit ({max_steps}) without calling final_output; raise max_steps in its front matter or [run] max_steps",
            self.def.name
        );
        Ok(self.finish(FinalOutput::error("", reason)))
    }
}
