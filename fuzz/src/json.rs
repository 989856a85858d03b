//! JSON values built from fuzz input, biased toward the keys and strings the
//! server and the tools look for, so that fuzzed values get past the first
//! `deserialize` and into the code behind it.

use arbitrary::Arbitrary;
use serde_json::{Map, Number, Value};

/// Deepest nesting produced; deeper values become `null`.
const MAX_DEPTH: usize = 12;

/// Object keys the server's commands and settings and the tools' arguments use.
const KEYS: &[&str] = &[
    "path",
    "start_line",
    "end_line",
    "content",
    "depth",
    "source",
    "destination",
    "overwrite",
    "args",
    "stdin",
    "timeout_seconds",
    "command",
    "packages",
    "task",
    "agent",
    "files",
    "description",
    "uri",
    "range",
    "start",
    "end",
    "line",
    "character",
    "runId",
    "instruction",
    "diagnostic",
    "message",
    "severity",
    "code",
    "data",
    "infiagent",
    "model",
    "models",
    "name",
    "base_url",
    "provider",
    "api_key_env",
    "max_retries",
    "run",
    "autonomy",
    "max_steps",
    "jobs",
    "context",
    "budget_tokens",
    "value",
    "kind",
    "title",
    "applied",
];

/// Strings worth trying as values.
const WORDS: &[&str] = &[
    "",
    ".",
    "..",
    "/",
    "notes.txt",
    "ok.sh",
    "src/lib.rs",
    "requirement.md",
    "design/summary.md",
    "design/train.md",
    "train.py",
    ".infiagent/agents/extra.md",
    ".git/HEAD",
    "out/secret",
    "../outside",
    "/etc/passwd",
    "file_read",
    "file_write",
    "judge_agent",
    "code_builder_agent",
    "project_planner_agent",
    "auto",
    "review",
    "ask",
    "openai",
    "anthropic",
    "infiagent",
    "run-1",
    "1",
    "\u{1F600}",
    "a\u{0}b",
];

/// A fuzzed JSON value.
#[derive(Arbitrary, Debug)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A small integer, the common case for lines, columns and counts.
    Small(i8),
    /// Any integer.
    Integer(i64),
    /// Any float (NaN and infinities become `null`).
    Float(f64),
    /// A string.
    Text(Text),
    /// An array.
    Array(Vec<Json>),
    /// An object.
    Object(Vec<(Key, Json)>),
}

/// A fuzzed object key.
#[derive(Arbitrary, Debug)]
pub enum Key {
    /// One of [`KEYS`].
    Known(u8),
    /// Anything.
    Other(String),
}

/// A fuzzed string.
#[derive(Arbitrary, Debug)]
pub enum Text {
    /// One of [`WORDS`].
    Known(u8),
    /// A `file:` URI of a path inside the session's workspace.
    InWorkspace(String),
    /// Anything.
    Other(String),
}

/// Element `index` of `list`, wrapping around.
fn pick<'a>(list: &[&'a str], index: u8) -> &'a str {
    list[usize::from(index) % list.len()]
}

impl Text {
    /// The string, with `root_uri` (`file:///...`, no trailing slash) for workspace URIs.
    pub fn to_text(&self, root_uri: &str) -> String {
        match self {
            Text::Known(index) => pick(WORDS, *index).to_string(),
            Text::InWorkspace(relative) => format!("{root_uri}/{relative}"),
            Text::Other(text) => text.clone(),
        }
    }
}

impl Json {
    /// The value, with `root_uri` for workspace URIs.
    pub fn to_value(&self, root_uri: &str) -> Value {
        self.to_value_at(root_uri, 0)
    }

    fn to_value_at(&self, root_uri: &str, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::Null;
        }
        match self {
            Json::Null => Value::Null,
            Json::Bool(value) => Value::Bool(*value),
            Json::Small(value) => Value::from(*value),
            Json::Integer(value) => Value::from(*value),
            Json::Float(value) => Number::from_f64(*value).map_or(Value::Null, Value::Number),
            Json::Text(text) => Value::String(text.to_text(root_uri)),
            Json::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| item.to_value_at(root_uri, depth + 1))
                    .collect(),
            ),
            Json::Object(fields) => {
                let mut object = Map::new();
                for (key, value) in fields {
                    let key = match key {
                        Key::Known(index) => pick(KEYS, *index).to_string(),
                        Key::Other(key) => key.clone(),
                    };
                    object.insert(key, value.to_value_at(root_uri, depth + 1));
                }
                Value::Object(object)
            }
        }
    }
}
