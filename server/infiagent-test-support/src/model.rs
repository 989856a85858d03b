//! [`ScriptedModel`]: a chat model that answers from a function of the request
//! (or from a list) and records every exchange.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use infiagent_model::{ChatModel, ChatRequest, ChatResponse, Message, ModelError, ToolCall, Usage};
use infiagent_protocol::prompt_agent;
use serde_json::{Value, json};

/// What the script sees of one request.
pub struct Turn<'a> {
    /// The whole request.
    pub request: &'a ChatRequest,
    /// The agent, from the system prompt's first line (`# Agent: NAME ...`).
    pub agent: &'a str,
    /// The first user message (the task message).
    pub task: &'a str,
    /// 1 for this model's first call for this agent, counted across runs.
    pub call: usize,
    /// How many replies of the model the conversation holds (0 at its start).
    pub step: usize,
    /// The content of the last message, if it is a tool result.
    pub last_result: Option<&'a str>,
    /// The content of the latest tool result of the conversation.
    pub latest_result: Option<&'a str>,
}

type Script = dyn Fn(&Turn<'_>) -> Option<ChatResponse> + Send + Sync;
type Latency = dyn Fn(&Turn<'_>) -> Duration + Send + Sync;

/// One request and when it was answered.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// The request.
    pub request: ChatRequest,
    /// When it arrived.
    pub started: Instant,
    /// When the reply was ready.
    pub ended: Instant,
}

/// A model that answers from a script; a script that has no answer (`None`) makes
/// the call wait until it is dropped (the run cancelled).
pub struct ScriptedModel {
    name: String,
    script: Box<Script>,
    latency: Option<Box<Latency>>,
    calls: Mutex<BTreeMap<String, usize>>,
    exchanges: Mutex<Vec<Exchange>>,
}

impl ScriptedModel {
    /// A model named `scripted-model` whose replies `script` makes.
    pub fn new(script: impl Fn(&Turn<'_>) -> ChatResponse + Send + Sync + 'static) -> Self {
        ScriptedModel::until(move |turn| Some(script(turn)))
    }

    /// A model whose replies `script` makes, waiting forever where it gives none.
    pub fn until(
        script: impl Fn(&Turn<'_>) -> Option<ChatResponse> + Send + Sync + 'static,
    ) -> Self {
        ScriptedModel {
            name: "scripted-model".into(),
            script: Box::new(script),
            latency: None,
            calls: Mutex::default(),
            exchanges: Mutex::default(),
        }
    }

    /// A model replying with these texts in order (the last repeats).
    pub fn replying(replies: &[&str]) -> Self {
        let replies: Vec<String> = replies.iter().map(|reply| reply.to_string()).collect();
        let count = AtomicU64::new(0);
        ScriptedModel::new(move |_| {
            let index = usize::try_from(count.fetch_add(1, Ordering::SeqCst)).unwrap();
            ChatResponse {
                content: Some(replies[index.min(replies.len() - 1)].clone()),
                ..ChatResponse::default()
            }
        })
    }

    /// The same model under another name.
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.into();
        self
    }

    /// The same model, waiting `latency(turn)` before each reply.
    pub fn with_latency(
        mut self,
        latency: impl Fn(&Turn<'_>) -> Duration + Send + Sync + 'static,
    ) -> Self {
        self.latency = Some(Box::new(latency));
        self
    }

    /// The requests answered so far, in the order they arrived.
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.exchanges()
            .into_iter()
            .map(|exchange| exchange.request)
            .collect()
    }

    /// The exchanges answered so far, in the order they were answered.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().unwrap().clone()
    }

    fn count_call(&self, agent: &str) -> usize {
        let mut calls = self.calls.lock().unwrap();
        let count = calls.entry(agent.to_string()).or_default();
        *count += 1;
        *count
    }
}

#[async_trait::async_trait]
impl ChatModel for ScriptedModel {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ModelError> {
        let started = Instant::now();
        let agent = agent_of(request);
        let turn = Turn {
            request,
            agent,
            task: match request.messages.first() {
                Some(Message::User { content }) => content,
                _ => "",
            },
            call: self.count_call(agent),
            step: request
                .messages
                .iter()
                .filter(|message| matches!(message, Message::Assistant { .. }))
                .count(),
            last_result: match request.messages.last() {
                Some(Message::Tool { content, .. }) => Some(content),
                _ => None,
            },
            latest_result: request
                .messages
                .iter()
                .rev()
                .find_map(|message| match message {
                    Message::Tool { content, .. } => Some(content.as_str()),
                    _ => None,
                }),
        };
        if let Some(latency) = &self.latency {
            tokio::time::sleep(latency(&turn)).await;
        }
        let Some(response) = (self.script)(&turn) else {
            return futures::future::pending().await;
        };
        self.exchanges.lock().unwrap().push(Exchange {
            request: request.clone(),
            started,
            ended: Instant::now(),
        });
        Ok(response)
    }
}

/// The agent a request is for, from its system prompt's first line.
pub fn agent_of(request: &ChatRequest) -> &str {
    prompt_agent(&request.system).unwrap_or_default()
}

/// A reply calling one tool, with call id `id`.
pub fn call(id: &str, tool: &str, arguments: Value) -> ChatResponse {
    ChatResponse {
        content: None,
        tool_calls: vec![ToolCall {
            id: id.into(),
            name: tool.into(),
            arguments: arguments.to_string(),
        }],
        usage: Usage {
            prompt_tokens: 100,
            completion_tokens: 10,
            ..Usage::default()
        },
        finish_reason: Some("tool_calls".into()),
    }
}

/// A reply ending the agent with `status` (its `error_information` is `output`
/// when the status is `error`).
pub fn finish(id: &str, status: &str, output: &str) -> ChatResponse {
    let error_information = if status == "error" { output } else { "" };
    call(
        id,
        "final_output",
        json!({"status": status, "output": output, "error_information": error_information}),
    )
}
