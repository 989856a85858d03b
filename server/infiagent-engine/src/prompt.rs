//! What an agent is sent: its system prompt (C_sys plus the live call stack C_SM)
//! and the task message. Only `(path, description)` pairs cross between agents.

use infiagent_agents::AgentDef;
pub use infiagent_protocol::{AGENT_HEADER, FileRef, task_message};
use infiagent_sandbox::{SandboxMode, SandboxPolicy};
use serde::Deserialize;

/// One entry of the live call stack (C_SM).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackEntry {
    /// The agent.
    pub agent: String,
    /// Its task, shortened.
    pub task_summary: String,
}

/// Values for the `{placeholders}` of agent prompts.
#[derive(Clone, Debug)]
pub struct Placeholders<'a> {
    /// `{task_id}`: the run id.
    pub task_id: &'a str,
    /// `{date}`: today, `YYYY-MM-DD`.
    pub date: &'a str,
    /// What confines the tools, as [`confinement`] says it.
    pub confinement: &'a str,
}

/// The rule of the system prompt that says what confines the tools: true for the
/// sandbox mode in force and for what this machine enforces (`complete`).
pub fn confinement(policy: &SandboxPolicy, complete: bool) -> String {
    let files = "Paths in tool calls are relative to the workspace root; file tools cannot reach outside it.";
    let network = if policy.network {
        "may use the network"
    } else {
        "have no network"
    };
    let processes = match policy.mode {
        SandboxMode::Off => {
            return format!(
                "- {files} Processes you start (execute_code, execute_shell) run with the user's full rights: never touch anything outside the workspace."
            );
        }
        SandboxMode::WorkspaceWrite => {
            let protected = if policy.protect.is_empty() {
                String::new()
            } else {
                let folders: Vec<String> = policy
                    .protect
                    .iter()
                    .map(|folder| format!("{folder}/"))
                    .collect();
                format!(" (not in {})", folders.join(", "))
            };
            format!(
                "Processes you start (execute_code, execute_shell) run in a sandbox: they read the system and the workspace but not credentials (such as ~/.ssh), write only inside the workspace{protected} and a private temporary folder ($TMPDIR), {network}, and are limited in memory, CPU time and process count."
            )
        }
        SandboxMode::ReadOnly => format!(
            "Processes you start (execute_code, execute_shell) run in a read-only sandbox: they read the system and the workspace but not credentials (such as ~/.ssh), write only a private temporary folder ($TMPDIR), {network}, and are limited in memory, CPU time and process count."
        ),
    };
    let caveat = if complete {
        ""
    } else {
        " Some of these limits are not enforced on this machine: stay inside them anyway."
    };
    format!("- {files} {processes}{caveat}")
}

/// The system prompt in its parts: the agent's own prompt (C_sys), the memory
/// index (C_LM) and the live call stack with the rules of finishing (C_SM).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemPrompt {
    /// Header and the agent's prompt with placeholders filled.
    pub agent: String,
    /// The memory index section (empty when there is none).
    pub memory: String,
    /// The call stack section and how to finish.
    pub stack: String,
}

impl SystemPrompt {
    /// Builds the parts.
    pub fn build(
        agent: &AgentDef,
        values: &Placeholders<'_>,
        memory_index: &str,
        stack: &[StackEntry],
    ) -> SystemPrompt {
        let body = agent
            .prompt
            .replace("{task_id}", values.task_id)
            .replace("{agent_name}", &agent.name)
            .replace("{date}", values.date);
        let agent_part = format!(
            "{AGENT_HEADER}{} (level {})\n\n{}\n\n",
            agent.name,
            agent.level,
            body.trim()
        );
        let mut memory = String::new();
        if !memory_index.trim().is_empty() {
            memory.push_str("## Workspace memory index\nDescriptors of the workspace files most relevant to your task: path, language, summary, definitions with their lines. Read a file only when you need more than its descriptor.\n\n");
            memory.push_str(memory_index.trim_end());
            memory.push_str("\n\n");
        }
        let mut stack_part = String::from(
            "## Call stack\nThe agents working on this run right now, the top first:\n",
        );
        for (index, entry) in stack.iter().enumerate() {
            let you = if index + 1 == stack.len() {
                " (you)"
            } else {
                ""
            };
            stack_part.push_str(&format!(
                "{}. {}{you}: {}\n",
                index + 1,
                entry.agent,
                entry.task_summary
            ));
        }
        stack_part.push_str("\n## Working and finishing\n");
        stack_part.push_str(values.confinement);
        stack_part.push('\n');
        stack_part.push_str(FINISHING);
        SystemPrompt {
            agent: agent_part,
            memory,
            stack: stack_part,
        }
    }

    /// The whole system prompt.
    pub fn render(&self) -> String {
        format!("{}{}{}", self.agent, self.memory, self.stack)
    }
}

/// The system prompt as sent.
pub fn system_prompt(
    agent: &AgentDef,
    values: &Placeholders<'_>,
    memory_index: &str,
    stack: &[StackEntry],
) -> String {
    SystemPrompt::build(agent, values, memory_index, stack).render()
}

const FINISHING: &str = "- Tool calls you make in one reply run at the same time: put independent calls together, dependent ones in later replies.
- When the task is done, or cannot be done, call `final_output` with `status` (`success` or `error`), `output` and, for an error, `error_information`. In `output`, name every file you produced by its path in backquotes and a one-line description (`src/app.py`: the entry point); never paste file contents.
";

/// The first line of `task`, at most `max_chars` characters.
pub fn summarize(task: &str, max_chars: usize) -> String {
    let first_line = task.trim().lines().next().unwrap_or("").trim();
    if first_line.chars().count() <= max_chars {
        return first_line.to_string();
    }
    let cut: String = first_line
        .chars()
        .take(max_chars.saturating_sub(1))
        .collect();
    format!("{cut}…")
}

/// One line about a call's arguments, for progress: its path, command, task or
/// search pattern; for other tools (an MCP server's), the arguments as JSON.
pub fn call_summary(arguments: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(arguments).unwrap_or_default();
    let known = ["path", "source", "command", "task", "packages", "pattern"]
        .iter()
        .find_map(|key| value.get(*key))
        .map(|value| match value {
            serde_json::Value::String(text) => summarize(text, 80),
            other => summarize(&other.to_string(), 80),
        });
    match (known, &value) {
        (Some(summary), _) => summary,
        (None, serde_json::Value::Object(object)) if !object.is_empty() => {
            summarize(&value.to_string(), 80)
        }
        (None, _) => String::new(),
    }
}

/// JSON schema of an agent called as a tool.
pub fn agent_tool_schema() -> serde_json::Value {
    serde_json::json!({
        "type": "object",
        "properties": {
            "task": {"type": "string", "description": "The sub-task, self-contained: what to do and what to produce where."},
            "files": {
                "type": "array",
                "description": "Files the agent needs, by path and description (never their content).",
                "items": {
                    "type": "object",
                    "properties": {
                        "path": {"type": "string"},
                        "description": {"type": "string"}
                    },
                    "required": ["path"],
                    "additionalProperties": false
                }
            }
        },
        "required": ["task"],
        "additionalProperties": false
    })
}

/// Arguments of an agent called as a tool.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentCall {
    /// The sub-task.
    pub task: String,
    /// Files by path and description.
    #[serde(default)]
    pub files: Vec<FileRef>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_confinement_rule_says_what_is_true_for_the_mode() {
        let policy = |mode| SandboxPolicy {
            mode,
            ..SandboxPolicy::default()
        };
        let rules = [
            confinement(&policy(SandboxMode::WorkspaceWrite), true),
            confinement(&policy(SandboxMode::ReadOnly), true),
            confinement(&policy(SandboxMode::Off), true),
            confinement(
                &SandboxPolicy {
                    network: true,
                    protect: Vec::new(),
                    ..SandboxPolicy::default()
                },
                false,
            ),
        ];
        insta::assert_snapshot!(rules.join("\n"));
    }

    #[test]
    fn summarize_cuts() {
        assert_eq!(summarize("short\nmore", 10), "short");
        assert_eq!(summarize("abcdefghijkl", 5), "abcd…");
    }
}
