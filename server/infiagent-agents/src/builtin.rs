//! The built-in agents, embedded from the repository's `agents/` folder.

/// Each built-in agent file: its path as shown to the user and its text.
pub static BUILTIN_AGENTS: &[(&str, &str)] = &[
    (
        "agents/code_builder_agent.md",
        include_str!("../../../agents/code_builder_agent.md"),
    ),
    (
        "agents/code_editor_agent.md",
        include_str!("../../../agents/code_editor_agent.md"),
    ),
    (
        "agents/judge_agent.md",
        include_str!("../../../agents/judge_agent.md"),
    ),
    (
        "agents/project_lead_agent.md",
        include_str!("../../../agents/project_lead_agent.md"),
    ),
    (
        "agents/project_planner_agent.md",
        include_str!("../../../agents/project_planner_agent.md"),
    ),
];

#[cfg(test)]
mod tests {
    use std::path::Path;

    use infiagent_tools::BASIC_TOOL_NAMES;

    use super::*;
    use crate::{DEFAULT_K_MAX, Origin, Registry, check_pyramid, parse_agent, problem_lines};

    fn builtin_registry() -> Registry {
        let definitions = BUILTIN_AGENTS
            .iter()
            .map(|(path, text)| {
                parse_agent(Path::new(path), text, Origin::Builtin).unwrap_or_else(|problems| {
                    panic!("{path} does not parse:\n{}", problem_lines(&problems))
                })
            })
            .collect();
        Registry::new(definitions)
    }

    #[test]
    fn every_builtin_parses_and_the_pyramid_passes_its_checks() {
        let registry = builtin_registry();
        assert_eq!(
            registry.len(),
            BUILTIN_AGENTS.len(),
            "two built-ins share a name"
        );
        let problems = check_pyramid(&registry, BASIC_TOOL_NAMES, &[], DEFAULT_K_MAX);
        assert!(problems.is_empty(), "{}", problem_lines(&problems));
    }

    #[test]
    fn builtin_paths_name_their_files() {
        let registry = builtin_registry();
        for (path, _) in BUILTIN_AGENTS {
            let file_stem = Path::new(path).file_stem().and_then(|stem| stem.to_str());
            let definition = file_stem.and_then(|name| registry.get(name));
            assert!(
                definition.is_some(),
                "{path} does not define the agent its file is named after"
            );
        }
    }
}
