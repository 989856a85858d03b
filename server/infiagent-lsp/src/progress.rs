//! A run's (or a build's) progress in the editor: the work-done progress the
//! server creates (when the client supports it) and the structured status
//! (`infiagent/runStatus`, the session's run list), begun, reported and ended
//! together.

use std::sync::Arc;

use infiagent_protocol::RunStatus;
use tower_lsp_server::ls_types::notification::Progress;
use tower_lsp_server::ls_types::request::WorkDoneProgressCreate;
use tower_lsp_server::ls_types::{
    ProgressParams, ProgressParamsValue, ProgressToken, WorkDoneProgress, WorkDoneProgressBegin,
    WorkDoneProgressCreateParams, WorkDoneProgressEnd, WorkDoneProgressReport,
};

use crate::runs::{send_status, update_entry};
use crate::state::State;

/// The progress of one run or build.
pub(crate) struct RunProgress {
    state: Arc<State>,
    token: ProgressToken,
    /// The client accepted the work-done progress.
    shown: bool,
    /// What the extensions are told.
    pub status: RunStatus,
}

impl RunProgress {
    /// Creates the work-done progress (cancellable), begins it with `title` and
    /// `message`, and sends the status.
    pub async fn begin(
        state: Arc<State>,
        token: ProgressToken,
        status: RunStatus,
        (title, message): (String, String),
        percentage: Option<u32>,
    ) -> RunProgress {
        let shown = state.support().work_done_progress
            && state
                .client
                .send_request::<WorkDoneProgressCreate>(WorkDoneProgressCreateParams {
                    token: token.clone(),
                })
                .await
                .is_ok();
        let progress = RunProgress {
            state,
            token,
            shown,
            status,
        };
        progress
            .send(WorkDoneProgress::Begin(WorkDoneProgressBegin {
                title,
                cancellable: Some(true),
                message: Some(message),
                percentage,
            }))
            .await;
        send_status(&progress.state, &progress.status).await;
        progress
    }

    /// Reports the status as it is now.
    pub async fn report(&self, percentage: Option<u32>) {
        self.send(WorkDoneProgress::Report(WorkDoneProgressReport {
            cancellable: Some(true),
            message: Some(self.status.message.clone()),
            percentage,
        }))
        .await;
        update_entry(&self.state, &self.status);
        send_status(&self.state, &self.status).await;
    }

    /// Ends the progress with the status's message, and sends the final status.
    pub async fn end(&self) {
        // The runs list says how it ended before the progress does, so a client
        // that asks `infiagent.runs` at the progress's end reads the end.
        update_entry(&self.state, &self.status);
        self.send(WorkDoneProgress::End(WorkDoneProgressEnd {
            message: Some(self.status.message.clone()),
        }))
        .await;
        send_status(&self.state, &self.status).await;
    }

    async fn send(&self, progress: WorkDoneProgress) {
        if self.shown {
            self.state
                .client
                .send_notification::<Progress>(ProgressParams {
                    token: self.token.clone(),
                    value: ProgressParamsValue::WorkDone(progress),
                })
                .await;
        }
    }
}
