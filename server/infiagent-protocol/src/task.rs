//! The headers of what an agent is sent: its system prompt's first line
//! ([`AGENT_HEADER`], read by [`prompt_agent`]) and the task message, its first
//! user message, `## Task` then `## Files` ([`task_message`] writes it and
//! [`TaskMessage::parse`] reads it back: the run record, the scripted model).
//! Nothing else knows these headers.

use serde::{Deserialize, Serialize};

/// What the first line of every agent's system prompt starts with, before the
/// agent's name (`# Agent: NAME (level N)`).
pub const AGENT_HEADER: &str = "# Agent: ";

/// The agent a system prompt is for: the name on its first line.
pub fn prompt_agent(system: &str) -> Option<&str> {
    system
        .lines()
        .next()?
        .strip_prefix(AGENT_HEADER)?
        .split_whitespace()
        .next()
}

/// The header of the task.
pub const TASK_HEADER: &str = "## Task";
/// The header of the file list.
pub const FILES_HEADER: &str = "## Files";

/// A file handed to an agent: where it is and what it holds (the paper's `(addr, desc)`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// Workspace-relative path.
    pub path: String,
    /// What it holds.
    #[serde(default)]
    pub description: String,
}

/// The first user message: the task and its files.
pub fn task_message(task: &str, files: &[FileRef]) -> String {
    let mut text = format!("{TASK_HEADER}\n{}\n", task.trim());
    if !files.is_empty() {
        text.push_str(&format!("\n{FILES_HEADER}\n"));
        for file in files {
            if file.description.trim().is_empty() {
                text.push_str(&format!("- `{}`\n", file.path));
            } else {
                text.push_str(&format!("- `{}`: {}\n", file.path, file.description.trim()));
            }
        }
    }
    text
}

/// A task message read back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskMessage {
    /// The text under `## Task`, trimmed (the whole message when it has no header).
    pub task: String,
    /// The files under `## Files`, in order.
    pub files: Vec<FileRef>,
}

impl TaskMessage {
    /// Reads a message [`task_message`] wrote; anything else is taken as a bare task.
    pub fn parse(content: &str) -> TaskMessage {
        let files_start = format!("\n{FILES_HEADER}\n");
        let (task, files) = match content.find(&files_start) {
            Some(at) => (&content[..at], &content[at + files_start.len()..]),
            None => (content, ""),
        };
        let task = task.strip_prefix(TASK_HEADER).unwrap_or(task).trim();
        let files = files
            .lines()
            .take_while(|line| !line.starts_with('#'))
            .filter_map(|line| line.strip_prefix("- `"))
            .filter_map(|rest| {
                let (path, after) = rest.split_once('`')?;
                let description = after.strip_prefix(':').unwrap_or(after).trim();
                Some(FileRef {
                    path: path.to_string(),
                    description: description.to_string(),
                })
            })
            .collect();
        TaskMessage {
            task: task.to_string(),
            files,
        }
    }
}

/// The planner's task for the requirement in `requirement` (a workspace path),
/// or for a requirement given in words when `None`.
pub fn plan_task(requirement: Option<&str>) -> String {
    const WHAT: &str = "one design file per script in project_designs/, and project_designs/project_design_summary.md with the build order.";
    match requirement {
        Some(path) => format!("Plan the project described in {path}: {WHAT}"),
        None => format!("Plan this project: {WHAT}"),
    }
}

/// What the judge checks when the user says nothing more.
pub const DEFAULT_JUDGE_INSTRUCTION: &str =
    "It must be correct, complete and, if it is a script with an entry point, run without errors.";

/// The judge's task for `what` (paths, or "the workspace"), with the user's
/// `instruction` (the default one when empty).
pub fn judge_task(what: &str, instruction: &str) -> String {
    let instruction = if instruction.trim().is_empty() {
        DEFAULT_JUDGE_INSTRUCTION
    } else {
        instruction.trim()
    };
    format!("Verify {what}. {instruction}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, description: &str) -> FileRef {
        FileRef {
            path: path.into(),
            description: description.into(),
        }
    }

    #[test]
    fn task_message_lists_files() {
        let text = task_message(" Build it ", &[file("a.md", "design"), file("b.md", "")]);
        assert_eq!(
            text,
            "## Task\nBuild it\n\n## Files\n- `a.md`: design\n- `b.md`\n"
        );
    }

    #[test]
    fn parse_reads_what_was_written() {
        let files = [file("a.md", "design: the plan"), file("b.md", "")];
        let parsed = TaskMessage::parse(&task_message("Build it\nin two lines", &files));
        assert_eq!(parsed.task, "Build it\nin two lines");
        assert_eq!(parsed.files, files);
        assert_eq!(
            TaskMessage::parse("just words"),
            TaskMessage {
                task: "just words".into(),
                files: Vec::new()
            }
        );
        assert_eq!(TaskMessage::parse("## Task\nt\n").task, "t");
    }
}
