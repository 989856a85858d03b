//! The scripted judge's reading of a script against its design file: every
//! function the design's `## Functions` section lists must be defined in the
//! script, and must raise what the design says it raises.
//!
//! The check reads real files: the design the planner wrote and the script the
//! builder wrote. A finding points at the line of the function concerned.

use infiagent_protocol::{Finding, Severity};

/// The script a design describes: its `# Design: <script>` title.
pub(crate) fn designed_script(design: &str) -> Option<&str> {
    design
        .lines()
        .next()?
        .strip_prefix("# Design: ")
        .map(str::trim)
        .filter(|script| !script.is_empty())
}

/// The design file of a script, by the planner's naming rule.
pub(crate) fn design_path_of(script: &str) -> String {
    let name = script.rsplit('/').next().unwrap_or(script);
    let stem = name.strip_suffix(".py").unwrap_or(name);
    format!("project_designs/project_design_{stem}.md")
}

/// Whether `path` is a design file of one script (not the summary).
pub(crate) fn is_script_design(path: &str) -> bool {
    path.starts_with("project_designs/project_design_")
        && path.ends_with(".md")
        && !path.ends_with("_summary.md")
}

/// What the script at `script_path` lacks of what the design at `design_path` asks.
pub(crate) fn check(
    design_path: &str,
    design: &str,
    script_path: &str,
    script: &str,
) -> Vec<Finding> {
    let lines: Vec<&str> = script.lines().collect();
    let mut findings = Vec::new();
    for function in required_functions(design) {
        let Some(def_index) = lines
            .iter()
            .position(|line| line.starts_with(&format!("def {}(", function.name)))
        else {
            findings.push(Finding {
                path: script_path.to_string(),
                line: None,
                severity: Severity::Error,
                message: format!(
                    "`{}` is missing: `{design_path}` asks for `{}`; add it.",
                    function.name, function.signature
                ),
            });
            continue;
        };
        let Some(raise) = &function.raises else {
            continue;
        };
        let body = lines[def_index + 1..]
            .iter()
            .take_while(|line| line.is_empty() || line.starts_with(char::is_whitespace));
        let raises = body.into_iter().any(|line| {
            line.trim_start()
                .starts_with(&format!("raise {}", raise.name))
        });
        if !raises {
            findings.push(Finding {
                path: script_path.to_string(),
                line: u32::try_from(def_index + 1).ok(),
                severity: Severity::Error,
                message: format!(
                    "`{name}` must raise `{call}` {condition}, as `{design_path}` says, but it never raises `{exception}`: add that check.",
                    name = function.name,
                    call = raise.call,
                    condition = raise.condition,
                    exception = raise.name,
                ),
            });
        }
    }
    findings
}

/// The names of the functions a design lists.
pub(crate) fn function_names(design: &str) -> Vec<String> {
    required_functions(design)
        .into_iter()
        .map(|function| function.name)
        .collect()
}

/// One function a design asks for.
struct RequiredFunction {
    name: String,
    /// As the design writes it, e.g. `mean(values: list[float]) -> float`.
    signature: String,
    raises: Option<RequiredRaise>,
}

/// An exception a function must raise, e.g. `ValueError("empty list")` when
/// `values` is empty.
struct RequiredRaise {
    /// `ValueError("empty list")`.
    call: String,
    /// `ValueError`.
    name: String,
    /// `when `values` is empty`.
    condition: String,
}

/// The `- `name(...)`: ...` lines of the design's `## Functions` section.
fn required_functions(design: &str) -> Vec<RequiredFunction> {
    design
        .split("\n## Functions\n")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .take_while(|line| !line.starts_with("## "))
        .filter_map(|line| line.strip_prefix("- `"))
        .filter_map(|rest| {
            let (signature, description) = rest.split_once('`')?;
            let name = signature.split('(').next()?.trim();
            if name.is_empty() || !signature.contains('(') {
                return None;
            }
            Some(RequiredFunction {
                name: name.to_string(),
                signature: signature.to_string(),
                raises: required_raise(description),
            })
        })
        .collect()
}

fn required_raise(description: &str) -> Option<RequiredRaise> {
    let (_, after) = description.split_once("raises `")?;
    let (call, condition) = after.split_once('`')?;
    let name = call.split('(').next()?.trim();
    let condition = condition
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .trim_end_matches('.');
    Some(RequiredRaise {
        call: call.to_string(),
        name: name.to_string(),
        condition: condition.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files;

    const DESIGN: &str = "project_designs/project_design_numstats.md";

    fn check_script(script: &str) -> Vec<(Option<u32>, String)> {
        check(DESIGN, files::DESIGN_NUMSTATS, "numstats.py", script)
            .into_iter()
            .map(|finding| (finding.line, finding.message))
            .collect()
    }

    #[test]
    fn the_final_script_meets_its_design() {
        assert_eq!(check_script(files::NUMSTATS), []);
        assert_eq!(
            check(
                "project_designs/project_design_textstats.md",
                files::DESIGN_TEXTSTATS,
                "textstats.py",
                files::TEXTSTATS
            ),
            []
        );
    }

    #[test]
    fn the_second_script_misses_the_empty_list_check_of_mean() {
        insta::assert_debug_snapshot!(check_script(files::NUMSTATS_SECOND), @r#"
        [
            (
                Some(
                    4,
                ),
                "`mean` must raise `ValueError(\"empty list\")` when `values` is empty, as `project_designs/project_design_numstats.md` says, but it never raises `ValueError`: add that check.",
            ),
        ]
        "#);
    }

    #[test]
    fn a_missing_function_is_found() {
        let script = "def mean(values):\n    if not values:\n        raise ValueError('empty list')\n    return 0\n";
        assert_eq!(
            check_script(script),
            [(
                None,
                "`median` is missing: `project_designs/project_design_numstats.md` asks for `median(values: list[float]) -> float`; add it.".to_string()
            )]
        );
    }

    #[test]
    fn a_raise_outside_the_function_does_not_count() {
        let script = "def mean(values):\n    return sum(values) / len(values)\n\n\ndef median(values):\n    raise ValueError('empty list')\n\nraise ValueError('x')\n";
        let findings = check_script(script);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].0, Some(1));
    }

    #[test]
    fn designs_name_their_scripts() {
        assert_eq!(designed_script(files::DESIGN_NUMSTATS), Some("numstats.py"));
        assert_eq!(designed_script(files::DESIGN_SUMMARY), None);
        assert_eq!(design_path_of("src/numstats.py"), DESIGN);
        assert!(is_script_design(DESIGN));
        assert!(!is_script_design(
            "project_designs/project_design_summary.md"
        ));
        assert_eq!(function_names(files::DESIGN_NUMSTATS), ["mean", "median"]);
    }
}
