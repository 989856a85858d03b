//! The integration tests of `infiagent-model`, one binary: models over HTTP against a mock server and a misbehaving one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chat_over_http;
mod faults;
mod wire_formats;

use infiagent_model::{ChatRequest, Message};

/// A one-message request.
fn hello() -> ChatRequest {
    ChatRequest {
        system: "Be brief.".into(),
        messages: vec![Message::User {
            content: "hello".into(),
        }],
        tools: vec![],
    }
}
