//! `[mcp.servers.<name>]` as the user writes it (the same keys in the editor
//! settings), and what starting a server needs from the environment.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// `[mcp]`: the MCP servers whose tools agents may use.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct McpConfig {
    /// The servers by name (the name is the `<server>` of `mcp__<server>__<tool>`).
    pub servers: BTreeMap<String, McpServerConfig>,
}

/// One MCP server: a program spoken to over stdio (`command`), or an endpoint
/// spoken to over streamable HTTP (`url`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct McpServerConfig {
    /// The program to start (found on `PATH`).
    pub command: Option<String>,
    /// Its arguments.
    pub args: Vec<String>,
    /// Variables set for it, with their values (never secrets: use `env_from`).
    pub env: BTreeMap<String, String>,
    /// Variables set for it from variables of InfiAgent's own environment:
    /// `{ GITHUB_TOKEN = "MY_GITHUB_TOKEN" }` sets `GITHUB_TOKEN` to the value of
    /// `MY_GITHUB_TOKEN`. Their values are secrets: never logged or recorded.
    pub env_from: BTreeMap<String, String>,
    /// The folder it starts in, relative to the workspace (default: the workspace).
    pub cwd: Option<String>,
    /// The streamable HTTP endpoint, instead of `command`.
    pub url: Option<String>,
    /// Headers sent to `url`, from variables: `{ Authorization = "API_TOKEN" }`
    /// sends the value of `API_TOKEN` (secret, like `env_from`'s).
    pub headers_from: BTreeMap<String, String>,
    /// Whether agents may use it (default true).
    pub enabled: bool,
    /// Seconds it may take to start and list its tools (default 30).
    pub startup_timeout_s: u64,
    /// Seconds one tool call may take (default 120).
    pub tool_timeout_s: u64,
    /// Whether the program runs in the operating-system sandbox of `[sandbox]`
    /// (default true; with the network allowed). A server that must write outside
    /// the workspace lists the folders in `writable_roots`, or runs unsandboxed
    /// with `sandbox = false`.
    pub sandbox: bool,
    /// More folders it may write in the sandbox (`~` is the home directory).
    pub writable_roots: Vec<String>,
}

impl Default for McpServerConfig {
    fn default() -> Self {
        McpServerConfig {
            command: None,
            args: Vec::new(),
            env: BTreeMap::new(),
            env_from: BTreeMap::new(),
            cwd: None,
            url: None,
            headers_from: BTreeMap::new(),
            enabled: true,
            startup_timeout_s: 30,
            tool_timeout_s: 120,
            sandbox: true,
            writable_roots: Vec::new(),
        }
    }
}

/// Variables every stdio server gets from InfiAgent's environment (the rest is
/// not passed on: API keys stay with InfiAgent).
const PASSED_ENV: &[&str] = &[
    "HOME", "LANG", "LC_ALL", "LOGNAME", "PATH", "SHELL", "TERM", "TMPDIR", "TZ", "USER",
];

impl McpConfig {
    /// Checks what serde cannot; the message names the key to fix.
    pub fn validate(&self) -> Result<(), String> {
        for (name, server) in &self.servers {
            let valid_name = !name.is_empty()
                && !name.contains("__")
                && name.chars().all(infiagent_protocol::is_tool_name_char);
            if !valid_name {
                return Err(format!(
                    "[mcp.servers.{name}]: a server's name is letters, digits, `-` and `_` (no `__`), as it becomes part of its tools' names"
                ));
            }
            match (&server.command, &server.url) {
                (Some(_), Some(_)) => {
                    return Err(format!(
                        "[mcp.servers.{name}]: set `command` (a program over stdio) or `url` (streamable HTTP), not both"
                    ));
                }
                (None, None) => {
                    return Err(format!(
                        "[mcp.servers.{name}]: set `command` (a program over stdio) or `url` (streamable HTTP)"
                    ));
                }
                (Some(command), None) if command.trim().is_empty() => {
                    return Err(format!("[mcp.servers.{name}]: `command` is empty"));
                }
                (None, Some(url))
                    if !(url.starts_with("http://") || url.starts_with("https://")) =>
                {
                    return Err(format!(
                        "[mcp.servers.{name}]: `url` must begin with http:// or https://"
                    ));
                }
                _ => {}
            }
            if server.url.is_some()
                && !(server.args.is_empty() && server.env.is_empty() && server.env_from.is_empty())
            {
                return Err(format!(
                    "[mcp.servers.{name}]: `args`, `env` and `env_from` are for a `command`; an HTTP server takes `headers_from`"
                ));
            }
            if server.startup_timeout_s == 0 || server.tool_timeout_s == 0 {
                return Err(format!(
                    "[mcp.servers.{name}]: startup_timeout_s and tool_timeout_s must be at least 1"
                ));
            }
        }
        Ok(())
    }
}

/// A server's environment or headers once variables are read.
#[derive(Clone, Default)]
pub(crate) struct Resolved {
    /// Name and value of each variable (or header) to set.
    pub values: Vec<(String, String)>,
    /// The values read from variables: never shown.
    pub secrets: Vec<String>,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.values.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("Resolved").field("names", &names).finish()
    }
}

impl McpServerConfig {
    /// How long it may take to start and list its tools.
    pub fn startup_timeout(&self) -> Duration {
        Duration::from_secs(self.startup_timeout_s.max(1))
    }

    /// How long one tool call may take.
    pub fn tool_timeout(&self) -> Duration {
        Duration::from_secs(self.tool_timeout_s.max(1))
    }

    /// The values of its `env_from` and `headers_from` variables that are set
    /// (what is redacted wherever it could appear).
    pub fn secret_values(&self, lookup: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
        self.env_from
            .values()
            .chain(self.headers_from.values())
            .filter_map(|variable| lookup(variable))
            .filter(|value| !value.is_empty())
            .collect()
    }

    /// The environment of a stdio server: the passed-on variables, `env`, then
    /// `env_from` read through `lookup`. A variable `env_from` names that is
    /// not set is an error that names it.
    pub(crate) fn environment(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Resolved, String> {
        let mut resolved = Resolved::default();
        for name in PASSED_ENV {
            if let Some(value) = lookup(name) {
                resolved.values.push((name.to_string(), value));
            }
        }
        for (name, value) in &self.env {
            resolved.values.push((name.clone(), value.clone()));
        }
        from_variables(&self.env_from, "env_from", lookup, &mut resolved)?;
        Ok(resolved)
    }

    /// The headers of an HTTP server, read through `lookup`.
    pub(crate) fn headers(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Resolved, String> {
        let mut resolved = Resolved::default();
        from_variables(&self.headers_from, "headers_from", lookup, &mut resolved)?;
        Ok(resolved)
    }
}

fn from_variables(
    table: &BTreeMap<String, String>,
    key: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    resolved: &mut Resolved,
) -> Result<(), String> {
    for (name, variable) in table {
        let Some(value) = lookup(variable).filter(|value| !value.is_empty()) else {
            return Err(format!(
                "`{key}` reads {name} from the variable {variable}, which is not set: export {variable} before starting InfiAgent"
            ));
        };
        resolved.secrets.push(value.clone());
        resolved.values.push((name.clone(), value));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> McpConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn a_server_reads_with_defaults() {
        let config = parse(
            r#"
            [servers.github]
            command = "github-mcp-server"
            args = ["stdio"]
            env_from = { GITHUB_PERSONAL_ACCESS_TOKEN = "GITHUB_TOKEN" }
            "#,
        );
        let server = &config.servers["github"];
        assert!(server.enabled && server.sandbox);
        assert_eq!(server.startup_timeout_s, 30);
        assert_eq!(server.tool_timeout_s, 120);
        config.validate().unwrap();
    }

    #[test]
    fn mistakes_name_the_key() {
        for (text, expected) in [
            ("[servers.x]\n", "set `command`"),
            (
                "[servers.x]\ncommand = \"a\"\nurl = \"http://h\"\n",
                "not both",
            ),
            ("[servers.x]\nurl = \"ftp://h\"\n", "http://"),
            ("[servers.a__b]\ncommand = \"a\"\n", "no `__`"),
            (
                "[servers.x]\nurl = \"http://h\"\nargs = [\"a\"]\n",
                "headers_from",
            ),
            (
                "[servers.x]\ncommand = \"a\"\ntool_timeout_s = 0\n",
                "at least 1",
            ),
        ] {
            let error = parse(text).validate().unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
        assert!(toml::from_str::<McpConfig>("[servers.x]\ncomand = \"a\"\n").is_err());
    }

    #[test]
    fn variables_are_read_and_kept_secret() {
        let config = parse(
            r#"
            [servers.s]
            command = "s"
            env = { MODE = "fast" }
            env_from = { TOKEN = "MY_TOKEN" }
            "#,
        );
        let server = &config.servers["s"];
        let lookup = |name: &str| match name {
            "MY_TOKEN" => Some("sekret-value".to_string()),
            "PATH" => Some("/usr/bin".to_string()),
            "OPENAI_API_KEY" => Some("sk-never".to_string()),
            _ => None,
        };
        let resolved = server.environment(&lookup).unwrap();
        assert_eq!(
            resolved.values,
            vec![
                ("PATH".to_string(), "/usr/bin".to_string()),
                ("MODE".to_string(), "fast".to_string()),
                ("TOKEN".to_string(), "sekret-value".to_string()),
            ]
        );
        assert_eq!(resolved.secrets, vec!["sekret-value".to_string()]);
        assert!(!format!("{resolved:?}").contains("sekret"));
        assert_eq!(
            server.secret_values(&lookup),
            vec!["sekret-value".to_string()]
        );

        let missing = server.environment(&|_: &str| None).unwrap_err();
        assert!(missing.contains("export MY_TOKEN"), "{missing}");
    }
}
