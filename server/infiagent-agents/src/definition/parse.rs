//! Reading an agent file's fields from its YAML front matter and checking their values.

use std::path::Path;

use serde::Deserialize;
use serde_saphyr::{Location, MessageFormatter, Spanned, UserMessageFormatter};

use super::front_matter;
use infiagent_protocol::Role;

use super::{AgentDef, Audit, FieldPositions, Origin};
use crate::{Position, Problem, suggest};

/// The longest agent name: tool names of the usual function-calling APIs are at most 64.
const MAX_NAME_LENGTH: usize = 64;

/// Whether a front matter field must be present.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Presence {
    Required,
    Optional,
}

/// One front matter field: its key and what its value must be.
struct FieldSpec {
    key: &'static str,
    presence: Presence,
    expected: &'static str,
}

/// Every field an agent file may have, in the order they are documented.
const FIELDS: &[FieldSpec] = &[
    FieldSpec {
        key: "name",
        presence: Presence::Required,
        expected: "a name of 1 to 64 letters, digits, '_' or '-' (the tool name parents call the agent by)",
    },
    FieldSpec {
        key: "level",
        presence: Presence::Required,
        expected: "an integer: -1 for the judge, 1 for functional agents, higher for the agents that call them",
    },
    FieldSpec {
        key: "description",
        presence: Presence::Required,
        expected: "one paragraph saying what the agent does",
    },
    FieldSpec {
        key: "tools",
        presence: Presence::Required,
        expected: "a list of tool names, like `[file_read, judge_agent]`",
    },
    FieldSpec {
        key: "model",
        presence: Presence::Optional,
        expected: "the name of a model from the configuration",
    },
    FieldSpec {
        key: "max_steps",
        presence: Presence::Optional,
        expected: "a whole number of steps, at least 1",
    },
    FieldSpec {
        key: "audit",
        presence: Presence::Optional,
        expected: "`judge` or `none`",
    },
    FieldSpec {
        key: "candidates",
        presence: Presence::Optional,
        expected: "a list of model names from the configuration",
    },
    FieldSpec {
        key: "examples",
        presence: Presence::Optional,
        expected: "a list of example requests",
    },
    FieldSpec {
        key: "role",
        presence: Presence::Optional,
        expected: "one of `lead`, `planner`, `builder`, `editor`, `judge`",
    },
];

/// The front matter as YAML gives it. Every field is optional here so that all missing
/// required fields are reported together rather than only the first.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    name: Option<Spanned<String>>,
    level: Option<Spanned<i32>>,
    description: Option<Spanned<String>>,
    tools: Option<Spanned<Vec<Spanned<String>>>>,
    model: Option<Spanned<String>>,
    max_steps: Option<Spanned<u32>>,
    audit: Option<AuditField>,
    candidates: Option<Vec<Spanned<String>>>,
    examples: Option<Vec<String>>,
    role: Option<Role>,
}

/// The values `audit:` accepts.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum AuditField {
    Judge,
    None,
}

/// Problems found so far, as positions and messages in one file.
type Found = Vec<(Position, String)>;

/// The front matter split into lines, with where its keys are.
struct FrontMatterText<'a> {
    yaml: &'a str,
    line_offset: u32,
    keys: Vec<(&'a str, Position)>,
}

impl FrontMatterText<'_> {
    /// The file position of a location inside the YAML. The file's lines end at
    /// `\n` only, while the YAML parser also ends a line at a lone `\r`: the position
    /// is counted here from the parser's character offset when it is in the YAML.
    fn position(&self, location: Location) -> Position {
        let before = usize::try_from(location.span().offset())
            .ok()
            .and_then(|offset| {
                self.yaml
                    .char_indices()
                    .map(|(index, _)| index)
                    .chain(std::iter::once(self.yaml.len()))
                    .nth(offset)
            })
            .map(|end| &self.yaml[..end]);
        match before {
            Some(before) => {
                let line_start = before.rfind('\n').map_or(0, |index| index + 1);
                Position {
                    line: clamp_to_u32(before.matches('\n').count() as u64 + 1) + self.line_offset,
                    col: clamp_to_u32(before[line_start..].chars().count() as u64 + 1),
                }
            }
            None => Position {
                line: clamp_to_u32(location.line()).max(1) + self.line_offset,
                col: clamp_to_u32(location.column()).max(1),
            },
        }
    }

    /// Where `key:` is written, if it is at the start of a line.
    fn key_position(&self, key: &str) -> Option<Position> {
        self.keys
            .iter()
            .find(|(found_key, _)| *found_key == key)
            .map(|(_, position)| *position)
    }

    /// The top-level key whose value spans `position`: the last key at or above it.
    fn key_owning(&self, position: Position) -> Option<&str> {
        self.keys
            .iter()
            .take_while(|(_, key_position)| key_position.line <= position.line)
            .last()
            .map(|(key, _)| *key)
    }
}

/// Parses one agent file (see [`super::parse_agent`]).
pub(super) fn parse(path: &Path, text: &str, origin: Origin) -> Result<AgentDef, Vec<Problem>> {
    let sections = match front_matter::split(text) {
        Ok(sections) => sections,
        Err(error) => return Err(vec![problem(path, error.position, error.message)]),
    };
    let mut found = Found::new();
    let prompt = trim_blank_lines(sections.body);
    if prompt.is_empty() {
        found.push((
            Position {
                line: sections.closing_line,
                col: 1,
            },
            "the system prompt is empty: write the agent's instructions in Markdown below the \
             closing `---`"
                .to_owned(),
        ));
    }
    let front_matter_text = FrontMatterText {
        yaml: sections.yaml,
        line_offset: sections.yaml_line_offset,
        keys: front_matter::top_level_keys(sections.yaml, sections.yaml_line_offset),
    };
    let definition = read_front_matter(&front_matter_text, &mut found).and_then(|front_matter| {
        check_fields(front_matter, &front_matter_text, &mut found).map(|fields| AgentDef {
            name: fields.name,
            level: fields.level,
            description: fields.description,
            tools: fields.tools,
            model: fields.model,
            max_steps: fields.max_steps,
            audit: fields.audit,
            candidates: fields.candidates,
            examples: fields.examples,
            role: fields.role,
            prompt: prompt.to_owned(),
            origin,
            path: path.to_path_buf(),
            source: text.to_owned(),
            positions: fields.positions,
        })
    });
    match definition {
        Some(definition) if found.is_empty() => Ok(definition),
        _ => {
            let mut problems: Vec<Problem> = found
                .into_iter()
                .map(|(position, message)| problem(path, position, message))
                .collect();
            problems.sort();
            problems.dedup();
            Err(problems)
        }
    }
}

fn problem(path: &Path, position: Position, message: String) -> Problem {
    Problem {
        path: path.to_path_buf(),
        position,
        message,
    }
}

/// Deserializes the front matter, reporting YAML syntax errors, unknown fields and
/// values of the wrong type. Returns `None` when the fields could not be read.
fn read_front_matter(text: &FrontMatterText<'_>, found: &mut Found) -> Option<FrontMatter> {
    let file_start = Position { line: 1, col: 1 };
    let has_content = text.yaml.lines().any(|line| {
        let line = line.trim();
        !line.is_empty() && !line.starts_with('#')
    });
    if !has_content {
        found.push((
            file_start,
            "the front matter is empty: add the fields name, level, description and tools"
                .to_owned(),
        ));
        return None;
    }
    if let Err(error) = serde_saphyr::from_str::<serde::de::IgnoredAny>(text.yaml) {
        let message = match error.without_snippet() {
            serde_saphyr::Error::DuplicateMappingKey { key: Some(key), .. } => {
                format!("duplicate field '{key}': keep only one")
            }
            other => format!("invalid YAML in the front matter: {}", yaml_message(other)),
        };
        found.push((yaml_error_position(text, &error), message));
        return None;
    }
    let mut unknown_keys_found = false;
    for (key, position) in &text.keys {
        if field_spec(key).is_none() {
            unknown_keys_found = true;
            found.push((*position, unknown_field_message(key)));
        }
    }
    match serde_saphyr::from_str::<FrontMatter>(text.yaml) {
        Ok(front_matter) => Some(front_matter),
        Err(error) => {
            let position = yaml_error_position(text, &error);
            match error.without_snippet() {
                serde_saphyr::Error::SerdeUnknownField { .. } if unknown_keys_found => {}
                serde_saphyr::Error::SerdeUnknownField { field, .. } => {
                    found.push((position, unknown_field_message(field)));
                }
                other if text.keys.is_empty() => {
                    found.push((
                        position,
                        format!(
                            "the front matter must be fields written `key: value`, one per line, like `name: my_agent` ({})",
                            yaml_message(other)
                        ),
                    ));
                    return None;
                }
                other => {
                    let message = match text.key_owning(position).and_then(field_spec) {
                        Some(spec) => format!("'{}' must be {}", spec.key, spec.expected),
                        None => format!("invalid front matter: {}", yaml_message(other)),
                    };
                    found.push((position, message));
                }
            }
            for spec in FIELDS {
                if spec.presence == Presence::Required && text.key_position(spec.key).is_none() {
                    found.push((file_start, missing_field_message(spec)));
                }
            }
            None
        }
    }
}

/// The fields of a definition once every value has been checked.
struct Fields {
    name: String,
    level: i32,
    description: String,
    tools: Vec<String>,
    model: Option<String>,
    max_steps: Option<u32>,
    audit: Audit,
    candidates: Vec<String>,
    examples: Vec<String>,
    role: Option<Role>,
    positions: FieldPositions,
}

/// Checks the values YAML could read: required fields present, a valid name, a level
/// of at least -1, a non-empty description, `max_steps` of at least 1.
fn check_fields(
    front_matter: FrontMatter,
    text: &FrontMatterText<'_>,
    found: &mut Found,
) -> Option<Fields> {
    let name = required(front_matter.name, "name", text, found);
    let level = required(front_matter.level, "level", text, found);
    let description = required(front_matter.description, "description", text, found);
    let tools = required(front_matter.tools, "tools", text, found);

    if let Some(name) = &name
        && !is_valid_name(&name.value)
    {
        found.push((
            text.position(name.referenced),
            format!(
                "invalid name '{}': a name is 1 to {MAX_NAME_LENGTH} letters, digits, '_' or '-' (it is the tool name parents call the agent by)",
                name.value
            ),
        ));
    }
    if let Some(level) = &level
        && level.value < -1
    {
        found.push((
            text.position(level.referenced),
            format!(
                "invalid level {}: the lowest level is -1 (the judge); functional agents are 1",
                level.value
            ),
        ));
    }
    if let Some(description) = &description
        && description.value.trim().is_empty()
    {
        found.push((
            text.position(description.referenced),
            "'description' is empty: say in one paragraph what the agent does, for the agents that \
             call it and for the router"
                .to_owned(),
        ));
    }
    if let Some(max_steps) = &front_matter.max_steps
        && max_steps.value == 0
    {
        found.push((
            text.position(max_steps.referenced),
            "'max_steps' must be at least 1".to_owned(),
        ));
    }

    let (name, level, description, tools) = (name?, level?, description?, tools?);
    let tools_value_position = text.position(tools.referenced);
    let candidates = front_matter.candidates.unwrap_or_default();
    let positions = FieldPositions {
        name: text.position(name.referenced),
        level: text.position(level.referenced),
        tools_key: text.key_position("tools").unwrap_or(tools_value_position),
        tools: tools
            .value
            .iter()
            .map(|tool| text.position(tool.referenced))
            .collect(),
        model: front_matter
            .model
            .as_ref()
            .map(|model| text.position(model.referenced)),
        candidates: candidates
            .iter()
            .map(|candidate| text.position(candidate.referenced))
            .collect(),
    };
    Some(Fields {
        name: name.value,
        level: level.value,
        description: description.value.trim().to_owned(),
        tools: tools.value.into_iter().map(|tool| tool.value).collect(),
        model: front_matter.model.map(|model| model.value),
        max_steps: front_matter.max_steps.map(|max_steps| max_steps.value),
        audit: match front_matter.audit {
            None | Some(AuditField::None) => Audit::None,
            Some(AuditField::Judge) => Audit::Judge,
        },
        candidates: candidates
            .into_iter()
            .map(|candidate| candidate.value)
            .collect(),
        examples: front_matter.examples.unwrap_or_default(),
        role: front_matter.role,
        positions,
    })
}

/// A required field's value, or a problem saying it is missing or empty.
fn required<T>(
    value: Option<T>,
    key: &str,
    text: &FrontMatterText<'_>,
    found: &mut Found,
) -> Option<T> {
    if value.is_none()
        && let Some(spec) = field_spec(key)
    {
        match text.key_position(key) {
            Some(position) => found.push((
                position,
                format!("'{key}' has no value: it must be {}", spec.expected),
            )),
            None => found.push((Position { line: 1, col: 1 }, missing_field_message(spec))),
        }
    }
    value
}

fn field_spec(key: &str) -> Option<&'static FieldSpec> {
    FIELDS.iter().find(|spec| spec.key == key)
}

fn missing_field_message(spec: &FieldSpec) -> String {
    format!(
        "missing field '{}': it must be {}; every agent needs name, level, description and tools",
        spec.key, spec.expected
    )
}

fn unknown_field_message(key: &str) -> String {
    let known: Vec<&str> = FIELDS.iter().map(|spec| spec.key).collect();
    let suggestion = suggest::closest(key, known.iter().copied())
        .map(|closest| format!(" (did you mean '{closest}'?)"))
        .unwrap_or_default();
    format!(
        "unknown field '{key}'{suggestion}; the fields are {}",
        known.join(", ")
    )
}

fn is_valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LENGTH).contains(&name.len())
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

fn yaml_error_position(text: &FrontMatterText<'_>, error: &serde_saphyr::Error) -> Position {
    match error.location() {
        Some(location) => text.position(location),
        None => Position {
            line: 1 + text.line_offset,
            col: 1,
        },
    }
}

/// The parser's message without its location suffix, with control characters escaped.
fn yaml_message(error: &serde_saphyr::Error) -> String {
    let mut message = String::new();
    for character in UserMessageFormatter.format_message(error).chars() {
        if character.is_control() {
            message.extend(character.escape_default());
        } else {
            message.push(character);
        }
    }
    message
}

fn clamp_to_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// The body without its leading and trailing blank lines.
fn trim_blank_lines(body: &str) -> &str {
    let body = body.trim_end();
    let leading_blank_length: usize = body
        .split_inclusive('\n')
        .take_while(|line| line.trim().is_empty())
        .map(str::len)
        .sum();
    &body[leading_blank_length..]
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::{
        AgentDef, Audit, FieldPositions, Origin, Position, Role, parse_agent, problem_lines,
    };

    fn position(line: u32, col: u32) -> Position {
        Position { line, col }
    }

    fn parse_ok(text: &str) -> AgentDef {
        parse_agent(Path::new("agents/a.md"), text, Origin::Builtin)
            .unwrap_or_else(|problems| panic!("{}", problem_lines(&problems)))
    }

    /// Parses `text` as `x.md` and compares its problems, one `Display` line each.
    fn check(text: &str, expected: &str) {
        let problems = match parse_agent(Path::new("x.md"), text, Origin::Workspace) {
            Ok(definition) => panic!("{text:?} parsed: {definition:?}"),
            Err(problems) => problems,
        };
        assert_eq!(problem_lines(&problems), expected.trim(), "for {text:?}");
    }

    #[test]
    fn parses_flow_lists_and_every_field() {
        let text = r"---
name: code_builder_agent
level: 1
description: Writes one script from its design, runs it, and fixes it until it works.
tools: [file_read, 'execute_code', judge_agent]
model: strong
max_steps: 30
audit: judge
candidates: [fast, strong]
examples:
  - build train.py from its design
role: builder
---

Build {task_id}.

Then stop.

";
        let definition = parse_ok(text);
        assert_eq!(
            definition,
            AgentDef {
                name: "code_builder_agent".to_owned(),
                level: 1,
                description:
                    "Writes one script from its design, runs it, and fixes it until it works."
                        .to_owned(),
                tools: vec![
                    "file_read".to_owned(),
                    "execute_code".to_owned(),
                    "judge_agent".to_owned()
                ],
                model: Some("strong".to_owned()),
                max_steps: Some(30),
                audit: Audit::Judge,
                candidates: vec!["fast".to_owned(), "strong".to_owned()],
                examples: vec!["build train.py from its design".to_owned()],
                role: Some(Role::Builder),
                prompt: "Build {task_id}.\n\nThen stop.".to_owned(),
                origin: Origin::Builtin,
                path: "agents/a.md".into(),
                source: text.to_owned(),
                positions: FieldPositions {
                    name: position(2, 7),
                    level: position(3, 8),
                    tools_key: position(5, 1),
                    tools: vec![position(5, 9), position(5, 20), position(5, 36)],
                    model: Some(position(6, 8)),
                    candidates: vec![position(9, 14), position(9, 20)],
                },
            }
        );
    }

    #[test]
    fn parses_block_lists_and_defaults() {
        let text = "---\r\n# The judge.\r\nname: judge_agent\r\nlevel: -1\r\ndescription: >\r\n  Checks a result.\r\ntools:\r\n  - file_read\r\n  -   dir_list\r\n---\r\n  Judge {task_id}.\r\n";
        let definition = parse_ok(text);
        assert_eq!(definition.name, "judge_agent");
        assert_eq!(definition.level, -1);
        assert_eq!(definition.description, "Checks a result.");
        assert_eq!(definition.tools, ["file_read", "dir_list"]);
        assert_eq!((definition.model, definition.max_steps), (None, None));
        assert_eq!(definition.audit, Audit::None);
        assert!(definition.candidates.is_empty() && definition.examples.is_empty());
        assert_eq!(definition.prompt, "  Judge {task_id}.");
        assert_eq!(
            definition.positions,
            FieldPositions {
                name: position(3, 7),
                level: position(4, 8),
                tools_key: position(7, 1),
                tools: vec![position(8, 5), position(9, 7)],
                model: None,
                candidates: Vec::new(),
            }
        );
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let text = "---\nname: a\nlevel: 1\ndescription: Écrit « un » script.\ntools: [été, b]\n---\nBody.\n";
        let definition = parse_ok(text);
        assert_eq!(
            definition.positions.tools,
            [position(5, 9), position(5, 14)]
        );
    }

    #[test]
    fn an_empty_tool_list_is_allowed() {
        let definition =
            parse_ok("---\nname: a\nlevel: 1\ndescription: d\ntools: []\n---\nBody.\n");
        assert!(definition.tools.is_empty());
        assert_eq!(definition.positions.tools_key, position(5, 1));
    }

    #[test]
    fn missing_front_matter() {
        check(
            "# Builder\n\nname: a\n",
            "x.md:1:1: error: missing front matter: the file must start with a line `---`, then the fields (name, level, description, tools), then a line `---`, then the system prompt",
        );
    }

    #[test]
    fn unterminated_front_matter() {
        check(
            "---\nname: a\nlevel: 1\n",
            "x.md:4:1: error: unterminated front matter: the fields opened by `---` on line 1 need a closing line `---` before the system prompt",
        );
    }

    #[test]
    fn yaml_syntax_errors_point_at_their_file_position() {
        check(
            "---\nname: a\nlevel: 1\ndescription: d\ntools: [a, b\n---\nBody.\n",
            "x.md:5:8: error: invalid YAML in the front matter: unclosed bracket '['",
        );
        check(
            "---\nname: a\nlevel: 1\ndescription: d\ntools:\n  - a\n - b\n---\nBody.\n",
            "x.md:7:2: error: invalid YAML in the front matter: while parsing a block mapping, did not find expected key",
        );
        check(
            "---\nname: a\n  level: 1\n---\nBody.\n",
            "x.md:3:8: error: invalid YAML in the front matter: mapping values are not allowed in this context",
        );
        check(
            "---\nname: a\nlevel: 1\nname: b\n---\nBody.\n",
            "x.md:4:1: error: duplicate field 'name': keep only one",
        );
    }

    #[test]
    fn unknown_fields_are_all_reported() {
        check(
            "---\nname: a\nlevel: 1\ndescription: d\ntoolz: [a]\nmodle: strong\n---\nBody.\n",
            r"
x.md:1:1: error: missing field 'tools': it must be a list of tool names, like `[file_read, judge_agent]`; every agent needs name, level, description and tools
x.md:5:1: error: unknown field 'toolz' (did you mean 'tools'?); the fields are name, level, description, tools, model, max_steps, audit, candidates, examples, role
x.md:6:1: error: unknown field 'modle' (did you mean 'model'?); the fields are name, level, description, tools, model, max_steps, audit, candidates, examples, role
",
        );
    }

    #[test]
    fn an_unknown_field_the_line_scan_cannot_see_is_still_reported() {
        check(
            "---\nname: a\nlevel: 1\ndescription: d\ntools: [a]\n\"notes\": x\n---\nBody.\n",
            "x.md:6:1: error: unknown field 'notes'; the fields are name, level, description, tools, model, max_steps, audit, candidates, examples, role",
        );
    }

    #[test]
    fn missing_fields_are_all_reported() {
        check(
            "---\nlevel: 1\ntools: [a]\n---\nBody.\n",
            r"
x.md:1:1: error: missing field 'description': it must be one paragraph saying what the agent does; every agent needs name, level, description and tools
x.md:1:1: error: missing field 'name': it must be a name of 1 to 64 letters, digits, '_' or '-' (the tool name parents call the agent by); every agent needs name, level, description and tools
",
        );
        check(
            "---\nname: a\nlevel: 1\ndescription: d\ntools:\n---\nBody.\n",
            "x.md:5:1: error: 'tools' has no value: it must be a list of tool names, like `[file_read, judge_agent]`",
        );
        check(
            "---\n# nothing yet\n---\nBody.\n",
            "x.md:1:1: error: the front matter is empty: add the fields name, level, description and tools",
        );
    }

    #[test]
    fn wrong_types_point_at_their_value() {
        check(
            "---\nname: a\nlevel: high\ndescription: d\ntools: [a]\n---\nBody.\n",
            "x.md:3:8: error: 'level' must be an integer: -1 for the judge, 1 for functional agents, higher for the agents that call them",
        );
        check(
            "---\nname: a\nlevel: 1\ndescription: d\ntools: file_read\n---\nBody.\n",
            "x.md:5:8: error: 'tools' must be a list of tool names, like `[file_read, judge_agent]`",
        );
        check(
            "---\nname: a\nlevel: 1\ndescription: d\ntools:\n  - a\n  - [b]\n---\nBody.\n",
            "x.md:7:5: error: 'tools' must be a list of tool names, like `[file_read, judge_agent]`",
        );
        check(
            "---\nname: a\nlevel: 1\ndescription: d\ntools: [a]\naudit: yes\n---\nBody.\n",
            "x.md:6:8: error: 'audit' must be `judge` or `none`",
        );
        check(
            "---\nname: a\nlevel: 1\ndescription: d\ntools: [a]\nrole: boss\n---\nBody.\n",
            "x.md:6:7: error: 'role' must be one of `lead`, `planner`, `builder`, `editor`, `judge`",
        );
        check(
            "---\nname: a\nlevel: 1\ndescription: d\ntools: [a]\nmax_steps: -3\n---\nBody.\n",
            "x.md:6:12: error: 'max_steps' must be a whole number of steps, at least 1",
        );
        check(
            "---\n- name: a\n---\nBody.\n",
            "x.md:2:1: error: the front matter must be fields written `key: value`, one per line, like `name: my_agent` (expected mapping start)",
        );
    }

    #[test]
    fn a_lone_carriage_return_does_not_start_a_line() {
        // Found by fuzzing (`fuzz/`, target `agent_front_matter`): the YAML parser
        // ends a line at a lone `\r`, the file does not, so positions pointed past
        // the end of their line.
        check(
            "---\n\r--- .\n---",
            r"
x.md:2:6: error: the front matter must be fields written `key: value`, one per line, like `name: my_agent` (expected mapping start)
x.md:3:1: error: the system prompt is empty: write the agent's instructions in Markdown below the closing `---`
",
        );
        check(
            "---\nname: a\rtools: [b\n---\nBody.\n",
            "x.md:2:16: error: invalid YAML in the front matter: unclosed bracket '['",
        );
    }

    #[test]
    fn empty_body() {
        check(
            "---\nname: a\nlevel: 1\ndescription: d\ntools: [a]\n---\n\n  \n",
            "x.md:6:1: error: the system prompt is empty: write the agent's instructions in Markdown below the closing `---`",
        );
    }

    #[test]
    fn bad_name() {
        check(
            "---\nname: my agent\nlevel: 1\ndescription: d\ntools: [a]\n---\nBody.\n",
            "x.md:2:7: error: invalid name 'my agent': a name is 1 to 64 letters, digits, '_' or '-' (it is the tool name parents call the agent by)",
        );
        let long_name = "a".repeat(65);
        check(
            &format!("---\nname: {long_name}\nlevel: 1\ndescription: d\ntools: [a]\n---\nBody.\n"),
            &format!(
                "x.md:2:7: error: invalid name '{long_name}': a name is 1 to 64 letters, digits, '_' or '-' (it is the tool name parents call the agent by)"
            ),
        );
    }

    #[test]
    fn every_value_problem_is_reported_at_once() {
        check(
            "---\nname: ''\nlevel: -2\ndescription: '  '\ntools: [a]\nmax_steps: 0\n---\n",
            r"
x.md:2:7: error: invalid name '': a name is 1 to 64 letters, digits, '_' or '-' (it is the tool name parents call the agent by)
x.md:3:8: error: invalid level -2: the lowest level is -1 (the judge); functional agents are 1
x.md:4:14: error: 'description' is empty: say in one paragraph what the agent does, for the agents that call it and for the router
x.md:6:12: error: 'max_steps' must be at least 1
x.md:7:1: error: the system prompt is empty: write the agent's instructions in Markdown below the closing `---`
",
        );
    }

    #[test]
    fn a_type_error_does_not_hide_an_empty_body_or_unknown_fields() {
        check(
            "---\nname: a\nlevel: high\ndescription: d\ntools: [a]\nnotes: x\n---\n",
            r"
x.md:3:8: error: 'level' must be an integer: -1 for the judge, 1 for functional agents, higher for the agents that call them
x.md:6:1: error: unknown field 'notes'; the fields are name, level, description, tools, model, max_steps, audit, candidates, examples, role
x.md:7:1: error: the system prompt is empty: write the agent's instructions in Markdown below the closing `---`
",
        );
    }
}
