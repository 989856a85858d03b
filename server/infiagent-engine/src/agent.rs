//! One agent's loop: ask the model, run its tool calls (child agents included, at
//! the same time), until it calls `final_output`. Children are tools: the parent
//! sees only their final output, never their trajectory.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use futures::future::join_all;
use infiagent_agents::{AgentDef, Audit, Registry, Role};
use infiagent_model::{ChatRequest, ChatResponse, Message, ModelError, ToolCall, ToolSpec};
use infiagent_tools::{BASIC_TOOL_NAMES, ToolContext, ToolDef, ToolOutput};

use crate::audit;
use crate::candidates;
use crate::context::{self, Environment, Summarizer};
use crate::prompt::{self, AgentCall, FileRef, Placeholders, StackEntry};
use crate::report::Fact;
use crate::run::RunShared;
use crate::site::Site;
use infiagent_protocol::{
    FINAL_OUTPUT, FinalOutput, Findings, Status, TOOL_ERROR_PREFIX, final_output_schema,
};
use infiagent_protocol::{Frame, FrameId, Record, RunEvent};

/// Malformed replies in a row (unreadable, no tool call, bad arguments, unknown
/// tool) an agent may make before it is ended with an error.
const MALFORMED_LIMIT: u32 = 3;

/// Why a run stops as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Abort {
    /// The user cancelled.
    Cancelled,
    /// A bound or a model failure ended the run; the reason says which.
    Fatal(String),
}

/// What an agent hands back to its caller.
pub(crate) struct AgentResult {
    pub output: FinalOutput,
    /// Files it and its children changed.
    pub changed: BTreeSet<String>,
    /// The judge's verdict on this output, when the judge gave one (for the judge
    /// itself: the verdict it gave).
    pub verdict: Option<Verdict>,
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
        let frame = shared.next_frame_id();
        let mut label = label(&def.name, &invocation.files);
        if let Some(model) = &invocation.candidate {
            label.push_str(&format!(" [{model}]"));
        }
        shared
            .emit(RunEvent::AgentStarted {
                frame: Frame {
                    id: frame,
                    parent: invocation.parent,
                    agent: def.name.clone(),
                    label,
                    task_summary: prompt::summarize(&invocation.task, 120),
                    depth: u32::try_from(invocation.stack.len() + 1).unwrap_or(u32::MAX),
                },
            })
            .await;
        let mut invocation = invocation;
        let evidence = if def.is_judge() {
            let evidence = gather_evidence(&invocation).await;
            invocation.task.push_str(&evidence.render());
            Some(evidence)
        } else {
            None
        };
        let mut agent = AgentLoop::new(shared.clone(), def, invocation, frame);
        let mut result = agent.run().await;
        if let (Ok(result), Some(evidence)) = (&mut result, &evidence) {
            let judge_said = result.output.clone();
            let (verdict, overruled) = audit::overrule(judge_said.clone(), evidence);
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
            let invocation = &agent.invocation;
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
                    files: invocation
                        .site
                        .is_workspace()
                        .then(|| verdict_files(invocation, &result.output)),
                })
                .await;
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
async fn gather_evidence(invocation: &Invocation) -> audit::Evidence {
    let context = ToolContext {
        cancel: invocation.site.tools.cancel.child_token(),
        agent: invocation.agent.clone(),
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
    audit::gather(&context, &named, &generated).await
}

struct AgentLoop {
    shared: Arc<RunShared>,
    def: AgentDef,
    invocation: Invocation,
    frame: FrameId,
    tools: Vec<ToolSpec>,
    messages: Vec<Message>,
    changed: BTreeSet<String>,
    malformed_in_a_row: u32,
    last_malformed: String,
    repairs: u32,
    /// The model this agent talks to (known once it runs).
    model_name: String,
    /// The judge's last verdict on an output of this agent.
    last_verdict: Option<Verdict>,
    /// C_ENV: its own trajectory, compressed as it grows.
    environment: Environment,
    /// C_LM as last rendered, and how many touched files it accounted for.
    memory: Option<(usize, String)>,
}

/// What one tool call came to.
struct CallResult {
    output: ToolOutput,
    /// The call itself was malformed (unknown tool, unreadable arguments).
    malformed: bool,
}

impl AgentLoop {
    fn new(shared: Arc<RunShared>, def: AgentDef, invocation: Invocation, frame: FrameId) -> Self {
        let tools = tool_specs(&shared.registry, &shared.basic_tools, &def);
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
            malformed_in_a_row: 0,
            last_malformed: String::new(),
            repairs: 0,
            model_name: String::new(),
            last_verdict: None,
            environment,
            memory: None,
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
        };
        let stack = self.stack();
        let memory = self.memory_index().await;
        let mut system = prompt::system_prompt(&self.def, &placeholders, &memory, &stack);
        self.shared.trajectory.record(Record::AgentStart {
            frame: self.frame,
            parent: self.invocation.parent,
            agent: self.def.name.clone(),
            role: self.def.role,
            model: entry.model.name().to_string(),
            system: system.clone(),
            task: self.messages.first().cloned(),
            tools: self.tools.iter().map(|tool| tool.name.clone()).collect(),
        });
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
            if self.memory_is_stale() {
                let memory = self.memory_index().await;
                system = prompt::system_prompt(&self.def, &placeholders, &memory, &stack);
            }
            self.compress(&entry, step).await?;
            let request = ChatRequest {
                system: system.clone(),
                messages: self.request_messages(),
                tools: self.tools.clone(),
            };
            let started = Instant::now();
            let reply = tokio::select! {
                () = self.invocation.site.tools.cancel.cancelled() => return Err(self.invocation.site.abort_reason(&self.shared)),
                reply = entry.model.chat(&request) => reply,
            };
            let response = match reply {
                Ok(response) => response,
                Err(err @ (ModelError::EmptyResponse | ModelError::Decode(_))) => {
                    self.shared.trajectory.record(Record::ModelError {
                        frame: self.frame,
                        step,
                        error: err.to_string(),
                    });
                    if let Some(output) =
                        self.malformed(format!("the model's reply could not be used: {err}"))
                    {
                        return Ok(self.finish(output));
                    }
                    self.messages.push(Message::User {
                        content: format!("Your last reply could not be used ({err}). Reply with tool calls; finish by calling final_output."),
                    });
                    continue;
                }
                Err(err) => {
                    let reason = format!(
                        "model '{}' failed for agent '{}': {err}",
                        entry.model.name(),
                        self.def.name
                    );
                    return Err(self.invocation.site.abort(&self.shared, reason));
                }
            };
            self.shared
                .account(self.frame, step, &response, entry.price, started.elapsed())
                .await?;
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

    /// C_LM: the ranked descriptors, cut to the budget (cached until the run
    /// touches more files).
    /// C_LM for this agent, ranked and rendered off the async runtime (ranking and
    /// parsing are CPU work).
    async fn memory_index(&mut self) -> String {
        if !self.memory_is_stale()
            && let Some((_, text)) = &self.memory
        {
            return text.clone();
        }
        let touched = self.shared.touched_paths();
        let touched_count = touched.len();
        let text = match self.shared.index().cloned() {
            Some(index) => {
                let task = self.invocation.task.clone();
                let mentioned = self
                    .invocation
                    .files
                    .iter()
                    .map(|file| file.path.clone())
                    .collect();
                let budget = self.shared.config.context.budget_tokens;
                tokio::task::spawn_blocking(move || {
                    context::memory_index(&index, &task, mentioned, touched, budget)
                })
                .await
                .unwrap_or_default()
            }
            None => String::new(),
        };
        self.memory = Some((touched_count, text.clone()));
        text
    }

    fn memory_is_stale(&self) -> bool {
        self.memory
            .as_ref()
            .is_some_and(|(count, _)| *count != self.shared.touched_count())
    }

    /// What is sent: the task, the summary of compressed steps, the recent steps.
    fn request_messages(&self) -> Vec<Message> {
        let mut messages = Vec::with_capacity(self.messages.len() + 1);
        messages.extend(self.messages.first().cloned());
        messages.extend(self.environment.summary_message());
        messages.extend(self.messages.iter().skip(1).cloned());
        messages
    }

    /// C_ENV past `tau`: the oldest steps become a summary (the system-level audit).
    async fn compress(
        &mut self,
        entry: &crate::models::ModelEntry,
        step: u32,
    ) -> Result<(), Abort> {
        let Some(dropped) = self.environment.take_old(&mut self.messages) else {
            return Ok(());
        };
        let line_summary = self.environment.line_summary(dropped.lines.clone());
        let mut method = "lines";
        let mut summary = line_summary.clone();
        if self.shared.config.context.summarizer == Summarizer::Model {
            let request = ChatRequest {
                system: context::SUMMARIZER_PROMPT.to_string(),
                messages: vec![Message::User {
                    content: context::summarizer_request(
                        self.environment.summary(),
                        &dropped,
                        self.environment.summary_cap(),
                    ),
                }],
                tools: Vec::new(),
            };
            let started = Instant::now();
            let reply = tokio::select! {
                () = self.invocation.site.tools.cancel.cancelled() => return Err(self.invocation.site.abort_reason(&self.shared)),
                reply = entry.model.chat(&request) => reply,
            };
            if let Ok(response) = reply {
                self.shared
                    .account(self.frame, step, &response, entry.price, started.elapsed())
                    .await?;
                let text = response.content.unwrap_or_default();
                if !text.trim().is_empty()
                    && infiagent_index::count_tokens(&text) <= self.environment.summary_cap()
                {
                    summary = text.trim().to_string();
                    method = "model";
                }
            }
        }
        self.shared.trajectory.record(Record::ContextCompressed {
            frame: self.frame,
            step,
            dropped_messages: dropped.messages.len(),
            method: method.to_string(),
            summary: summary.clone(),
            messages: Some(dropped.messages),
        });
        self.environment.set_summary(summary);
        Ok(())
    }

    fn finish(&mut self, output: FinalOutput) -> AgentResult {
        AgentResult {
            output,
            changed: std::mem::take(&mut self.changed),
            verdict: self.last_verdict.take(),
        }
    }

    /// Counts a malformed reply; returns the agent's end when there were too many in a row.
    fn malformed(&mut self, problem: String) -> Option<FinalOutput> {
        self.malformed_in_a_row += 1;
        self.last_malformed = problem;
        (self.malformed_in_a_row >= MALFORMED_LIMIT).then(|| {
            FinalOutput::error(
                "",
                format!(
                    "'{}' stopped after {MALFORMED_LIMIT} malformed replies in a row; the last: {}",
                    self.def.name, self.last_malformed
                ),
            )
        })
    }

    /// Handles one model reply; `Some` when the agent is done.
    async fn take_turn(&mut self, response: ChatResponse) -> Result<Option<FinalOutput>, Abort> {
        if response.tool_calls.is_empty() {
            let content = response.content.unwrap_or_default();
            self.messages.push(Message::Assistant {
                content: Some(content.clone()),
                tool_calls: Vec::new(),
            });
            if let Some(output) = FinalOutput::from_text(&content) {
                return self.conclude(output, None).await;
            }
            if let Some(output) = self.malformed("the reply called no tool".into()) {
                return Ok(Some(output));
            }
            self.messages.push(Message::User {
                content: "You replied without calling a tool. Continue the task with tool calls, and finish by calling final_output.".into(),
            });
            return Ok(None);
        }
        self.messages.push(Message::Assistant {
            content: response.content.clone(),
            tool_calls: response.tool_calls.clone(),
        });
        let (finals, calls): (Vec<&ToolCall>, Vec<&ToolCall>) = response
            .tool_calls
            .iter()
            .partition(|call| call.name == FINAL_OUTPUT);
        let results = join_all(calls.iter().map(|call| self.execute(call))).await;
        let mut any_malformed = false;
        let mut answers = Vec::new();
        for (call, result) in calls.iter().zip(results) {
            let result = result?;
            any_malformed |= result.malformed;
            if result.malformed {
                self.last_malformed = result.output.content.clone();
            }
            self.changed
                .extend(result.output.changed_paths.iter().cloned());
            answers.push(((*call).clone(), result.output.content));
        }
        let mut outcome = None;
        for (index, call) in finals.iter().enumerate() {
            if index > 0 {
                answers.push((
                    (*call).clone(),
                    "Ignored: only the first final_output of a reply counts.".into(),
                ));
                continue;
            }
            if !calls.is_empty() {
                answers.push((
                    (*call).clone(),
                    "Not accepted: final_output must be called alone, after the results of your other tool calls are known. Check them, then call final_output again.".into(),
                ));
                continue;
            }
            match FinalOutput::from_arguments(&call.arguments) {
                Ok(output) => outcome = Some(((*call).clone(), output)),
                Err(message) => {
                    any_malformed = true;
                    self.last_malformed = message.clone();
                    answers.push(((*call).clone(), message));
                }
            }
        }
        self.push_answers(answers);
        if let Some((call, output)) = outcome {
            self.malformed_in_a_row = 0;
            return self.conclude(output, Some(call)).await;
        }
        if any_malformed {
            let problem = self.last_malformed.clone();
            if let Some(output) = self.malformed(problem) {
                return Ok(Some(output));
            }
        } else {
            self.malformed_in_a_row = 0;
        }
        Ok(None)
    }

    fn push_answers(&mut self, answers: Vec<(ToolCall, String)>) {
        let cap = self.environment.tool_result_cap();
        for (call, content) in answers {
            let content = context::cap_tool_result(content, cap);
            self.messages.push(Message::Tool {
                call_id: call.id,
                name: call.name,
                content,
            });
        }
    }

    /// The agent gave its final output: audit it if required, and decide.
    async fn conclude(
        &mut self,
        output: FinalOutput,
        call: Option<ToolCall>,
    ) -> Result<Option<FinalOutput>, Abort> {
        let audited = self.def.audit == Audit::Judge
            && !self.def.is_judge()
            && output.status == Status::Success;
        if !audited {
            // Any earlier verdict was on another output.
            self.last_verdict = None;
            if self.invocation.candidate.is_some() && output.status == Status::Success {
                // A candidate is judged in its copy whatever its `audit:` says, once.
                self.last_verdict = Some(self.audit(&output, Scoring::Scored).await?);
            }
            return Ok(Some(output));
        }
        let scoring = match self.invocation.candidate {
            Some(_) => Scoring::Scored,
            None => Scoring::VerdictOnly,
        };
        let verdict = self.audit(&output, scoring).await?;
        self.last_verdict = Some(verdict.clone());
        let verdict = verdict.output;
        if verdict.status == Status::Success {
            return Ok(Some(output));
        }
        let max_repairs = self.shared.config.run.max_repairs;
        if self.repairs >= max_repairs {
            let mut rejected = FinalOutput::error(
                output.output,
                format!(
                    "the judge rejected the output {} times; last verdict: {}",
                    self.repairs + 1,
                    verdict.error_information
                ),
            );
            rejected.findings = verdict.findings;
            return Ok(Some(rejected));
        }
        self.repairs += 1;
        let feedback = format!(
            "The judge rejected this output (repair {} of {max_repairs}). Verdict: {}\nFix the problems, check the result, then call final_output again.",
            self.repairs,
            verdict.to_json()
        );
        match call {
            Some(call) => self.push_answers(vec![(call, feedback)]),
            None => self.messages.push(Message::User { content: feedback }),
        }
        Ok(None)
    }

    /// The execution-level audit: the runtime, not the prompt, asks the judge.
    async fn audit(&mut self, output: &FinalOutput, scoring: Scoring) -> Result<Verdict, Abort> {
        let mut files = self.invocation.files.clone();
        for path in &self.changed {
            if !files.iter().any(|file| &file.path == path) {
                files.push(FileRef {
                    path: path.clone(),
                    description: format!("written by {}", self.def.name),
                });
            }
        }
        let mut task = format!(
            "Verify the result of a task carried out by `{agent}`. Do not carry out the task yourself: check that the result is true and meets the instruction.\n\n### Original instruction\n{instruction}\n\n### Reported result\n{result}",
            agent = self.def.name,
            instruction = self.invocation.task.trim(),
            result = output.output.trim(),
        );
        if scoring == Scoring::Scored {
            task.push_str(candidates::SCORE_REQUEST);
        }
        let judge = self
            .shared
            .registry
            .require_role(Role::Judge)
            .map_err(|err| {
                Abort::Fatal(format!("'{}' must be audited, but {err}", self.def.name))
            })?;
        let invocation = Invocation {
            agent: judge.name.clone(),
            task,
            files,
            parent: Some(self.frame),
            stack: self.stack(),
            audit: Some(AuditSubject {
                agent: self.def.name.clone(),
                output: output.output.clone(),
                changed: self.changed.iter().cloned().collect(),
            }),
            site: self.invocation.site.clone(),
            candidate: None,
        };
        let result = run_agent(self.shared.clone(), invocation).await?;
        self.shared
            .quality
            .record(
                &self.def.name,
                &self.model_name,
                result.output.status == Status::Success,
            )
            .await;
        Ok(result.verdict.unwrap_or_else(|| Verdict {
            score: candidates::score(&result.output),
            output: result.output,
            frame: self.frame,
        }))
    }

    /// Runs one tool call (not `final_output`).
    async fn execute(&self, call: &ToolCall) -> Result<CallResult, Abort> {
        let allowed = self.def.tools.iter().any(|tool| tool == &call.name);
        let summary = call_summary(&call.arguments);
        self.shared
            .emit(RunEvent::ToolStarted {
                frame: self.frame,
                tool: call.name.clone(),
                summary: summary.clone(),
            })
            .await;
        let started = Instant::now();
        let result = if !allowed {
            let available: Vec<&str> = self.tools.iter().map(|tool| tool.name.as_str()).collect();
            Ok(CallResult {
                output: ToolOutput::error(format!(
                    "{TOOL_ERROR_PREFIX}unknown tool '{}'. Your tools are: {}",
                    call.name,
                    available.join(", ")
                )),
                malformed: true,
            })
        } else if serde_json::from_str::<serde_json::Value>(&call.arguments).is_err() {
            Ok(CallResult {
                output: ToolOutput::error(format!(
                    "{TOOL_ERROR_PREFIX}the arguments of '{}' are not valid JSON: {}. Call it again with a JSON object.",
                    call.name,
                    prompt::summarize(&call.arguments, 200)
                )),
                malformed: true,
            })
        } else if BASIC_TOOL_NAMES.contains(&call.name.as_str()) {
            let site = &self.invocation.site;
            let context = ToolContext {
                cancel: site.tools.cancel.child_token(),
                agent: self.def.name.clone(),
                ..site.tools.clone()
            };
            let mut output =
                infiagent_tools::call_tool(&call.name, &call.arguments, &context).await;
            if output.is_error {
                output.content = format!("{TOOL_ERROR_PREFIX}{}", output.content);
            }
            if site.is_workspace() {
                self.shared.note_changed(&output.changed_paths).await;
            }
            if site.tools.cancel.is_cancelled() {
                return Err(site.abort_reason(&self.shared));
            }
            Ok(CallResult {
                output,
                malformed: false,
            })
        } else {
            self.call_agent(call).await
        };
        let result = result?;
        self.shared.note_tool_call();
        self.shared
            .report(Fact::ToolFinished {
                frame: self.frame,
                agent: &self.def.name,
                call,
                output: &result.output,
                duration: started.elapsed(),
            })
            .await;
        Ok(result)
    }

    async fn call_agent(&self, call: &ToolCall) -> Result<CallResult, Abort> {
        let arguments = match serde_json::from_str::<AgentCall>(&call.arguments) {
            Ok(arguments) => arguments,
            Err(err) => {
                return Ok(CallResult {
                    output: ToolOutput::error(format!(
                        "{TOOL_ERROR_PREFIX}arguments of agent '{}' are invalid ({err}); expected the schema {}",
                        call.name,
                        prompt::agent_tool_schema()
                    )),
                    malformed: true,
                });
            }
        };
        let depth = self.invocation.stack.len() + 2;
        let max_depth = usize::try_from(self.shared.config.run.max_depth).unwrap_or(usize::MAX);
        if depth > max_depth {
            return Ok(CallResult {
                output: ToolOutput::error(format!(
                    "{TOOL_ERROR_PREFIX}cannot call '{}': the run's depth limit ([run] max_depth = {max_depth}) is reached. Do this part yourself or report it in final_output.",
                    call.name
                )),
                malformed: false,
            });
        }
        let invocation = Invocation {
            agent: call.name.clone(),
            task: arguments.task,
            files: arguments.files,
            parent: Some(self.frame),
            stack: self.stack(),
            audit: None,
            site: self.invocation.site.clone(),
            candidate: None,
        };
        let child = run_agent(self.shared.clone(), invocation).await?;
        let mut output = match child.output.status {
            Status::Success => ToolOutput::ok(child.output.to_json()),
            Status::Error => ToolOutput::error(child.output.to_json()),
        };
        output.changed_paths = child.changed.into_iter().collect();
        Ok(CallResult {
            output,
            malformed: false,
        })
    }
}

/// The tools an agent is offered: its basic tools, its child agents, `final_output`.
pub(crate) fn tool_specs(
    registry: &Registry,
    basic_tools: &[ToolDef],
    def: &AgentDef,
) -> Vec<ToolSpec> {
    let mut specs: Vec<ToolSpec> = def
        .tools
        .iter()
        .filter(|name| name.as_str() != FINAL_OUTPUT)
        .filter_map(|name| {
            if let Some(tool) = basic_tools.iter().find(|tool| tool.name == name.as_str()) {
                return Some(ToolSpec {
                    name: tool.name.to_string(),
                    description: tool.description.to_string(),
                    parameters: tool.parameters.clone(),
                });
            }
            registry.get(name).map(|child| ToolSpec {
                name: child.name.clone(),
                description: format!(
                    "Agent (level {}): {} Runs its own loop; returns only its final output.",
                    child.level,
                    child.description.trim()
                ),
                parameters: prompt::agent_tool_schema(),
            })
        })
        .collect();
    let findings = if def.is_judge() {
        Findings::Allowed
    } else {
        Findings::NotAllowed
    };
    specs.push(ToolSpec {
        name: FINAL_OUTPUT.to_string(),
        description: "Ends your task with its status and output. Call it alone, last.".to_string(),
        parameters: final_output_schema(findings),
    });
    specs
}

/// One line about a call's arguments, for progress: its path, command or task.
fn call_summary(arguments: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(arguments).unwrap_or_default();
    ["path", "source", "command", "task", "packages"]
        .iter()
        .find_map(|key| value.get(*key))
        .map(|value| match value {
            serde_json::Value::String(text) => prompt::summarize(text, 80),
            other => prompt::summarize(&other.to_string(), 80),
        })
        .unwrap_or_default()
}
