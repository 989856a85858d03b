//! A prompt's content blocks as a task: its text, the workspace files its
//! resource links and embedded resources name, and the slash command it starts
//! with.

use std::path::{Path, PathBuf};

use agent_client_protocol::v1::schema::{
    AvailableCommand, AvailableCommandInput, ContentBlock, EmbeddedResourceResource,
    UnstructuredCommandInput,
};
use infiagent_protocol::FileRef;

/// The slash commands a session offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// Plan a project: the agent with `role: planner`.
    Plan,
    /// Build every script of a summary design's build order, in parallel.
    Build,
    /// Judge files: the agent with `role: judge`.
    Judge,
    /// The pyramid, listed.
    Agents,
    /// Where a request would go, and why.
    Route,
    /// Put back the files a run changed.
    Undo,
    /// Go on with a run that stopped before its end.
    Resume,
}

impl Command {
    pub const ALL: [Command; 7] = [
        Command::Plan,
        Command::Build,
        Command::Judge,
        Command::Agents,
        Command::Route,
        Command::Undo,
        Command::Resume,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Command::Plan => "plan",
            Command::Build => "build",
            Command::Judge => "judge",
            Command::Agents => "agents",
            Command::Route => "route",
            Command::Undo => "undo",
            Command::Resume => "resume",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Command::Plan => "Plan a project from a requirement: design files and a build order",
            Command::Build => {
                "Build every script of the summary design's build order, independent ones in parallel"
            }
            Command::Judge => "Have the judge verify files: run them, read them, rule on them",
            Command::Agents => "List the agent pyramid",
            Command::Route => "Show which agent a request would go to, and why",
            Command::Undo => {
                "Put back the files the last run changed (files changed since are left alone)"
            }
            Command::Resume => {
                "Go on with a run that was cancelled, interrupted or stopped, without redoing what it did"
            }
        }
    }

    fn hint(self) -> Option<&'static str> {
        match self {
            Command::Plan => Some("requirement file or text"),
            Command::Build => {
                Some("summary design (default project_designs/project_design_summary.md)")
            }
            Command::Judge => Some("files to verify, and what they must do"),
            Command::Agents => None,
            Command::Route => Some("request"),
            Command::Undo => Some("run id (default: the last run not undone)"),
            Command::Resume => Some("run id (default: this session's last run)"),
        }
    }

    /// The command as the client lists it.
    pub fn available(self) -> AvailableCommand {
        let command = AvailableCommand::new(self.name(), self.description());
        match self.hint() {
            Some(hint) => command.input(AvailableCommandInput::Unstructured(
                UnstructuredCommandInput::new(hint),
            )),
            None => command,
        }
    }
}

/// A prompt, read.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Prompt {
    /// The slash command it starts with, if any.
    pub command: Option<Command>,
    /// Its text (after the command).
    pub text: String,
    /// Workspace files it names (resource links, embedded resources, and for
    /// commands the paths written in the text).
    pub files: Vec<FileRef>,
}

/// Reads `blocks` for the workspace `root`; an error names what cannot be used.
pub(crate) fn read(root: &Path, blocks: &[ContentBlock]) -> Result<Prompt, String> {
    let mut texts = Vec::new();
    let mut files: Vec<FileRef> = Vec::new();
    let mut add = |path: String, description: &str| {
        if !files.iter().any(|file| file.path == path) {
            files.push(FileRef {
                path,
                description: description.to_string(),
            });
        }
    };
    for block in blocks {
        match block {
            ContentBlock::Text(text) => texts.push(text.text.clone()),
            ContentBlock::ResourceLink(link) => match workspace_path(root, &link.uri) {
                Some(path) => {
                    if let Some(range) = fragment(&link.uri) {
                        texts.push(format!("(see {path}, {range})"));
                    }
                    add(path, "given with the request");
                }
                None => texts.push(format!("(see {})", link.uri)),
            },
            ContentBlock::Resource(resource) => match &resource.resource {
                EmbeddedResourceResource::TextResourceContents(contents) => {
                    match workspace_path(root, &contents.uri) {
                        // A part of a file (a selection): its text, and the file.
                        Some(path) => {
                            if let Some(range) = fragment(&contents.uri) {
                                texts.push(format!(
                                    "Selected in {path} ({range}):\n{}",
                                    contents.text
                                ));
                            }
                            add(path, "given with the request");
                        }
                        None => texts.push(format!(
                            "Context given with the request ({}):\n{}",
                            contents.uri, contents.text
                        )),
                    }
                }
                _ => return Err("binary resources are not supported; attach text files".into()),
            },
            _ => {
                return Err(
                    "only text, resource links and embedded text resources are supported".into(),
                );
            }
        }
    }
    let text = texts.join("\n").trim().to_string();
    let (command, text) = match text.strip_prefix('/') {
        Some(rest) => {
            let (name, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            match Command::ALL
                .into_iter()
                .find(|command| command.name() == name)
            {
                Some(command) => (Some(command), args.trim().to_string()),
                None => {
                    let names: Vec<String> = Command::ALL
                        .iter()
                        .map(|command| format!("/{}", command.name()))
                        .collect();
                    return Err(format!(
                        "unknown command /{name}; the commands are {}",
                        names.join(", ")
                    ));
                }
            }
        }
        None => (None, text),
    };
    if command.is_some() {
        for word in text.split_whitespace() {
            let word = word.trim_matches(|c: char| "`'\",;:()".contains(c));
            if !word.is_empty() && !word.starts_with('/') && root.join(word).is_file() {
                add(word.to_string(), "named in the request");
            }
        }
    }
    Ok(Prompt {
        command,
        text,
        files,
    })
}

/// The workspace-relative path of a `file://` URI (a `#L10` fragment dropped),
/// when it is a file under `root`.
fn workspace_path(root: &Path, uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("file://")?;
    let rest = rest.split(['#', '?']).next().unwrap_or(rest);
    let path = PathBuf::from(percent_decode(rest));
    let path = path.canonicalize().ok()?;
    let relative = path.strip_prefix(root).ok()?;
    path.is_file()
        .then(|| relative.to_string_lossy().replace('\\', "/"))
}

/// The part of a file a URI points at (`#L10:20`, `#L10-L20`), in words.
fn fragment(uri: &str) -> Option<String> {
    let (_, fragment) = uri.split_once('#')?;
    let lines: Vec<&str> = fragment
        .split([':', '-'])
        .map(|part| part.trim_start_matches('L'))
        .filter(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
        .collect();
    match lines.as_slice() {
        [line] => Some(format!("line {line}")),
        [first, last, ..] if first == last => Some(format!("line {first}")),
        [first, last, ..] => Some(format!("lines {first}-{last}")),
        [] => Some(fragment.to_string()),
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let Some(hex) = text.get(index + 1..index + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            index += 3;
            continue;
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_client_protocol::v1::schema::{
        EmbeddedResource, ResourceLink, TextContent, TextResourceContents,
    };

    #[test]
    fn links_become_files_and_commands_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/my file.rs"), "fn main() {}").unwrap();
        std::fs::write(root.join("numstats.py"), "").unwrap();
        let uri = format!("file://{}/src/my%20file.rs#L1:2", root.display());
        let prompt = read(
            &root,
            &[
                ContentBlock::Text(TextContent::new("Explain this")),
                ContentBlock::ResourceLink(ResourceLink::new("my file.rs", uri)),
                ContentBlock::ResourceLink(ResourceLink::new("x", "file:///etc/passwd")),
            ],
        )
        .unwrap();
        assert_eq!(prompt.command, None);
        assert_eq!(
            prompt.text,
            "Explain this\n(see src/my file.rs, lines 1-2)\n(see file:///etc/passwd)"
        );
        assert_eq!(prompt.files.len(), 1);
        assert_eq!(prompt.files[0].path, "src/my file.rs");

        let judge = read(
            &root,
            &[ContentBlock::Text(TextContent::new(
                "/judge `numstats.py` must print ok",
            ))],
        )
        .unwrap();
        assert_eq!(judge.command, Some(Command::Judge));
        assert_eq!(judge.text, "`numstats.py` must print ok");
        assert_eq!(judge.files[0].path, "numstats.py");

        let selection = read(
            &root,
            &[
                ContentBlock::Text(TextContent::new("why does this fail?")),
                ContentBlock::Resource(EmbeddedResource::new(
                    EmbeddedResourceResource::TextResourceContents(TextResourceContents::new(
                        "print(1)",
                        format!("file://{}/numstats.py#L3:3", root.display()),
                    )),
                )),
            ],
        )
        .unwrap();
        assert_eq!(
            selection.text,
            "why does this fail?\nSelected in numstats.py (line 3):\nprint(1)"
        );
        assert_eq!(selection.files[0].path, "numstats.py");

        let unknown = read(
            &root,
            &[ContentBlock::Text(TextContent::new("/deploy now"))],
        );
        assert!(unknown.unwrap_err().contains("unknown command /deploy"));
    }
}
