//! The Anthropic provider: `POST {base_url}/v1/messages`.
//!
//! Replies are always read whole: this provider does not stream, whatever
//! `settings.stream` says. Anthropic wants user and assistant turns to
//! alternate, so consecutive messages of one role are merged into one turn, and
//! tool results travel as `tool_result` blocks of a user turn.

use std::fmt;

use reqwest::header::HeaderValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::retry::{AttemptError, with_retries};
use crate::transport::{CallLimits, Endpoint, build_client, fetch_json};
use crate::{
    ChatModel, ChatRequest, ChatResponse, Message, ModelError, ModelSettings, ToolCall, Usage,
};

/// The Messages API version this module speaks.
const API_VERSION: &str = "2023-06-01";

/// A model behind the Anthropic Messages API.
pub(crate) struct AnthropicModel {
    settings: ModelSettings,
    /// Kept to scrub it from anything a server echoes.
    api_key: Option<String>,
    /// The key as the `x-api-key` header value, marked sensitive.
    key_header: Option<HeaderValue>,
    endpoint: Endpoint,
    client: reqwest::Client,
}

impl fmt::Debug for AnthropicModel {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AnthropicModel")
            .field("model", &self.settings.model)
            .field("endpoint", &self.endpoint.shown)
            .field("api_key", &self.api_key.as_ref().map(|_| crate::REDACTED))
            .finish_non_exhaustive()
    }
}

impl AnthropicModel {
    /// A model for `settings`, sending `api_key` (if any) as `x-api-key`.
    pub(crate) fn new(
        settings: ModelSettings,
        api_key: Option<String>,
    ) -> Result<Self, ModelError> {
        let base_url = settings.base_url.trim_end_matches('/');
        let url = if base_url.ends_with("/v1") {
            format!("{base_url}/messages")
        } else {
            format!("{base_url}/v1/messages")
        };
        let endpoint = Endpoint::parse(&url).map_err(|error| error.redacted(api_key.as_deref()))?;
        let key_header = match &api_key {
            None => None,
            Some(key) => {
                let mut value = HeaderValue::from_str(key).map_err(|_| {
                    ModelError::Config(
                        "the API key contains characters that cannot go in an HTTP header".into(),
                    )
                })?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        Ok(AnthropicModel {
            settings,
            api_key,
            key_header,
            endpoint,
            client: build_client()?,
        })
    }

    fn request_body<'a>(&'a self, request: &'a ChatRequest) -> WireRequest<'a> {
        WireRequest {
            model: &self.settings.model,
            max_tokens: self.settings.max_output_tokens,
            system: &request.system,
            messages: turns(&request.messages),
            tools: request
                .tools
                .iter()
                .map(|tool| WireTool {
                    name: &tool.name,
                    description: &tool.description,
                    input_schema: &tool.parameters,
                })
                .collect(),
            temperature: self.settings.temperature,
        }
    }

    async fn attempt(&self, body: &WireRequest<'_>) -> Result<ChatResponse, AttemptError> {
        let mut request = self
            .client
            .post(self.endpoint.url.clone())
            .header("anthropic-version", API_VERSION)
            .json(body);
        if let Some(key) = &self.key_header {
            request = request.header("x-api-key", key.clone());
        }
        let limits = CallLimits {
            timeout: self.settings.request_timeout,
            max_response_bytes: self.settings.max_response_bytes,
        };
        let reply: Reply = fetch_json(request, &self.endpoint, limits).await?;
        Ok(reply.into_response()?)
    }
}

#[async_trait::async_trait]
impl ChatModel for AnthropicModel {
    fn name(&self) -> &str {
        &self.settings.model
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ModelError> {
        let body = self.request_body(request);
        with_retries(&self.settings.retry, &self.settings.model, || async {
            self.attempt(&body)
                .await
                .map_err(|failure| failure.redacted(self.api_key.as_deref()))
        })
        .await
    }
}

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "str::is_empty")]
    system: &'a str,
    messages: Vec<Turn<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
}

#[derive(Serialize)]
struct WireTool<'a> {
    name: &'a str,
    description: &'a str,
    input_schema: &'a Value,
}

#[derive(Debug, PartialEq, Serialize)]
struct Turn<'a> {
    role: Role,
    content: Vec<Block<'a>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Role {
    User,
    Assistant,
}

#[derive(Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'a> {
    Text {
        text: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: Value,
    },
    ToolResult {
        tool_use_id: &'a str,
        content: &'a str,
    },
}

/// The conversation as alternating turns: one role's consecutive messages share a turn.
fn turns(messages: &[Message]) -> Vec<Turn<'_>> {
    let mut turns: Vec<Turn<'_>> = Vec::new();
    for message in messages {
        let (role, blocks) = match message {
            Message::User { content } => (Role::User, text_block(content).into_iter().collect()),
            Message::Assistant {
                content,
                tool_calls,
            } => {
                let calls = tool_calls.iter().map(|call| Block::ToolUse {
                    id: &call.id,
                    name: &call.name,
                    input: tool_input(&call.arguments),
                });
                (
                    Role::Assistant,
                    content
                        .as_deref()
                        .and_then(text_block)
                        .into_iter()
                        .chain(calls)
                        .collect(),
                )
            }
            Message::Tool {
                call_id,
                name: _,
                content,
            } => (
                Role::User,
                vec![Block::ToolResult {
                    tool_use_id: call_id,
                    content,
                }],
            ),
        };
        match turns.last_mut() {
            Some(last) if last.role == role => last.content.extend(blocks),
            _ if blocks.is_empty() => {}
            _ => turns.push(Turn {
                role,
                content: blocks,
            }),
        }
    }
    turns
}

/// A text block, unless the text is empty (Anthropic refuses empty text blocks).
fn text_block(text: &str) -> Option<Block<'_>> {
    (!text.is_empty()).then_some(Block::Text { text })
}

/// The arguments as the JSON object Anthropic wants; `{}` if they are not one.
fn tool_input(arguments: &str) -> Value {
    serde_json::from_str::<Value>(arguments)
        .ok()
        .filter(Value::is_object)
        .unwrap_or_else(|| Value::Object(serde_json::Map::new()))
}

/// A Messages API reply.
#[derive(Deserialize)]
struct Reply {
    content: Vec<ReplyBlock>,
    stop_reason: Option<String>,
    usage: Option<ReplyUsage>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ReplyBlock {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    /// Thinking and any block type this module does not use.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct ReplyUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}

impl Reply {
    fn into_response(self) -> Result<ChatResponse, ModelError> {
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        for block in self.content {
            match block {
                ReplyBlock::Text { text: piece } => text.push_str(&piece),
                ReplyBlock::ToolUse { id, name, input } => {
                    tool_calls.push(ToolCall {
                        id,
                        name,
                        arguments: input.to_string(),
                    });
                }
                ReplyBlock::Other => {}
            }
        }
        if text.is_empty() && tool_calls.is_empty() {
            return Err(ModelError::EmptyResponse);
        }
        let usage = self.usage.map_or_else(Usage::default, |usage| Usage {
            prompt_tokens: usage.input_tokens,
            completion_tokens: usage.output_tokens,
        });
        Ok(ChatResponse {
            content: Some(text).filter(|text| !text.is_empty()),
            tool_calls,
            usage,
            finish_reason: self.stop_reason,
        })
    }
}

#[cfg(test)]
mod tests;
