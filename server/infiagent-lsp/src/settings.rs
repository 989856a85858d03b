//! Configuration from the editor: `initializationOptions`, then the `infiagent`
//! section of `workspace/configuration`, over `.infiagent/config.toml` and the
//! `INFIAGENT_*` variables. Same keys as the file.

use std::path::Path;

use infiagent_engine::{Config, ConfigError};
use serde_json::Value;

/// The editor's overlays, in order of precedence (later wins).
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
    pub initialization_options: Option<Value>,
    pub workspace_configuration: Option<Value>,
}

impl Settings {
    /// The configuration in effect for the workspace at `root`.
    pub fn effective(&self, root: &Path) -> Result<Config, ConfigError> {
        let mut config = Config::load(root)?;
        config.apply_env(|name| std::env::var(name).ok())?;
        let mut merged = serde_json::to_value(&config).map_err(|err| {
            ConfigError::Invalid(format!("cannot merge the editor settings: {err}"))
        })?;
        for overlay in [&self.initialization_options, &self.workspace_configuration]
            .into_iter()
            .flatten()
        {
            merge(&mut merged, overlay);
        }
        let config: Config = serde_json::from_value(merged)
            .map_err(|err| ConfigError::Invalid(format!("editor settings `infiagent`: {err}")))?;
        config.validate()?;
        Ok(config)
    }
}

/// Merges `overlay` into `base`: objects key by key, anything else replaced;
/// `null` in the overlay leaves the base as it is.
fn merge(base: &mut Value, overlay: &Value) {
    match (base, overlay) {
        (Value::Object(base), Value::Object(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(key) {
                    Some(existing) => merge(existing, value),
                    None if !value.is_null() => {
                        base.insert(key.clone(), value.clone());
                    }
                    None => {}
                }
            }
        }
        (_, Value::Null) => {}
        (base, overlay) => *base = overlay.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_settings_override_the_file() {
        let workspace = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(workspace.path().join(".infiagent")).unwrap();
        std::fs::write(
            workspace.path().join(".infiagent/config.toml"),
            "[model]\nname = \"from-file\"\nbase_url = \"http://file/v1\"\n[run]\nmax_steps = 7\n",
        )
        .unwrap();
        let settings = Settings {
            initialization_options: Some(
                serde_json::json!({"model": {"name": "from-init"}, "run": {"autonomy": "auto"}}),
            ),
            workspace_configuration: Some(
                serde_json::json!({"model": {"name": "from-config", "base_url": null}}),
            ),
        };
        let config = settings.effective(workspace.path()).unwrap();
        assert_eq!(config.model.name.as_deref(), Some("from-config"));
        assert_eq!(config.model.base_url.as_deref(), Some("http://file/v1"));
        assert_eq!(config.run.max_steps, 7);
        assert_eq!(config.run.autonomy, infiagent_engine::Autonomy::Auto);
    }

    #[test]
    fn unknown_keys_are_reported() {
        let workspace = tempfile::tempdir().unwrap();
        let settings = Settings {
            workspace_configuration: Some(serde_json::json!({"run": {"max_stepz": 1}})),
            ..Settings::default()
        };
        let err = settings
            .effective(workspace.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `max_stepz`"), "{err}");
    }
}
