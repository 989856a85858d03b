//! Turns in process, with the SDK's client side over an in-memory channel:
//! `session/cancel` kills the run's process before it could finish; an
//! incomplete process sandbox is said in the first turn.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use agent_client_protocol::schema::ProtocolVersion;
use agent_client_protocol::v1::ConnectionTo;
use agent_client_protocol::v1::schema::{
    CancelNotification, ContentBlock, InitializeRequest, NewSessionRequest, PromptRequest,
    SessionNotification, SessionUpdate, StopReason, TextContent, ToolKind,
};
use agent_client_protocol::{Agent, Channel, Client};
use infiagent_engine::{Autonomy, Config};
use infiagent_test_support::openai;
use serde_json::json;

#[tokio::test]
async fn a_cancelled_turn_stops_its_process() {
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path().canonicalize().unwrap();
    // The editor agent runs a command that would leave a file after two seconds.
    let model = openai::serve_in_order(vec![
        openai::tool_calls(&[(
            "execute_shell",
            &json!({"command": "sleep 2; touch marker.txt"}).to_string(),
        )]),
        openai::finish("success", "done"),
    ])
    .await;
    let base_url = format!("{}/v1", model.uri());
    let loader: infiagent_acp::ConfigLoader = Arc::new(move |_: &Path| {
        let mut config = Config::default();
        config.model.base_url = Some(base_url.clone());
        config.model.name = Some("fake".into());
        config.run.autonomy = Autonomy::Auto;
        // In process there is no launcher binary to sandbox with.
        config.sandbox.mode = infiagent_sandbox::SandboxMode::Off;
        Ok(config)
    });
    let (agent_end, client_end) = Channel::duplex();
    tokio::spawn(infiagent_acp::serve(loader, agent_end));

    let (updates, mut received) = tokio::sync::mpsc::unbounded_channel::<SessionUpdate>();
    let stop = Client
        .v1()
        .on_receive_notification(
            async move |notification: SessionNotification, _connection: ConnectionTo<Agent>| {
                let _ = updates.send(notification.update);
                Ok(())
            },
            agent_client_protocol::on_receive_notification!(),
        )
        .connect_with(client_end, async |connection: ConnectionTo<Agent>| {
            connection
                .send_request(InitializeRequest::new(ProtocolVersion::V1))
                .block_task()
                .await?;
            let session = connection
                .send_request(NewSessionRequest::new(root.clone()))
                .block_task()
                .await?;
            let prompt = connection.send_request(PromptRequest::new(
                session.session_id.clone(),
                vec![ContentBlock::Text(TextContent::new(
                    "Fix the failing test in app.py",
                ))],
            ));
            // Once the command runs, cancel.
            while let Some(update) = received.recv().await {
                if let SessionUpdate::ToolCall(call) = update
                    && call.kind == ToolKind::Execute
                {
                    break;
                }
            }
            connection.send_notification(CancelNotification::new(session.session_id))?;
            let answer = tokio::time::timeout(Duration::from_secs(10), prompt.block_task())
                .await
                .expect("the cancelled turn answers")?;
            Ok(answer.stop_reason)
        })
        .await
        .unwrap();
    assert_eq!(stop, StopReason::Cancelled);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        !root.join("marker.txt").exists(),
        "the command went on after the cancel"
    );
}

#[tokio::test]
async fn an_incomplete_sandbox_is_said_in_the_first_turn() {
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path().canonicalize().unwrap();
    // The default sandbox mode, and no launcher in this process: nothing could
    // be confined, and the user is told before anything else.
    let loader: infiagent_acp::ConfigLoader = Arc::new(|_: &Path| {
        let mut config = Config::default();
        config.model.base_url = Some("http://127.0.0.1:9/v1".into());
        config.model.name = Some("unused".into());
        Ok(config)
    });
    let (agent_end, client_end) = Channel::duplex();
    tokio::spawn(infiagent_acp::serve(loader, agent_end));
    let (updates, mut received) = tokio::sync::mpsc::unbounded_channel::<SessionUpdate>();
    let stop = Client
        .v1()
        .on_receive_notification(
            async move |notification: SessionNotification, _connection: ConnectionTo<Agent>| {
                let _ = updates.send(notification.update);
                Ok(())
            },
            agent_client_protocol::on_receive_notification!(),
        )
        .connect_with(client_end, async |connection: ConnectionTo<Agent>| {
            connection
                .send_request(InitializeRequest::new(ProtocolVersion::V1))
                .block_task()
                .await?;
            let session = connection
                .send_request(NewSessionRequest::new(root.clone()))
                .block_task()
                .await?;
            let answer = connection
                .send_request(PromptRequest::new(
                    session.session_id,
                    vec![ContentBlock::Text(TextContent::new("/agents"))],
                ))
                .block_task()
                .await?;
            Ok(answer.stop_reason)
        })
        .await
        .unwrap();
    assert_eq!(stop, StopReason::EndTurn);
    let mut messages = Vec::new();
    while let Ok(update) = received.try_recv() {
        if let SessionUpdate::AgentMessageChunk(chunk) = update
            && let ContentBlock::Text(text) = chunk.content
        {
            messages.push(text.text);
        }
    }
    assert!(
        messages[0].starts_with("Warning: InfiAgent's process sandbox is incomplete"),
        "{messages:?}"
    );
    assert!(messages[1].contains("project_lead_agent"), "{messages:?}");
}
