//! Configuration: `.infiagent/config.toml`, then `INFIAGENT_*` variables, then flags.
//!
//! The same structure is accepted as JSON (the editor's `initializationOptions`
//! and `workspace/configuration`), with the same snake_case keys.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use infiagent_model::{MaxTokensField, ModelSettings, Provider, RetryPolicy, Usage};
use serde::{Deserialize, Serialize};

/// The workspace's state directory, relative to its root.
pub const STATE_DIR: &str = ".infiagent";

/// Problems with the configuration. Each says what to set.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML or has unknown keys.
    #[error("{path}:{line}:{col}: error: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What is wrong.
        message: String,
    },
    /// No model is configured at all.
    #[error("{}", NO_MODEL_HELP)]
    NoModel,
    /// An agent or candidate names a model the configuration does not define.
    #[error("model '{name}' is not defined: add a [models.{name}] table to .infiagent/config.toml")]
    UnknownModel {
        /// The missing name.
        name: String,
    },
    /// A value is out of range or unusable.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

const NO_MODEL_HELP: &str = "no model is configured. Point infiagent at one of:
  OpenAI:       export OPENAI_API_KEY=...   then  infiagent run --model gpt-4o-mini \"TASK\"
  Anthropic:    export ANTHROPIC_API_KEY=...  then  infiagent run --provider anthropic --model claude-sonnet-4-5 \"TASK\"
  Local server (Ollama, llama.cpp, vLLM, LM Studio):
                infiagent run --base-url http://127.0.0.1:11434/v1 --model qwen2.5-coder:7b \"TASK\"
or write the same in .infiagent/config.toml:
  [model]
  provider = \"openai\"            # or \"anthropic\"
  base_url = \"http://127.0.0.1:11434/v1\"
  name = \"qwen2.5-coder:7b\"
  api_key_env = \"OPENAI_API_KEY\" # the NAME of the variable holding the key, if one is needed
(`infiagent demo` runs offline with a scripted model and needs none of this.)";

/// How one model is reached. All keys optional; see [`Config::model_settings`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// `openai` (any OpenAI-compatible endpoint) or `anthropic`.
    pub provider: Option<Provider>,
    /// Endpoint base URL.
    pub base_url: Option<String>,
    /// Model name sent to the endpoint.
    pub name: Option<String>,
    /// The NAME of the environment variable that holds the API key.
    pub api_key_env: Option<String>,
    /// Seconds allowed for one request (default 120).
    pub timeout_seconds: Option<u64>,
    /// Retries on 429, 5xx and timeouts (default 4).
    pub max_retries: Option<u32>,
    /// Most megabytes (MiB) of one reply (default 32): a server that sends more
    /// is cut off with an error.
    pub max_response_mb: Option<u64>,
    /// Stream replies with server-sent events (default: on; a server that
    /// answers a streamed request whole is read whole).
    pub stream: Option<bool>,
    /// Most tokens one reply may have (default 4096).
    pub max_output_tokens: Option<u32>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Which field caps a reply's length (OpenAI-compatible only):
    /// `max_completion_tokens` (OpenAI's own API, the default there) or
    /// `max_tokens` (the default for other servers).
    pub max_tokens_field: Option<MaxTokensField>,
    /// `reasoning_effort` for reasoning models: `minimal`, `low`, `medium` or
    /// `high` (OpenAI-compatible only).
    pub reasoning_effort: Option<String>,
}

/// Price of a model in US dollars per million tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Per million prompt tokens.
    pub input: f64,
    /// Per million completion tokens.
    pub output: f64,
    /// Per million prompt tokens read from the provider's cache (default: the
    /// `input` price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input: Option<f64>,
    /// Per million prompt tokens written to the cache (Anthropic bills them
    /// above `input`; default: the `input` price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
}

impl Price {
    /// Cost in dollars of one call's `usage`: cached and cache-written prompt
    /// tokens at their prices, the rest of the prompt at `input`.
    pub fn cost(&self, usage: &Usage) -> f64 {
        let cached = usage.cached_prompt_tokens.min(usage.prompt_tokens);
        let written = usage.cache_write_tokens.min(usage.prompt_tokens - cached);
        let plain = usage.prompt_tokens - cached - written;
        (plain as f64 * self.input
            + cached as f64 * self.cached_input.unwrap_or(self.input)
            + written as f64 * self.cache_write.unwrap_or(self.input)
            + usage.completion_tokens as f64 * self.output)
            / 1_000_000.0
    }
}

/// Who decides whether processes that need consent may run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Autonomy {
    /// Ask the user before `execute_shell`, `pip_install`, and `execute_code` of a
    /// file the run did not write.
    #[default]
    Ask,
    /// Never ask.
    Auto,
    /// Stage file changes for review (in the editor); ask like `ask`.
    Review,
}

/// Bounds of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// Consent for processes.
    pub autonomy: Autonomy,
    /// Model turns per agent.
    pub max_steps: u32,
    /// Depth of agent calls (the top agent is depth 1).
    pub max_depth: u32,
    /// Tokens per run.
    pub max_tokens: u64,
    /// Dollars per run.
    pub max_cost_usd: f64,
    /// Parallel atomic tasks.
    pub jobs: usize,
    /// Most agents one agent may call.
    pub k_max: usize,
    /// Repairs after a judge rejects an output.
    pub max_repairs: u32,
    /// Default process timeout in seconds.
    pub process_timeout_seconds: u64,
    /// Weight of the past in quality scores: `Q <- a*Q + (1-a)*v`.
    pub quality_alpha: f64,
    /// When the router's best scores are close, let the default model pick among them.
    pub model_routing: bool,
    /// Most calls of one reply (child agents, tools) and processes of the run at once.
    pub max_parallel_calls: usize,
    /// The loop guard: the same call (a tool with the same arguments, or a child
    /// agent with the same task) made this many times by one agent while the
    /// workspace did not change is answered with an error instead of running; one
    /// more ends the agent with an error. 0 turns the guard off.
    pub max_repeated_calls: u32,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            autonomy: Autonomy::Ask,
            max_steps: 40,
            max_depth: 6,
            max_tokens: 2_000_000,
            max_cost_usd: 5.0,
            jobs: 4,
            k_max: infiagent_agents::DEFAULT_K_MAX,
            max_repairs: 2,
            process_timeout_seconds: 120,
            quality_alpha: 0.8,
            model_routing: false,
            max_parallel_calls: 4,
            max_repeated_calls: 3,
        }
    }
}

/// Context sizes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContextConfig {
    /// Token budget of the memory index part of the context.
    pub budget_tokens: usize,
    /// Threshold above which an agent's own trajectory is compressed.
    pub tau: usize,
    /// How old steps are compressed: `model` (a summary by the agent's model, lines
    /// as fallback) or `lines` (one line per old tool call).
    pub summarizer: crate::context::Summarizer,
}

impl Default for ContextConfig {
    fn default() -> Self {
        ContextConfig {
            budget_tokens: 8000,
            tau: 6000,
            summarizer: crate::context::Summarizer::Model,
        }
    }
}

/// The whole configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The default model.
    pub model: ModelConfig,
    /// More models, named by agents' `model:` and `candidates:`.
    pub models: BTreeMap<String, ModelConfig>,
    /// Prices by model name (the name sent to the endpoint).
    pub prices: BTreeMap<String, Price>,
    /// Run bounds.
    pub run: RunConfig,
    /// Context sizes.
    pub context: ContextConfig,
    /// The operating-system sandbox of every process a run starts.
    pub sandbox: infiagent_sandbox::SandboxPolicy,
    /// The project's own build, test and lint commands (detected when not given).
    pub checks: infiagent_checks::ChecksConfig,
    /// The MCP servers whose tools agents may use (`[mcp.servers.<name>]`).
    pub mcp: infiagent_mcp::McpConfig,
    /// The run records kept.
    pub runs: RunsConfig,
}

/// `[runs]`: how many run records (`.infiagent/runs/<id>/`) are kept, and the
/// checkpoints they keep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunsConfig {
    /// The newest runs kept when a front-end starts; older ones that ended or
    /// were interrupted are removed. 0 keeps them all.
    pub keep: usize,
    /// Whether runs keep checkpoints of the files they change (for `undo`).
    pub checkpoints: bool,
    /// Files larger than this are recorded as changed but not stored, so not
    /// restorable.
    pub checkpoint_max_bytes: u64,
}

impl Default for RunsConfig {
    fn default() -> Self {
        RunsConfig {
            keep: 200,
            checkpoints: true,
            checkpoint_max_bytes: infiagent_tools::checkpoints::DEFAULT_MAX_BYTES,
        }
    }
}

/// Overrides from the command line or the editor for the default model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelOverrides {
    /// Provider.
    pub provider: Option<Provider>,
    /// Base URL.
    pub base_url: Option<String>,
    /// Model name.
    pub model: Option<String>,
    /// Name of the key variable.
    pub api_key_env: Option<String>,
}

impl Config {
    /// Reads `<workspace>/.infiagent/config.toml` (absent: defaults).
    pub fn load(workspace: &Path) -> Result<Config, ConfigError> {
        let path = workspace.join(STATE_DIR).join("config.toml");
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse_toml(&path, &text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    /// Parses TOML text; `path` is used in errors.
    pub fn parse_toml(path: &Path, text: &str) -> Result<Config, ConfigError> {
        toml::from_str::<Config>(text).map_err(|err| {
            let (line, col) = err
                .span()
                .map(|span| line_col(text, span.start))
                .unwrap_or((1, 1));
            ConfigError::Parse {
                path: path.to_path_buf(),
                line,
                col,
                message: err.message().to_string(),
            }
        })
    }

    /// Applies `INFIAGENT_PROVIDER`, `INFIAGENT_BASE_URL`, `INFIAGENT_MODEL` and
    /// `INFIAGENT_API_KEY_ENV` from `lookup` (the process environment in production).
    pub fn apply_env(
        &mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        let non_empty = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let overrides = ModelOverrides {
            provider: non_empty("INFIAGENT_PROVIDER")
                .map(|value| parse_provider(&value))
                .transpose()?,
            base_url: non_empty("INFIAGENT_BASE_URL"),
            model: non_empty("INFIAGENT_MODEL"),
            api_key_env: non_empty("INFIAGENT_API_KEY_ENV"),
        };
        self.apply_overrides(&overrides);
        Ok(())
    }

    /// Applies overrides to the default model.
    pub fn apply_overrides(&mut self, overrides: &ModelOverrides) {
        if let Some(provider) = overrides.provider {
            self.model.provider = Some(provider);
        }
        if let Some(base_url) = &overrides.base_url {
            self.model.base_url = Some(base_url.clone());
        }
        if let Some(model) = &overrides.model {
            self.model.name = Some(model.clone());
        }
        if let Some(var) = &overrides.api_key_env {
            self.model.api_key_env = Some(var.clone());
        }
    }

    /// Checks values that serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let run = &self.run;
        if run.max_steps == 0
            || run.max_depth == 0
            || run.jobs == 0
            || run.k_max == 0
            || run.max_parallel_calls == 0
        {
            return Err(ConfigError::Invalid(
                "[run] max_steps, max_depth, jobs, k_max and max_parallel_calls must be at least 1"
                    .into(),
            ));
        }
        self.sandbox.validate().map_err(ConfigError::Invalid)?;
        self.checks.validate().map_err(ConfigError::Invalid)?;
        self.mcp.validate().map_err(ConfigError::Invalid)?;
        if !(0.0..=1.0).contains(&run.quality_alpha) {
            return Err(ConfigError::Invalid(
                "[run] quality_alpha must be between 0 and 1".into(),
            ));
        }
        if run.max_cost_usd.is_nan() || run.max_cost_usd < 0.0 {
            return Err(ConfigError::Invalid(
                "[run] max_cost_usd must be a number >= 0".into(),
            ));
        }
        Ok(())
    }

    /// Settings of the default model (`name: None`) or of `[models.<name>]`.
    pub fn model_settings(&self, name: Option<&str>) -> Result<ModelSettings, ConfigError> {
        let model_config = match name {
            None => &self.model,
            Some(name) => self
                .models
                .get(name)
                .ok_or_else(|| ConfigError::UnknownModel { name: name.into() })?,
        };
        let Some(model_name) = model_config.name.clone().filter(|n| !n.trim().is_empty()) else {
            return match name {
                None => Err(ConfigError::NoModel),
                Some(name) => Err(ConfigError::Invalid(format!(
                    "[models.{name}] needs a `name` (the model name the endpoint expects)"
                ))),
            };
        };
        let provider = model_config.provider.unwrap_or_default();
        let base_url = model_config
            .base_url
            .clone()
            .unwrap_or_else(|| provider.default_base_url().to_string());
        let api_key_env = model_config.api_key_env.clone().or_else(|| {
            (base_url == provider.default_base_url()).then(|| {
                match provider {
                    Provider::Openai => "OPENAI_API_KEY",
                    Provider::Anthropic => "ANTHROPIC_API_KEY",
                }
                .to_string()
            })
        });
        let mut settings = ModelSettings::new(provider, base_url, model_name);
        settings.api_key_env = api_key_env;
        if let Some(seconds) = model_config.timeout_seconds {
            settings.request_timeout = Duration::from_secs(seconds.max(1));
        }
        if let Some(retries) = model_config.max_retries {
            settings.retry = RetryPolicy {
                max_retries: retries,
                ..settings.retry
            };
        }
        if let Some(megabytes) = model_config.max_response_mb {
            let bytes = megabytes.max(1).saturating_mul(1024 * 1024);
            settings.max_response_bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        }
        settings.stream = model_config.stream.unwrap_or(true);
        if let Some(tokens) = model_config.max_output_tokens {
            settings.max_output_tokens = tokens;
        }
        settings.temperature = model_config.temperature;
        settings.max_tokens_field = model_config.max_tokens_field;
        settings.reasoning_effort = model_config.reasoning_effort.clone();
        Ok(settings)
    }

    /// Names of every environment variable that holds a key (to hide them from
    /// child processes and to redact their values).
    pub fn key_variables(&self) -> Vec<String> {
        let mut names: Vec<String> = std::iter::once(None)
            .chain(self.models.keys().map(|name| Some(name.as_str())))
            .filter_map(|name| self.model_settings(name).ok())
            .filter_map(|settings| settings.api_key_env)
            .collect();
        names.extend(["OPENAI_API_KEY", "ANTHROPIC_API_KEY"].map(String::from));
        names.sort();
        names.dedup();
        names
    }
}

/// Parses a provider name as written in configuration.
pub fn parse_provider(value: &str) -> Result<Provider, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "openai" => Ok(Provider::Openai),
        "anthropic" => Ok(Provider::Anthropic),
        other => Err(ConfigError::Invalid(format!(
            "unknown provider '{other}': use 'openai' (any OpenAI-compatible endpoint) or 'anthropic'"
        ))),
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map_or(0, |tail| tail.chars().count())
        + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn design_example_parses() {
        let text = r#"
[model]
provider = "openai"
base_url = "http://127.0.0.1:11434/v1"
name = "qwen2.5-coder:7b"
api_key_env = "OPENAI_API_KEY"

[models.strong]
provider = "anthropic"
name = "claude-sonnet-4-5"
api_key_env = "ANTHROPIC_API_KEY"
max_response_mb = 2

[run]
autonomy = "ask"
max_steps = 40
max_depth = 6
max_tokens = 2000000
max_cost_usd = 5.0
jobs = 4
k_max = 5

[context]
budget_tokens = 8000
tau = 6000
"#;
        let config = Config::parse_toml(Path::new("c.toml"), text).unwrap();
        let default = config.model_settings(None).unwrap();
        assert_eq!(default.base_url, "http://127.0.0.1:11434/v1");
        assert_eq!(default.model, "qwen2.5-coder:7b");
        assert_eq!(
            default.max_response_bytes,
            infiagent_model::DEFAULT_MAX_RESPONSE_BYTES
        );
        let strong = config.model_settings(Some("strong")).unwrap();
        assert_eq!(strong.max_response_bytes, 2 * 1024 * 1024);
        assert_eq!(strong.provider, Provider::Anthropic);
        assert_eq!(strong.base_url, "https://api.anthropic.com");
        assert_eq!(strong.api_key_env.as_deref(), Some("ANTHROPIC_API_KEY"));
    }

    #[test]
    fn reasoning_models_and_cached_prices_are_configured() {
        let text = r#"
[model]
name = "o4-mini"
reasoning_effort = "low"

[models.local]
base_url = "http://127.0.0.1:8080/v1"
name = "qwen"
max_tokens_field = "max_completion_tokens"

[prices."o4-mini"]
input = 1.10
output = 4.40
cached_input = 0.275
"#;
        let config = Config::parse_toml(Path::new("c.toml"), text).unwrap();
        let default = config.model_settings(None).unwrap();
        assert_eq!(default.reasoning_effort.as_deref(), Some("low"));
        assert_eq!(default.max_tokens_field, None);
        let local = config.model_settings(Some("local")).unwrap();
        assert_eq!(
            local.max_tokens_field,
            Some(MaxTokensField::MaxCompletionTokens)
        );
        let price = config.prices["o4-mini"];
        let usage = Usage {
            prompt_tokens: 1_000_000,
            cached_prompt_tokens: 800_000,
            completion_tokens: 100_000,
            ..Usage::default()
        };
        // 200k uncached at 1.10, 800k cached at 0.275, 100k out at 4.40.
        assert!((price.cost(&usage) - (0.22 + 0.22 + 0.44)).abs() < 1e-9);
        let anthropic = Price {
            input: 3.0,
            output: 15.0,
            cached_input: Some(0.3),
            cache_write: Some(3.75),
        };
        let usage = Usage {
            prompt_tokens: 1_000_000,
            cached_prompt_tokens: 500_000,
            cache_write_tokens: 250_000,
            ..Usage::default()
        };
        assert!((anthropic.cost(&usage) - (0.75 + 0.15 + 0.9375)).abs() < 1e-9);
    }

    #[test]
    fn parse_error_points_at_line() {
        let err = Config::parse_toml(Path::new("c.toml"), "[run]\nmax_stepz = 3\n").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("c.toml:2:1: error: unknown field `max_stepz`"),
            "{text}"
        );
    }

    #[test]
    fn precedence_file_then_env_then_flags() {
        let mut config =
            Config::parse_toml(Path::new("c.toml"), "[model]\nname = \"file\"\n").unwrap();
        config
            .apply_env(env(&[
                ("INFIAGENT_MODEL", "env"),
                ("INFIAGENT_BASE_URL", "http://e/v1"),
            ]))
            .unwrap();
        assert_eq!(config.model_settings(None).unwrap().model, "env");
        config.apply_overrides(&ModelOverrides {
            model: Some("flag".into()),
            ..ModelOverrides::default()
        });
        let settings = config.model_settings(None).unwrap();
        assert_eq!(settings.model, "flag");
        assert_eq!(settings.base_url, "http://e/v1");
        assert_eq!(
            settings.api_key_env, None,
            "a custom endpoint needs no key by default"
        );
    }

    #[test]
    fn nothing_configured_says_how() {
        let err = Config::default().model_settings(None).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("--base-url http://127.0.0.1:11434/v1"),
            "{text}"
        );
        assert!(text.contains("OPENAI_API_KEY"), "{text}");
    }

    #[test]
    fn bad_provider_in_env() {
        let mut config = Config::default();
        let err = config
            .apply_env(env(&[("INFIAGENT_PROVIDER", "gemini")]))
            .unwrap_err();
        assert!(err.to_string().contains("unknown provider 'gemini'"));
    }

    #[test]
    fn unknown_named_model() {
        let err = Config::default().model_settings(Some("fast")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "model 'fast' is not defined: add a [models.fast] table to .infiagent/config.toml"
        );
    }

    #[test]
    fn json_uses_same_keys() {
        let config: Config = serde_json::from_value(serde_json::json!({
            "model": {"base_url": "http://127.0.0.1:1/v1", "name": "m"},
            "run": {"autonomy": "auto", "k_max": 4}
        }))
        .unwrap();
        assert_eq!(config.run.autonomy, Autonomy::Auto);
        assert_eq!(config.run.k_max, 4);
        assert_eq!(config.run.max_steps, 40);
    }
}
