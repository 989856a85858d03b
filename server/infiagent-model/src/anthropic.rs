//! The Anthropic provider: `POST {base_url}/v1/messages`.
//!
//! Replies are read whole, or as server-sent events when `settings.stream` is
//! set (`content_block_delta` text and tool-input JSON pieces). Anthropic wants
//! user and assistant turns to alternate, so consecutive messages of one role
//! are merged into one turn, and tool results travel as `tool_result` blocks of
//! a user turn. Three prompt-cache breakpoints (`cache_control`) mark the tools,
//! the system prompt and the conversation's last block, so each call reads the
//! previous call's prefix from the cache.

use std::collections::BTreeMap;
use std::fmt;

use reqwest::header::HeaderValue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::retry::{AttemptError, with_retries};
use crate::transport::{
    CallLimits, Endpoint, build_client, checked_reply, decode_json, fetch_json, fetch_stream,
};
use crate::{
    ChatModel, ChatRequest, ChatResponse, Message, ModelError, ModelSettings, TextSink, ToolCall,
    Usage,
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
        let mut messages = turns(&request.messages);
        if let Some(last) = messages.last_mut().and_then(|turn| turn.content.last_mut()) {
            last.cache_control = Some(CacheControl::EPHEMERAL);
        }
        let last_tool = request.tools.len().saturating_sub(1);
        WireRequest {
            model: &self.settings.model,
            max_tokens: self.settings.max_output_tokens,
            system: if request.system.is_empty() {
                Vec::new()
            } else {
                vec![Marked {
                    block: Block::Text {
                        text: &request.system,
                    },
                    cache_control: Some(CacheControl::EPHEMERAL),
                }]
            },
            messages,
            tools: request
                .tools
                .iter()
                .enumerate()
                .map(|(position, tool)| WireTool {
                    name: &tool.name,
                    description: &tool.description,
                    input_schema: &tool.parameters,
                    cache_control: (position == last_tool).then_some(CacheControl::EPHEMERAL),
                })
                .collect(),
            temperature: self.settings.temperature,
            stream: self.settings.stream.then_some(true),
        }
    }

    async fn attempt(
        &self,
        body: &WireRequest<'_>,
        on_text: TextSink<'_>,
    ) -> Result<ChatResponse, AttemptError> {
        let mut request = self
            .client
            .post(self.endpoint.url.clone())
            .header("anthropic-version", API_VERSION)
            .json(body);
        if let Some(key) = &self.key_header {
            request = request.header("x-api-key", key.clone());
        }
        let endpoint = &self.endpoint;
        let limits = CallLimits {
            timeout: self.settings.request_timeout,
            max_response_bytes: self.settings.max_response_bytes,
        };
        if !self.settings.stream {
            let reply: Reply = fetch_json(request, endpoint, limits).await?;
            return Ok(reply.into_response()?);
        }
        let mut assembly = StreamAssembly::default();
        let whole = fetch_stream::<Reply>(request, endpoint, limits, |data| {
            let event: StreamEvent = decode_json(data.as_bytes(), endpoint)?;
            if let StreamEvent::Error { error } = &event {
                return Err(stream_error(error, endpoint).into());
            }
            Ok(assembly.add(event, on_text))
        })
        .await?;
        if let Some(reply) = whole {
            return Ok(reply.into_response()?);
        }
        Ok(assembly.finish(endpoint)?)
    }
}

#[async_trait::async_trait]
impl ChatModel for AnthropicModel {
    fn name(&self) -> &str {
        &self.settings.model
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ModelError> {
        self.chat_with_text(request, &|_| {}).await
    }

    async fn chat_with_text(
        &self,
        request: &ChatRequest,
        on_text: TextSink<'_>,
    ) -> Result<ChatResponse, ModelError> {
        let body = self.request_body(request);
        with_retries(&self.settings.retry, &self.settings.model, || async {
            self.attempt(&body, on_text)
                .await
                .map_err(|failure| failure.redacted(self.api_key.as_deref()))
        })
        .await
    }
}

/// A prompt-cache breakpoint.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
struct CacheControl {
    #[serde(rename = "type")]
    kind: &'static str,
}

impl CacheControl {
    const EPHEMERAL: CacheControl = CacheControl { kind: "ephemeral" };
}

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    system: Vec<Marked<'a>>,
    messages: Vec<Turn<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
}

#[derive(Serialize)]
struct WireTool<'a> {
    name: &'a str,
    description: &'a str,
    input_schema: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_control: Option<CacheControl>,
}

#[derive(Debug, PartialEq, Serialize)]
struct Turn<'a> {
    role: Role,
    content: Vec<Marked<'a>>,
}

/// A content block, with a cache breakpoint after it or not.
#[derive(Debug, PartialEq, Serialize)]
struct Marked<'a> {
    #[serde(flatten)]
    block: Block<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_control: Option<CacheControl>,
}

impl<'a> From<Block<'a>> for Marked<'a> {
    fn from(block: Block<'a>) -> Self {
        Marked {
            block,
            cache_control: None,
        }
    }
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
        let blocks: Vec<Marked<'_>> = blocks.into_iter().map(Marked::from).collect();
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

#[derive(Clone, Copy, Default, Deserialize)]
struct ReplyUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

impl ReplyUsage {
    /// Anthropic counts cache reads and writes apart from `input_tokens`; the
    /// [`Usage`] prompt count holds them all.
    fn usage(self) -> Usage {
        let read = self.cache_read_input_tokens.unwrap_or(0);
        let written = self.cache_creation_input_tokens.unwrap_or(0);
        Usage {
            prompt_tokens: self.input_tokens.unwrap_or(0) + read + written,
            completion_tokens: self.output_tokens.unwrap_or(0),
            cached_prompt_tokens: read,
            cache_write_tokens: written,
            reasoning_tokens: 0,
        }
    }

    /// This usage with the counts `later` reports in their place.
    fn updated(self, later: ReplyUsage) -> ReplyUsage {
        ReplyUsage {
            input_tokens: later.input_tokens.or(self.input_tokens),
            output_tokens: later.output_tokens.or(self.output_tokens),
            cache_creation_input_tokens: later
                .cache_creation_input_tokens
                .or(self.cache_creation_input_tokens),
            cache_read_input_tokens: later
                .cache_read_input_tokens
                .or(self.cache_read_input_tokens),
        }
    }
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
        checked_reply(ChatResponse {
            content: Some(text),
            tool_calls,
            usage: self.usage.unwrap_or_default().usage(),
            finish_reason: self.stop_reason,
        })
    }
}

/// One server-sent event of a streamed reply.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StreamEvent {
    MessageStart {
        message: StartedMessage,
    },
    ContentBlockStart {
        index: usize,
        content_block: StartedBlock,
    },
    ContentBlockDelta {
        index: usize,
        delta: BlockDelta,
    },
    MessageDelta {
        delta: MessageDelta,
        usage: Option<ReplyUsage>,
    },
    MessageStop,
    Error {
        error: Value,
    },
    /// `ping`, `content_block_stop` and any event type this module does not use.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct StartedMessage {
    usage: Option<ReplyUsage>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StartedBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    /// Thinking, signatures and any delta this module does not use.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct MessageDelta {
    stop_reason: Option<String>,
}

/// What a block being streamed is.
enum Assembled {
    Text(String),
    ToolUse(ToolCall),
}

/// A streamed reply, put together event by event.
#[derive(Default)]
struct StreamAssembly {
    blocks: BTreeMap<usize, Assembled>,
    usage: ReplyUsage,
    stop_reason: Option<String>,
    stopped: bool,
}

impl StreamAssembly {
    /// Takes one event; true once the message is complete.
    fn add(&mut self, event: StreamEvent, on_text: TextSink<'_>) -> bool {
        match event {
            StreamEvent::MessageStart { message } => {
                if let Some(usage) = message.usage {
                    self.usage = self.usage.updated(usage);
                }
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => {
                let block = match content_block {
                    StartedBlock::Text { text } => {
                        if !text.is_empty() {
                            on_text(&text);
                        }
                        Assembled::Text(text)
                    }
                    StartedBlock::ToolUse { id, name } => Assembled::ToolUse(ToolCall {
                        id,
                        name,
                        arguments: String::new(),
                    }),
                    StartedBlock::Other => return false,
                };
                self.blocks.insert(index, block);
            }
            StreamEvent::ContentBlockDelta { index, delta } => {
                match (self.blocks.get_mut(&index), delta) {
                    (Some(Assembled::Text(text)), BlockDelta::TextDelta { text: piece }) => {
                        on_text(&piece);
                        text.push_str(&piece);
                    }
                    (
                        Some(Assembled::ToolUse(call)),
                        BlockDelta::InputJsonDelta { partial_json },
                    ) => {
                        call.arguments.push_str(&partial_json);
                    }
                    _ => {}
                }
            }
            StreamEvent::MessageDelta { delta, usage } => {
                if delta.stop_reason.is_some() {
                    self.stop_reason = delta.stop_reason;
                }
                if let Some(usage) = usage {
                    self.usage = self.usage.updated(usage);
                }
            }
            StreamEvent::MessageStop => {
                self.stopped = true;
                return true;
            }
            StreamEvent::Error { .. } | StreamEvent::Other => {}
        }
        false
    }

    fn finish(self, endpoint: &Endpoint) -> Result<ChatResponse, ModelError> {
        if !self.stopped && self.stop_reason.is_none() {
            return Err(ModelError::Interrupted {
                url: endpoint.shown.clone(),
                message: "the stream ended early, without message_stop or a stop reason".to_owned(),
            });
        }
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        for block in self.blocks.into_values() {
            match block {
                Assembled::Text(piece) => text.push_str(&piece),
                Assembled::ToolUse(mut call) => {
                    // The pieces of the input make its JSON text; none is `{}`.
                    if call.arguments.trim().is_empty() {
                        call.arguments = "{}".to_owned();
                    }
                    tool_calls.push(call);
                }
            }
        }
        checked_reply(ChatResponse {
            content: Some(text),
            tool_calls,
            usage: self.usage.usage(),
            finish_reason: self.stop_reason,
        })
    }
}

/// An `error` event in a stream, as the HTTP error its type stands for, so
/// that an overloaded or rate-limited server is retried as it would be before
/// the stream began.
fn stream_error(error: &Value, endpoint: &Endpoint) -> ModelError {
    let status = match error.get("type").and_then(Value::as_str) {
        Some("overloaded_error") => 529,
        Some("rate_limit_error") => 429,
        Some("api_error") => 500,
        Some("authentication_error") => 401,
        Some("permission_error") => 403,
        Some("not_found_error") => 404,
        Some("request_too_large") => 413,
        _ => 400,
    };
    ModelError::http(status, &endpoint.shown, &error.to_string())
}

#[cfg(test)]
mod tests;
