//! The pyramid's rules, checked on the graph of agents and the agents they call.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet, VecDeque};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use infiagent_protocol::McpToolName;

use crate::{AgentDef, Position, Problem, Registry, Role, suggest};

/// The tool every agent ends with; it is always available and never needs listing.
const FINAL_OUTPUT: &str = "final_output";

/// Checks the pyramid the agents of `registry` form, given the basic tools that exist
/// and the largest number of agents one agent may call (`k_max`, the judge not
/// counted). The judge is the agent with `role: judge`.
///
/// Reports, at the tool entry (or the `name`, `level` or `tools:` field) concerned:
/// unknown tools (with a suggestion when one is close), duplicate tool entries, agents
/// calling themselves, calls to an agent of the same or a higher level (calls to
/// the judge excepted), cycles (each once, as `a -> b -> a`), fan-out above
/// `k_max`, a judge whose level is not -1 or that calls agents, and agents
/// named like a basic tool. An MCP tool (`mcp__<server>__<tool>` or
/// `mcp__<server>__*`) must name one of `mcp_servers` (whether the server offers
/// the tool is known only once it runs). Problems are sorted by file, then position.
pub fn check_pyramid(
    registry: &Registry,
    basic_tools: &[&str],
    mcp_servers: &[String],
    k_max: usize,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for agent in registry.agents() {
        check_agent(
            agent,
            registry,
            basic_tools,
            mcp_servers,
            k_max,
            &mut problems,
        );
    }
    problems.extend(CallGraph::new(registry).cycle_problems());
    problems.sort();
    problems.dedup();
    problems
}

/// The rules that concern one agent and its own tool list.
fn check_agent(
    agent: &AgentDef,
    registry: &Registry,
    basic_tools: &[&str],
    mcp_servers: &[String],
    k_max: usize,
    problems: &mut Vec<Problem>,
) {
    let mut report = |position: Position, message: String| {
        problems.push(Problem {
            path: agent.path.clone(),
            position,
            message,
        });
    };
    let is_basic_tool = |name: &str| name == FINAL_OUTPUT || basic_tools.contains(&name);

    let is_judge = |agent: &AgentDef| agent.role == Some(Role::Judge);
    if is_judge(agent) && agent.level != -1 {
        report(
            agent.positions.level,
            format!(
                "'{}' must have level -1, not {}: every level may call the judge, so it sits below them all",
                agent.name, agent.level
            ),
        );
    }
    if is_basic_tool(&agent.name) {
        report(
            agent.positions.name,
            format!(
                "agent name '{}' is also a basic tool: rename the agent",
                agent.name
            ),
        );
    }

    let mut first_listed: HashMap<&str, Position> = HashMap::new();
    let mut agent_children = 0usize;
    for (index, tool) in agent.tools.iter().enumerate() {
        let position = agent.tool_position(index);
        if let Some(first) = first_listed.get(tool.as_str()) {
            report(
                position,
                format!(
                    "duplicate tool '{tool}': it is already listed at {}:{}; remove this entry",
                    first.line, first.col
                ),
            );
            continue;
        }
        first_listed.insert(tool, position);
        if let Some(name) = McpToolName::parse(tool) {
            match name {
                Err(message) => report(position, message),
                Ok(name) if !mcp_servers.iter().any(|server| server == name.server) => {
                    report(position, unknown_server_message(name.server, mcp_servers));
                }
                Ok(_) if is_judge(agent) => report(
                    position,
                    format!(
                        "'{}' cannot use MCP tools, but it lists '{tool}': the judge only reads and runs code",
                        agent.name
                    ),
                ),
                Ok(_) => {}
            }
            continue;
        }
        if *tool == agent.name {
            report(
                position,
                format!(
                    "'{tool}' cannot call itself: an agent calls only agents of a strictly lower level"
                ),
            );
            continue;
        }
        match registry.get(tool) {
            Some(_) if is_judge(agent) => report(
                position,
                format!(
                    "'{}' cannot call agents, but it lists '{tool}': the judge only reads and runs code, so that every agent can call it",
                    agent.name
                ),
            ),
            Some(callee) if is_judge(callee) => {}
            Some(callee) => {
                agent_children += 1;
                if callee.level >= agent.level {
                    report(
                        position,
                        format!(
                            "'{}' (level {}) cannot call '{}' (level {}): an agent calls only agents of a strictly lower level",
                            agent.name, agent.level, callee.name, callee.level
                        ),
                    );
                }
            }
            None if is_basic_tool(tool) => {}
            None => report(position, unknown_tool_message(tool, registry, basic_tools)),
        }
    }
    if agent_children > k_max {
        report(
            agent.positions.tools_key,
            format!(
                "'{}' calls {agent_children} agents; at most {k_max} (k_max) are allowed: split it or move some calls to a child",
                agent.name
            ),
        );
    }
}

fn unknown_server_message(server: &str, mcp_servers: &[String]) -> String {
    let suggestion = suggest::closest(server, mcp_servers.iter().map(String::as_str))
        .map(|closest| format!("; did you mean '{closest}'?"))
        .unwrap_or_default();
    let configured = if mcp_servers.is_empty() {
        "none is configured".to_string()
    } else {
        format!("configured: {}", mcp_servers.join(", "))
    };
    format!(
        "unknown MCP server '{server}' ({configured}): add [mcp.servers.{server}] to .infiagent/config.toml{suggestion}"
    )
}

fn unknown_tool_message(tool: &str, registry: &Registry, basic_tools: &[&str]) -> String {
    let mut agent_names: Vec<&str> = registry.agents().map(|agent| agent.name.as_str()).collect();
    agent_names.sort_unstable();
    let candidates = basic_tools
        .iter()
        .copied()
        .chain([FINAL_OUTPUT])
        .chain(agent_names.iter().copied());
    let suggestion = suggest::closest(tool, candidates)
        .map(|closest| format!("; did you mean '{closest}'?"))
        .unwrap_or_default();
    format!(
        "unknown tool '{tool}' (basic tools: {}; agents: {}){suggestion}",
        basic_tools.join(", "),
        agent_names.join(", ")
    )
}

/// Agents as nodes, and an edge from each agent to each other agent it lists, weighted
/// with where the caller lists it. Self calls are left out: they are reported apart.
struct CallGraph<'a> {
    graph: DiGraph<&'a AgentDef, Position>,
}

impl<'a> CallGraph<'a> {
    fn new(registry: &'a Registry) -> CallGraph<'a> {
        let mut graph = DiGraph::new();
        let nodes: HashMap<&str, NodeIndex> = registry
            .agents()
            .map(|agent| (agent.name.as_str(), graph.add_node(agent)))
            .collect();
        for caller in registry.agents() {
            let Some(&caller_node) = nodes.get(caller.name.as_str()) else {
                continue;
            };
            let mut called: HashSet<&str> = HashSet::new();
            for (index, tool) in caller.tools.iter().enumerate() {
                if *tool == caller.name || !called.insert(tool) {
                    continue;
                }
                if let Some(&callee_node) = nodes.get(tool.as_str()) {
                    graph.add_edge(caller_node, callee_node, caller.tool_position(index));
                }
            }
        }
        CallGraph { graph }
    }

    /// One problem per strongly connected component of more than one agent: its
    /// shortest cycle through the alphabetically first of its agents.
    fn cycle_problems(&self) -> Vec<Problem> {
        tarjan_scc(&self.graph)
            .iter()
            .filter(|component| component.len() > 1)
            .filter_map(|component| self.cycle_problem(component))
            .collect()
    }

    fn cycle_problem(&self, component: &[NodeIndex]) -> Option<Problem> {
        let start = *component
            .iter()
            .min_by_key(|node| self.graph[**node].name.as_str())?;
        let cycle = self.shortest_cycle(start, component)?;
        let second = *cycle.get(1)?;
        let edge = self.graph.find_edge(start, second)?;
        let names: Vec<&str> = cycle
            .iter()
            .chain([&start])
            .map(|node| self.graph[*node].name.as_str())
            .collect();
        let first_agent = self.graph[start];
        Some(Problem {
            path: first_agent.path.clone(),
            position: self.graph[edge],
            message: format!(
                "call cycle {}: agents must form a pyramid without cycles; remove one of these calls",
                names.join(" -> ")
            ),
        })
    }

    /// The agents of the shortest cycle from `start` back to it, within `component`,
    /// starting with `start` (breadth-first, visiting callees by name).
    fn shortest_cycle(&self, start: NodeIndex, component: &[NodeIndex]) -> Option<Vec<NodeIndex>> {
        let members: HashSet<NodeIndex> = component.iter().copied().collect();
        let mut reached_from: HashMap<NodeIndex, NodeIndex> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        while let Some(node) = queue.pop_front() {
            let mut callees: Vec<NodeIndex> = self
                .graph
                .neighbors(node)
                .filter(|callee| members.contains(callee))
                .collect();
            callees.sort_by_key(|callee| self.graph[*callee].name.as_str());
            callees.dedup();
            for callee in callees {
                if callee == start {
                    let mut cycle = vec![node];
                    let mut current = node;
                    while current != start {
                        current = *reached_from.get(&current)?;
                        cycle.push(current);
                    }
                    cycle.reverse();
                    return Some(cycle);
                }
                if let Entry::Vacant(entry) = reached_from.entry(callee) {
                    entry.insert(node);
                    queue.push_back(callee);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::{DEFAULT_K_MAX, Origin, parse_agent, problem_lines};

    const BASIC_TOOLS: &[&str] = &["file_read", "file_write", "execute_code"];

    /// Parses each `(path, text)` fixture, checks the pyramid they form and compares
    /// the problems, one `Display` line each.
    fn check(files: &[(&str, &str)], expected: &str) {
        check_with_k_max(files, DEFAULT_K_MAX, expected);
    }

    fn check_with_k_max(files: &[(&str, &str)], k_max: usize, expected: &str) {
        let definitions = files
            .iter()
            .map(|(path, text)| {
                parse_agent(Path::new(path), text, Origin::Workspace).unwrap_or_else(|problems| {
                    panic!("fixture {path} does not parse: {problems:?}")
                })
            })
            .collect();
        let registry = Registry::new(definitions);
        let problems = check_pyramid(&registry, BASIC_TOOLS, &["github".to_string()], k_max);
        assert_eq!(problem_lines(&problems), expected.trim());
    }

    const JUDGE: (&str, &str) = (
        "judge.md",
        r"---
name: judge_agent
level: -1
description: Judges.
tools: [file_read, execute_code]
role: judge
---
Judge.
",
    );

    #[test]
    fn a_sound_pyramid_has_no_problems() {
        check(
            &[
                JUDGE,
                (
                    "lead.md",
                    r"---
name: lead
level: 2
description: Leads.
tools: [file_read, builder, judge_agent]
---
Lead.
",
                ),
                (
                    "builder.md",
                    r"---
name: builder
level: 1
description: Builds.
tools:
  - file_write
  - judge_agent
  - final_output
---
Build.
",
                ),
            ],
            "",
        );
    }

    #[test]
    fn cycle_between_agents_of_one_level() {
        check(
            &[
                (
                    "a.md",
                    r"---
name: a
level: 2
description: A.
tools: [file_read, b]
---
A.
",
                ),
                (
                    "b.md",
                    r"---
name: b
level: 2
description: B.
tools:
  - a
---
B.
",
                ),
            ],
            r"
a.md:5:20: error: 'a' (level 2) cannot call 'b' (level 2): an agent calls only agents of a strictly lower level
a.md:5:20: error: call cycle a -> b -> a: agents must form a pyramid without cycles; remove one of these calls
b.md:6:5: error: 'b' (level 2) cannot call 'a' (level 2): an agent calls only agents of a strictly lower level
",
        );
    }

    #[test]
    fn a_longer_cycle_is_reported_once_in_call_order() {
        check(
            &[
                (
                    "c.md",
                    "---\nname: c\nlevel: 1\ndescription: C.\ntools: [a]\n---\nC.\n",
                ),
                (
                    "a.md",
                    "---\nname: a\nlevel: 3\ndescription: A.\ntools: [b]\n---\nA.\n",
                ),
                (
                    "b.md",
                    "---\nname: b\nlevel: 2\ndescription: B.\ntools: [c]\n---\nB.\n",
                ),
            ],
            r"
a.md:5:9: error: call cycle a -> b -> c -> a: agents must form a pyramid without cycles; remove one of these calls
c.md:5:9: error: 'c' (level 1) cannot call 'a' (level 3): an agent calls only agents of a strictly lower level
",
        );
    }

    #[test]
    fn upward_call() {
        check(
            &[
                (
                    "lead.md",
                    "---\nname: lead\nlevel: 2\ndescription: L.\ntools: [file_read]\n---\nL.\n",
                ),
                (
                    "builder.md",
                    "---\nname: builder\nlevel: 1\ndescription: B.\ntools: [file_read, lead]\n---\nB.\n",
                ),
            ],
            "builder.md:5:20: error: 'builder' (level 1) cannot call 'lead' (level 2): an agent calls only agents of a strictly lower level",
        );
    }

    #[test]
    fn fan_out_above_k_max() {
        let children: Vec<(String, String)> = (1..=6)
            .map(|index| {
                (
                    format!("c{index}.md"),
                    format!("---\nname: c{index}\nlevel: 1\ndescription: C.\ntools: [file_read]\n---\nC.\n"),
                )
            })
            .collect();
        let mut files: Vec<(&str, &str)> = children
            .iter()
            .map(|(path, text)| (path.as_str(), text.as_str()))
            .collect();
        files.push(JUDGE);
        files.push((
            "lead.md",
            r"---
name: lead
level: 2
description: Leads.
tools: [c1, c2, c3, c4, c5, c6, judge_agent]
---
Lead.
",
        ));
        check(
            &files,
            "lead.md:5:1: error: 'lead' calls 6 agents; at most 5 (k_max) are allowed: split it or move some calls to a child",
        );
        check_with_k_max(&files, 6, "");
    }

    #[test]
    fn unknown_tools_with_and_without_a_suggestion() {
        check(
            &[
                JUDGE,
                (
                    "builder.md",
                    r"---
name: builder
level: 1
description: Builds.
tools: [file_raed, fetch_url, judge_agnet]
---
Build.
",
                ),
            ],
            r"
builder.md:5:9: error: unknown tool 'file_raed' (basic tools: file_read, file_write, execute_code; agents: builder, judge_agent); did you mean 'file_read'?
builder.md:5:20: error: unknown tool 'fetch_url' (basic tools: file_read, file_write, execute_code; agents: builder, judge_agent)
builder.md:5:31: error: unknown tool 'judge_agnet' (basic tools: file_read, file_write, execute_code; agents: builder, judge_agent); did you mean 'judge_agent'?
",
        );
    }

    #[test]
    fn mcp_tools_name_a_configured_server() {
        check(
            &[
                JUDGE,
                (
                    "builder.md",
                    r"---
name: builder
level: 1
description: Builds.
tools: [mcp__github__create_issue, mcp__github__*, mcp__githb__*, mcp__github, mcp__github__get_*]
---
Build.
",
                ),
            ],
            r"
builder.md:5:52: error: unknown MCP server 'githb' (configured: github): add [mcp.servers.githb] to .infiagent/config.toml; did you mean 'github'?
builder.md:5:67: error: 'mcp__github' names no tool: write mcp__<server>__<tool> or mcp__<server>__*
builder.md:5:80: error: 'mcp__github__get_*': `*` stands only for a server's whole tool list (mcp__github__*)
",
        );
    }

    #[test]
    fn self_call() {
        check(
            &[(
                "a.md",
                "---\nname: a\nlevel: 1\ndescription: A.\ntools:\n  - file_read\n  - a\n---\nA.\n",
            )],
            "a.md:7:5: error: 'a' cannot call itself: an agent calls only agents of a strictly lower level",
        );
    }

    #[test]
    fn duplicate_tool_entries() {
        check(
            &[
                JUDGE,
                (
                    "a.md",
                    "---\nname: a\nlevel: 1\ndescription: A.\ntools: [file_read, judge_agent, file_read, judge_agent]\n---\nA.\n",
                ),
            ],
            r"
a.md:5:33: error: duplicate tool 'file_read': it is already listed at 5:9; remove this entry
a.md:5:44: error: duplicate tool 'judge_agent': it is already listed at 5:20; remove this entry
",
        );
    }

    #[test]
    fn the_judge_sits_at_level_minus_one_and_calls_no_agent() {
        check(
            &[
                (
                    "judge.md",
                    "---\nname: judge_agent\nlevel: 2\ndescription: J.\ntools: [file_read, helper]\nrole: judge\n---\nJ.\n",
                ),
                (
                    "helper.md",
                    "---\nname: helper\nlevel: 1\ndescription: H.\ntools: [file_read, judge_agent]\n---\nH.\n",
                ),
            ],
            r"
helper.md:5:20: error: call cycle helper -> judge_agent -> helper: agents must form a pyramid without cycles; remove one of these calls
judge.md:3:8: error: 'judge_agent' must have level -1, not 2: every level may call the judge, so it sits below them all
judge.md:5:20: error: 'judge_agent' cannot call agents, but it lists 'helper': the judge only reads and runs code, so that every agent can call it
",
        );
    }

    #[test]
    fn any_level_may_call_the_judge_and_final_output_needs_no_listing() {
        check(
            &[
                JUDGE,
                (
                    "zero.md",
                    "---\nname: zero\nlevel: 0\ndescription: Z.\ntools: [judge_agent]\n---\nZ.\n",
                ),
                (
                    "top.md",
                    "---\nname: top\nlevel: 9\ndescription: T.\ntools: [zero, judge_agent, final_output]\n---\nT.\n",
                ),
            ],
            "",
        );
    }

    #[test]
    fn an_agent_named_like_a_basic_tool() {
        check(
            &[(
                "file_read.md",
                "---\nname: file_read\nlevel: 1\ndescription: F.\ntools: []\n---\nF.\n",
            )],
            "file_read.md:2:7: error: agent name 'file_read' is also a basic tool: rename the agent",
        );
    }
}
