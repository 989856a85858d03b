//! The basic tools in one table: each entry is the tool as the model sees it
//! (name, description, JSON schema), the parser of its arguments and its code.
//!
//! Each tool's arguments are a `#[serde(deny_unknown_fields)]` struct beside its
//! code; the schema here must match it (a unit test checks the two agree). Any
//! argument error comes back to the model with the schema quoted.

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::edit::FileEditArgs;
use crate::files::{DirCreateArgs, DirListArgs, FileMoveArgs, FileReadArgs, FileWriteArgs};
use crate::process::{ExecuteCodeArgs, ExecuteShellArgs};
use crate::python::PipInstallArgs;
use crate::search::SearchArgs;
use crate::symbols::SymbolsArgs;
use crate::{ToolContext, ToolOutput, edit, files, process, python, search, symbols};

/// What a tool returns inside the crate: `Err` holds the message of a failed call.
pub(crate) type ToolResult = Result<ToolOutput, String>;

/// A tool's code: its raw arguments parsed, then run.
type Handler =
    for<'a> fn(&'a str, &'a ToolContext) -> Pin<Box<dyn Future<Output = ToolResult> + Send + 'a>>;

/// A basic tool: as offered to the model, and its code.
#[derive(Clone)]
pub struct ToolDef {
    /// The tool's name, as the model calls it.
    pub name: &'static str,
    /// What the tool does, written for the model.
    pub description: &'static str,
    /// The JSON schema of the tool's arguments (an object).
    pub parameters: Value,
    /// Checks raw arguments against the tool's argument struct (the tests check
    /// every schema against it).
    #[cfg(test)]
    parse: fn(&str) -> Result<(), String>,
    /// Parses the arguments and runs the tool.
    run: Handler,
}

impl std::fmt::Debug for ToolDef {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ToolDef")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// An entry of the table: the tool `$name` whose arguments are `$args` and whose
/// code is `$code`.
macro_rules! basic_tool {
    ($name:literal, $args:ty, $code:path, $description:expr, $parameters:expr $(,)?) => {
        ToolDef {
            name: $name,
            description: $description,
            parameters: $parameters,
            #[cfg(test)]
            parse: |arguments| parse_arguments::<$args>($name, arguments).map(drop),
            run: |arguments, ctx| {
                Box::pin(
                    async move { $code(parse_arguments::<$args>($name, arguments)?, ctx).await },
                )
            },
        }
    };
}

/// The table, built once.
static TOOLS: LazyLock<Vec<ToolDef>> = LazyLock::new(tool_defs);

/// The names of the basic tools, in the order [`tool_defs`] lists them.
pub const BASIC_TOOL_NAMES: &[&str] = &[
    "file_read",
    "file_write",
    "file_edit",
    "search",
    "symbols",
    "dir_list",
    "dir_create",
    "file_move",
    "execute_code",
    "execute_shell",
    "pip_install",
];

/// The basic tools' definitions, to offer to a model.
pub fn tool_defs() -> Vec<ToolDef> {
    let path = |what: &str| json!({"type": "string", "description": format!("{what}, relative to the workspace root.")});
    let timeout = json!({
        "type": "integer", "minimum": 1, "maximum": 3600,
        "description": "Seconds before the process and its children are killed."
    });
    vec![
        basic_tool!(
            "file_read",
            FileReadArgs,
            files::file_read,
            "Read a UTF-8 text file of the workspace: a header with the lines shown and the total, then each line \
                after its number and a tab (the numbers are not part of the file: never copy them into file_edit). At most \
                2000 lines or 100 KB per call; read a large file in parts with offset/limit, or find the part with search or \
                symbols first. Shows the editor's unsaved text when the file is open there.",
            object(
                json!({
                    "path": path("File to read"),
                    "offset": {"type": "integer", "minimum": 1, "description": "First line to return (1-based; default 1)."},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 2000, "description": "How many lines to return (default and most: 2000)."}
                }),
                &["path"],
            ),
        ),
        basic_tool!(
            "file_write",
            FileWriteArgs,
            files::file_write,
            "Create or replace a text file of the workspace with the given content (the whole file). \
                Missing parent directories are created. Files under .git/ and .infiagent/ cannot be written.",
            object(
                json!({
                    "path": path("File to write"),
                    "content": {"type": "string", "description": "The complete new content of the file."}
                }),
                &["path", "content"],
            ),
        ),
        basic_tool!(
            "file_edit",
            FileEditArgs,
            edit::file_edit,
            "Change an existing text file in place with exact replacements: each `old` must match the file's text \
                exactly (copied from file_read without the line numbers, with its indentation) and exactly once, unless \
                replace_all is true; include a few surrounding lines to make it unique. All edits apply, in order, or none \
                does. Returns the unified diff applied. Use file_write only for new files or complete rewrites.",
            object(
                json!({
                    "path": path("File to change"),
                    "edits": {
                        "type": "array", "minItems": 1,
                        "items": {
                            "type": "object",
                            "properties": {
                                "old": {"type": "string", "description": "The exact text to replace."},
                                "new": {"type": "string", "description": "The text to put in its place."},
                                "replace_all": {"type": "boolean", "description": "Replace every occurrence (default false: old must occur once)."}
                            },
                            "required": ["old", "new"],
                            "additionalProperties": false
                        }
                    }
                }),
                &["path", "edits"],
            ),
        ),
        basic_tool!(
            "search",
            SearchArgs,
            search::search,
            "Search the workspace's files for a regular expression (Rust regex syntax) or, with literal, exact text. \
                Files ignored by .gitignore, hidden files and binary files are skipped. Returns `path:line:text` for each \
                matching line (`path-line-text` for context lines), then the number of matches. Search before you read: \
                then read only the lines you need with file_read offset/limit.",
            object(
                json!({
                    "pattern": {"type": "string", "description": "The regular expression, or the text with literal."},
                    "literal": {"type": "boolean", "description": "Search for the exact text (default false)."},
                    "case_insensitive": {"type": "boolean", "description": "Ignore case (default false)."},
                    "path": path("Folder or file to search in (default: the whole workspace)"),
                    "glob": {"type": "string", "description": "Only files whose path matches this glob, like \"*.rs\" or \"src/**/*.ts\"; \"!glob\" excludes."},
                    "context": {"type": "integer", "minimum": 0, "maximum": 5, "description": "Lines of context before and after each match (default 0)."},
                    "max_matches": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "Most matches to return (default 100)."}
                }),
                &["pattern"],
            ),
        ),
        basic_tool!(
            "symbols",
            SymbolsArgs,
            symbols::symbols,
            "Look up code in the workspace's index without reading files: with name, where it is defined (file:line, \
                kind, signature) and which files use it; with path alone, the outline of that file (its definitions and \
                their lines); with both, the definitions of name inside path.",
            object(
                json!({
                    "name": {"type": "string", "description": "A function, type, class, method or constant name."},
                    "path": path("A file (for its outline) or folder (to narrow a name)")
                }),
                &[],
            ),
        ),
        basic_tool!(
            "dir_list",
            DirListArgs,
            files::dir_list,
            "List a directory of the workspace: one workspace-relative path a line, sorted; directories end with '/', \
                files show their size, symbolic links their target. depth 2 or 3 also lists subdirectories. Skips .git and .infiagent.",
            object(
                json!({
                    "path": path("Directory to list (default: the workspace root)"),
                    "depth": {"type": "integer", "minimum": 1, "maximum": 3, "description": "Levels to list (default 1)."}
                }),
                &[],
            ),
        ),
        basic_tool!(
            "dir_create",
            DirCreateArgs,
            files::dir_create,
            "Create a directory of the workspace, with any missing parents.",
            object(json!({"path": path("Directory to create")}), &["path"]),
        ),
        basic_tool!(
            "file_move",
            FileMoveArgs,
            files::file_move,
            "Move or rename a file or directory inside the workspace. Refuses to replace an existing destination \
                unless overwrite is true.",
            object(
                json!({
                    "source": path("File or directory to move"),
                    "destination": path("New path"),
                    "overwrite": {"type": "boolean", "description": "Replace an existing destination (default false)."}
                }),
                &["source", "destination"],
            ),
        ),
        basic_tool!(
            "execute_code",
            ExecuteCodeArgs,
            process::execute_code,
            "Run a script file of the workspace: .py with Python (the workspace's virtual environment once \
                pip_install created it), .js/.mjs/.cjs with Node.js, .sh with bash. Runs in the workspace root and returns \
                the exit code, stdout and stderr (long output is cut in the middle).",
            object(
                json!({
                    "path": path("Script to run"),
                    "args": {"type": "array", "items": {"type": "string"}, "description": "Command-line arguments for the script."},
                    "stdin": {"type": "string", "description": "Text given to the script on standard input."},
                    "timeout_seconds": timeout
                }),
                &["path"],
            ),
        ),
        basic_tool!(
            "execute_shell",
            ExecuteShellArgs,
            process::execute_shell,
            "Run a bash command line in the workspace root, once the user approves it. Returns the exit code, \
                stdout and stderr (long output is cut in the middle). Background processes are killed when the command ends.",
            object(
                json!({
                    "command": {"type": "string", "description": "The command line, run with `bash -c`."},
                    "timeout_seconds": timeout
                }),
                &["command"],
            ),
        ),
        basic_tool!(
            "pip_install",
            PipInstallArgs,
            python::pip_install,
            "Install Python packages into the workspace's virtual environment (created on first use), once the \
                user approves. execute_code and execute_shell then use that environment.",
            object(
                json!({
                    "packages": {
                        "type": "array", "minItems": 1, "items": {"type": "string"},
                        "description": "Requirements such as \"numpy\" or \"pandas>=2.0\"; no options, paths or URLs."
                    }
                }),
                &["packages"],
            ),
        ),
    ]
}

/// A JSON schema object with `properties`, of which `required` must be given.
fn object(properties: Value, required: &[&str]) -> Value {
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

/// Runs the basic tool `name` with the model's raw JSON `arguments`.
pub(crate) async fn dispatch(name: &str, arguments: &str, ctx: &ToolContext) -> ToolOutput {
    let result = match TOOLS.iter().find(|tool| tool.name == name) {
        Some(tool) => (tool.run)(arguments, ctx).await,
        None => Err(unknown_tool(name)),
    };
    result.unwrap_or_else(|message| {
        tracing::debug!(tool = name, %message, "tool call failed");
        ToolOutput::error(message)
    })
}

fn unknown_tool(name: &str) -> String {
    format!(
        "there is no tool named '{name}'; the available tools are {}",
        BASIC_TOOL_NAMES.join(", ")
    )
}

/// Parses `arguments` (empty text counts as `{}`) or explains what is wrong and
/// quotes the schema.
fn parse_arguments<A: DeserializeOwned>(name: &str, arguments: &str) -> Result<A, String> {
    let arguments = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    let parsed = match serde_json::from_str::<Value>(arguments) {
        Ok(object @ Value::Object(_)) => {
            serde_json::from_value(object).map_err(|error| error.to_string())
        }
        Ok(other) => Err(format!("expected a JSON object, got {other}")),
        Err(error) => Err(format!("the arguments are not valid JSON ({error})")),
    };
    parsed.map_err(|problem| {
        let schema = TOOLS
            .iter()
            .find(|def| def.name == name)
            .map(|def| def.parameters.to_string())
            .unwrap_or_default();
        format!(
            "invalid arguments for {name}: {problem}. The arguments must be a JSON object with this schema: {schema}"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value of the schema's type, for the sync check.
    fn sample(schema: &Value) -> Value {
        match schema["type"].as_str() {
            Some("string") => json!("x"),
            Some("integer") => json!(1),
            Some("boolean") => json!(true),
            Some("array") => json!([sample(&schema["items"])]),
            Some("object") => {
                let properties = schema["properties"].as_object().unwrap();
                Value::Object(
                    properties
                        .iter()
                        .map(|(field, schema)| (field.clone(), sample(schema)))
                        .collect(),
                )
            }
            other => panic!("no sample for type {other:?}"),
        }
    }

    /// Parses `arguments` for the tool `name` without running it.
    fn parse_call(name: &str, arguments: &str) -> Result<(), String> {
        match TOOLS.iter().find(|tool| tool.name == name) {
            Some(tool) => (tool.parse)(arguments),
            None => Err(unknown_tool(name)),
        }
    }

    fn check_parses(name: &str, arguments: &Value) {
        if let Err(message) = parse_call(name, &arguments.to_string()) {
            panic!("{name} {arguments}: {message}");
        }
    }

    #[test]
    fn schemas_and_argument_structs_agree() {
        let defs = tool_defs();
        let names: Vec<&str> = defs.iter().map(|def| def.name).collect();
        assert_eq!(names, BASIC_TOOL_NAMES);
        for def in &defs {
            let properties = def.parameters["properties"].as_object().unwrap();
            let required: Vec<&str> = def.parameters["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|name| name.as_str().unwrap())
                .collect();
            let required_only: serde_json::Map<String, Value> = required
                .iter()
                .map(|field| (field.to_string(), sample(&properties[*field])))
                .collect();
            check_parses(def.name, &Value::Object(required_only.clone()));
            let every_field: serde_json::Map<String, Value> = properties
                .iter()
                .map(|(field, schema)| (field.clone(), sample(schema)))
                .collect();
            check_parses(def.name, &Value::Object(every_field));
            for missing in &required {
                let mut arguments = required_only.clone();
                arguments.remove(*missing);
                assert!(
                    parse_call(def.name, &Value::Object(arguments).to_string()).is_err(),
                    "{} accepts arguments without {missing}",
                    def.name
                );
            }
        }
    }

    #[test]
    fn tool_definitions_snapshot() {
        let defs: Vec<Value> = tool_defs()
            .into_iter()
            .map(|def| json!({"name": def.name, "description": def.description, "parameters": def.parameters}))
            .collect();
        insta::assert_json_snapshot!(defs);
    }

    #[test]
    fn argument_errors_name_the_problem_and_quote_the_schema() {
        let check = |name: &str, arguments: &str, problem: &str| {
            let Err(message) = parse_call(name, arguments) else {
                panic!("{name} accepted {arguments}");
            };
            assert!(message.contains(problem), "{message}");
            assert!(
                message.contains("The arguments must be a JSON object with this schema: {")
                    && message.contains(r#""additionalProperties":false"#),
                "{message}"
            );
        };
        check("file_read", "{}", "missing field `path`");
        check(
            "file_read",
            r#"{"path": 3}"#,
            "invalid type: integer `3`, expected a string",
        );
        check(
            "file_read",
            r#"{"path": "a", "mode": "r"}"#,
            "unknown field `mode`",
        );
        check(
            "file_read",
            r#"{"path": "a""#,
            "invalid arguments for file_read: the arguments are not valid JSON (EOF",
        );
        check(
            "file_read",
            r#"{"path": "a", "offset": -1}"#,
            "invalid value: integer `-1`",
        );
        check(
            "pip_install",
            r#"{"packages": "numpy"}"#,
            "expected a sequence",
        );
        check(
            "dir_list",
            r#"["a", 2]"#,
            "expected a JSON object, got [\"a\",2]",
        );
    }

    #[test]
    fn empty_arguments_count_as_an_empty_object() {
        assert_eq!(parse_call("dir_list", " "), Ok(()));
    }

    #[test]
    fn unknown_tools_list_the_basic_tools() {
        let Err(message) = parse_call("file_delete", "{}") else {
            panic!("file_delete was accepted");
        };
        insta::assert_snapshot!(message, @"there is no tool named 'file_delete'; the available tools are file_read, file_write, file_edit, search, symbols, dir_list, dir_create, file_move, execute_code, execute_shell, pip_install");
    }
}
