//! The pyramid drawn as Graphviz DOT, Mermaid or JSON.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::{AgentDef, Registry};

/// How [`render_graph`] writes the pyramid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    /// Graphviz: `digraph pyramid { … }`, one rank per level.
    Dot,
    /// Mermaid: `graph TD` with one edge per call.
    Mermaid,
    /// `{"nodes": [...], "edges": [...]}`, pretty-printed.
    Json,
}

/// The agents of `registry` (highest level first, then by name) and the calls between
/// them (sorted by caller, then callee), in `format`.
pub fn render_graph(registry: &Registry, format: GraphFormat) -> String {
    let agents: Vec<&AgentDef> = registry.agents().collect();
    let edges = agent_edges(registry);
    match format {
        GraphFormat::Dot => render_dot(&agents, &edges),
        GraphFormat::Mermaid => render_mermaid(&agents, &edges),
        GraphFormat::Json => render_json(&agents, &edges),
    }
}

/// Each call from an agent to an agent, once, sorted.
fn agent_edges(registry: &Registry) -> BTreeSet<(&str, &str)> {
    registry
        .agents()
        .flat_map(|caller| {
            caller
                .tools
                .iter()
                .filter(|tool| registry.get(tool).is_some())
                .map(|callee| (caller.name.as_str(), callee.as_str()))
        })
        .collect()
}

fn render_dot(agents: &[&AgentDef], edges: &BTreeSet<(&str, &str)>) -> String {
    let mut dot = String::from("digraph pyramid {\n  rankdir=TB;\n  node [shape=box];\n");
    for level_agents in agents.chunk_by(|left, right| left.level == right.level) {
        let level = level_agents.first().map_or(0, |agent| agent.level);
        let _ = writeln!(dot, "  subgraph \"level_{level}\" {{\n    rank=same;");
        for agent in level_agents {
            let name = dot_escape(&agent.name);
            let _ = writeln!(dot, "    \"{name}\" [label=\"{name}\\n(level {level})\"];");
        }
        dot.push_str("  }\n");
    }
    for (caller, callee) in edges {
        let _ = writeln!(
            dot,
            "  \"{}\" -> \"{}\";",
            dot_escape(caller),
            dot_escape(callee)
        );
    }
    dot.push_str("}\n");
    dot
}

fn dot_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

fn render_mermaid(agents: &[&AgentDef], edges: &BTreeSet<(&str, &str)>) -> String {
    let mut mermaid = String::from("graph TD\n");
    for agent in agents {
        let _ = writeln!(
            mermaid,
            "  {}[\"{}<br/>(level {})\"]",
            mermaid_id(&agent.name),
            agent.name.replace('"', "#quot;"),
            agent.level
        );
    }
    for (caller, callee) in edges {
        let _ = writeln!(
            mermaid,
            "  {} --> {}",
            mermaid_id(caller),
            mermaid_id(callee)
        );
    }
    mermaid
}

/// A Mermaid node id for an agent name: the name with anything but letters, digits
/// and `_` spelt as `_xHH_` so that ids stay distinct.
fn mermaid_id(name: &str) -> String {
    let mut id = String::with_capacity(name.len());
    for character in name.chars() {
        if character.is_ascii_alphanumeric() || character == '_' {
            id.push(character);
        } else {
            let _ = write!(id, "_x{:x}_", u32::from(character));
        }
    }
    id
}

#[derive(Serialize)]
struct JsonGraph<'a> {
    nodes: Vec<JsonNode<'a>>,
    edges: Vec<JsonEdge<'a>>,
}

#[derive(Serialize)]
struct JsonNode<'a> {
    name: &'a str,
    level: i32,
    description: &'a str,
    tools: &'a [String],
}

#[derive(Serialize)]
struct JsonEdge<'a> {
    from: &'a str,
    to: &'a str,
}

fn render_json(agents: &[&AgentDef], edges: &BTreeSet<(&str, &str)>) -> String {
    let graph = JsonGraph {
        nodes: agents
            .iter()
            .map(|agent| JsonNode {
                name: &agent.name,
                level: agent.level,
                description: &agent.description,
                tools: &agent.tools,
            })
            .collect(),
        edges: edges
            .iter()
            .map(|(from, to)| JsonEdge { from, to })
            .collect(),
    };
    // Strings, integers and lists of them always serialize; the fallback is still JSON.
    serde_json::to_string_pretty(&graph)
        .unwrap_or_else(|error| serde_json::Value::String(error.to_string()).to_string())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::{Origin, load_registry, parse_agent};

    fn builtin_registry() -> Registry {
        let (registry, problems) = load_registry(None);
        assert_eq!(problems, []);
        registry
    }

    #[test]
    fn builtin_pyramid_as_dot() {
        insta::assert_snapshot!(render_graph(&builtin_registry(), GraphFormat::Dot));
    }

    #[test]
    fn builtin_pyramid_as_mermaid() {
        insta::assert_snapshot!(render_graph(&builtin_registry(), GraphFormat::Mermaid));
    }

    #[test]
    fn builtin_pyramid_as_json() {
        insta::assert_snapshot!(render_graph(&builtin_registry(), GraphFormat::Json));
    }

    #[test]
    fn names_that_mermaid_cannot_take_as_ids_are_spelt_out() {
        let text = "---\nname: build-it\nlevel: 1\ndescription: B.\ntools: [build_it]\n---\nB.\n";
        let other = "---\nname: build_it\nlevel: 0\ndescription: B.\ntools: []\n---\nB.\n";
        let registry = Registry::new(vec![
            parse_agent(Path::new("a.md"), text, Origin::Workspace).expect("parses"),
            parse_agent(Path::new("b.md"), other, Origin::Workspace).expect("parses"),
        ]);
        assert_eq!(
            render_graph(&registry, GraphFormat::Mermaid),
            "graph TD\n  build_x2d_it[\"build-it<br/>(level 1)\"]\n  build_it[\"build_it<br/>(level 0)\"]\n  build_x2d_it --> build_it\n"
        );
    }
}
