//! The MCP servers an ACP client passes in `session/new` and `session/load`, as
//! `[mcp.servers.*]` entries of the session's engine. The values of their
//! variables and headers are secrets: read through a lookup, redacted like
//! `env_from` values, and never written in the session's record.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use agent_client_protocol::v1::schema::McpServer;
use infiagent_mcp::{Lookup, McpServerConfig};

/// The client's servers (by a name fit for tool names) and the lookup that
/// reads their variables' and headers' values (the process environment for
/// anything else).
pub(crate) fn client_servers(servers: &[McpServer]) -> (BTreeMap<String, McpServerConfig>, Lookup) {
    let mut configs = BTreeMap::new();
    let mut values: HashMap<String, String> = HashMap::new();
    for server in servers {
        let (name, config) = match server {
            McpServer::Stdio(stdio) => {
                let name = tool_name_part(&stdio.name);
                let mut env_from = BTreeMap::new();
                for variable in &stdio.env {
                    let key = format!("acp:{name}:env:{}", variable.name);
                    values.insert(key.clone(), variable.value.clone());
                    env_from.insert(variable.name.clone(), key);
                }
                let config = McpServerConfig {
                    command: Some(stdio.command.to_string_lossy().into_owned()),
                    args: stdio.args.clone(),
                    env_from,
                    ..McpServerConfig::default()
                };
                (name, config)
            }
            McpServer::Http(http) => {
                let name = tool_name_part(&http.name);
                let mut headers_from = BTreeMap::new();
                for header in &http.headers {
                    let key = format!("acp:{name}:header:{}", header.name);
                    values.insert(key.clone(), header.value.clone());
                    headers_from.insert(header.name.clone(), key);
                }
                let config = McpServerConfig {
                    url: Some(http.url.clone()),
                    headers_from,
                    ..McpServerConfig::default()
                };
                (name, config)
            }
            other => {
                tracing::warn!(
                    ?other,
                    "an MCP server of a transport this agent does not speak was left out"
                );
                continue;
            }
        };
        configs.insert(name, config);
    }
    let lookup: Lookup = Arc::new(move |name: &str| {
        values
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
    });
    (configs, lookup)
}

/// The servers as the session's record keeps them: without the values of
/// their variables and headers.
pub(crate) fn recorded(servers: &[McpServer]) -> Vec<serde_json::Value> {
    servers
        .iter()
        .filter_map(|server| serde_json::to_value(server).ok())
        .map(|mut value| {
            for list in ["env", "headers"] {
                if let Some(entries) = value.get_mut(list).and_then(|list| list.as_array_mut()) {
                    for entry in entries {
                        if let Some(entry) = entry.as_object_mut() {
                            entry.remove("value");
                        }
                    }
                }
            }
            value
        })
        .collect()
}

/// A client's server name as the `<server>` of `mcp__<server>__<tool>`: letters,
/// digits, `-` and `_`, no `__`.
fn tool_name_part(name: &str) -> String {
    let mut part = String::new();
    for c in name.chars() {
        let c = if infiagent_protocol::is_tool_name_char(c) {
            c
        } else {
            '_'
        };
        if !(c == '_' && part.ends_with('_')) {
            part.push(c);
        }
    }
    let part = part.trim_matches('_').to_string();
    if part.is_empty() {
        "client".to_string()
    } else {
        part
    }
}

#[cfg(test)]
mod tests {
    use agent_client_protocol::v1::schema::{EnvVariable, McpServerStdio};

    use super::*;

    #[test]
    fn a_client_server_keeps_its_values_secret() {
        let servers = vec![McpServer::Stdio(
            McpServerStdio::new("My Files", "/usr/bin/files-server")
                .args(vec!["--root".into(), "/w".into()])
                .env(vec![EnvVariable::new("TOKEN", "tok-123")]),
        )];
        let (configs, lookup) = client_servers(&servers);
        let config = &configs["My_Files"];
        assert_eq!(config.command.as_deref(), Some("/usr/bin/files-server"));
        assert_eq!(
            config.secret_values(lookup.as_ref()),
            vec!["tok-123".to_string()]
        );
        let recorded = serde_json::to_string(&recorded(&servers)).unwrap();
        assert!(
            recorded.contains("TOKEN") && !recorded.contains("tok-123"),
            "{recorded}"
        );
    }

    #[test]
    fn names_fit_tool_names() {
        assert_eq!(tool_name_part("a b__c"), "a_b_c");
        assert_eq!(tool_name_part("  "), "client");
    }
}
