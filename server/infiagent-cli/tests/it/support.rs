//! What the CLI's tests share: the `infiagent` binary without the model variables
//! of the environment, and a fake OpenAI-compatible endpoint playing the demo's
//! scripted model (it records every request for the tests to inspect).

use std::path::Path;
use std::process::{Command, Output};

use infiagent_demo::scripted_openai_reply;
use wiremock::MockServer;

/// The variables that would point the binary at another model.
const MODEL_VARIABLES: [&str; 4] = [
    "INFIAGENT_MODEL",
    "INFIAGENT_BASE_URL",
    "INFIAGENT_PROVIDER",
    "INFIAGENT_API_KEY_ENV",
];

/// The `infiagent` binary, with none of the model variables.
pub fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_infiagent"));
    for variable in MODEL_VARIABLES {
        command.env_remove(variable);
    }
    command
}

/// [`command`] for async tests.
pub fn async_command() -> tokio::process::Command {
    tokio::process::Command::from(command())
}

/// Runs `infiagent ARGS` in `workspace` to its end.
pub fn infiagent(args: &[&str], workspace: &Path) -> Output {
    command()
        .args(args)
        .current_dir(workspace)
        .output()
        .unwrap()
}

/// Output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Starts the fake endpoint; its base URL is `{uri}/v1`.
pub async fn scripted_endpoint() -> MockServer {
    infiagent_test_support::openai::serve_answering(|body| {
        scripted_openai_reply(body).expect("an OpenAI chat request")
    })
    .await
}
