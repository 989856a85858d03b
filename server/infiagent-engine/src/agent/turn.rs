//! One turn of an agent's loop: its memory index and context, the model's reply
//! taken apart into tool calls and a final output, compression of old steps, and
//! the runtime's audit of a final output.

use std::time::Instant;

use futures::StreamExt;
use infiagent_agents::{Audit, Role};
use infiagent_model::{ChatRequest, ChatResponse, Message, ToolCall};

use super::*;
use crate::candidates;
use crate::context::{self, Summarizer};
use crate::prompt::FileRef;
use crate::run::Abort;
use infiagent_protocol::{FINAL_OUTPUT, FinalOutput, Status};

/// The start of a C_LM update message.
const MEMORY_UPDATE_HEADER: &str = "## Workspace memory index, updated\nDescriptors of files the run changed, or that now matter to your task, since the index you were given:\n\n";

/// The descriptors of a rendered C_LM: each is a line that does not start with a
/// space and the indented lines under it.
fn descriptor_blocks(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut start = 0;
    for (at, _) in text.match_indices('\n') {
        let next = at + 1;
        if next < text.len() && !text[next..].starts_with(' ') {
            blocks.push(text[start..next].trim_end());
            start = next;
        }
    }
    blocks.push(text[start..].trim_end());
    blocks.retain(|block| !block.is_empty());
    blocks
}

impl AgentLoop {
    /// C_LM for this agent's system prompt, ranked and rendered off the async
    /// runtime (ranking and parsing are CPU work).
    pub(super) async fn memory_index(&mut self) -> String {
        let (touched, text) = self.rank_memory().await;
        self.memory = Some((
            touched,
            descriptor_blocks(&text)
                .into_iter()
                .map(str::to_owned)
                .collect(),
        ));
        text
    }

    /// When the run has touched files since C_LM was last ranked: C_LM ranked
    /// again, and the descriptors the agent has not been sent yet (new files,
    /// changed ones, files that now rank within the budget) as a message to
    /// append, but for the files it wrote itself. The system prompt stays as it
    /// was.
    pub(super) async fn memory_update(&mut self) -> Option<Message> {
        let (count, _) = self.memory.as_ref()?;
        if *count == self.shared.touched_count() {
            return None;
        }
        let (touched, text) = self.rank_memory().await;
        let (count, sent) = self.memory.as_mut()?;
        *count = touched;
        let written = &self.written;
        let fresh: Vec<&str> = descriptor_blocks(&text)
            .into_iter()
            .filter(|block| sent.insert((*block).to_owned()))
            .filter(|block| {
                let path = block.split(" (").next().unwrap_or_default();
                !written.contains(path)
            })
            .collect();
        (!fresh.is_empty()).then(|| Message::User {
            content: format!("{MEMORY_UPDATE_HEADER}{}", fresh.join("\n")),
        })
    }

    /// C_LM ranked now, and the number of touched files it accounts for.
    async fn rank_memory(&self) -> (usize, String) {
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
                    context::memory_index(&index, &task, mentioned, touched, budget).text
                })
                .await
                .unwrap_or_default()
            }
            None => String::new(),
        };
        (touched_count, text)
    }

    /// What is sent: the task, the summary of compressed steps, the recent steps.
    pub(super) fn request_messages(&self) -> Vec<Message> {
        let mut messages = Vec::with_capacity(self.messages.len() + 1);
        messages.extend(self.messages.first().cloned());
        messages.extend(self.environment.summary_message());
        messages.extend(self.messages.iter().skip(1).cloned());
        messages
    }

    /// C_ENV past `tau`: the oldest steps become a summary (the system-level audit).
    pub(super) async fn compress(
        &mut self,
        entry: &crate::models::ModelEntry,
        step: u32,
    ) -> Result<(), Abort> {
        let Some(dropped) = self.environment.take_old(&mut self.messages) else {
            return Ok(());
        };
        if self.replaying
            && let Some(summary) = self
                .shared
                .replay
                .as_ref()
                .and_then(|replay| replay.compression(self.frame, step))
        {
            self.environment.set_summary(summary);
            return Ok(());
        }
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

    pub(super) fn finish(&mut self, output: FinalOutput) -> AgentResult {
        AgentResult {
            output,
            changed: std::mem::take(&mut self.changed),
            verdict: self.last_verdict.take(),
            replayed: false,
        }
    }

    /// Counts a malformed reply; returns the agent's end when there were too many in a row.
    pub(super) fn malformed(&mut self, problem: String) -> Option<FinalOutput> {
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
    pub(super) async fn take_turn(
        &mut self,
        response: ChatResponse,
    ) -> Result<Option<FinalOutput>, Abort> {
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
        // The calls of one reply run at the same time, a bounded number at once.
        let parallel = self.shared.config.run.max_parallel_calls.max(1);
        let pending: Vec<_> = calls.iter().map(|call| self.execute(call)).collect();
        let results: Vec<_> = futures::stream::iter(pending)
            .buffered(parallel)
            .collect()
            .await;
        let mut any_malformed = false;
        let mut loop_stop = None;
        let mut answers = Vec::new();
        for (call, result) in calls.iter().zip(results) {
            let result = result?;
            any_malformed |= result.malformed;
            loop_stop = loop_stop.or(result.ends_agent);
            if result.malformed {
                self.last_malformed = result.output.content.clone();
            }
            self.changed
                .extend(result.output.changed_paths.iter().cloned());
            if matches!(call.name.as_str(), "file_write" | "file_edit") {
                self.written
                    .extend(result.output.changed_paths.iter().cloned());
            } else {
                self.written
                    .retain(|path| !result.output.changed_paths.contains(path));
            }
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
        if let Some(reason) = loop_stop {
            return Ok(Some(FinalOutput::error("", reason)));
        }
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

    pub(super) fn push_answers(&mut self, answers: Vec<(ToolCall, String)>) {
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
    pub(super) async fn conclude(
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
    pub(super) async fn audit(
        &mut self,
        output: &FinalOutput,
        scoring: Scoring,
    ) -> Result<Verdict, Abort> {
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
            call: None,
            call_key: None,
            replay: self.replaying,
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
        if !result.replayed {
            self.shared
                .quality
                .record(
                    &self.def.name,
                    &self.model_name,
                    result.output.status == Status::Success,
                )
                .await;
        }
        Ok(result.verdict.unwrap_or_else(|| Verdict {
            score: candidates::score(&result.output),
            output: result.output,
            frame: self.frame,
        }))
    }
}
