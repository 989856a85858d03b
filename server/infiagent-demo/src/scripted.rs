//! The demo's scripted model: it plays each built-in agent's part for the bundled
//! requirement, reading the conversation so far and answering with the tool calls
//! a good model would make. The tools it calls are the real ones: files are
//! written, scripts are run, and its judge rules on what really happened.

use std::collections::HashMap;

use infiagent_model::{ChatModel, ChatRequest, ChatResponse, Message, ModelError, ToolCall, Usage};
use infiagent_protocol::{
    FINAL_OUTPUT, TOOL_ERROR_PREFIX, TaskMessage, prompt_agent, text_of_numbered,
};
use serde_json::{Value, json};

use crate::{design_check, files};

/// A model that needs no network: scripted replies, real tools.
#[derive(Debug, Default)]
pub struct ScriptedModel;

/// Name reported for the scripted model.
pub const SCRIPTED_MODEL_NAME: &str = "scripted-demo-model";

#[async_trait::async_trait]
impl ChatModel for ScriptedModel {
    fn name(&self) -> &str {
        SCRIPTED_MODEL_NAME
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ModelError> {
        Ok(scripted_reply(request))
    }
}

/// The scripted answer to one request.
pub fn scripted_reply(request: &ChatRequest) -> ChatResponse {
    let conversation = Conversation::read(request);
    if conversation.agent == "context_summarizer" {
        return summary_reply(request);
    }
    let reply = match conversation.agent.as_str() {
        "project_lead_agent" => lead(&conversation),
        "project_planner_agent" => planner(&conversation),
        "code_builder_agent" | "code_editor_agent" => builder(&conversation),
        "judge_agent" => judge(&conversation),
        other => Reply::Final(final_output(
            "error",
            "",
            &format!("the scripted demo model has no part for agent '{other}'"),
        )),
    };
    let (content, tool_calls) = match reply {
        Reply::Calls(calls) => (None, calls),
        Reply::Final(arguments) => (None, vec![("final_output".to_string(), arguments)]),
    };
    let step = conversation.step;
    let tool_calls: Vec<ToolCall> = tool_calls
        .into_iter()
        .enumerate()
        .map(|(index, (name, arguments))| ToolCall {
            id: format!("call_{step}_{index}"),
            name,
            arguments: arguments.to_string(),
        })
        .collect();
    let prompt_chars: usize =
        request.system.len() + request.messages.iter().map(message_len).sum::<usize>();
    let completion_chars: usize = tool_calls
        .iter()
        .map(|call| call.arguments.len() + call.name.len())
        .sum();
    ChatResponse {
        content,
        tool_calls,
        usage: Usage {
            prompt_tokens: (prompt_chars / 4) as u64,
            completion_tokens: (completion_chars / 4) as u64,
            ..Usage::default()
        },
        finish_reason: Some("tool_calls".into()),
    }
}

/// The summarizer's part: the step lines it was given, as the summary.
fn summary_reply(request: &ChatRequest) -> ChatResponse {
    let text = request.first_user_text().unwrap_or_default();
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("- step"))
        .collect();
    ChatResponse {
        content: Some(format!("Earlier steps, in short:\n{}", lines.join("\n"))),
        tool_calls: Vec::new(),
        usage: Usage {
            prompt_tokens: (text.len() / 4) as u64,
            completion_tokens: 16,
            ..Usage::default()
        },
        finish_reason: Some("stop".into()),
    }
}

fn message_len(message: &Message) -> usize {
    match message {
        Message::User { content } => content.len(),
        Message::Assistant {
            content,
            tool_calls,
        } => {
            content.as_ref().map_or(0, String::len)
                + tool_calls
                    .iter()
                    .map(|call| call.arguments.len())
                    .sum::<usize>()
        }
        Message::Tool { content, .. } => content.len(),
    }
}

enum Reply {
    Calls(Vec<(String, Value)>),
    Final(Value),
}

fn call(name: &str, arguments: Value) -> (String, Value) {
    (name.to_string(), arguments)
}

fn final_output(status: &str, output: &str, error_information: &str) -> Value {
    json!({"status": status, "output": output, "error_information": error_information})
}

/// A tool call made earlier in the conversation and what it returned.
struct Exchange {
    name: String,
    arguments: Value,
    result: String,
}

impl Exchange {
    fn failed(&self) -> bool {
        self.result.starts_with(TOOL_ERROR_PREFIX) || self.result.contains("\"status\":\"error\"")
    }

    fn path(&self) -> &str {
        self.arguments
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

struct Conversation {
    agent: String,
    task: String,
    files: Vec<String>,
    exchanges: Vec<Exchange>,
    /// 1-based model turn of this agent.
    step: usize,
}

impl Conversation {
    fn read(request: &ChatRequest) -> Conversation {
        let agent = prompt_agent(&request.system)
            .unwrap_or_default()
            .to_string();
        let task_message = request.first_user_text().unwrap_or_default();
        let TaskMessage { task, files } = TaskMessage::parse(task_message);
        let files = files.into_iter().map(|file| file.path).collect();
        let mut results: HashMap<&str, &str> = HashMap::new();
        for message in &request.messages {
            if let Message::Tool {
                call_id, content, ..
            } = message
            {
                results.insert(call_id, content);
            }
        }
        let mut exchanges = Vec::new();
        let mut step = 1;
        for message in &request.messages {
            if let Message::Assistant { tool_calls, .. } = message {
                step += 1;
                for tool_call in tool_calls {
                    let result = results
                        .get(tool_call.id.as_str())
                        .copied()
                        .unwrap_or_default();
                    // What a file_read returned, as the file's text.
                    let result = if tool_call.name == "file_read"
                        && !result.starts_with(TOOL_ERROR_PREFIX)
                    {
                        text_of_numbered(result)
                    } else {
                        result.to_string()
                    };
                    exchanges.push(Exchange {
                        name: tool_call.name.clone(),
                        arguments: serde_json::from_str(&tool_call.arguments).unwrap_or_default(),
                        result,
                    });
                }
            }
        }
        Conversation {
            agent,
            task,
            files,
            exchanges,
            step,
        }
    }

    fn called(&self, name: &str) -> Vec<&Exchange> {
        self.exchanges
            .iter()
            .filter(|exchange| exchange.name == name)
            .collect()
    }
}

/// Scripts named in a design summary's `## Build order`.
fn build_order(summary: &str) -> Vec<String> {
    summary
        .split("## Build order")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn lead(conversation: &Conversation) -> Reply {
    let requirement = conversation
        .files
        .first()
        .cloned()
        .unwrap_or_else(|| "requirement.md".into());
    let summary_path = "project_designs/project_design_summary.md";
    match conversation.step {
        1 => Reply::Calls(vec![call(
            "project_planner_agent",
            json!({
                "task": format!("Plan the project described in {requirement}: one design file per script in project_designs/, and project_designs/project_design_summary.md with the build order."),
                "files": [{"path": requirement, "description": "the project requirement"}]
            }),
        )]),
        2 => match conversation.called("project_planner_agent").last() {
            Some(plan) if plan.failed() => {
                Reply::Final(final_output("error", "", "the plan could not be made"))
            }
            _ => Reply::Calls(vec![call("file_read", json!({"path": summary_path}))]),
        },
        3 => {
            let summary = conversation
                .called("file_read")
                .last()
                .map(|read| read.result.clone())
                .unwrap_or_default();
            let scripts = build_order(&summary);
            if scripts.is_empty() {
                return Reply::Final(final_output(
                    "error",
                    "",
                    "the summary design has no build order",
                ));
            }
            Reply::Calls(
                scripts
                    .iter()
                    .map(|script| {
                        let stem = script.trim_end_matches(".py");
                        call(
                            "code_builder_agent",
                            json!({
                                "task": format!("Build {script} from its design."),
                                "files": [
                                    {"path": format!("project_designs/project_design_{stem}.md"), "description": format!("design of {script}")},
                                    {"path": summary_path, "description": "the project's summary design"}
                                ]
                            }),
                        )
                    })
                    .collect(),
            )
        }
        4 => {
            let builds = conversation.called("code_builder_agent");
            if let Some(failed) = builds.iter().find(|build| build.failed()) {
                return Reply::Final(final_output(
                    "error",
                    "",
                    &format!("a build failed: {}", failed.result),
                ));
            }
            let mut files =
                vec![json!({"path": requirement, "description": "the original requirement"})];
            for build in &builds {
                let task = build
                    .arguments
                    .get("task")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if let Some(script) = task.split_whitespace().nth(1) {
                    files.push(json!({"path": script, "description": "a built script"}));
                }
            }
            Reply::Calls(vec![call(
                "judge_agent",
                json!({
                    "task": format!("Verify that the scripts built for {requirement} exist, run, and pass their self-tests."),
                    "files": files
                }),
            )])
        }
        _ => {
            let verdict = conversation.called("judge_agent");
            match verdict.last() {
                Some(verdict) if !verdict.failed() => Reply::Final(final_output(
                    "success",
                    "Built textkit. Designs: `project_designs/project_design_textstats.md`, `project_designs/project_design_numstats.md` (one per script) and `project_designs/project_design_summary.md` (structure and build order). Scripts: `textstats.py` (word counts and top words), `numstats.py` (mean and median). Run each with `python3 <script>`; each prints ok. The judge ran both and confirmed them.",
                    "",
                )),
                _ => Reply::Final(final_output("error", "", "the judge rejected the project")),
            }
        }
    }
}

fn planner(conversation: &Conversation) -> Reply {
    let requirement = conversation
        .files
        .first()
        .cloned()
        .unwrap_or_else(|| "requirement.md".into());
    if conversation.exchanges.is_empty() {
        return Reply::Calls(vec![call("file_read", json!({"path": requirement}))]);
    }
    let writes = conversation.called("file_write");
    if writes.is_empty() {
        return Reply::Calls(
            [
                (
                    "project_designs/project_design_textstats.md",
                    files::DESIGN_TEXTSTATS,
                ),
                (
                    "project_designs/project_design_numstats.md",
                    files::DESIGN_NUMSTATS,
                ),
                (
                    "project_designs/project_design_summary.md",
                    files::DESIGN_SUMMARY,
                ),
            ]
            .into_iter()
            .map(|(path, content)| call("file_write", json!({"path": path, "content": content})))
            .collect(),
        );
    }
    if let Some(failed) = writes.iter().find(|write| write.failed()) {
        return Reply::Final(final_output("error", "", &failed.result));
    }
    Reply::Final(final_output(
        "success",
        "Wrote `project_designs/project_design_textstats.md` (design of textstats.py), `project_designs/project_design_numstats.md` (design of numstats.py) and `project_designs/project_design_summary.md` (structure, how to run, build order).",
        "",
    ))
}

/// The versions of a script the scripted builder writes: the first, the one it
/// writes after a failed self-test, and the one that meets the design.
struct Versions {
    first: &'static str,
    self_tested: &'static str,
    fixed: &'static str,
}

fn versions(script: &str) -> Option<Versions> {
    match script {
        "textstats.py" => Some(Versions {
            first: files::TEXTSTATS,
            self_tested: files::TEXTSTATS,
            fixed: files::TEXTSTATS,
        }),
        "numstats.py" => Some(Versions {
            first: files::NUMSTATS_FIRST,
            self_tested: files::NUMSTATS_SECOND,
            fixed: files::NUMSTATS,
        }),
        _ => None,
    }
}

/// The builder's part, and the editor's when it repairs what the judge found: the
/// builder writes its first version, runs it, fixes what its self-test shows, and
/// after a rejection by the judge writes the version that meets the design; the
/// editor writes that version at once.
fn builder(conversation: &Conversation) -> Reply {
    let Some(script) = conversation
        .task
        .split_whitespace()
        .map(|word| word.trim_matches(|c: char| c == '`' || c == '.' || c == ','))
        .find(|word| word.ends_with(".py"))
        .map(|word| format!("{}.py", word.trim_end_matches(".py")))
    else {
        return Reply::Final(final_output(
            "error",
            "",
            "the task names no script to build",
        ));
    };
    let Some(versions) = versions(&script) else {
        return Reply::Final(final_output(
            "error",
            "",
            &format!("the scripted demo model cannot build '{script}'"),
        ));
    };
    let repairing = conversation.agent == "code_editor_agent";
    let Some(last) = conversation.exchanges.last() else {
        let mut reads = conversation.files.clone();
        if repairing {
            // The judge's finding names the design the script must meet.
            reads.extend(backquoted_designs(&conversation.task));
        }
        reads.dedup();
        return Reply::Calls(
            reads
                .iter()
                .map(|path| call("file_read", json!({"path": path})))
                .collect(),
        );
    };
    // The judge rejected an earlier final output of this agent.
    let rejected = !conversation.called(FINAL_OUTPUT).is_empty();
    let writes = conversation.called("file_write").len();
    let write = |content: &str| {
        Reply::Calls(vec![call(
            "file_write",
            json!({"path": script, "content": content}),
        )])
    };
    match last.name.as_str() {
        _ if writes == 0 && repairing => write(versions.fixed),
        _ if writes == 0 => write(versions.first),
        "file_write" => Reply::Calls(vec![call("execute_code", json!({"path": script}))]),
        "execute_code" if last.failed() && rejected => write(versions.fixed),
        "execute_code" if last.failed() => write(versions.self_tested),
        "execute_code" if repairing || rejected => Reply::Final(final_output(
            "success",
            &format!(
                "Repaired `{script}` as the judge asked, following its design; its self-test ran with execute_code and printed ok."
            ),
            "",
        )),
        "execute_code" => Reply::Final(final_output(
            "success",
            &format!(
                "Wrote `{script}` as its design asks; its self-test ran with execute_code and printed ok."
            ),
            "",
        )),
        // The judge rejected the output: write the version that meets the design
        // and check again.
        _ => write(versions.fixed),
    }
}

/// Design files named in backquotes in `text`.
fn backquoted_designs(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|quoted| design_check::is_script_design(quoted))
        .map(str::to_string)
        .collect()
}

/// The judge's part: it runs and reads the scripts it is given, reads their design
/// files (given, or found by the planner's naming rule) and the other documents,
/// then rules: a script that fails when run, or that lacks what its design asks
/// for, is rejected with findings at the lines concerned.
fn judge(conversation: &Conversation) -> Reply {
    if conversation.exchanges.is_empty() {
        return Reply::Calls(judge_reads(&conversation.files));
    }
    let mut findings: Vec<Value> = Vec::new();
    let mut checked: Vec<String> = Vec::new();
    for exchange in &conversation.exchanges {
        let path = exchange.path();
        let given = conversation.files.iter().any(|file| file == path);
        match exchange.name.as_str() {
            "execute_code" if exchange.failed() => findings.push(json!({
                "path": path,
                "line": traceback_line(&exchange.result, path),
                "severity": "error",
                "message": format!("`{path}` fails: {}", last_error_line(&exchange.result)),
            })),
            "execute_code" => checked.push(format!("ran `{path}` (it passed its self-test)")),
            // A script that cannot be read cannot be run either: reported above.
            // A design looked for by its name may not exist.
            "file_read" if exchange.failed() && (path.ends_with(".py") || !given) => {}
            "file_read" if !exchange.failed() && design_check::is_script_design(path) => {
                let designed = design_check::designed_script(&exchange.result);
                let Some((script, script_text)) = designed
                    .and_then(|script| read_text(conversation, script).map(|text| (script, text)))
                else {
                    // A design whose script is not here (a plan being judged).
                    checked.push(format!("read `{path}`"));
                    continue;
                };
                let found = design_check::check(path, &exchange.result, script, script_text);
                if found.is_empty() {
                    checked.push(format!(
                        "checked `{script}` against `{path}` (it defines {} as asked)",
                        design_check::function_names(&exchange.result).join(", ")
                    ));
                }
                findings.extend(found.iter().map(|finding| json!(finding)));
            }
            _ if exchange.failed() => findings.push(json!({
                "path": path,
                "severity": "error",
                "message": format!("`{path}`: {}", last_error_line(&exchange.result)),
            })),
            "file_read" => checked.push(format!("read `{path}`")),
            _ => checked.push(format!("listed `{path}`")),
        }
    }
    if findings.is_empty() {
        return Reply::Final(final_output(
            "success",
            &format!(
                "Verified: {}. The result meets the instruction.",
                checked.join(", ")
            ),
            "",
        ));
    }
    let messages: Vec<&str> = findings
        .iter()
        .filter_map(|finding| finding["message"].as_str())
        .collect();
    let mut verdict = final_output(
        "error",
        "The result does not meet the instruction: a script fails when run or lacks what its design asks for.",
        &messages.join(" "),
    );
    verdict["findings"] = Value::Array(findings);
    Reply::Final(verdict)
}

/// What the judge looks at first: each script run and read, each document read,
/// and the design of each script.
fn judge_reads(files: &[String]) -> Vec<(String, Value)> {
    let scripts: Vec<&String> = files.iter().filter(|path| path.ends_with(".py")).collect();
    let mut calls: Vec<(String, Value)> = scripts
        .iter()
        .map(|path| call("execute_code", json!({"path": path})))
        .collect();
    let mut reads: Vec<String> = scripts.iter().map(|path| path.to_string()).collect();
    reads.extend(files.iter().filter(|path| path.ends_with(".md")).cloned());
    for script in &scripts {
        let design = design_check::design_path_of(script);
        if !reads.contains(&design) {
            reads.push(design);
        }
    }
    calls.extend(
        reads
            .into_iter()
            .map(|path| call("file_read", json!({"path": path}))),
    );
    if calls.is_empty() {
        calls.push(call("dir_list", json!({"path": "."})));
    }
    calls
}

/// The text of `path` as an earlier `file_read` returned it.
fn read_text<'a>(conversation: &'a Conversation, path: &str) -> Option<&'a str> {
    conversation
        .called("file_read")
        .into_iter()
        .rev()
        .find(|exchange| exchange.path() == path && !exchange.failed())
        .map(|exchange| exchange.result.as_str())
}

/// The line of `path` a Python traceback points at last.
fn traceback_line(output: &str, path: &str) -> Value {
    let file_name = path.rsplit('/').next().unwrap_or(path);
    output
        .lines()
        .filter(|line| line.trim_start().starts_with("File \"") && line.contains(file_name))
        .filter_map(|line| line.split(", line ").nth(1))
        .filter_map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .filter_map(|digits| digits.parse::<u64>().ok())
        .next_back()
        .map_or(Value::Null, Value::from)
}

fn last_error_line(output: &str) -> String {
    output
        .lines()
        .rev()
        .map(str::trim)
        .find(|line| line.contains("Error") || line.contains("error"))
        .unwrap_or("it exited with an error")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_order_is_read() {
        assert_eq!(
            build_order(files::DESIGN_SUMMARY),
            ["textstats.py", "numstats.py"]
        );
    }

    #[test]
    fn traceback_line_found() {
        let output = "Traceback (most recent call last):\n  File \"/w/numstats.py\", line 22, in <module>\nAssertionError: 3";
        assert_eq!(traceback_line(output, "numstats.py"), json!(22));
        assert_eq!(last_error_line(output), "AssertionError: 3");
    }
}
