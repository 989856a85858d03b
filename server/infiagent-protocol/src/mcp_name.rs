//! The names agents see for the tools of MCP servers: `mcp__<server>__<tool>`,
//! and the entries of an agent's `tools:` that name them (an exact tool, or
//! `mcp__<server>__*` for every tool of a server).

/// What every MCP tool's name begins with.
pub const MCP_PREFIX: &str = "mcp__";

/// Whether `c` may be in a tool's name as chat APIs take it (and in a server's
/// name): ASCII letters, digits, `_` and `-`.
pub fn is_tool_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The name agents see for `tool` of the MCP server `server`.
pub fn mcp_tool_name(server: &str, tool: &str) -> String {
    format!("{MCP_PREFIX}{server}__{tool}")
}

/// An entry of `tools:` (or a call's name) that names MCP tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct McpToolName<'a> {
    /// The server's name, as configured under `[mcp.servers.<name>]`.
    pub server: &'a str,
    /// The tool's name on the server; `None` for `mcp__<server>__*`.
    pub tool: Option<&'a str>,
}

impl<'a> McpToolName<'a> {
    /// Reads `name` when it begins with [`MCP_PREFIX`]: `Some(Ok(..))` for a
    /// well-formed name, `Some(Err(why))` for a malformed one, `None` for a name
    /// that is not an MCP tool's.
    pub fn parse(name: &'a str) -> Option<Result<McpToolName<'a>, String>> {
        let rest = name.strip_prefix(MCP_PREFIX)?;
        let Some((server, tool)) = rest.split_once("__") else {
            return Some(Err(format!(
                "'{name}' names no tool: write mcp__<server>__<tool> or mcp__<server>__*"
            )));
        };
        if server.is_empty() || tool.is_empty() {
            return Some(Err(format!(
                "'{name}' needs a server and a tool: mcp__<server>__<tool> or mcp__<server>__*"
            )));
        }
        let tool = if tool == "*" { None } else { Some(tool) };
        if tool.is_some_and(|tool| tool.contains('*')) {
            return Some(Err(format!(
                "'{name}': `*` stands only for a server's whole tool list (mcp__{server}__*)"
            )));
        }
        Some(Ok(McpToolName { server, tool }))
    }

    /// Whether this entry of `tools:` allows the tool `tool` of `server`.
    pub fn allows(&self, server: &str, tool: &str) -> bool {
        self.server == server && self.tool.is_none_or(|own| own == tool)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        let name = mcp_tool_name("github", "create_issue");
        assert_eq!(
            McpToolName::parse(&name),
            Some(Ok(McpToolName {
                server: "github",
                tool: Some("create_issue")
            }))
        );
        // A tool's own name may hold `__`: only the first one splits.
        assert_eq!(
            McpToolName::parse("mcp__fs__read__all"),
            Some(Ok(McpToolName {
                server: "fs",
                tool: Some("read__all")
            }))
        );
    }

    #[test]
    fn a_glob_allows_every_tool_of_its_server() {
        let glob = McpToolName::parse("mcp__fs__*").unwrap().unwrap();
        assert!(glob.allows("fs", "read_file"));
        assert!(!glob.allows("git", "read_file"));
        let exact = McpToolName::parse("mcp__fs__read_file").unwrap().unwrap();
        assert!(exact.allows("fs", "read_file"));
        assert!(!exact.allows("fs", "write_file"));
    }

    #[test]
    fn malformed_names_say_what_to_write() {
        assert_eq!(McpToolName::parse("file_read"), None);
        for name in ["mcp__fs", "mcp____x", "mcp__fs__", "mcp__fs__read_*"] {
            assert!(
                matches!(McpToolName::parse(name), Some(Err(_))),
                "{name} should be malformed"
            );
        }
    }
}
