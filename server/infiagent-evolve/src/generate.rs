//! A new pyramid for a new domain: a meta prompt asks the model for one agent file
//! per agent; the reply is staged, loaded with the real loader and checked with the
//! DAG rules (with the built-in judge), and the problems, with file:line:col,
//! go back to the model for a corrected set, a bounded number of times. Only a valid
//! set is written, never over existing files unless asked.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use infiagent_agents::{AgentDef, DEFAULT_K_MAX, Registry, Role, check_pyramid, load_registry};
use infiagent_model::{ChatModel, ChatRequest, Message, ModelError};
use infiagent_tools::BASIC_TOOL_NAMES;
use regex::Regex;
use serde::Deserialize;

use crate::EvolveError;
use crate::agent_files::{AgentFiles, WORKSPACE_AGENTS_DIR, write_atomically};

/// The meta prompt (`{k_max}` and `{basic_tools}` are filled in).
pub const PYRAMID_GENERATOR_PROMPT: &str = include_str!("pyramid_generator.md");

/// Corrected sets asked for after the first reply, by default.
pub const DEFAULT_MAX_REPAIRS: u32 = 3;

/// What to do with agent files that already exist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Overwrite {
    /// Write nothing if any would be replaced.
    #[default]
    Refuse,
    /// Replace them.
    Replace,
}

impl Overwrite {
    /// [`Overwrite::Replace`] when the user forces it (`--force`), else
    /// [`Overwrite::Refuse`].
    pub fn forced_when(force: bool) -> Overwrite {
        if force {
            Overwrite::Replace
        } else {
            Overwrite::Refuse
        }
    }
}

/// How to generate.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// The most agents one agent may call (`[run] k_max`).
    pub k_max: usize,
    /// The MCP servers agents may name (`[mcp.servers.*]`).
    pub mcp_servers: Vec<String>,
    /// Corrected sets to ask for after the first reply.
    pub max_repairs: u32,
    /// Existing files.
    pub overwrite: Overwrite,
}

impl GenerateOptions {
    /// The options for a workspace: its fan-out limit, the default number of
    /// repairs, and `overwrite`.
    pub fn for_workspace(config: &infiagent_engine::Config, overwrite: Overwrite) -> Self {
        GenerateOptions {
            k_max: config.run.k_max,
            mcp_servers: config.mcp.servers.keys().cloned().collect(),
            max_repairs: DEFAULT_MAX_REPAIRS,
            overwrite,
        }
    }
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            k_max: DEFAULT_K_MAX,
            mcp_servers: Vec::new(),
            max_repairs: DEFAULT_MAX_REPAIRS,
            overwrite: Overwrite::Refuse,
        }
    }
}

/// One agent file of a drafted pyramid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftedFile {
    /// Where it goes, relative to the workspace (`.infiagent/agents/<file>`).
    pub path: PathBuf,
    /// Its text.
    pub content: String,
    /// The agent it defines.
    pub agent: String,
    /// Its level.
    pub level: i32,
    /// Its description, on one line.
    pub description: String,
}

/// A valid pyramid, ready to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftedPyramid {
    /// Its files, the highest level first.
    pub files: Vec<DraftedFile>,
    /// Replies it took (1 when the first was valid).
    pub attempts: u32,
}

/// Why no pyramid was written.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The model could not be asked.
    #[error("the model failed: {0}")]
    Model(#[from] ModelError),
    /// Every reply broke the rules.
    #[error(
        "the drafted pyramid is still invalid after {attempts} replies ({} corrections asked); nothing was written. The problems of the last reply:\n{}",
        attempts.saturating_sub(1),
        problems.join("\n")
    )]
    Invalid {
        /// Replies received.
        attempts: u32,
        /// The last reply's problems, with file:line:col.
        problems: Vec<String>,
    },
    /// Reading the workspace or writing the files failed, or files exist.
    #[error(transparent)]
    Files(#[from] EvolveError),
}

/// Asks `model` for a pyramid for `domain` and checks it, asking for corrections
/// up to `options.max_repairs` times. Writes nothing.
pub async fn draft_pyramid(
    model: &dyn ChatModel,
    workspace: &Path,
    domain: &str,
    options: &GenerateOptions,
) -> Result<DraftedPyramid, GenerateError> {
    let system = PYRAMID_GENERATOR_PROMPT
        .replace("{k_max}", &options.k_max.to_string())
        .replace("{basic_tools}", &BASIC_TOOL_NAMES.join(", "));
    let mut messages = vec![Message::User {
        content: format!(
            "## Domain\n{}\n\nDraft the pyramid of agents for this domain.",
            domain.trim()
        ),
    }];
    let (registry, _) = load_registry(Some(workspace));
    let existing = AgentFiles::of(&registry);
    let baseline = existing
        .check(options.k_max, &options.mcp_servers)?
        .problems;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let request = ChatRequest {
            system: system.clone(),
            messages: messages.clone(),
            tools: Vec::new(),
        };
        let reply = model.chat(&request).await?.content.unwrap_or_default();
        let problems = match parse_reply(&reply) {
            Ok(files) => match check_draft(&existing, &baseline, files, options)? {
                Ok(files) => return Ok(DraftedPyramid { files, attempts }),
                Err(problems) => problems,
            },
            Err(problem) => vec![problem],
        };
        if attempts > options.max_repairs {
            return Err(GenerateError::Invalid { attempts, problems });
        }
        messages.push(Message::Assistant {
            content: Some(reply),
            tool_calls: Vec::new(),
        });
        messages.push(Message::User {
            content: format!(
                "These files have problems:\n{}\n\nFix them and reply with the whole corrected set of files, in the same format.",
                problems.join("\n")
            ),
        });
    }
}

/// Writes a drafted pyramid into `.infiagent/agents/` (atomically, file by file).
/// With [`Overwrite::Refuse`], nothing is written when any file exists.
pub fn write_pyramid(
    workspace: &Path,
    pyramid: &DraftedPyramid,
    overwrite: Overwrite,
) -> Result<Vec<PathBuf>, EvolveError> {
    let existing: Vec<PathBuf> = pyramid
        .files
        .iter()
        .map(|file| file.path.clone())
        .filter(|path| workspace.join(path).exists())
        .collect();
    match overwrite {
        Overwrite::Refuse if !existing.is_empty() => {
            return Err(EvolveError::Exists { paths: existing });
        }
        Overwrite::Refuse | Overwrite::Replace => {}
    }
    let mut written = Vec::new();
    for file in &pyramid.files {
        write_atomically(&workspace.join(&file.path), &file.content)?;
        written.push(file.path.clone());
    }
    Ok(written)
}

impl DraftedPyramid {
    /// What was written, one agent a line, the highest level first.
    pub fn describe(&self) -> String {
        let mut text = String::new();
        for file in &self.files {
            let _ = writeln!(
                text,
                "  {}  (level {}) {}",
                file.path.display(),
                file.level,
                file.description
            );
        }
        text
    }
}

/// A file as the model named it and wrote it.
#[derive(Debug, Deserialize)]
struct ReplyFile {
    file: String,
    content: String,
}

/// The files of a reply: `=== FILE: x.md ===` ... `=== END FILE ===` blocks, or a
/// JSON array of `{file, content}`.
fn parse_reply(reply: &str) -> Result<Vec<ReplyFile>, String> {
    let marker = Regex::new(r"(?m)^[ \t]*=== *FILE: *(.+?) *===[ \t]*\r?$")
        .map_err(|err| err.to_string())?;
    let end_marker =
        Regex::new(r"(?m)^[ \t]*=== *END FILE *===[ \t]*\r?$").map_err(|err| err.to_string())?;
    let starts: Vec<(usize, usize, String)> = marker
        .captures_iter(reply)
        .filter_map(|captures| {
            let whole = captures.get(0)?;
            Some((whole.start(), whole.end(), captures[1].trim().to_string()))
        })
        .collect();
    if !starts.is_empty() {
        let mut files = Vec::new();
        for (index, (_, body_start, file)) in starts.iter().enumerate() {
            let next = starts.get(index + 1).map_or(reply.len(), |next| next.0);
            let body = &reply[*body_start..next];
            let body = match end_marker.find(body) {
                Some(end) => &body[..end.start()],
                None => body,
            };
            files.push(ReplyFile {
                file: file.clone(),
                content: without_fence(body),
            });
        }
        return Ok(files);
    }
    let json = reply
        .find('[')
        .zip(reply.rfind(']'))
        .and_then(|(start, end)| reply.get(start..=end));
    if let Some(files) = json.and_then(|json| serde_json::from_str::<Vec<ReplyFile>>(json).ok()) {
        return Ok(files);
    }
    Err("the reply holds no agent files: put each file between a line `=== FILE: <name>.md ===` and a line `=== END FILE ===`".into())
}

/// The text without the blank lines around it and a Markdown fence around it.
fn without_fence(body: &str) -> String {
    let trimmed = body.trim_matches(['\n', '\r']);
    let lines: Vec<&str> = trimmed.lines().collect();
    let fenced = lines.len() >= 2
        && lines[0].trim_start().starts_with("```")
        && lines[lines.len() - 1].trim() == "```";
    let inner = if fenced {
        lines[1..lines.len() - 1].join("\n")
    } else {
        trimmed.to_string()
    };
    format!("{}\n", inner.trim_end())
}

/// `x.md` with `x` of 1 to 64 letters, digits, `_` or `-`.
fn is_agent_file_name(name: &str) -> bool {
    name.strip_suffix(".md").is_some_and(|stem| {
        (1..=64).contains(&stem.len())
            && stem
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    })
}

/// Stages the files next to the workspace's agents, loads them and checks both the
/// drafted pyramid on its own (with the built-in judge) and the workspace with it.
/// The inner `Err` holds every problem found.
fn check_draft(
    existing: &AgentFiles,
    baseline: &[infiagent_agents::Problem],
    files: Vec<ReplyFile>,
    options: &GenerateOptions,
) -> Result<Result<Vec<DraftedFile>, Vec<String>>, EvolveError> {
    let mut problems: Vec<String> = Vec::new();
    let mut staged = existing.clone();
    let mut paths: BTreeSet<PathBuf> = BTreeSet::new();
    if files.is_empty() {
        problems.push("the reply holds no agent files".into());
    }
    for file in &files {
        let name = file
            .file
            .strip_prefix(".infiagent/agents/")
            .or_else(|| file.file.strip_prefix("agents/"))
            .unwrap_or(&file.file);
        if !is_agent_file_name(name) {
            problems.push(format!(
                "{}: a file name must be letters, digits, '_' or '-' ending in .md (like `data_agent.md`)",
                file.file
            ));
            continue;
        }
        let path = Path::new(WORKSPACE_AGENTS_DIR).join(name);
        if !paths.insert(path.clone()) {
            problems.push(format!(
                "{}: this file is given twice; give each file once",
                path.display()
            ));
            continue;
        }
        staged.insert(path, file.content.clone());
    }
    let checked = staged.check(options.k_max, &options.mcp_servers)?;
    let drafted: Vec<AgentDef> = checked
        .registry
        .agents()
        .filter(|agent| paths.contains(&agent.path))
        .cloned()
        .collect();
    let mut alone = drafted.clone();
    if let Some(judge) = checked.registry.with_role(Role::Judge) {
        alone.push(judge.clone());
    }
    let mut found = check_pyramid(
        &Registry::new(alone),
        BASIC_TOOL_NAMES,
        &options.mcp_servers,
        options.k_max,
    );
    // The workspace with the drafted files: what the drafted set alone does not
    // show (files that do not load, problems caused elsewhere).
    let shown_alone: BTreeSet<(PathBuf, infiagent_agents::Position)> = found
        .iter()
        .map(|problem| (problem.path.clone(), problem.position))
        .collect();
    found.extend(checked.problems.into_iter().filter(|problem| {
        let new_here = paths.contains(&problem.path) || !baseline.contains(problem);
        new_here && !shown_alone.contains(&(problem.path.clone(), problem.position))
    }));
    if let Some(judge) = drafted.iter().find(|agent| agent.is_judge()) {
        problems.push(format!(
            "{}:{}:{}: error: do not define a judge; the built-in judge is used",
            judge.path.display(),
            judge.positions.name.line,
            judge.positions.name.col
        ));
    }
    found.sort();
    found.dedup();
    problems.extend(found.iter().map(ToString::to_string));
    for path in &paths {
        if !drafted.iter().any(|agent| &agent.path == path)
            && !found.iter().any(|p| &p.path == path)
        {
            problems.push(format!(
                "{}: defines no agent that could be loaded",
                path.display()
            ));
        }
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    let mut files: Vec<DraftedFile> = drafted
        .into_iter()
        .map(|agent| DraftedFile {
            content: agent.source.clone(),
            description: agent
                .description
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            path: agent.path,
            agent: agent.name,
            level: agent.level,
        })
        .collect();
    files.sort_by(|left, right| {
        right
            .level
            .cmp(&left.level)
            .then_with(|| left.agent.cmp(&right.agent))
    });
    Ok(Ok(files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_with_markers_fences_or_json() {
        let reply = "Here it is.\n=== FILE: a_agent.md ===\n```markdown\n---\nname: a\n---\nBody.\n```\n=== END FILE ===\n=== FILE: b_agent.md ===\nB.\n";
        let files = parse_reply(reply).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].file, "a_agent.md");
        assert_eq!(files[0].content, "---\nname: a\n---\nBody.\n");
        assert_eq!(files[1].content, "B.\n");
        let json = "```json\n[{\"file\": \"c.md\", \"content\": \"C\"}]\n```";
        assert_eq!(parse_reply(json).unwrap()[0].file, "c.md");
        assert!(
            parse_reply("no files here")
                .unwrap_err()
                .contains("=== FILE:")
        );
    }
}
