//! The `LanguageServer` implementation: thin handlers over the state.
//!
//! Document notifications change state synchronously, before any `.await`, so they
//! apply in the order they arrive. Requests answer from state or start work on a
//! task of its own; none waits on a model or a process.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::{
    CodeActionOptions, CodeActionParams, CodeActionProviderCapability, CodeActionResponse,
    CodeLens, CodeLensOptions, CodeLensParams, ConfigurationItem, DidChangeConfigurationParams,
    DidChangeTextDocumentParams, DidChangeWatchedFilesParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DidSaveTextDocumentParams, ExecuteCommandOptions,
    ExecuteCommandParams, InitializeParams, InitializeResult, InitializedParams, LSPAny,
    MessageType, SaveOptions, ServerCapabilities, ServerInfo, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions,
    WorkDoneProgressCancelParams, WorkDoneProgressOptions,
};
use tower_lsp_server::{Client, LanguageServer};

use crate::state::{ClientSupport, State, lock};
use crate::{code_actions, commands, diagnostics, documents, index, runs};
use infiagent_agents::Role;

/// The language server.
pub struct Server {
    state: Arc<State>,
}

impl Server {
    pub(crate) fn new(client: Client) -> Server {
        Server {
            state: Arc::new(State::new(client)),
        }
    }

    #[cfg(test)]
    pub(crate) fn state(&self) -> Arc<State> {
        self.state.clone()
    }

    /// `window/workDoneProgress/cancel`: the user pressed cancel on a run's progress.
    pub(crate) async fn work_done_progress_cancel(&self, params: WorkDoneProgressCancelParams) {
        lock(&self.state.runs).cancel_token(&params.token);
    }

    /// Pulls the `infiagent` section from the client, then checks the model settings.
    fn refresh_configuration(&self) {
        let state = self.state.clone();
        tokio::spawn(async move {
            if state.support().configuration {
                let items = vec![ConfigurationItem {
                    scope_uri: None,
                    section: Some("infiagent".into()),
                }];
                if let Ok(mut values) = state.client.configuration(items).await {
                    let value = values.pop().filter(|value| !value.is_null());
                    lock(&state.settings).workspace_configuration = value;
                    state.invalidate_engine();
                }
            }
            check_model_settings(&state).await;
        });
    }
}

/// Shows once what to set when the model configuration cannot work.
async fn check_model_settings(state: &State) {
    let problem = match runs::effective_config(state) {
        Err(err) => Some(err.to_string()),
        Ok(config) => config
            .model_settings(None)
            .map_err(|err| err.to_string())
            .and_then(|settings| {
                infiagent_model::connect(&settings)
                    .map(|_| ())
                    .map_err(|err| err.to_string())
            })
            .err(),
    };
    match problem {
        Some(message) if !state.model_warning_shown.swap(true, Ordering::SeqCst) => {
            let first_line = message.lines().next().unwrap_or_default().to_string();
            state
                .client
                .show_message(
                    MessageType::WARNING,
                    format!(
                        "InfiAgent: {first_line}. Set infiagent.model.base_url, infiagent.model.name and (if the endpoint needs a key) infiagent.model.api_key_env in the editor settings, or [model] in .infiagent/config.toml."
                    ),
                )
                .await;
        }
        Some(_) => {}
        None => state.model_warning_shown.store(false, Ordering::SeqCst),
    }
}

/// Whether a workspace file is one the engine is opened from: the configuration
/// or an agent file.
fn shapes_the_engine(relative: &str) -> bool {
    relative == ".infiagent/config.toml"
        || (relative.starts_with(".infiagent/agents/") && relative.ends_with(".md"))
}

impl LanguageServer for Server {
    async fn initialize(&self, params: InitializeParams) -> jsonrpc::Result<InitializeResult> {
        let root = params
            .workspace_folders
            .as_ref()
            .and_then(|folders| folders.first())
            .and_then(|folder| documents::file_path(&folder.uri));
        #[allow(deprecated)]
        let root = root.or_else(|| params.root_uri.as_ref().and_then(documents::file_path));
        *lock(&self.state.root) = root;
        let capabilities = &params.capabilities;
        *lock(&self.state.support) = ClientSupport {
            work_done_progress: capabilities
                .window
                .as_ref()
                .and_then(|window| window.work_done_progress)
                .unwrap_or(false),
            configuration: capabilities
                .workspace
                .as_ref()
                .and_then(|workspace| workspace.configuration)
                .unwrap_or(false),
            change_annotations: capabilities
                .workspace
                .as_ref()
                .and_then(|workspace| workspace.workspace_edit.as_ref())
                .and_then(|edit| edit.change_annotation_support.as_ref())
                .is_some(),
            document_changes: capabilities
                .workspace
                .as_ref()
                .and_then(|workspace| workspace.workspace_edit.as_ref())
                .and_then(|edit| edit.document_changes)
                .unwrap_or(false),
            watched_files: capabilities
                .workspace
                .as_ref()
                .and_then(|workspace| workspace.did_change_watched_files.as_ref())
                .and_then(|watched| watched.dynamic_registration)
                .unwrap_or(false),
            code_lens_refresh: capabilities
                .workspace
                .as_ref()
                .and_then(|workspace| workspace.code_lens.as_ref())
                .and_then(|lens| lens.refresh_support)
                .unwrap_or(false),
        };
        lock(&self.state.settings).initialization_options = params.initialization_options;
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "infiagent".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                            include_text: Some(false),
                        })),
                        ..TextDocumentSyncOptions::default()
                    },
                )),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(code_actions::kinds()),
                        work_done_progress_options: WorkDoneProgressOptions::default(),
                        resolve_provider: Some(false),
                    },
                )),
                code_lens_provider: Some(CodeLensOptions {
                    resolve_provider: Some(false),
                }),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: crate::COMMANDS
                        .iter()
                        .map(|command| command.to_string())
                        .collect(),
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                }),
                ..ServerCapabilities::default()
            },
            ..InitializeResult::default()
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        self.refresh_configuration();
        tokio::spawn(index::start(self.state.clone()));
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        if let Some(root) = self.state.root()
            && params.changes.iter().any(|change| {
                documents::file_path(&change.uri)
                    .and_then(|path| documents::relative_to(&root, &path))
                    .is_some_and(|relative| shapes_the_engine(&relative))
            })
        {
            self.state.invalidate_engine();
        }
        index::files_changed(&self.state, &params.changes);
    }

    async fn shutdown(&self) -> jsonrpc::Result<()> {
        lock(&self.state.runs).cancel_all();
        // Give cancelled runs a moment to kill their processes and record their end.
        for _ in 0..50 {
            if !lock(&self.state.runs).any_running() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let document = params.text_document;
        let root = self.state.root();
        let path = {
            let mut documents = lock(&self.state.documents);
            documents.open(
                document.uri.clone(),
                document.version,
                &document.text,
                root.as_deref(),
            );
            documents.get(&document.uri).and_then(|opened| {
                index::document_changed(&self.state, opened);
                opened.path.clone()
            })
        };
        if let Some(path) = path {
            self.after_text_change(&document.uri, &path).await;
        }
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let path = {
            let mut documents = lock(&self.state.documents);
            documents
                .change(&uri, params.text_document.version, &params.content_changes)
                .and_then(|changed| {
                    index::document_changed(&self.state, changed);
                    changed.path.clone()
                })
        };
        let Some(path) = path else {
            return;
        };
        diagnostics::drop_stale_verdicts(&self.state, &path).await;
        diagnostics::recheck_generated_file(&self.state, &path, &uri).await;
        self.after_text_change(&uri, &path).await;
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        let saved = documents::file_path(&params.text_document.uri);
        if let (Some(root), Some(path)) = (self.state.root(), saved)
            && documents::relative_to(&root, &path)
                .is_some_and(|relative| shapes_the_engine(&relative))
        {
            self.state.invalidate_engine();
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let closed = lock(&self.state.documents).close(&params.text_document.uri);
        if let Some(document) = closed {
            index::closed(&self.state, &document);
        }
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        match params.settings.get("infiagent") {
            Some(section) if !section.is_null() => {
                lock(&self.state.settings).workspace_configuration = Some(section.clone());
                self.state.invalidate_engine();
                self.state
                    .model_warning_shown
                    .store(false, Ordering::SeqCst);
                let state = self.state.clone();
                tokio::spawn(async move { check_model_settings(&state).await });
            }
            _ => {
                self.state
                    .model_warning_shown
                    .store(false, Ordering::SeqCst);
                self.refresh_configuration();
            }
        }
    }

    async fn code_action(
        &self,
        params: CodeActionParams,
    ) -> jsonrpc::Result<Option<CodeActionResponse>> {
        let Some(root) = self.state.root() else {
            return Ok(None);
        };
        let Some(path) = documents::file_path(&params.text_document.uri) else {
            return Ok(None);
        };
        let Some(relative) = documents::relative_to(&root, &path) else {
            return Ok(None);
        };
        let editor = code_actions::has_verdicts(&params)
            .then(|| runs::agent_with_role(&self.state, Role::Editor))
            .flatten();
        // The last run that can be undone, when it changed this file.
        let undo = crate::undo::undoable_run_of(&self.state, &root, &relative);
        Ok(Some(code_actions::actions(
            &root,
            &path,
            &relative,
            &params,
            (editor.as_deref(), undo.as_deref()),
        )))
    }

    /// A file the judge found successful says so on its first line (a success
    /// is not a problem: it is not a diagnostic).
    async fn code_lens(&self, params: CodeLensParams) -> jsonrpc::Result<Option<Vec<CodeLens>>> {
        let Some(path) = documents::file_path(&params.text_document.uri) else {
            return Ok(None);
        };
        Ok(diagnostics::judged_lens(&self.state, &path).map(|lens| vec![lens]))
    }

    async fn execute_command(
        &self,
        params: ExecuteCommandParams,
    ) -> jsonrpc::Result<Option<LSPAny>> {
        commands::execute(&self.state, &params.command, params.arguments).await
    }
}

impl Server {
    /// An agent file being edited is checked against the pyramid.
    async fn after_text_change(&self, uri: &tower_lsp_server::ls_types::Uri, path: &Path) {
        let Some(root) = self.state.root() else {
            return;
        };
        if diagnostics::agent_file_display_path(&root, path).is_none() {
            return;
        }
        let text = lock(&self.state.documents)
            .get(uri)
            .map(|document| document.text().to_string());
        if let Some(text) = text {
            diagnostics::check_agent_file(&self.state, path, &text).await;
        }
    }
}
