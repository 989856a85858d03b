//! The OpenAI-compatible provider: `POST {base_url}/chat/completions`, as served
//! by OpenAI, Ollama, vLLM, llama.cpp, LM Studio and OpenRouter.
//!
//! Replies are read whole, or as server-sent events when `settings.stream` is
//! set; tool call arguments are kept as the raw text the model wrote. The
//! reply's length is capped with `max_completion_tokens` or `max_tokens`
//! ([`MaxTokensField`]); an endpoint that rejects one with a 400 naming it is
//! asked again with the other, kept for the model's life.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::retry::{AttemptError, with_retries};
use crate::transport::{
    CallLimits, Endpoint, build_client, checked_reply, decode_json, fetch_json, fetch_stream,
};
use crate::{
    ChatModel, ChatRequest, ChatResponse, MaxTokensField, Message, ModelError, ModelSettings,
    TextSink, ToolCall, ToolSpec, Usage,
};

/// A model behind an OpenAI-compatible chat-completions endpoint.
pub(crate) struct OpenAiModel {
    settings: ModelSettings,
    api_key: Option<String>,
    endpoint: Endpoint,
    client: reqwest::Client,
    /// The field the reply's length is capped with, as learnt from the endpoint.
    max_tokens_field: Mutex<MaxTokensField>,
}

impl fmt::Debug for OpenAiModel {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("OpenAiModel")
            .field("model", &self.settings.model)
            .field("endpoint", &self.endpoint.shown)
            .field("api_key", &self.api_key.as_ref().map(|_| crate::REDACTED))
            .field("stream", &self.settings.stream)
            .finish_non_exhaustive()
    }
}

impl OpenAiModel {
    /// A model for `settings`, sending `api_key` (if any) as a bearer token.
    pub(crate) fn new(
        settings: ModelSettings,
        api_key: Option<String>,
    ) -> Result<Self, ModelError> {
        let url = format!(
            "{}/chat/completions",
            settings.base_url.trim_end_matches('/')
        );
        let endpoint = Endpoint::parse(&url).map_err(|error| error.redacted(api_key.as_deref()))?;
        let max_tokens_field = settings
            .max_tokens_field
            .unwrap_or_else(|| MaxTokensField::for_base_url(&settings.base_url));
        Ok(OpenAiModel {
            settings,
            api_key,
            endpoint,
            client: build_client()?,
            max_tokens_field: Mutex::new(max_tokens_field),
        })
    }

    fn max_tokens_field(&self) -> MaxTokensField {
        *self
            .max_tokens_field
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn request_body<'a>(
        &'a self,
        request: &'a ChatRequest,
        field: MaxTokensField,
    ) -> WireRequest<'a> {
        let limit = self.settings.max_output_tokens;
        let system = Some(WireMessage::System {
            content: &request.system,
        })
        .filter(|_| !request.system.is_empty());
        WireRequest {
            model: &self.settings.model,
            messages: system
                .into_iter()
                .chain(request.messages.iter().map(WireMessage::from))
                .collect(),
            tools: request
                .tools
                .iter()
                .map(|function| WireTool {
                    kind: "function",
                    function,
                })
                .collect(),
            max_tokens: (field == MaxTokensField::MaxTokens).then_some(limit),
            max_completion_tokens: (field == MaxTokensField::MaxCompletionTokens).then_some(limit),
            reasoning_effort: self.settings.reasoning_effort.as_deref(),
            temperature: self.settings.temperature,
            stream: self.settings.stream.then_some(true),
            stream_options: self.settings.stream.then_some(StreamOptions {
                include_usage: true,
            }),
        }
    }

    fn post(&self, body: &WireRequest<'_>) -> reqwest::RequestBuilder {
        let request = self.client.post(self.endpoint.url.clone()).json(body);
        match &self.api_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    async fn attempt(
        &self,
        body: &WireRequest<'_>,
        on_text: TextSink<'_>,
    ) -> Result<ChatResponse, AttemptError> {
        let endpoint = &self.endpoint;
        let limits = CallLimits {
            timeout: self.settings.request_timeout,
            max_response_bytes: self.settings.max_response_bytes,
        };
        if !self.settings.stream {
            let completion: Completion = fetch_json(self.post(body), endpoint, limits).await?;
            return Ok(completion.into_response()?);
        }
        let mut assembly = StreamAssembly::default();
        let whole = fetch_stream::<Completion>(self.post(body), endpoint, limits, |data| {
            if data == "[DONE]" {
                assembly.done = true;
                return Ok(true);
            }
            assembly.add(decode_json(data.as_bytes(), endpoint)?, on_text);
            Ok(false)
        })
        .await?;
        if let Some(completion) = whole {
            return Ok(completion.into_response()?);
        }
        Ok(assembly.finish(endpoint)?)
    }
}

#[async_trait::async_trait]
impl ChatModel for OpenAiModel {
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
        let field = self.max_tokens_field();
        match self.chat_with(request, field, on_text).await {
            Err(ModelError::Http {
                status: 400, body, ..
            }) if body.contains(field.name()) => {
                let other = field.other();
                let answer = self.chat_with(request, other, on_text).await;
                if answer.is_ok() {
                    *self
                        .max_tokens_field
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = other;
                }
                answer
            }
            answer => answer,
        }
    }
}

impl OpenAiModel {
    async fn chat_with(
        &self,
        request: &ChatRequest,
        field: MaxTokensField,
        on_text: TextSink<'_>,
    ) -> Result<ChatResponse, ModelError> {
        let body = self.request_body(request, field);
        with_retries(&self.settings.retry, &self.settings.model, || async {
            self.attempt(&body, on_text)
                .await
                .map_err(|failure| failure.redacted(self.api_key.as_deref()))
        })
        .await
    }
}

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_effort: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
struct WireTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: &'a ToolSpec,
}

#[derive(Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
enum WireMessage<'a> {
    System {
        content: &'a str,
    },
    User {
        content: &'a str,
    },
    Assistant {
        content: Option<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<WireCall<'a>>,
    },
    Tool {
        tool_call_id: &'a str,
        content: &'a str,
    },
}

impl<'a> From<&'a Message> for WireMessage<'a> {
    fn from(message: &'a Message) -> Self {
        match message {
            Message::User { content } => WireMessage::User { content },
            Message::Assistant {
                content,
                tool_calls,
            } => WireMessage::Assistant {
                content: content.as_deref(),
                tool_calls: tool_calls
                    .iter()
                    .map(|call| WireCall {
                        id: &call.id,
                        kind: "function",
                        function: WireFunction {
                            name: &call.name,
                            arguments: &call.arguments,
                        },
                    })
                    .collect(),
            },
            Message::Tool {
                call_id,
                name: _,
                content,
            } => WireMessage::Tool {
                tool_call_id: call_id,
                content,
            },
        }
    }
}

#[derive(Serialize)]
struct WireCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunction<'a>,
}

#[derive(Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    arguments: &'a str,
}

/// A whole (non-streamed) reply.
#[derive(Deserialize)]
struct Completion {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct Choice {
    message: ReplyMessage,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ReplyMessage {
    content: Option<String>,
    tool_calls: Option<Vec<ReplyCall>>,
}

#[derive(Deserialize)]
struct ReplyCall {
    id: Option<String>,
    function: ReplyFunction,
}

#[derive(Deserialize)]
struct ReplyFunction {
    name: String,
    arguments: Option<Value>,
}

#[derive(Clone, Copy, Deserialize)]
struct WireUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    prompt_tokens_details: Option<PromptDetails>,
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Clone, Copy, Deserialize)]
struct PromptDetails {
    cached_tokens: Option<u64>,
}

#[derive(Clone, Copy, Deserialize)]
struct CompletionDetails {
    reasoning_tokens: Option<u64>,
}

impl From<WireUsage> for Usage {
    fn from(usage: WireUsage) -> Self {
        Usage {
            prompt_tokens: usage.prompt_tokens.unwrap_or(0),
            completion_tokens: usage.completion_tokens.unwrap_or(0),
            cached_prompt_tokens: usage
                .prompt_tokens_details
                .and_then(|details| details.cached_tokens)
                .unwrap_or(0),
            cache_write_tokens: 0,
            reasoning_tokens: usage
                .completion_tokens_details
                .and_then(|details| details.reasoning_tokens)
                .unwrap_or(0),
        }
    }
}

impl Completion {
    fn into_response(self) -> Result<ChatResponse, ModelError> {
        let usage = self.usage.map(Usage::from).unwrap_or_default();
        let Some(choice) = self.choices.into_iter().next() else {
            return Err(ModelError::EmptyResponse);
        };
        let tool_calls = choice
            .message
            .tool_calls
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(position, call)| ToolCall {
                id: call
                    .id
                    .filter(|id| !id.is_empty())
                    .unwrap_or_else(|| format!("call_{position}")),
                name: call.function.name,
                arguments: match call.function.arguments {
                    None | Some(Value::Null) => "{}".to_owned(),
                    Some(Value::String(text)) => text,
                    Some(object) => object.to_string(),
                },
            })
            .collect();
        checked_reply(ChatResponse {
            content: choice.message.content,
            tool_calls,
            usage,
            finish_reason: choice.finish_reason,
        })
    }
}

/// One server-sent event of a streamed reply.
#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    delta: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
    tool_calls: Option<Vec<DeltaCall>>,
}

#[derive(Deserialize)]
struct DeltaCall {
    index: Option<usize>,
    id: Option<String>,
    function: Option<DeltaFunction>,
}

#[derive(Deserialize)]
struct DeltaFunction {
    name: Option<String>,
    arguments: Option<Value>,
}

/// A streamed reply, put together chunk by chunk.
#[derive(Default)]
struct StreamAssembly {
    content: String,
    /// Tool calls by their `index`: id and name come first, arguments in pieces.
    tool_calls: BTreeMap<usize, ToolCall>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    /// Whether `data: [DONE]` arrived.
    done: bool,
}

impl StreamAssembly {
    fn add(&mut self, chunk: Chunk, on_text: TextSink<'_>) {
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage.into());
        }
        let Some(choice) = chunk.choices.into_iter().next() else {
            return;
        };
        if choice.finish_reason.is_some() {
            self.finish_reason = choice.finish_reason;
        }
        let Some(delta) = choice.delta else {
            return;
        };
        if let Some(text) = delta.content {
            if !text.is_empty() {
                on_text(&text);
            }
            self.content.push_str(&text);
        }
        for (position, piece) in delta.tool_calls.unwrap_or_default().into_iter().enumerate() {
            let index = piece.index.unwrap_or(position);
            let call = self.tool_calls.entry(index).or_insert_with(|| ToolCall {
                id: String::new(),
                name: String::new(),
                arguments: String::new(),
            });
            if let Some(id) = piece.id.filter(|id| !id.is_empty()) {
                call.id = id;
            }
            let Some(function) = piece.function else {
                continue;
            };
            if let Some(name) = function.name.filter(|name| !name.is_empty()) {
                call.name = name;
            }
            match function.arguments {
                None | Some(Value::Null) => {}
                Some(Value::String(text)) => call.arguments.push_str(&text),
                Some(object) => call.arguments.push_str(&object.to_string()),
            }
        }
    }

    fn finish(self, endpoint: &Endpoint) -> Result<ChatResponse, ModelError> {
        if !self.done && self.finish_reason.is_none() {
            return Err(ModelError::Interrupted {
                url: endpoint.shown.clone(),
                message: "the stream ended early, without [DONE] or a finish reason".to_owned(),
            });
        }
        let tool_calls = self
            .tool_calls
            .into_iter()
            .map(|(index, mut call)| {
                if call.id.is_empty() {
                    call.id = format!("call_{index}");
                }
                if call.arguments.is_empty() {
                    call.arguments = "{}".to_owned();
                }
                call
            })
            .collect();
        checked_reply(ChatResponse {
            content: Some(self.content),
            tool_calls,
            usage: self.usage.unwrap_or_default(),
            finish_reason: self.finish_reason,
        })
    }
}

#[cfg(test)]
mod tests;
