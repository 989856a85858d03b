//! The build order of a planned project: the `## Build order` section of the
//! summary design (`project_designs/project_design_summary.md`), read and checked.
//!
//! One line per script, listing the scripts it needs built first:
//!
//! ```text
//! ## Build order
//! - utils.py — depends on: none
//! - model.py — depends on: utils.py
//! - main.py — depends on: model.py, utils.py
//! ```
//!
//! Reading is tolerant (bullet `-`, `*` or `+`; separator `—`, `–`, `--`, `-` or
//! `:`; `depends on`, `depends_on` or `deps` in any case; backquotes around
//! names; a trailing period; nothing after the colon meaning none), checking is
//! not: every line of the section must be an item, every dependency must be
//! listed, and the dependencies must not form a cycle. The judge's evidence
//! uses this on every summary design an agent writes; `infiagent build` runs the
//! order as a graph of tasks.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Dfs, EdgeRef};
use serde::Serialize;

/// The summary design, relative to the workspace.
pub const DESIGN_SUMMARY: &str = "project_designs/project_design_summary.md";

/// The file name of a summary design.
pub const DESIGN_SUMMARY_NAME: &str = "project_design_summary.md";

/// The form of one line, as error messages show it.
const LINE_FORM: &str =
    "`- <script> — depends on: <script>, <script>` or `- <script> — depends on: none`";

/// Words that introduce the dependencies, longest first.
const DEPENDS_KEYWORDS: &[&str] = &["depends on", "depends_on", "depends-on", "deps"];

/// One script of the build order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BuildStep {
    /// The script, as written (e.g. `numstats.py`, `src/app.js`).
    pub script: String,
    /// The scripts it needs built first, as written.
    pub depends_on: Vec<String>,
    /// 1-based line of its item in the file.
    pub line: usize,
}

/// A checked build order: every dependency is listed, and there is no cycle.
#[derive(Clone, Debug)]
pub struct BuildOrder {
    steps: Vec<BuildStep>,
    /// One node per step (same index); an edge goes from a dependency to its dependent.
    graph: DiGraph<(), ()>,
}

/// What is wrong with a build order, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {problem}", path.display(), line.map(|line| format!(":{line}")).unwrap_or_default())]
pub struct BuildOrderError {
    /// The summary design.
    pub path: PathBuf,
    /// 1-based line, when the problem has one.
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub problem: BuildOrderProblem,
}

/// The problems a build order can have. Each message says what to write instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildOrderProblem {
    /// The file has no `## Build order` heading.
    #[error(
        "no `## Build order` section: add one with a line per script, like `- utils.py — depends on: none` and `- main.py — depends on: utils.py`"
    )]
    MissingSection,
    /// The section has no items.
    #[error(
        "the `## Build order` section lists no scripts: add a line per script, like `- utils.py — depends on: none`"
    )]
    EmptySection,
    /// A line of the section is not an item.
    #[error("cannot read `{text}`: expected {LINE_FORM}")]
    UnreadableLine {
        /// The line, trimmed.
        text: String,
    },
    /// A name has spaces or other characters a script name cannot have.
    #[error(
        "`{name}` is not a script name: write one name per script without spaces, and separate dependencies with commas"
    )]
    BadName {
        /// The name as written.
        name: String,
    },
    /// Two commas in a row, or a comma at the end.
    #[error("an empty name in the dependencies: separate script names with single commas")]
    EmptyName,
    /// The same script is listed twice.
    #[error("{script} is listed twice (first on line {first_line}): keep one line per script")]
    Duplicate {
        /// The script.
        script: String,
        /// Where it was listed first.
        first_line: usize,
    },
    /// A dependency that has no line of its own.
    #[error(
        "{script} depends on {dependency}, which is not in the build order: add a line for {dependency} or fix the name"
    )]
    UnknownDependency {
        /// The script whose line names it.
        script: String,
        /// The unlisted name.
        dependency: String,
    },
    /// The dependencies go round in a circle.
    #[error(
        "the build order has a cycle: {}; remove one of these dependencies",
        describe_cycle(scripts)
    )]
    Cycle {
        /// The scripts of the cycle, each depending on the next, the last on the first.
        scripts: Vec<String>,
    },
}

fn describe_cycle(scripts: &[String]) -> String {
    match scripts {
        [] => String::new(),
        [only] => format!("{only} depends on itself"),
        [first, rest @ ..] => {
            let mut text = format!("{first} depends on {}", rest[0]);
            for script in rest[1..].iter().chain(std::iter::once(first)) {
                text.push_str(&format!(", which depends on {script}"));
            }
            text
        }
    }
}

impl BuildOrder {
    /// Reads and checks the `## Build order` section of `text`; `path` names the
    /// file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<BuildOrder, BuildOrderError> {
        let error = |line: Option<usize>, problem: BuildOrderProblem| BuildOrderError {
            path: path.to_path_buf(),
            line,
            problem,
        };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(index, line)| (index + 1, line));
        let Some((heading_line, _)) = lines
            .by_ref()
            .find(|(_, line)| heading_text(line).is_some_and(is_build_order_heading))
        else {
            return Err(error(None, BuildOrderProblem::MissingSection));
        };
        let mut steps: Vec<BuildStep> = Vec::new();
        for (number, line) in lines {
            if heading_text(line).is_some() {
                break;
            }
            if line.trim().is_empty() {
                continue;
            }
            let (script, depends_on) =
                parse_item(line).map_err(|problem| error(Some(number), problem))?;
            if let Some(first) = steps.iter().find(|step| step.script == script) {
                return Err(error(
                    Some(number),
                    BuildOrderProblem::Duplicate {
                        script,
                        first_line: first.line,
                    },
                ));
            }
            steps.push(BuildStep {
                script,
                depends_on,
                line: number,
            });
        }
        if steps.is_empty() {
            return Err(error(Some(heading_line), BuildOrderProblem::EmptySection));
        }
        let positions: HashMap<&str, usize> = steps
            .iter()
            .enumerate()
            .map(|(index, step)| (step.script.as_str(), index))
            .collect();
        let mut graph = DiGraph::with_capacity(steps.len(), steps.len());
        for _ in &steps {
            graph.add_node(());
        }
        for (index, step) in steps.iter().enumerate() {
            for dependency in &step.depends_on {
                let Some(&from) = positions.get(dependency.as_str()) else {
                    return Err(error(
                        Some(step.line),
                        BuildOrderProblem::UnknownDependency {
                            script: step.script.clone(),
                            dependency: dependency.clone(),
                        },
                    ));
                };
                graph.update_edge(NodeIndex::new(from), NodeIndex::new(index), ());
            }
        }
        let order = BuildOrder { steps, graph };
        if let Some(cycle) = order.first_cycle() {
            let line = order.steps[cycle[0]].line;
            let scripts = cycle
                .into_iter()
                .map(|index| order.steps[index].script.clone())
                .collect();
            return Err(error(Some(line), BuildOrderProblem::Cycle { scripts }));
        }
        Ok(order)
    }

    /// The scripts, in the order of the file.
    pub fn steps(&self) -> &[BuildStep] {
        &self.steps
    }

    /// The position of `script` in [`BuildOrder::steps`].
    pub fn position(&self, script: &str) -> Option<usize> {
        self.steps.iter().position(|step| step.script == script)
    }

    /// Positions of the scripts `index` depends on.
    pub fn dependencies(&self, index: usize) -> Vec<usize> {
        let mut positions: Vec<usize> = self
            .graph
            .edges_directed(NodeIndex::new(index), petgraph::Direction::Incoming)
            .map(|edge| edge.source().index())
            .collect();
        positions.sort_unstable();
        positions
    }

    /// Positions of every script that depends on `index`, directly or through
    /// others, in file order.
    pub fn dependents(&self, index: usize) -> Vec<usize> {
        let mut found = BTreeSet::new();
        let mut search = Dfs::new(&self.graph, NodeIndex::new(index));
        while let Some(node) = search.next(&self.graph) {
            if node.index() != index {
                found.insert(node.index());
            }
        }
        found.into_iter().collect()
    }

    /// The first cycle (by line of its first script), each position depending on
    /// the next and the last on the first.
    fn first_cycle(&self) -> Option<Vec<usize>> {
        let component = tarjan_scc(&self.graph)
            .into_iter()
            .filter(|component| {
                component.len() > 1 || self.graph.contains_edge(component[0], component[0])
            })
            .map(|component| {
                let mut positions: Vec<usize> = component.iter().map(|node| node.index()).collect();
                positions.sort_unstable();
                positions
            })
            .min()?;
        // Walk dependencies inside the component until a script repeats.
        let mut walk = vec![component[0]];
        loop {
            let current = walk[walk.len() - 1];
            let next = self.steps[current]
                .depends_on
                .iter()
                .filter_map(|name| self.position(name))
                .find(|position| component.contains(position))?;
            if let Some(start) = walk.iter().position(|&seen| seen == next) {
                return Some(walk.split_off(start));
            }
            walk.push(next);
        }
    }
}

/// The design file names a script may have, the usual one first:
/// `project_design_x.md` for `x.py`, `project_design_app.js.md` (then
/// `project_design_app.md`) for `app.js`. Folders in the script's name are not
/// part of its design's name.
pub fn design_candidates(script: &str) -> Vec<String> {
    let file_name = script.rsplit('/').next().unwrap_or(script);
    let stem = file_name
        .rsplit_once('.')
        .map_or(file_name, |(stem, _)| stem);
    let usual = if file_name.ends_with(".py") && !stem.contains('.') {
        stem
    } else {
        file_name
    };
    let mut names = Vec::new();
    for name in [usual, file_name, stem] {
        let name = format!("project_design_{name}.md");
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The script the design file at `path` (`…/project_design_<name>.md`) is for:
/// the script of `order` whose design it is; else the file its first heading
/// names (`# Design: textstats.py`) when that is `<name>` with an extension; else
/// `<name>` as written (`app.js`, `Makefile`). No extension is guessed, whatever
/// the language. `None` for the summary and for files that are not designs.
pub fn script_for_design(
    path: &str,
    order: Option<&BuildOrder>,
    design_text: Option<&str>,
) -> Option<String> {
    let file_name = path.rsplit('/').next()?;
    let name = file_name
        .strip_prefix("project_design_")?
        .strip_suffix(".md")?;
    if name.is_empty() || file_name == DESIGN_SUMMARY_NAME {
        return None;
    }
    let planned = order.and_then(|order| {
        order.steps().iter().find(|step| {
            design_candidates(&step.script)
                .iter()
                .any(|design| design == file_name)
        })
    });
    if let Some(step) = planned {
        return Some(step.script.clone());
    }
    let headed = design_text
        .and_then(|text| text.lines().find_map(heading_text))
        .and_then(|heading| {
            heading
                .split(|c: char| c.is_whitespace() || c == '`' || c == ':')
                .find(|word| {
                    word.strip_prefix(name)
                        .and_then(|rest| rest.strip_prefix('.'))
                        .is_some_and(|extension| !extension.is_empty())
                })
        });
    Some(headed.unwrap_or(name).to_string())
}

/// True for a summary design's path (`…/project_design_summary.md`).
pub fn is_design_summary(path: &str) -> bool {
    path.rsplit('/').next() == Some(DESIGN_SUMMARY_NAME)
}

/// The text of a Markdown heading line, without its `#`s.
fn heading_text(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    trimmed
        .starts_with('#')
        .then(|| trimmed.trim_start_matches('#').trim())
}

fn is_build_order_heading(text: &str) -> bool {
    text.trim_end_matches(':')
        .trim()
        .eq_ignore_ascii_case("build order")
}

/// One item: `- <script> <separator> depends on: <names>`.
fn parse_item(line: &str) -> Result<(String, Vec<String>), BuildOrderProblem> {
    let unreadable = || BuildOrderProblem::UnreadableLine {
        text: line.trim().to_string(),
    };
    let body = line
        .trim()
        .strip_prefix(['-', '*', '+'])
        .filter(|rest| rest.starts_with(char::is_whitespace))
        .ok_or_else(unreadable)?
        .trim();
    let (name, rest) = split_name(body);
    if name.is_empty() {
        return Err(unreadable());
    }
    let rest = rest.trim_start();
    let rest = ["--", "—", "–", "-", ":"]
        .iter()
        .find_map(|separator| rest.strip_prefix(separator))
        .unwrap_or(rest)
        .trim_start();
    let keyword = DEPENDS_KEYWORDS
        .iter()
        .find(|keyword| {
            rest.get(..keyword.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(keyword))
        })
        .ok_or_else(unreadable)?;
    let script = script_name(name)?;
    let list = rest[keyword.len()..].trim_start();
    let list = list.strip_prefix(':').unwrap_or(list).trim();
    let list = list.strip_suffix('.').unwrap_or(list).trim();
    if list.is_empty() || unquote(list).eq_ignore_ascii_case("none") {
        return Ok((script, Vec::new()));
    }
    let depends_on = list
        .split(',')
        .map(|name| {
            let name = name.trim();
            script_name(name.strip_suffix('.').unwrap_or(name))
        })
        .collect::<Result<Vec<String>, BuildOrderProblem>>()?;
    Ok((script, depends_on))
}

/// The script name at the start of an item, and what follows it.
fn split_name(body: &str) -> (&str, &str) {
    if let Some(quoted) = body.strip_prefix('`')
        && let Some(end) = quoted.find('`')
    {
        return (&body[..end + 2], &quoted[end + 1..]);
    }
    let end = body
        .find(|c: char| c.is_whitespace() || matches!(c, ':' | '—' | '–'))
        .unwrap_or(body.len());
    body.split_at(end)
}

fn unquote(name: &str) -> &str {
    name.strip_prefix('`')
        .and_then(|inner| inner.strip_suffix('`'))
        .unwrap_or(name)
        .trim()
}

/// A checked script name (backquotes removed).
fn script_name(written: &str) -> Result<String, BuildOrderProblem> {
    let name = unquote(written.trim());
    if name.is_empty() {
        return Err(BuildOrderProblem::EmptyName);
    }
    let valid = name
        .chars()
        .all(|c| !c.is_whitespace() && !matches!(c, '`' | ',' | '*'));
    if !valid {
        return Err(BuildOrderProblem::BadName {
            name: written.trim().to_string(),
        });
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders the result of parsing `input` in one line per script, or the error.
    fn render(input: &str) -> String {
        match BuildOrder::parse(Path::new(DESIGN_SUMMARY), input) {
            Ok(order) => order
                .steps()
                .iter()
                .map(|step| {
                    let depends_on = if step.depends_on.is_empty() {
                        "none".to_string()
                    } else {
                        step.depends_on.join(", ")
                    };
                    format!("{}: {} <- {depends_on}", step.line, step.script)
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Err(err) => format!("error: {err}"),
        }
    }

    fn check(input: &str, expected: &str) {
        assert_eq!(render(input), expected.trim(), "input:\n{input}");
    }

    #[test]
    fn the_planners_form() {
        check(
            r"# Project design summary

## Structure
- `utils.py`: helpers — depends on nothing here.

## Build order
- utils.py — depends on: none
- model.py — depends on: utils.py
- main.py — depends on: model.py, utils.py

## Notes
- not an item — depends on: everything
",
            r"
7: utils.py <- none
8: model.py <- utils.py
9: main.py <- model.py, utils.py",
        );
    }

    #[test]
    fn tolerant_forms() {
        check(
            r"### build order:
* `a.py` -- Depends_On: none.
+ b.py - deps: `a.py`.
- c.py: DEPENDS ON a.py,b.py

- d-e.py – depends on:
- src/f.js —depends on `b.py`, `c.py`
- g.py—depends on: none
- h.py depends on: g.py
",
            r"
2: a.py <- none
3: b.py <- a.py
4: c.py <- a.py, b.py
6: d-e.py <- none
7: src/f.js <- b.py, c.py
8: g.py <- none
9: h.py <- g.py",
        );
    }

    #[test]
    fn dependencies_may_come_later_in_the_file() {
        check(
            "## Build order\n- main.py — depends on: lib.py\n- lib.py — depends on: none\n",
            "2: main.py <- lib.py\n3: lib.py <- none",
        );
    }

    #[test]
    fn unreadable_lines_name_the_line_and_the_form() {
        for (input, expected) in [
            (
                "## Build order\n- a.py — depends on: none\nthen b.py\n",
                "error: project_designs/project_design_summary.md:3: cannot read `then b.py`: expected `- <script> — depends on: <script>, <script>` or `- <script> — depends on: none`",
            ),
            (
                "## Build order\n- a.py after b.py\n",
                "error: project_designs/project_design_summary.md:2: cannot read `- a.py after b.py`: expected `- <script> — depends on: <script>, <script>` or `- <script> — depends on: none`",
            ),
            (
                "## Build order\n-a.py — depends on: none\n",
                "error: project_designs/project_design_summary.md:2: cannot read `-a.py — depends on: none`: expected `- <script> — depends on: <script>, <script>` or `- <script> — depends on: none`",
            ),
            (
                "## Build order\n- a.py — depends on: b.py and c.py\n",
                "error: project_designs/project_design_summary.md:2: `b.py and c.py` is not a script name: write one name per script without spaces, and separate dependencies with commas",
            ),
            (
                "## Build order\n- a.py — depends on: b.py,, c.py\n",
                "error: project_designs/project_design_summary.md:2: an empty name in the dependencies: separate script names with single commas",
            ),
            (
                "## Build order\n- — depends on: none\n",
                "error: project_designs/project_design_summary.md:2: cannot read `- — depends on: none`: expected `- <script> — depends on: <script>, <script>` or `- <script> — depends on: none`",
            ),
        ] {
            check(input, expected);
        }
    }

    #[test]
    fn structural_problems() {
        for (input, expected) in [
            (
                "## Build order\n- a.py — depends on: none\n- a.py — depends on: none\n",
                "error: project_designs/project_design_summary.md:3: a.py is listed twice (first on line 2): keep one line per script",
            ),
            (
                "## Build order\n- a.py — depends on: none\n- b.py — depends on: a.py, z.py\n",
                "error: project_designs/project_design_summary.md:3: b.py depends on z.py, which is not in the build order: add a line for z.py or fix the name",
            ),
            (
                "## Build order\n\n## Next\n- a.py — depends on: none\n",
                "error: project_designs/project_design_summary.md:1: the `## Build order` section lists no scripts: add a line per script, like `- utils.py — depends on: none`",
            ),
            (
                "## Build order\n- a.py — depends on: a.py\n",
                "error: project_designs/project_design_summary.md:2: the build order has a cycle: a.py depends on itself; remove one of these dependencies",
            ),
        ] {
            check(input, expected);
        }
    }

    #[test]
    fn cycles_name_their_scripts_in_order() {
        check(
            "## Build order\n- base.py — depends on: none\n- a.py — depends on: base.py, c.py\n- b.py — depends on: a.py\n- c.py — depends on: b.py\n- d.py — depends on: c.py\n",
            "error: project_designs/project_design_summary.md:3: the build order has a cycle: a.py depends on c.py, which depends on b.py, which depends on a.py; remove one of these dependencies",
        );
    }

    #[test]
    fn missing_section_says_what_to_add() {
        insta::assert_snapshot!(
            render("# Summary\n\n## Structure\n- a.py\n"),
            @"error: project_designs/project_design_summary.md: no `## Build order` section: add one with a line per script, like `- utils.py — depends on: none` and `- main.py — depends on: utils.py`"
        );
    }

    #[test]
    fn dependents_are_transitive() {
        let order = BuildOrder::parse(
            Path::new("s.md"),
            "## Build order\n- a.py — depends on: none\n- b.py — depends on: a.py\n- c.py — depends on: b.py\n- d.py — depends on: none\n- e.py — depends on: d.py, a.py\n",
        )
        .unwrap();
        assert_eq!(order.dependents(0), [1, 2, 4]);
        assert_eq!(order.dependents(1), [2]);
        assert_eq!(order.dependents(3), [4]);
        assert_eq!(order.dependencies(4), [0, 3]);
        assert_eq!(order.position("c.py"), Some(2));
    }

    #[test]
    fn summary_paths() {
        assert!(is_design_summary(DESIGN_SUMMARY));
        assert!(is_design_summary("project_design_summary.md"));
        assert!(!is_design_summary("project_designs/project_design_a.md"));
    }

    fn check_candidates(script: &str, expected: &[&str]) {
        assert_eq!(design_candidates(script), expected, "{script}");
    }

    #[test]
    fn design_names_follow_the_planner() {
        check_candidates(
            "numstats.py",
            &[
                "project_design_numstats.md",
                "project_design_numstats.py.md",
            ],
        );
        check_candidates(
            "src/app.js",
            &["project_design_app.js.md", "project_design_app.md"],
        );
        check_candidates("Makefile", &["project_design_Makefile.md"]);
    }

    #[test]
    fn designs_map_to_their_scripts_in_any_language() {
        let order = BuildOrder::parse(
            Path::new(DESIGN_SUMMARY),
            "## Build order\n- train.py — depends on: none\n- src/app.ts — depends on: none\n- Makefile — depends on: train.py\n",
        )
        .unwrap();
        for (design, script) in [
            ("project_designs/project_design_train.md", "train.py"),
            ("project_designs/project_design_app.ts.md", "src/app.ts"),
            ("project_designs/project_design_Makefile.md", "Makefile"),
        ] {
            assert_eq!(
                script_for_design(design, Some(&order), None).as_deref(),
                Some(script),
                "{design}"
            );
        }
        assert_eq!(
            script_for_design("project_designs/project_design_Makefile.md", None, None).as_deref(),
            Some("Makefile")
        );
        assert_eq!(
            script_for_design("project_designs/project_design_main.rs.md", None, None).as_deref(),
            Some("main.rs")
        );
        let headed = |text| {
            script_for_design(
                "project_designs/project_design_textstats.md",
                None,
                Some(text),
            )
        };
        assert_eq!(
            headed("# Design: `textstats.py`\n").as_deref(),
            Some("textstats.py")
        );
        assert_eq!(headed("# Design\nstats.py\n").as_deref(), Some("textstats"));
        assert_eq!(
            script_for_design(
                "project_designs/project_design_summary.md",
                Some(&order),
                None
            ),
            None
        );
        assert_eq!(
            script_for_design("project_designs/notes.md", None, None),
            None
        );
    }
}
