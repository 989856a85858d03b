//! Code actions that fit where the cursor is. Each carries a command; no model
//! work happens here.

use std::path::Path;

use infiagent_engine::build_order::is_design_summary;
use serde_json::json;
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, Command, Diagnostic,
    DiagnosticSeverity,
};

use crate::command::Command as ServerCommand;
use crate::commands::design_script;
use crate::diagnostics::{SOURCE, agent_file_display_path};

/// Kind of "Plan project from this requirement".
pub(crate) const PLAN_KIND: &str = "refactor.infiagent.plan";
/// Kind of "Build <x> from this design" and "Build all scripts in build order".
pub(crate) const BUILD_KIND: &str = "refactor.infiagent.build";
/// Kind of "Judge this file".
pub(crate) const JUDGE_KIND: &str = "refactor.infiagent.judge";
/// Kind of "Run task on selection…".
pub(crate) const RUN_KIND: &str = "refactor.infiagent.run";
/// Kind of "Evolve the pyramid (propose changes)".
pub(crate) const EVOLVE_KIND: &str = "refactor.infiagent.evolve";
/// Kind of "Generate a pyramid for a new domain…".
pub(crate) const GENERATE_KIND: &str = "refactor.infiagent.generate";
/// Kind of "Undo the last InfiAgent run".
pub(crate) const UNDO_KIND: &str = "refactor.infiagent.undo";

/// Every kind offered, for `codeActionKinds`.
pub(crate) fn kinds() -> Vec<CodeActionKind> {
    vec![
        CodeActionKind::QUICKFIX,
        CodeActionKind::new(PLAN_KIND),
        CodeActionKind::new(BUILD_KIND),
        CodeActionKind::new(JUDGE_KIND),
        CodeActionKind::new(RUN_KIND),
        CodeActionKind::new(EVOLVE_KIND),
        CodeActionKind::new(GENERATE_KIND),
        CodeActionKind::new(UNDO_KIND),
    ]
}

/// Whether the judge reported any of `params`' diagnostics (they get a repair).
pub(crate) fn has_verdicts(params: &CodeActionParams) -> bool {
    params.context.diagnostics.iter().any(is_verdict)
}

fn is_verdict(diagnostic: &Diagnostic) -> bool {
    diagnostic.source.as_deref() == Some(SOURCE)
        && matches!(
            diagnostic.severity,
            Some(DiagnosticSeverity::ERROR | DiagnosticSeverity::WARNING)
        )
}

/// The actions for a position in a file at `path` (relative `relative`); `editor`
/// is the agent that repairs (`role: editor`), named in the repair's title;
/// `undo` the last run that can be undone, when it changed this file.
pub(crate) fn actions(
    root: &Path,
    path: &Path,
    relative: &str,
    params: &CodeActionParams,
    (editor, undo): (Option<&str>, Option<&str>),
) -> Vec<CodeActionOrCommand> {
    let uri = json!(params.text_document.uri);
    let mut actions = Vec::new();
    let mut offer =
        |title: String, kind: &'static str, command: ServerCommand, argument: serde_json::Value| {
            actions.push(CodeAction {
                title: title.clone(),
                kind: Some(CodeActionKind::new(kind)),
                command: Some(Command {
                    title,
                    command: command.name().into(),
                    arguments: Some(vec![argument]),
                }),
                ..CodeAction::default()
            });
        };
    let is_agent_file = agent_file_display_path(root, path).is_some();
    let is_markdown = relative.ends_with(".md");
    if let Some(script) = design_script(path, relative) {
        offer(
            format!("Build {script} from this design"),
            BUILD_KIND,
            ServerCommand::Build,
            json!({"uri": uri}),
        );
    } else if is_design_summary(relative) {
        offer(
            "Build all scripts in build order".into(),
            BUILD_KIND,
            ServerCommand::Build,
            json!({"uri": uri}),
        );
    } else if is_markdown && !is_agent_file && !relative.starts_with("project_designs/") {
        offer(
            "Plan project from this requirement".into(),
            PLAN_KIND,
            ServerCommand::Plan,
            json!({"uri": uri, "range": params.range}),
        );
    }
    if !is_markdown {
        offer(
            "Judge this file".into(),
            JUDGE_KIND,
            ServerCommand::Judge,
            json!({"uri": uri}),
        );
    }
    if is_agent_file {
        offer(
            "Evolve the pyramid (propose changes)".into(),
            EVOLVE_KIND,
            ServerCommand::Evolve,
            json!({"review": true}),
        );
        offer(
            "Generate a pyramid for a new domain…".into(),
            GENERATE_KIND,
            ServerCommand::GeneratePyramid,
            json!({"uri": uri, "range": params.range}),
        );
    }
    if params.range.start != params.range.end {
        offer(
            "Run task on selection…".into(),
            RUN_KIND,
            ServerCommand::Run,
            json!({"uri": uri, "range": params.range}),
        );
    }
    if let Some(run_id) = undo {
        offer(
            format!("Undo the last InfiAgent run ({run_id})"),
            UNDO_KIND,
            ServerCommand::Undo,
            json!({"runId": run_id}),
        );
    }
    let repair_title = match editor {
        Some(editor) => format!("Repair with {editor}"),
        None => "Repair".to_string(),
    };
    for diagnostic in &params.context.diagnostics {
        if is_verdict(diagnostic) && !is_agent_file {
            actions.push(CodeAction {
                title: repair_title.clone(),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                command: Some(Command {
                    title: repair_title.clone(),
                    command: ServerCommand::Repair.name().into(),
                    arguments: Some(vec![json!({"uri": uri, "diagnostic": diagnostic})]),
                }),
                is_preferred: Some(true),
                ..CodeAction::default()
            });
        }
    }
    let only = params.context.only.as_ref();
    actions
        .into_iter()
        .filter(|action| {
            only.is_none_or(|kinds| {
                let kind = action.kind.as_ref().map_or("", |kind| kind.as_str());
                kinds.iter().any(|wanted| {
                    kind == wanted.as_str() || kind.starts_with(&format!("{}.", wanted.as_str()))
                })
            })
        })
        .map(CodeActionOrCommand::CodeAction)
        .collect()
}
