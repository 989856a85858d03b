//! Consent without a dialog of our own: in `auto` everything runs; otherwise the
//! client is asked through MCP elicitation when it supports it (*Run*, *Always
//! for this workspace*, *Skip*), and what cannot be asked is refused.

use std::path::Path;
use std::time::Duration;

use infiagent_engine::Autonomy;
use infiagent_tools::{Approval, ApprovalRequest, Editor, EditorWrite};
use rmcp::model::{ElicitRequestParams, ElicitationAction, ElicitationSchema};
use rmcp::{Peer, RoleServer};
use serde_json::json;

/// How long a question waits for the user before it counts as *Skip*.
const ANSWER_WAIT: Duration = Duration::from_secs(600);

/// The tools' editor for runs started by an MCP client.
pub(crate) struct ClientConsent {
    pub autonomy: Autonomy,
    pub peer: Peer<RoleServer>,
}

impl ClientConsent {
    fn can_ask(&self) -> bool {
        self.peer
            .peer_info()
            .is_some_and(|info| info.capabilities.elicitation.is_some())
    }
}

#[async_trait::async_trait]
impl Editor for ClientConsent {
    fn open_text(&self, _path: &Path) -> Option<String> {
        None
    }

    async fn write(&self, _path: &Path, _content: &str) -> EditorWrite {
        EditorWrite::NotOpen
    }

    async fn approve(&self, request: &ApprovalRequest) -> Approval {
        if self.autonomy == Autonomy::Auto {
            return Approval::Allow;
        }
        if !self.can_ask() {
            return Approval::Deny;
        }
        let Ok(schema) = ElicitationSchema::from_json_schema(
            json!({
                "type": "object",
                "properties": {
                    "answer": {
                        "type": "string",
                        "title": "Answer",
                        "enum": ["run", "always", "skip"],
                        "enumNames": ["Run", "Always for this workspace", "Skip"]
                    }
                },
                "required": ["answer"]
            })
            .as_object()
            .cloned()
            .unwrap_or_default(),
        ) else {
            return Approval::Deny;
        };
        let params = ElicitRequestParams::FormElicitationParams {
            meta: None,
            message: format!(
                "InfiAgent: {} wants to run `{}` ({}). Run it?",
                request.agent, request.summary, request.tool
            ),
            requested_schema: schema,
        };
        match self
            .peer
            .create_elicitation_with_timeout(params, Some(ANSWER_WAIT))
            .await
        {
            Ok(result) if result.action == ElicitationAction::Accept => {
                match result
                    .content
                    .as_ref()
                    .and_then(|content| content.get("answer"))
                    .and_then(|answer| answer.as_str())
                {
                    Some("run") => Approval::Allow,
                    Some("always") => Approval::AlwaysForWorkspace,
                    _ => Approval::Deny,
                }
            }
            Ok(_) => Approval::Deny,
            Err(error) => {
                tracing::warn!(%error, "the MCP client could not be asked; not run");
                Approval::Deny
            }
        }
    }
}
