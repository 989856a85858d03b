//! The pyramid's evolution from the editor: `infiagent.evolve` (proposals as JSON
//! with their diffs; applied on request, or reviewed with the user) and
//! `infiagent.generatePyramid` (a pyramid for a new domain, drafted by the model).
//!
//! Agent files are written as agents' files are: never over a buffer with unsaved
//! changes, through a versioned `workspace/applyEdit` when the file is open, then
//! atomically on disk. Everything that waits on the client or a model runs on a
//! task of its own; the command answers at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use infiagent_agents::{Origin, parse_agent};
use infiagent_engine::{ModelPool, summarize};
use infiagent_evolve::{
    FileEdit, GenerateOptions, Overwrite, Proposal, apply_edits, draft_pyramid, propose,
};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::{
    DocumentChanges, MessageActionItem, MessageType, OneOf,
    OptionalVersionedTextDocumentIdentifier, Range, ShowDocumentParams, TextDocumentEdit, TextEdit,
    Uri, WorkspaceEdit,
};

use crate::command::Error;
use crate::commands::{invalid, relative, selected_text};
use crate::documents::full_range;
use crate::runs::effective_config;
use crate::state::{State, lock};

/// Where a reviewed proposal is written for the editor to show.
const PROPOSAL_FILE: &str = ".infiagent/evolve/proposal.diff";

const APPLY: &str = "Apply";
const DISMISS: &str = "Dismiss";

/// `infiagent.evolve` arguments.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct EvolveArgs {
    /// Write the proposal (refused when an agent file it touches has unsaved changes).
    #[serde(default)]
    apply: bool,
    /// Show the proposal to the user and apply it if they agree.
    #[serde(default)]
    review: bool,
}

/// `infiagent.generatePyramid` arguments.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct GenerateArgs {
    /// The domain, in the user's words.
    domain: Option<String>,
    /// A file whose selection (or, for an agent file, description) is the domain.
    uri: Option<Uri>,
    range: Option<Range>,
    /// Replace agent files that exist (never one with unsaved changes).
    #[serde(default)]
    force: bool,
}

fn root(state: &State) -> jsonrpc::Result<PathBuf> {
    let root = state
        .root()
        .ok_or_else(|| invalid("no workspace folder is open".into()))?;
    Ok(std::fs::canonicalize(&root).unwrap_or(root))
}

/// Reads the runs, the scores and the agents and proposes changes (off the
/// request's thread: it reads files).
async fn proposal(root: &Path) -> Result<Proposal, String> {
    let root = root.to_path_buf();
    tokio::task::spawn_blocking(move || propose(&root))
        .await
        .map_err(|err| format!("the proposal could not be made: {err}"))?
        .map_err(|err| err.to_string())
}

/// `infiagent.evolve`.
pub(crate) async fn evolve(state: &Arc<State>, args: EvolveArgs) -> jsonrpc::Result<Value> {
    let root = root(state)?;
    if args.review {
        let task_state = state.clone();
        tokio::spawn(async move { review(&task_state, &root).await });
        return Ok(json!({"started": true}));
    }
    let proposal = proposal(&root).await.map_err(invalid)?;
    let mut answer = proposal.to_json();
    answer["applied"] = json!(false);
    if !args.apply || proposal.is_empty() {
        return Ok(answer);
    }
    if let Err(message) = check_buffers(state, &root, &proposal.edits) {
        state
            .client
            .show_message(MessageType::WARNING, format!("InfiAgent: {message}"))
            .await;
        answer["refused"] = json!(message);
        return Ok(answer);
    }
    answer["applying"] = json!(true);
    let task_state = state.clone();
    tokio::spawn(async move {
        let count = proposal.changes.len();
        report(
            &task_state,
            write_safely(&task_state, &root, &proposal.edits).await,
            |written| {
                format!(
                    "InfiAgent: applied {count} change(s) to the pyramid: {written} file(s) written"
                )
            },
        )
        .await;
    });
    Ok(answer)
}

/// Shows the proposal (as a diff file the editor opens) and asks to apply it.
async fn review(state: &Arc<State>, root: &Path) {
    let proposal = match proposal(root).await {
        Ok(proposal) => proposal,
        Err(message) => {
            state
                .client
                .show_message(MessageType::ERROR, format!("InfiAgent: {message}"))
                .await;
            return;
        }
    };
    if proposal.is_empty() {
        state
            .client
            .show_message(
                MessageType::INFO,
                format!(
                    "InfiAgent: no changes to propose to the pyramid. {}",
                    proposal.render().lines().next().unwrap_or_default()
                ),
            )
            .await;
        return;
    }
    let diff_path = root.join(PROPOSAL_FILE);
    let written = diff_path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&diff_path, proposal.render()));
    if written.is_ok()
        && let Some(uri) = Uri::from_file_path(&diff_path)
    {
        let _ = state
            .client
            .show_document(ShowDocumentParams {
                uri,
                external: None,
                take_focus: Some(true),
                selection: None,
            })
            .await;
    }
    let summaries: Vec<&str> = proposal
        .changes
        .iter()
        .map(|change| change.summary.as_str())
        .collect();
    let question = format!(
        "InfiAgent proposes {} change(s) to the pyramid ({PROPOSAL_FILE}): {}. Apply them?",
        proposal.changes.len(),
        summaries.join("; ")
    );
    let actions = [APPLY, DISMISS]
        .map(|title| MessageActionItem {
            title: title.into(),
            properties: Default::default(),
        })
        .to_vec();
    let answer = state
        .client
        .show_message_request(MessageType::INFO, question, Some(actions))
        .await;
    if answer.ok().flatten().map(|item| item.title).as_deref() != Some(APPLY) {
        return;
    }
    let count = proposal.changes.len();
    let outcome = match check_buffers(state, root, &proposal.edits) {
        Ok(()) => write_safely(state, root, &proposal.edits).await,
        Err(message) => Err(message),
    };
    report(state, outcome, |written| {
        format!("InfiAgent: applied {count} change(s) to the pyramid: {written} file(s) written")
    })
    .await;
}

/// `infiagent.generatePyramid`: starts drafting on a task of its own.
pub(crate) async fn generate(state: &Arc<State>, args: GenerateArgs) -> jsonrpc::Result<Value> {
    let root = root(state)?;
    let domain = domain(state, &args)?;
    let config = effective_config(state)?;
    let models = ModelPool::from_config(&config).map_err(|err| invalid(err.to_string()))?;
    let entry = models.get(None).map_err(|err| invalid(err.to_string()))?;
    let options = GenerateOptions::for_workspace(&config, Overwrite::forced_when(args.force));
    let task_state = state.clone();
    let task_domain = domain.clone();
    tokio::spawn(async move {
        let state = task_state;
        let drafted = draft_pyramid(entry.model.as_ref(), &root, &task_domain, &options).await;
        let pyramid = match drafted {
            Ok(pyramid) => pyramid,
            Err(err) => {
                state
                    .client
                    .show_message(MessageType::ERROR, format!("InfiAgent: {err}"))
                    .await;
                return;
            }
        };
        let edits: Vec<FileEdit> = pyramid
            .files
            .iter()
            .map(|file| FileEdit {
                path: file.path.clone(),
                before: std::fs::read_to_string(root.join(&file.path)).ok(),
                after: Some(file.content.clone()),
                diff: String::new(),
            })
            .collect();
        let existing: Vec<String> = edits
            .iter()
            .filter(|edit| edit.before.is_some())
            .map(|edit| edit.path.display().to_string())
            .collect();
        let outcome = match options.overwrite {
            Overwrite::Refuse if !existing.is_empty() => Err(format!(
                "{} already exist(s): nothing was written. Remove or rename them, or generate again with force.",
                existing.join(", ")
            )),
            Overwrite::Refuse | Overwrite::Replace => match check_buffers(&state, &root, &edits) {
                Ok(()) => write_safely(&state, &root, &edits).await,
                Err(message) => Err(message),
            },
        };
        let agents: Vec<&str> = pyramid
            .files
            .iter()
            .map(|file| file.agent.as_str())
            .collect();
        report(&state, outcome, |written| {
            format!(
                "InfiAgent: wrote {written} agent file(s) for \"{}\": {} (valid after {} repl{})",
                summarize(&task_domain, 60),
                agents.join(", "),
                pyramid.attempts,
                if pyramid.attempts == 1 { "y" } else { "ies" }
            )
        })
        .await;
    });
    Ok(json!({"started": true, "domain": domain}))
}

/// The domain: given, else the selection, else the description of the agent file.
fn domain(state: &State, args: &GenerateArgs) -> Result<String, Error> {
    if let Some(domain) = args
        .domain
        .as_ref()
        .filter(|domain| !domain.trim().is_empty())
    {
        return Ok(domain.trim().to_string());
    }
    let needs_domain = || {
        invalid("infiagent.generatePyramid needs a domain: {\"domain\": string}, or a uri with a selection, or an agent file whose description says it".into())
    };
    let Some(uri) = &args.uri else {
        return Err(needs_domain());
    };
    let (path, relative_path) = relative(state, uri)?;
    if let Some(selection) = selected_text(state, &path, uri, args.range)
        .filter(|selection| !selection.trim().is_empty())
    {
        return Ok(selection.trim().to_string());
    }
    let text = lock(&state.documents)
        .get(uri)
        .map(|document| document.text().to_string())
        .or_else(|| std::fs::read_to_string(&path).ok());
    let description = text.and_then(|text| {
        parse_agent(Path::new(&relative_path), &text, Origin::Workspace)
            .ok()
            .map(|agent| agent.description)
    });
    description
        .filter(|description| !description.trim().is_empty())
        .ok_or_else(needs_domain)
}

/// Refuses when a file to write is open with unsaved changes.
fn check_buffers(state: &State, root: &Path, edits: &[FileEdit]) -> Result<(), String> {
    let documents = lock(&state.documents);
    for edit in edits {
        let path = root.join(&edit.path);
        let Some(document) = documents.by_path(&path) else {
            continue;
        };
        let on_disk = std::fs::read_to_string(&path).ok();
        if on_disk.as_deref() != Some(document.text().to_string().as_str()) {
            return Err(format!(
                "{} is open with unsaved changes: nothing was written. Save or revert it, then try again.",
                edit.path.display()
            ));
        }
    }
    Ok(())
}

/// Open (clean) files first, through one versioned `workspace/applyEdit`; then
/// every file on disk, atomically, each checked to be as the proposal saw it.
async fn write_safely(state: &State, root: &Path, edits: &[FileEdit]) -> Result<usize, String> {
    for edit in edits {
        let on_disk = std::fs::read_to_string(root.join(&edit.path)).ok();
        if on_disk != edit.before {
            return Err(format!(
                "{} changed since the proposal was made: nothing was written. Evolve again for a fresh proposal.",
                edit.path.display()
            ));
        }
    }
    let open: Vec<TextDocumentEdit> = {
        let documents = lock(&state.documents);
        edits
            .iter()
            .filter_map(|edit| {
                let document = documents.by_path(&root.join(&edit.path))?;
                let new_text = edit.after.clone()?;
                Some(TextDocumentEdit {
                    text_document: OptionalVersionedTextDocumentIdentifier {
                        uri: document.uri.clone(),
                        version: Some(document.version),
                    },
                    edits: vec![OneOf::Left(TextEdit {
                        range: full_range(&document.text().to_string()),
                        new_text,
                    })],
                })
            })
            .collect()
    };
    if !open.is_empty() {
        let edit = if state.support().document_changes {
            WorkspaceEdit {
                document_changes: Some(DocumentChanges::Edits(open)),
                ..WorkspaceEdit::default()
            }
        } else {
            WorkspaceEdit {
                changes: Some(
                    open.into_iter()
                        .map(|edit| {
                            let edits = edit
                                .edits
                                .into_iter()
                                .filter_map(|edit| match edit {
                                    OneOf::Left(edit) => Some(edit),
                                    OneOf::Right(_) => None,
                                })
                                .collect();
                            (edit.text_document.uri, edits)
                        })
                        .collect(),
                ),
                ..WorkspaceEdit::default()
            }
        };
        match state.client.apply_edit(edit).await {
            Ok(response) if response.applied => {}
            Ok(response) => {
                return Err(format!(
                    "the editor did not apply the change to the open agent files{}: nothing was written",
                    response
                        .failure_reason
                        .map(|reason| format!(" ({reason})"))
                        .unwrap_or_default()
                ));
            }
            Err(err) => return Err(format!("the editor did not answer the change: {err}")),
        }
    }
    apply_edits(root, edits)
        .map(|written| written.len())
        .map_err(|err| err.to_string())
}

async fn report(
    state: &State,
    outcome: Result<usize, String>,
    success: impl FnOnce(usize) -> String,
) {
    let (kind, message) = match outcome {
        Ok(written) => (MessageType::INFO, success(written)),
        Err(message) => (MessageType::WARNING, format!("InfiAgent: {message}")),
    };
    state.client.show_message(kind, message).await;
}
