//! Faults of the model and of its replies: each ends as specified, nothing panics.

use std::time::{Duration, Instant};

use infiagent_protocol::{RunEnd, Status};
use infiagent_test_support::openai::{bodies, finish, serve_in_order, tool_calls, tool_messages};

use crate::support::{engine, start};
use wiremock::ResponseTemplate;

fn finished(end: &RunEnd) -> (Status, String) {
    match end {
        RunEnd::Finished { output } => (
            output.status,
            format!("{} {}", output.output, output.error_information),
        ),
        other => panic!("expected a final output, got {other:?}"),
    }
}

fn aborted(end: &RunEnd) -> String {
    match end {
        RunEnd::Aborted { reason, .. } => reason.clone(),
        other => panic!("expected an aborted run, got {other:?}"),
    }
}

#[tokio::test]
async fn rate_limited_then_success_honours_retry_after() {
    let server = serve_in_order(vec![
        ResponseTemplate::new(429)
            .insert_header("retry-after", "1")
            .set_body_string("slow down"),
        finish("success", "done"),
    ])
    .await;
    let workspace = tempfile::tempdir().unwrap();
    let engine = engine(workspace.path(), &server, |config| {
        config.model.max_retries = Some(2)
    });
    let started = Instant::now();
    let outcome = start(&engine, "say done").completion.wait().await;
    assert_eq!(finished(&outcome.end).0, Status::Success);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After was not honoured"
    );
    assert_eq!(bodies(&server).await.len(), 2);
}

#[tokio::test]
async fn server_errors_until_the_retry_limit_abort_the_run() {
    let server = serve_in_order(vec![ResponseTemplate::new(500).set_body_string("boom")]).await;
    let workspace = tempfile::tempdir().unwrap();
    let engine = engine(workspace.path(), &server, |config| {
        config.model.max_retries = Some(2)
    });
    let outcome = start(&engine, "anything").completion.wait().await;
    let reason = aborted(&outcome.end);
    assert!(
        reason.contains("solo_agent") && reason.contains("500"),
        "{reason}"
    );
    assert_eq!(bodies(&server).await.len(), 3, "one try and two retries");
}

#[tokio::test]
async fn a_hanging_model_times_out() {
    let server = serve_in_order(vec![
        finish("success", "late").set_delay(Duration::from_secs(5)),
    ])
    .await;
    let workspace = tempfile::tempdir().unwrap();
    let engine = engine(workspace.path(), &server, |config| {
        config.model.timeout_seconds = Some(1)
    });
    let started = Instant::now();
    let outcome = start(&engine, "anything").completion.wait().await;
    let reason = aborted(&outcome.end);
    assert!(reason.contains("did not answer within 1 s"), "{reason}");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn invalid_arguments_are_reported_back_and_the_agent_recovers() {
    let server = serve_in_order(vec![
        tool_calls(&[("file_write", "{\"path\": \"a.txt\", \"content\": ")]),
        tool_calls(&[("file_write", r#"{"path": "a.txt", "content": "hi\n"}"#)]),
        finish("success", "wrote `a.txt`"),
    ])
    .await;
    let workspace = tempfile::tempdir().unwrap();
    let engine = engine(workspace.path(), &server, |_| {});
    let outcome = start(&engine, "write a.txt").completion.wait().await;
    assert_eq!(finished(&outcome.end).0, Status::Success);
    assert_eq!(
        std::fs::read_to_string(workspace.path().join("a.txt")).unwrap(),
        "hi\n"
    );
    let second = &bodies(&server).await[1];
    assert!(
        tool_messages(second)[0].contains("not valid JSON"),
        "{second}"
    );
}

#[tokio::test]
async fn malformed_replies_in_a_row_end_the_agent() {
    let server = serve_in_order(vec![tool_calls(&[("file_write", "{oops")])]).await;
    let workspace = tempfile::tempdir().unwrap();
    let engine = engine(workspace.path(), &server, |_| {});
    let outcome = start(&engine, "anything").completion.wait().await;
    let (status, text) = finished(&outcome.end);
    assert_eq!(status, Status::Error);
    assert!(text.contains("3 malformed replies in a row"), "{text}");
    assert_eq!(bodies(&server).await.len(), 3);
}

#[tokio::test]
async fn unknown_tool_is_reported_to_the_model() {
    let server = serve_in_order(vec![
        tool_calls(&[("launch_rockets", "{}")]),
        finish("success", "ok"),
    ])
    .await;
    let workspace = tempfile::tempdir().unwrap();
    let engine = engine(workspace.path(), &server, |_| {});
    let outcome = start(&engine, "anything").completion.wait().await;
    assert_eq!(finished(&outcome.end).0, Status::Success);
    let answer = &tool_messages(&bodies(&server).await[1])[0];
    assert!(
        answer.starts_with("Tool error: unknown tool 'launch_rockets'. Your tools are: file_read, file_write, dir_list, execute_code, final_output"),
        "{answer}"
    );
}

#[tokio::test]
async fn empty_and_garbage_replies_are_bounded() {
    let server = serve_in_order(vec![
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"choices": []})),
        ResponseTemplate::new(200).set_body_string("<html>not json</html>"),
        finish("success", "recovered"),
    ])
    .await;
    let workspace = tempfile::tempdir().unwrap();
    let engine = engine(workspace.path(), &server, |_| {});
    let outcome = start(&engine, "anything").completion.wait().await;
    assert_eq!(finished(&outcome.end).0, Status::Success);
}

#[tokio::test]
async fn a_model_that_never_finishes_hits_the_step_limit() {
    let server = serve_in_order(vec![tool_calls(&[("dir_list", "{}")])]).await;
    let workspace = tempfile::tempdir().unwrap();
    let engine = engine(workspace.path(), &server, |config| {
        config.run.max_steps = 4;
        // The same call each step: the step limit, not the loop guard, is tested.
        config.run.max_repeated_calls = 0;
    });
    let outcome = start(&engine, "anything").completion.wait().await;
    let (status, text) = finished(&outcome.end);
    assert_eq!(status, Status::Error);
    assert!(text.contains("step limit (4)"), "{text}");
    assert_eq!(bodies(&server).await.len(), 4);
}

#[tokio::test]
async fn text_replies_without_tools_are_nudged_or_read_as_final_output() {
    let text_reply = |content: &str| {
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]
        }))
    };
    let server = serve_in_order(vec![
        text_reply("I think I am done."),
        text_reply("```json\n{\"status\": \"success\", \"output\": \"as JSON text\"}\n```"),
    ])
    .await;
    let workspace = tempfile::tempdir().unwrap();
    let engine = engine(workspace.path(), &server, |_| {});
    let outcome = start(&engine, "anything").completion.wait().await;
    let (status, text) = finished(&outcome.end);
    assert_eq!((status, text.trim()), (Status::Success, "as JSON text"));
}

#[tokio::test]
async fn token_budget_stops_the_run() {
    let server = serve_in_order(vec![tool_calls(&[("dir_list", "{}")])]).await;
    let workspace = tempfile::tempdir().unwrap();
    let engine = engine(workspace.path(), &server, |config| {
        config.run.max_tokens = 250
    });
    let outcome = start(&engine, "anything").completion.wait().await;
    let reason = aborted(&outcome.end);
    assert!(
        reason.starts_with("token budget exceeded: 330 tokens used, [run] max_tokens is 250"),
        "{reason}"
    );
    // Front-ends read which budget it was (ACP's `max_tokens`).
    assert!(matches!(
        outcome.end,
        RunEnd::Aborted {
            budget: Some(infiagent_protocol::Budget::Tokens),
            ..
        }
    ));
}

#[tokio::test]
async fn cost_budget_stops_the_run() {
    let server = serve_in_order(vec![tool_calls(&[("dir_list", "{}")])]).await;
    let workspace = tempfile::tempdir().unwrap();
    let engine = engine(workspace.path(), &server, |config| {
        config.prices.insert(
            "fake-model".into(),
            infiagent_engine::Price {
                input: 1000.0,
                output: 1000.0,
                ..infiagent_engine::Price::default()
            },
        );
        config.run.max_cost_usd = 0.2;
    });
    let outcome = start(&engine, "anything").completion.wait().await;
    let reason = aborted(&outcome.end);
    assert!(
        reason.starts_with("cost budget exceeded: $0.2200 spent"),
        "{reason}"
    );
    assert!(matches!(
        outcome.end,
        RunEnd::Aborted {
            budget: Some(infiagent_protocol::Budget::Cost),
            ..
        }
    ));
}
