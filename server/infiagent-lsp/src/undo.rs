//! `infiagent.undo`: a run's files put back from its checkpoints. Open files
//! are changed through `workspace/applyEdit` (the editor's own undo still
//! works, and unsaved changes are never overwritten); other files on disk.

use std::path::Path;
use std::sync::Arc;

use infiagent_engine::{Autonomy, UndoPlan, UndoState};
use serde_json::{Value, json};
use tower_lsp_server::ls_types::MessageType;

use crate::command::Error;
use crate::commands::UndoArgs;
use crate::editor::LspEditor;
use crate::state::{State, lock};

/// Undoes the run `args` names (default: the last run not undone), or with
/// `dryRun` shows what would happen.
pub(crate) async fn undo(state: &Arc<State>, args: UndoArgs) -> Result<Value, Error> {
    let root = state
        .root()
        .ok_or_else(|| Error::cannot_run("no workspace folder is open"))?;
    let open = |path: &std::path::Path| {
        lock(&state.documents)
            .by_path(path)
            .map(|document| document.text().to_string())
    };
    let plan = UndoPlan::of(&root, args.run_id.as_deref(), &open).map_err(Error::CannotRun);
    let plan = crate::runs::shown(state, plan).await?;
    if args.dry_run {
        return Ok(json!({"runId": plan.run_id, "files": plan.files}));
    }
    // Never staged for review: an undo is the user's own request.
    let editor = LspEditor::new(state.clone(), Autonomy::Ask);
    let report = plan
        .apply(&root, args.force, &editor)
        .await
        .map_err(Error::CannotRun);
    let report = crate::runs::shown(state, report).await?;
    let changed_since: Vec<&str> = plan
        .files
        .iter()
        .filter(|file| matches!(file.state, UndoState::ChangedSince { .. }))
        .map(|file| file.path.as_str())
        .collect();
    let mut message = format!(
        "InfiAgent: undid run {}: {} restored, {} removed",
        plan.run_id,
        report.restored.len(),
        report.removed.len()
    );
    if !report.left.is_empty() {
        let left: Vec<String> = report
            .left
            .iter()
            .map(|(path, why)| format!("{path} ({why})"))
            .collect();
        message.push_str(&format!("; left alone: {}", left.join("; ")));
    }
    let kind = if report.left.is_empty() {
        MessageType::INFO
    } else {
        MessageType::WARNING
    };
    state.client.show_message(kind, message).await;
    Ok(json!({
        "runId": plan.run_id,
        "restored": report.restored,
        "removed": report.removed,
        "left": report.left.iter().map(|(path, why)| json!({"path": path, "why": why})).collect::<Vec<_>>(),
        "changedSince": changed_since,
        "files": plan.files,
    }))
}

/// The last run that can be undone, when it changed the file `relative`.
pub(crate) fn undoable_run_of(state: &State, root: &Path, relative: &str) -> Option<String> {
    let mut cached = lock(&state.undoable);
    let run = cached.get_or_insert_with(|| infiagent_engine::undoable_run(root));
    run.as_ref()
        .filter(|(_, files)| files.iter().any(|file| file == relative))
        .map(|(run_id, _)| run_id.clone())
}

/// The last run that can be undone is read again on the next code action (a
/// run, a build or an undo ended).
pub(crate) fn forget_undoable(state: &State) {
    *lock(&state.undoable) = None;
}
