//! Dispatch: each tool call of a turn resolved once into a basic tool, a child
//! agent (agent-as-a-tool), or an unknown tool the model is told about; and the
//! tools an agent is offered.

use std::time::Instant;

use infiagent_agents::{AgentDef, Registry};
use infiagent_model::{ToolCall, ToolSpec};
use infiagent_tools::{BASIC_TOOL_NAMES, ToolContext, ToolDef, ToolOutput};

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
}

impl AgentLoop {
    /// Runs one tool call (not `final_output`).
    pub(super) async fn execute(&self, call: &ToolCall) -> Result<CallResult, Abort> {
        let allowed = self.def.tools.iter().any(|tool| tool == &call.name);
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
                caller: self.frame,
                call: call_id,
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
            self.call_agent(call, call_id).await
        };
        let result = result?;
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
            call: Some(call_id),
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
