//! A streamed reply reaches the user while it arrives: `AgentText` events carry
//! what the model is writing, and the run goes on as with a whole reply.

use std::time::Duration;

use infiagent_protocol::{RunEnd, RunEvent, Status};
use infiagent_test_support::slow_stream;

use crate::support::{engine, start};

#[tokio::test]
async fn what_the_model_writes_is_shown_while_it_streams() {
    let (base_url, server) = slow_stream::serve_once("success", "checked").await;
    let unused = wiremock::MockServer::start().await;
    let workspace = tempfile::tempdir().unwrap();
    // Streaming is on by default.
    let engine = engine(workspace.path(), &unused, |config| {
        config.model.base_url = Some(base_url);
    });
    let mut handle = start(&engine, "check the workspace");
    let (_, empty) = tokio::sync::mpsc::channel(1);
    let mut events = std::mem::replace(&mut handle.events, empty);
    let collected = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(event) = events.recv().await {
            all.push(event);
        }
        all
    });
    let outcome = tokio::time::timeout(Duration::from_secs(10), handle.completion.wait())
        .await
        .unwrap();
    let RunEnd::Finished { output } = &outcome.end else {
        panic!("{:?}", outcome.end)
    };
    assert_eq!(output.status, Status::Success);
    assert_eq!(outcome.totals.cached_prompt_tokens, 32);
    let events = collected.await.unwrap();
    let texts: Vec<&str> = events
        .iter()
        .filter_map(|event| match event {
            RunEvent::AgentText { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    // The first piece is shown at once; later ones within the same tenth of a
    // second wait, and the reply's last line is shown when it ends.
    assert_eq!(texts, ["Checking the", "All good"], "{events:?}");
    // The pieces, put together, are the whole text, each piece once.
    let deltas: String = events
        .iter()
        .filter_map(|event| match event {
            RunEvent::AgentText { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(deltas, "Checking the workspace.\nAll good");
    let request: serde_json::Value = serde_json::from_str(&server.await.unwrap()).unwrap();
    assert_eq!(request["stream"], serde_json::json!(true));
}
