//! Chat models that call tools.
//!
//! One trait, [`ChatModel`], and two providers behind it: any OpenAI-compatible
//! chat-completions endpoint (OpenAI, Ollama, vLLM, llama.cpp server, LM Studio,
//! OpenRouter) and Anthropic Messages. Both retry on 429, 5xx, connection errors
//! and timeouts with exponential backoff and jitter, honouring `Retry-After`.
//!
//! Architecture invariant: this crate knows nothing of agents, tools or editors.
//! It turns a [`ChatRequest`] into a [`ChatResponse`] over HTTP, nothing more.
//! The API key is read from the environment variable the settings name, kept in
//! memory only, and never appears in an error, a log line or a `Debug` output.
#![deny(missing_docs)]

mod anthropic;
mod error;
mod openai;
mod redact;
mod retry;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use error::ModelError;
pub use redact::{REDACTED, Redactor};
pub use retry::RetryPolicy;

/// A tool the model may call, described by a JSON schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// The function name the model calls.
    pub name: String,
    /// What the tool does, for the model.
    pub description: String,
    /// JSON schema of the arguments object.
    pub parameters: serde_json::Value,
}

/// One tool call the model asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Provider-assigned id, echoed back in the [`Message::Tool`] result.
    pub id: String,
    /// The tool's name, as the model wrote it (it may name no tool at all).
    pub name: String,
    /// The arguments as the raw JSON text the model produced (it may be invalid).
    pub arguments: String,
}

/// One message of a conversation (the system prompt is separate, in [`ChatRequest`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Message {
    /// Text from the user (or from the runtime speaking for the user).
    User {
        /// The text.
        content: String,
    },
    /// A reply of the model: text, tool calls, or both.
    Assistant {
        /// Text, if any.
        content: Option<String>,
        /// Tool calls, in the order the model made them.
        tool_calls: Vec<ToolCall>,
    },
    /// The result of one tool call.
    Tool {
        /// The [`ToolCall::id`] this answers.
        call_id: String,
        /// The tool's name.
        name: String,
        /// The result text.
        content: String,
    },
}

/// Everything one model call sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The system prompt.
    pub system: String,
    /// The conversation so far.
    pub messages: Vec<Message>,
    /// The tools offered.
    pub tools: Vec<ToolSpec>,
}

impl ChatRequest {
    /// The text of the first user message, if there is one.
    pub fn first_user_text(&self) -> Option<&str> {
        self.messages.iter().find_map(|message| match message {
            Message::User { content } => Some(content.as_str()),
            _ => None,
        })
    }
}

/// Tokens one call used, as the provider reported them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens sent, all of them (cached ones included).
    pub prompt_tokens: u64,
    /// Tokens generated (reasoning included).
    pub completion_tokens: u64,
    /// Of `prompt_tokens`, those the provider read from its prompt cache
    /// (OpenAI's `cached_tokens`, Anthropic's `cache_read_input_tokens`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cached_prompt_tokens: u64,
    /// Of `prompt_tokens`, those written to the prompt cache (Anthropic's
    /// `cache_creation_input_tokens`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_write_tokens: u64,
    /// Of `completion_tokens`, those spent reasoning (not shown).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reasoning_tokens: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl Usage {
    /// Prompt plus completion tokens.
    pub fn total(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }

    /// Prompt tokens not read from the cache.
    pub fn uncached_prompt_tokens(&self) -> u64 {
        self.prompt_tokens.saturating_sub(self.cached_prompt_tokens)
    }
}

/// Which field an OpenAI-compatible request caps the reply's length with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxTokensField {
    /// `max_completion_tokens`: what OpenAI's current models, reasoning models
    /// included, take.
    MaxCompletionTokens,
    /// `max_tokens`: what older OpenAI-compatible servers take.
    MaxTokens,
}

impl MaxTokensField {
    /// The JSON field's name.
    pub fn name(self) -> &'static str {
        match self {
            MaxTokensField::MaxCompletionTokens => "max_completion_tokens",
            MaxTokensField::MaxTokens => "max_tokens",
        }
    }

    /// The default for an endpoint: `max_completion_tokens` for OpenAI's own
    /// API, `max_tokens` for every other server.
    pub fn for_base_url(base_url: &str) -> MaxTokensField {
        let host = base_url
            .split("://")
            .nth(1)
            .unwrap_or(base_url)
            .split(['/', ':'])
            .next()
            .unwrap_or_default();
        if host == "api.openai.com" {
            MaxTokensField::MaxCompletionTokens
        } else {
            MaxTokensField::MaxTokens
        }
    }

    pub(crate) fn other(self) -> MaxTokensField {
        match self {
            MaxTokensField::MaxCompletionTokens => MaxTokensField::MaxTokens,
            MaxTokensField::MaxTokens => MaxTokensField::MaxCompletionTokens,
        }
    }
}

/// The model's reply to one [`ChatRequest`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// Text, if any.
    pub content: Option<String>,
    /// Tool calls, in order.
    pub tool_calls: Vec<ToolCall>,
    /// Tokens used.
    pub usage: Usage,
    /// The provider's finish reason (`stop`, `tool_calls`, `length`, `end_turn`, ...).
    pub finish_reason: Option<String>,
}

/// Where the text of a reply goes as it streams in, piece by piece.
pub type TextSink<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// A chat model that can call tools.
#[async_trait::async_trait]
pub trait ChatModel: Send + Sync {
    /// The model's name, for accounting and trajectories (never a key).
    fn name(&self) -> &str;
    /// Sends one request, with retries, and returns the reply.
    ///
    /// Cancelling is dropping the future: the HTTP request is aborted.
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ModelError>;
    /// [`ChatModel::chat`], giving `on_text` each piece of the reply's text as
    /// it arrives when the reply is streamed (a retried call may give some
    /// text again); a model that does not stream gives none.
    async fn chat_with_text(
        &self,
        request: &ChatRequest,
        on_text: TextSink<'_>,
    ) -> Result<ChatResponse, ModelError> {
        let _ = on_text;
        self.chat(request).await
    }
}

/// Which wire protocol a model endpoint speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// OpenAI-compatible `POST {base_url}/chat/completions`.
    #[default]
    Openai,
    /// Anthropic `POST {base_url}/v1/messages`.
    Anthropic,
}

impl Provider {
    /// The provider's public endpoint, used when no base URL is configured.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::Openai => "https://api.openai.com/v1",
            Provider::Anthropic => "https://api.anthropic.com",
        }
    }
}

/// The default of [`ModelSettings::max_response_bytes`]: 32 MiB, far above any
/// real reply (a streamed reply of 4096 tokens is about 1 MiB).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// How to reach one model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSettings {
    /// Wire protocol.
    pub provider: Provider,
    /// Endpoint base URL, e.g. `http://127.0.0.1:11434/v1` or `https://api.anthropic.com`.
    pub base_url: String,
    /// Model name sent to the endpoint.
    pub model: String,
    /// Name of the environment variable holding the API key; `None` sends no key
    /// (local servers).
    pub api_key_env: Option<String>,
    /// Time allowed for one HTTP request (for a stream: the longest silence between chunks).
    pub request_timeout: Duration,
    /// Most bytes of one reply (a whole body, or all the events of a stream);
    /// past it the call fails with [`ModelError::TooLarge`].
    pub max_response_bytes: usize,
    /// Retries and backoff.
    pub retry: RetryPolicy,
    /// Use server-sent events.
    pub stream: bool,
    /// Most tokens the model may generate in one reply (Anthropic requires one).
    pub max_output_tokens: u32,
    /// Sampling temperature, if set.
    pub temperature: Option<f32>,
    /// Which field caps the reply's length (OpenAI-compatible only); `None`
    /// chooses by endpoint ([`MaxTokensField::for_base_url`]). An endpoint that
    /// rejects the field with a 400 naming it is asked once more with the other,
    /// which the model then keeps.
    pub max_tokens_field: Option<MaxTokensField>,
    /// `reasoning_effort` for reasoning models (`minimal`, `low`, `medium`,
    /// `high`; OpenAI-compatible only), if set.
    pub reasoning_effort: Option<String>,
}

impl ModelSettings {
    /// Settings with defaults for everything but the endpoint and model.
    pub fn new(provider: Provider, base_url: impl Into<String>, model: impl Into<String>) -> Self {
        ModelSettings {
            provider,
            base_url: base_url.into(),
            model: model.into(),
            api_key_env: None,
            request_timeout: Duration::from_secs(120),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            retry: RetryPolicy::default(),
            stream: false,
            max_output_tokens: 4096,
            temperature: None,
            max_tokens_field: None,
            reasoning_effort: None,
        }
    }
}

/// Builds the model the settings describe, reading its API key from the environment.
///
/// Fails with [`ModelError::MissingApiKey`] when `api_key_env` names an unset
/// variable, and with [`ModelError::Config`] for an unusable base URL.
pub fn connect(settings: &ModelSettings) -> Result<Arc<dyn ChatModel>, ModelError> {
    let api_key = match &settings.api_key_env {
        None => None,
        Some(var) => match std::env::var(var) {
            Ok(key) if !key.trim().is_empty() => Some(key),
            _ => return Err(ModelError::MissingApiKey { var: var.clone() }),
        },
    };
    match settings.provider {
        Provider::Openai => Ok(Arc::new(openai::OpenAiModel::new(
            settings.clone(),
            api_key,
        )?)),
        Provider::Anthropic => Ok(Arc::new(anthropic::AnthropicModel::new(
            settings.clone(),
            api_key,
        )?)),
    }
}
