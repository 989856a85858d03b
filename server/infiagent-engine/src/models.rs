//! Which model each agent talks to, connected on first use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use infiagent_model::ChatModel;

use crate::config::{Config, ConfigError, Price};

/// A connected model and its price.
#[derive(Clone)]
pub struct ModelEntry {
    /// The model.
    pub model: Arc<dyn ChatModel>,
    /// Its price, if the configuration has one.
    pub price: Option<Price>,
}

/// The models of a run: the configured ones, or one fixed model for every agent.
pub struct ModelPool {
    source: Source,
    connected: Mutex<HashMap<Option<String>, ModelEntry>>,
}

enum Source {
    Configured(Box<Config>),
    Fixed(ModelEntry),
    Named {
        default: ModelEntry,
        named: HashMap<String, ModelEntry>,
    },
}

impl ModelPool {
    /// Models from the configuration. The default model is connected now, so that a
    /// missing key or model is reported before any work starts.
    pub fn from_config(config: &Config) -> Result<ModelPool, ConfigError> {
        let pool = ModelPool {
            source: Source::Configured(Box::new(config.clone())),
            connected: Mutex::new(HashMap::new()),
        };
        pool.get(None)?;
        Ok(pool)
    }

    /// Models from the configuration, connected only when an agent first needs one
    /// (for inspecting, where no model may be configured at all).
    pub fn lazy(config: &Config) -> ModelPool {
        ModelPool {
            source: Source::Configured(Box::new(config.clone())),
            connected: Mutex::new(HashMap::new()),
        }
    }

    /// One model for every agent, whatever its `model:` says (the demo, tests).
    pub fn fixed(model: Arc<dyn ChatModel>, price: Option<Price>) -> ModelPool {
        ModelPool {
            source: Source::Fixed(ModelEntry { model, price }),
            connected: Mutex::new(HashMap::new()),
        }
    }

    /// A default model and named ones, already connected (embedders, tests):
    /// `model:` and `candidates:` name the keys of `named`.
    pub fn with_models(
        default: ModelEntry,
        named: impl IntoIterator<Item = (String, ModelEntry)>,
    ) -> ModelPool {
        ModelPool {
            source: Source::Named {
                default,
                named: named.into_iter().collect(),
            },
            connected: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `name` can be asked for (a fixed pool answers every name with its
    /// one model).
    pub fn defines(&self, name: &str) -> bool {
        match &self.source {
            Source::Configured(config) => config.models.contains_key(name),
            Source::Fixed(_) => true,
            Source::Named { named, .. } => named.contains_key(name),
        }
    }

    /// The default model (`None`) or a named one.
    pub fn get(&self, name: Option<&str>) -> Result<ModelEntry, ConfigError> {
        let config = match &self.source {
            Source::Fixed(entry) => return Ok(entry.clone()),
            Source::Named { default, named } => {
                return match name {
                    None => Ok(default.clone()),
                    Some(name) => named
                        .get(name)
                        .cloned()
                        .ok_or_else(|| ConfigError::UnknownModel { name: name.into() }),
                };
            }
            Source::Configured(config) => config,
        };
        let key = name.map(str::to_string);
        if let Some(entry) = self
            .connected
            .lock()
            .ok()
            .and_then(|map| map.get(&key).cloned())
        {
            return Ok(entry);
        }
        let settings = config.model_settings(name)?;
        let model = infiagent_model::connect(&settings)
            .map_err(|err| ConfigError::Invalid(err.to_string()))?;
        let entry = ModelEntry {
            price: config.prices.get(&settings.model).copied(),
            model,
        };
        if let Ok(mut map) = self.connected.lock() {
            map.insert(key, entry.clone());
        }
        Ok(entry)
    }
}
