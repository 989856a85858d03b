//! Dispatch: each tool call of a turn resolved once into a basic tool, a child
//! agent (agent-as-a-tool), or an unknown tool the model is told about; and the
//! tools an agent is offered.

use std::time::Instant;

use infiagent_agents::{AgentDef, Registry};
use infiagent_mcp::McpTool;
use infiagent_model::{ToolCall, ToolSpec};
use infiagent_protocol::{MCP_PREFIX, McpToolName};
use infiagent_tools::{BASIC_TOOL_NAMES, ToolContext, ToolDef, ToolOutput, approve_tool};

use super::repeats::Repeat;
use super::*;
use crate::prompt::{self, AgentCall};
use crate::run::Abort;
use crate::run::report::Fact;
use infiagent_protocol::{FINAL_OUTPUT, Findings, Status, TOOL_ERROR_PREFIX, final_output_schema};

/// What one tool call came to.
pub(super) struct CallResult {
    pub(super) output: ToolOutput,
    /// The call itself was malformed (unknown tool, unreadable arguments).
    pub(super) malformed: bool,
    /// Why the agent must end now (the loop guard).
    pub(super) ends_agent: Option<String>,
}

impl AgentLoop {
    /// Runs one tool call (not `final_output`).
    pub(super) async fn execute(&self, call: &ToolCall) -> Result<CallResult, Abort> {
        let allowed = self.def.tools.iter().any(|tool| tool == &call.name)
            || lists_mcp_tool(&self.def, &call.name);
        if let Some(result) = self.replayed_call(call, allowed).await {
            return Ok(result);
        }
        let call_id = self.shared.next_call_id();
        self.shared
            .emit(RunEvent::ToolStarted {
                frame: self.frame,
                call: call_id,
                tool: call.name.clone(),
                summary: prompt::call_summary(&call.arguments),
                arguments: call.arguments.clone(),
            })
            .await;
        let started = Instant::now();
        let arguments = serde_json::from_str::<serde_json::Value>(&call.arguments);
        let result = if !allowed {
            let available: Vec<&str> = self.tools.iter().map(|tool| tool.name.as_str()).collect();
            Ok(CallResult {
                output: ToolOutput::error(format!(
                    "{TOOL_ERROR_PREFIX}unknown tool '{}'. Your tools are: {}",
                    call.name,
                    available.join(", ")
                )),
                malformed: true,
                ends_agent: None,
            })
        } else if arguments.is_err() {
            Ok(CallResult {
                output: ToolOutput::error(format!(
                    "{TOOL_ERROR_PREFIX}the arguments of '{}' are not valid JSON: {}. Call it again with a JSON object.",
                    call.name,
                    prompt::summarize(&call.arguments, 200)
                )),
                malformed: true,
                ends_agent: None,
            })
        } else if let Ok(arguments) = &arguments
            && let Some(refused) = self.guard_repeat(call, arguments)
        {
            Ok(refused)
        } else if BASIC_TOOL_NAMES.contains(&call.name.as_str())
            || call.name.starts_with(MCP_PREFIX)
        {
            let site = &self.invocation.site;
            let context = ToolContext {
                cancel: site.tools.cancel.child_token(),
                agent: self.def.name.clone(),
                caller: self.frame,
                call: call_id,
                ..site.tools.clone()
            };
            let mut output = if call.name.starts_with(MCP_PREFIX) {
                self.call_mcp(call, &context).await
            } else {
                infiagent_tools::call_tool(&call.name, &call.arguments, &context).await
            };
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
                ends_agent: None,
            })
        } else {
            self.call_agent(call, call_id).await
        };
        let result = result?;
        if !result.output.changed_paths.is_empty()
            && let Ok(mut repeats) = self.repeats.lock()
        {
            repeats.reset();
        }
        self.shared.note_tool_call();
        self.shared
            .report(Fact::ToolFinished {
                frame: self.frame,
                call_id,
                agent: &self.def.name,
                call,
                output: &result.output,
                duration: started.elapsed(),
            })
            .await;
        Ok(result)
    }

    /// The recorded result of `call` in a resumed run: nothing runs, and the
    /// run's state moves on as when it ran (files changed, the loop guard).
    async fn replayed_call(&self, call: &ToolCall, allowed: bool) -> Option<CallResult> {
        if !self.replaying {
            return None;
        }
        let replay = self.shared.replay.as_ref()?;
        let output = replay.tool(self.frame, &call.id)?;
        // A child agent answered from the record is not run: its own record
        // is set aside, so that a later call with the same id is not taken
        // for it.
        let _ = replay.frame(self.frame, Some(&call.id));
        let arguments = serde_json::from_str::<serde_json::Value>(&call.arguments);
        let ends_agent = match &arguments {
            Ok(arguments) if allowed => self
                .guard_repeat(call, arguments)
                .and_then(|guarded| guarded.ends_agent),
            _ => None,
        };
        if !output.changed_paths.is_empty() {
            if self.invocation.site.is_workspace() {
                self.shared.note_changed(&output.changed_paths).await;
            }
            if let Ok(mut repeats) = self.repeats.lock() {
                repeats.reset();
            }
        }
        Some(CallResult {
            output,
            malformed: !allowed || arguments.is_err(),
            ends_agent,
        })
    }

    /// The loop guard's answer to `call` when it must not run: the same call
    /// (a tool with the same arguments, a child agent with the same task) made
    /// `[run] max_repeated_calls` times by this agent on an unchanged workspace.
    fn guard_repeat(&self, call: &ToolCall, arguments: &serde_json::Value) -> Option<CallResult> {
        let limit = self.shared.config.run.max_repeated_calls;
        let is_agent = self.shared.registry.get(&call.name).is_some();
        let key = match arguments.get("task").and_then(serde_json::Value::as_str) {
            Some(task) if is_agent => format!("{}\n{task}", call.name),
            _ => format!("{}\n{arguments}", call.name),
        };
        let changes = self.shared.change_count();
        let repeat = self.repeats.lock().ok()?.count(key, changes, limit);
        let what = if is_agent {
            format!("asked '{}' the same task", call.name)
        } else {
            format!("called '{}' with the same arguments", call.name)
        };
        match repeat {
            Repeat::Fresh => None,
            Repeat::Refused => Some(CallResult {
                output: ToolOutput::error(format!(
                    "{TOOL_ERROR_PREFIX}not run: you {what} {limit} times and nothing in the workspace changed since the first, so the answer would not change. Use the answer you have, do something else, or finish with final_output; the same call once more ends your task with an error ([run] max_repeated_calls = {limit})."
                )),
                malformed: false,
                ends_agent: None,
            }),
            Repeat::Stop => Some(CallResult {
                output: ToolOutput::error(format!(
                    "{TOOL_ERROR_PREFIX}not run: the same call again after the warning."
                )),
                malformed: false,
                ends_agent: Some(format!(
                    "'{}' stopped in a loop: it {what} more than {limit} times while the workspace did not change ([run] max_repeated_calls = {limit}; 0 turns the guard off)",
                    self.def.name
                )),
            }),
        }
    }

    /// Calls a tool of an MCP server, with the user's consent: in `ask`, the first
    /// call of each tool in a session asks (*Always* remembers the tool for the
    /// workspace).
    async fn call_mcp(&self, call: &ToolCall, context: &ToolContext) -> ToolOutput {
        if !self.invocation.site.is_workspace() {
            return ToolOutput::error(format!(
                "MCP tools act outside this candidate's copy of the workspace, so a candidate cannot call '{}'; do without it",
                call.name
            ));
        }
        let mcp = &self.shared.mcp;
        if !mcp.allowed_for_session(&call.name) {
            let summary = format!("{} {}", call.name, prompt::call_summary(&call.arguments));
            if let Err(error) = approve_tool(&call.name, &summary, context).await {
                return ToolOutput::error(error);
            }
            mcp.allow_for_session(&call.name);
        }
        match mcp.call(&call.name, &call.arguments, &context.cancel).await {
            Ok(text) => ToolOutput::ok(text),
            Err(error) => ToolOutput::error(error),
        }
    }

    pub(super) async fn call_agent(
        &self,
        call: &ToolCall,
        call_id: CallId,
    ) -> Result<CallResult, Abort> {
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
                    ends_agent: None,
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
                ends_agent: None,
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
            call: Some(call_id),
            call_key: Some(call.id.clone()),
            replay: self.replaying,
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
            ends_agent: None,
        })
    }
}

/// The tools an agent is offered: its basic tools, its child agents, the MCP
/// tools its servers offer, `final_output`.
pub(crate) fn tool_specs(
    registry: &Registry,
    basic_tools: &[ToolDef],
    mcp_tools: &[McpTool],
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
    specs.extend(mcp_tools.iter().map(|tool| ToolSpec {
        name: tool.name.clone(),
        description: tool.description.clone(),
        parameters: tool.parameters.clone(),
    }));
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

/// Whether an entry of `def`'s `tools:` names the MCP tool `name`.
fn lists_mcp_tool(def: &AgentDef, name: &str) -> bool {
    let Some(Ok(McpToolName {
        server,
        tool: Some(tool),
    })) = McpToolName::parse(name)
    else {
        return false;
    };
    def.tools.iter().any(|entry| {
        matches!(McpToolName::parse(entry), Some(Ok(listed)) if listed.allows(server, tool))
    })
}
