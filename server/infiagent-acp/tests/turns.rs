//! Turns in process, with the SDK's client side over an in-memory channel:
//! `session/cancel` kills the run's process before it could finish; an
//! incomplete process sandbox is said in the first turn; agents use the MCP
//! servers the client passes; `/undo` and `/resume`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use agent_client_protocol::schema::ProtocolVersion;
use agent_client_protocol::v1::ConnectionTo;
use agent_client_protocol::v1::schema::{
    CancelNotification, ContentBlock, EnvVariable, InitializeRequest, McpServer, McpServerStdio,
    NewSessionRequest, PromptRequest, SessionId, SessionNotification, SessionUpdate, StopReason,
    TextContent, ToolKind,
};
use agent_client_protocol::{Agent, Channel, Client, Error};
use infiagent_acp::ConfigLoader;
use infiagent_engine::{Autonomy, Config};
use infiagent_test_support::openai;
use serde_json::json;

/// A session's updates, as the client receives them.
type Updates = tokio::sync::mpsc::UnboundedReceiver<SessionUpdate>;

/// Serves ACP in process with `loader` and, from the client's side, opens a
/// session in `root` with the client's MCP `servers` and runs `turn` on it with
/// the session's updates as they come; gives back what `turn` returned and the
/// updates it left.
async fn in_session<R>(
    loader: ConfigLoader,
    root: &Path,
    servers: Vec<McpServer>,
    turn: impl AsyncFnOnce(&ConnectionTo<Agent>, SessionId, &mut Updates) -> Result<R, Error>,
) -> (R, Updates) {
    let (agent_end, client_end) = Channel::duplex();
    tokio::spawn(infiagent_acp::serve(loader, agent_end));
    let (sender, mut updates) = tokio::sync::mpsc::unbounded_channel();
    let result = Client
        .v1()
        .on_receive_notification(
            async move |notification: SessionNotification, _connection: ConnectionTo<Agent>| {
                let _ = sender.send(notification.update);
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
                .send_request(NewSessionRequest::new(root.to_path_buf()).mcp_servers(servers))
                .block_task()
                .await?;
            turn(&connection, session.session_id, &mut updates).await
        })
        .await
        .unwrap();
    (result, updates)
}

/// The configuration of every session: the fake model at `model_uri`, the
/// `auto` autonomy, and the process sandbox off (in process there is no
/// launcher binary to sandbox with).
fn auto_loader(model_uri: String) -> ConfigLoader {
    let base_url = format!("{model_uri}/v1");
    Arc::new(move |_: &Path| {
        let mut config = Config::default();
        config.model.base_url = Some(base_url.clone());
        config.model.name = Some("fake".into());
        config.run.autonomy = Autonomy::Auto;
        config.sandbox.mode = infiagent_sandbox::SandboxMode::Off;
        Ok(config)
    })
}

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
    let loader = auto_loader(model.uri());
    let (stop, _) = in_session(
        loader,
        &root,
        Vec::new(),
        async |connection, session, updates| {
            let prompt = connection.send_request(PromptRequest::new(
                session.clone(),
                vec![ContentBlock::Text(TextContent::new(
                    "Fix the failing test in app.py",
                ))],
            ));
            // Once the command runs, cancel.
            while let Some(update) = updates.recv().await {
                if let SessionUpdate::ToolCall(call) = update
                    && call.kind == ToolKind::Execute
                {
                    break;
                }
            }
            connection.send_notification(CancelNotification::new(session))?;
            let answer = tokio::time::timeout(Duration::from_secs(10), prompt.block_task())
                .await
                .expect("the cancelled turn answers")?;
            Ok(answer.stop_reason)
        },
    )
    .await;
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
    let loader: ConfigLoader = Arc::new(|_: &Path| {
        let mut config = Config::default();
        config.model.base_url = Some("http://127.0.0.1:9/v1".into());
        config.model.name = Some("unused".into());
        Ok(config)
    });
    let (stop, mut updates) =
        in_session(loader, &root, Vec::new(), async |connection, session, _| {
            let answer = connection
                .send_request(PromptRequest::new(
                    session,
                    vec![ContentBlock::Text(TextContent::new("/agents"))],
                ))
                .block_task()
                .await?;
            Ok(answer.stop_reason)
        })
        .await;
    assert_eq!(stop, StopReason::EndTurn);
    let mut messages = Vec::new();
    while let Ok(update) = updates.try_recv() {
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

#[tokio::test]
async fn agents_use_the_mcp_servers_the_client_passes() {
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join(".infiagent/agents")).unwrap();
    std::fs::write(
        root.join(".infiagent/agents/relay_agent.md"),
        "---\nname: relay_agent\nlevel: 2\ndescription: Relays greetings through the editor's relay server.\ntools: [mcp__relay__echo]\nexamples:\n  - relay a greeting through the editor\n---\nYou relay greetings.\n",
    )
    .unwrap();
    let model = openai::serve_in_order(vec![
        openai::tool_calls(&[(
            "mcp__relay__echo",
            &json!({"message": "from the editor's server"}).to_string(),
        )]),
        openai::finish("success", "relayed"),
    ])
    .await;
    let loader = auto_loader(model.uri());
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../infiagent-mcp/tests/fixtures/mcp_server.py");
    let server = McpServer::Stdio(
        McpServerStdio::new("relay", "python3")
            .args(vec![fixture.to_string_lossy().into_owned()])
            .env(vec![EnvVariable::new("TOKEN", "editor-secret-1")]),
    );
    let (stop, _) = in_session(
        loader,
        &root,
        vec![server],
        async |connection, session, _| {
            let answer = connection
                .send_request(PromptRequest::new(
                    session,
                    vec![ContentBlock::Text(TextContent::new(
                        "relay a greeting through the editor",
                    ))],
                ))
                .block_task()
                .await?;
            Ok(answer.stop_reason)
        },
    )
    .await;
    assert_eq!(stop, StopReason::EndTurn);
    let bodies = openai::bodies(&model).await;
    assert_eq!(
        openai::tool_messages(&bodies[1]),
        ["echo: from the editor's server"]
    );
    // The value the client gave is not in the session's record.
    let sessions = root.join(".infiagent/sessions");
    let record = std::fs::read_dir(&sessions)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let record = std::fs::read_to_string(record).unwrap();
    assert!(
        record.contains("\"TOKEN\"") && !record.contains("editor-secret-1"),
        "{record}"
    );
}

#[tokio::test]
async fn undo_puts_the_last_run_back_and_a_finished_run_does_not_resume() {
    let workspace = tempfile::tempdir().unwrap();
    let root = workspace.path().canonicalize().unwrap();
    std::fs::write(root.join("app.py"), "broken\n").unwrap();
    let model = openai::serve_in_order(vec![
        openai::tool_calls(&[(
            "file_write",
            &json!({"path": "app.py", "content": "fixed\n"}).to_string(),
        )]),
        openai::finish("success", "fixed"),
    ])
    .await;
    let ((resumed, stop), mut updates) = in_session(
        auto_loader(model.uri()),
        &root,
        Vec::new(),
        async |connection, session, _| {
            let prompt = |text: &str| {
                connection.send_request(PromptRequest::new(
                    session.clone(),
                    vec![ContentBlock::Text(TextContent::new(text))],
                ))
            };
            prompt("Fix the failing test in app.py")
                .block_task()
                .await?;
            assert_eq!(
                std::fs::read_to_string(root.join("app.py")).unwrap(),
                "fixed\n"
            );
            let resumed = prompt("/resume").block_task().await.err().unwrap();
            let stop = prompt("/undo").block_task().await?.stop_reason;
            Ok((resumed.message, stop))
        },
    )
    .await;
    assert!(resumed.contains("it finished (success)"), "{resumed}");
    assert_eq!(stop, StopReason::EndTurn);
    assert_eq!(
        std::fs::read_to_string(root.join("app.py")).unwrap(),
        "broken\n"
    );
    let mut last = String::new();
    while let Ok(update) = updates.try_recv() {
        if let SessionUpdate::AgentMessageChunk(chunk) = update
            && let ContentBlock::Text(text) = chunk.content
        {
            last = text.text;
        }
    }
    assert!(
        last.starts_with("Undid run ") && last.contains("1 restored, 0 removed"),
        "{last}"
    );
}
