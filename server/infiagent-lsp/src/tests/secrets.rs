//! The API key is in no message the server sends: not while a run works
//! against a model that takes the key, nor when a server refuses the key and
//! echoes it back into the error the user is shown.

use infiagent_test_support::openai::serve_refusing_keys;
use infiagent_test_support::rerun::rerun_with_variable;
use serde_json::{Value, json};

use super::harness::{Answers, Client};
use super::{base_url, execute_on, model_and_requirement, workspace_with_requirement};

const KEY_VAR: &str = "INFIAGENT_LSP_TEST_SECRET_KEY";
const KEY: &str = "sk-test-SECRET-0123456789abcdef";

/// The check runs in a child process of this test binary with the key in its
/// environment.
#[test]
fn no_message_holds_the_key() {
    rerun_with_variable(
        module_path!(),
        "with_the_key_in_the_environment",
        KEY_VAR,
        KEY,
    );
}

fn options(base_url: &str) -> Value {
    json!({"model": {"base_url": base_url, "name": "scripted", "api_key_env": KEY_VAR, "max_retries": 0},
           "run": {"autonomy": "auto"}, "sandbox": {"mode": "off"}})
}

/// Reads every message the server sends, in order, until the message that
/// closes a run (its `InfiAgent: ...` notice or question); none may hold the key. Returns
/// that notice.
async fn read_clean_until_the_notice(client: &mut Client) -> Value {
    loop {
        let message = client.wait_for(|_| true).await;
        let text = message.to_string();
        for secret in [KEY.to_string(), format!("Bearer {KEY}")] {
            assert!(!text.contains(&secret), "the key was sent: {text}");
        }
        // A run that stopped ends with a message offering to resume it.
        let is_notice = (message["method"] == "window/showMessage"
            || message["method"] == "window/showMessageRequest")
            && message["params"]["message"]
                .as_str()
                .is_some_and(|notice| notice.starts_with("InfiAgent: "));
        if is_notice {
            return message;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_key_in_the_environment() {
    // Run by `no_message_holds_the_key` in a child process; elsewhere there is no
    // key to look for.
    if std::env::var(KEY_VAR).as_deref() != Ok(KEY) {
        return;
    }
    let (model, workspace) = model_and_requirement().await;
    let root = workspace.path();
    let mut client = Client::start(root, options(&model.base_url()), Answers::default()).await;
    execute_on(&mut client, "infiagent.plan", root, "requirement.md").await;
    let notice = read_clean_until_the_notice(&mut client).await;
    assert!(
        notice["params"]["message"]
            .as_str()
            .unwrap()
            .starts_with("InfiAgent: project_planner_agent succeeded"),
        "{notice}"
    );
    client.finish().await;

    let refusing = serve_refusing_keys().await;
    let workspace = workspace_with_requirement();
    let root = workspace.path();
    let mut client = Client::start(root, options(&base_url(&refusing)), Answers::default()).await;
    execute_on(&mut client, "infiagent.plan", root, "requirement.md").await;
    let notice = read_clean_until_the_notice(&mut client).await;
    let shown = notice["params"]["message"].as_str().unwrap();
    assert!(
        shown.contains("HTTP 401") && shown.contains("Bearer [REDACTED]"),
        "the echo should be shown, scrubbed: {shown}"
    );
    client.finish().await;
}
