//! Topology-level evolution: from the quality scores, the runs and the pyramid,
//! proposals to prune weak and unused agents, split crowded or two-sided agents,
//! and teach the router from requests that had to be re-run on another agent.
//!
//! Changes are made one after the other on the agent files (a built-in agent is
//! copied to `.infiagent/agents/` first); after each, the real loader and the DAG
//! rules run on the whole set, and a change that breaks them is dropped with the
//! problems it would cause. Nothing is written until [`Proposal::apply`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use infiagent_agents::{AgentDef, DEFAULT_K_MAX, Origin, Registry, Role, load_registry};
use infiagent_engine::{Config, QualityScores, summarize};
use serde_json::{Value, json};

use crate::EvolveError;
use crate::agent_files::{AgentFiles, Checked, FileEdit, apply_edits};
use crate::cluster::{jaccard, two_clusters, words};
use crate::front_matter::{set_block_list, set_list, set_scalar};
use crate::runs::{Run, load_runs};

/// The thresholds proposals follow.
#[derive(Clone, Debug, PartialEq)]
pub struct EvolveSettings {
    /// Prune an agent whose quality score is below this...
    pub prune_below_quality: f64,
    /// ...counted over at least this many verdicts...
    pub prune_min_verdicts: u64,
    /// ...and whose share of the invocations (the judge's not counted) is below this.
    pub prune_max_share: f64,
    /// Look for two groups among an agent's tasks when it has at least this many distinct ones.
    pub split_min_tasks: usize,
    /// Two groups are apart when their tasks' mean similarity across is at most this...
    pub split_max_cross_similarity: f64,
    /// ...and inside a group at least this.
    pub split_min_within_similarity: f64,
    /// A later request is the same request when their words overlap at least this much (Jaccard).
    pub same_request_similarity: f64,
    /// The most agents one agent may call (`[run] k_max`).
    pub k_max: usize,
    /// The MCP servers agents may name (`[mcp.servers.*]`).
    pub mcp_servers: Vec<String>,
}

impl Default for EvolveSettings {
    fn default() -> Self {
        EvolveSettings {
            prune_below_quality: 0.4,
            prune_min_verdicts: 3,
            prune_max_share: 0.1,
            split_min_tasks: 6,
            split_max_cross_similarity: 0.1,
            split_min_within_similarity: 0.2,
            same_request_similarity: 0.8,
            k_max: DEFAULT_K_MAX,
            mcp_servers: Vec::new(),
        }
    }
}

impl EvolveSettings {
    /// The defaults, with the workspace's `[run] k_max` and MCP servers.
    pub fn for_workspace(workspace: &Path) -> Result<EvolveSettings, EvolveError> {
        let config = Config::load(workspace)?;
        Ok(EvolveSettings {
            k_max: config.run.k_max,
            mcp_servers: config.mcp.servers.keys().cloned().collect(),
            ..EvolveSettings::default()
        })
    }
}

/// What a change does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// Take an agent out of its parents' tools (and remove its workspace file).
    Prune,
    /// Replace an agent by two at the same level.
    Split,
    /// Add a request to an agent's `examples:` for the router.
    RouterExample,
}

impl ChangeKind {
    /// `prune`, `split` or `router_example`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Prune => "prune",
            ChangeKind::Split => "split",
            ChangeKind::RouterExample => "router_example",
        }
    }
}

/// One proposed change, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// What it does.
    pub kind: ChangeKind,
    /// The agent it is about.
    pub agent: String,
    /// What it does, in a few words (`split data_agent into ...`).
    pub summary: String,
    /// Why, in one line.
    pub reason: String,
    /// The files it writes or removes, each with its diff.
    pub edits: Vec<FileEdit>,
}

/// A change that was considered and left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DroppedChange {
    /// What it would have done.
    pub summary: String,
    /// Why it is left out (the problems it would cause, with file:line:col).
    pub reason: String,
}

/// Everything `infiagent evolve` proposes.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    /// The changes, in the order they build on each other.
    pub changes: Vec<Change>,
    /// Changes left out.
    pub dropped: Vec<DroppedChange>,
    /// All the changes together, as they would be written.
    pub edits: Vec<FileEdit>,
    /// Runs read.
    pub runs: usize,
    /// Agent invocations read (the judge's not counted).
    pub invocations: usize,
    /// Agents with a quality score.
    pub scored_agents: usize,
}

/// What the runs say about each agent.
#[derive(Default)]
struct Usage {
    /// Invocations by agent (the judge's not counted).
    invocations: BTreeMap<String, usize>,
    /// Distinct tasks by agent, sorted.
    tasks: BTreeMap<String, Vec<String>>,
    total: usize,
}

impl Usage {
    fn of(runs: &[Run], registry: &Registry) -> Usage {
        let mut usage = Usage::default();
        for invocation in runs.iter().flat_map(|run| &run.invocations) {
            if registry.has_role(&invocation.agent, Role::Judge) {
                continue;
            }
            usage.total += 1;
            *usage
                .invocations
                .entry(invocation.agent.clone())
                .or_default() += 1;
            let tasks = usage.tasks.entry(invocation.agent.clone()).or_default();
            let task = invocation.task.trim();
            let known = tasks.iter().any(|known| same_text(known, task));
            if !task.is_empty() && !known {
                tasks.push(task.to_string());
            }
        }
        // Runs started in the same second have no order: sort, to propose the same
        // thing from the same runs.
        for tasks in usage.tasks.values_mut() {
            tasks.sort();
        }
        usage
    }

    fn share(&self, agent: &str) -> (usize, f64) {
        let count = self.invocations.get(agent).copied().unwrap_or(0);
        let share = if self.total == 0 {
            0.0
        } else {
            count as f64 / self.total as f64
        };
        (count, share)
    }
}

/// Reads the workspace and proposes changes with the workspace's settings.
pub fn propose(workspace: &Path) -> Result<Proposal, EvolveError> {
    propose_with(workspace, &EvolveSettings::for_workspace(workspace)?)
}

/// Reads the workspace (agents, quality scores, runs) and proposes changes.
/// Fails when the pyramid in effect already breaks the rules.
pub fn propose_with(workspace: &Path, settings: &EvolveSettings) -> Result<Proposal, EvolveError> {
    let (registry, mut problems) = load_registry(Some(workspace));
    let files = AgentFiles::of(&registry);
    let checked = files.check(settings.k_max, &settings.mcp_servers)?;
    problems.extend(checked.problems.iter().cloned());
    problems.sort();
    problems.dedup();
    if !problems.is_empty() {
        return Err(EvolveError::InvalidPyramid { problems });
    }
    let scores = QualityScores::load(workspace);
    let runs = load_runs(workspace)?;
    let usage = Usage::of(&runs, &checked.registry);
    let mut planner = Planner {
        settings,
        initial: files.clone(),
        initial_registry: checked.registry.clone(),
        files,
        checked,
        changes: Vec::new(),
        dropped: Vec::new(),
    };
    planner.prune(&scores, &usage)?;
    planner.split(&usage)?;
    planner.router_examples(&runs)?;
    let edits = planner
        .files
        .edits_since(&planner.initial, &planner.initial_registry);
    Ok(Proposal {
        changes: planner.changes,
        dropped: planner.dropped,
        edits,
        runs: runs.len(),
        invocations: usage.total,
        scored_agents: scores.agents.len(),
    })
}

struct Planner<'a> {
    settings: &'a EvolveSettings,
    initial: AgentFiles,
    initial_registry: Registry,
    /// The files with the accepted changes so far.
    files: AgentFiles,
    /// What they make.
    checked: Checked,
    changes: Vec<Change>,
    dropped: Vec<DroppedChange>,
}

/// A change before it is checked: its files, or why it cannot be made.
type Draft = Result<AgentFiles, String>;

impl Planner<'_> {
    fn registry(&self) -> &Registry {
        &self.checked.registry
    }

    /// Checks a drafted change on the whole set; keeps it or drops it with the reason.
    fn consider(
        &mut self,
        kind: ChangeKind,
        agent: &str,
        summary: String,
        reason: String,
        draft: Draft,
    ) -> Result<(), EvolveError> {
        let files = match draft {
            Ok(files) => files,
            Err(why) => {
                self.dropped.push(DroppedChange {
                    summary,
                    reason: why,
                });
                return Ok(());
            }
        };
        let checked = files.check(self.settings.k_max, &self.settings.mcp_servers)?;
        if !checked.problems.is_empty() {
            let problems: Vec<String> = checked.problems.iter().map(ToString::to_string).collect();
            self.dropped.push(DroppedChange {
                summary,
                reason: format!("it would break the pyramid: {}", problems.join("; ")),
            });
            return Ok(());
        }
        let edits = files.edits_since(&self.files, self.registry());
        self.files = files;
        self.checked = checked;
        self.changes.push(Change {
            kind,
            agent: agent.to_string(),
            summary,
            reason,
            edits,
        });
        Ok(())
    }

    /// The agents whose `tools` list `name`.
    fn parents(&self, name: &str) -> Vec<AgentDef> {
        self.registry()
            .agents()
            .filter(|agent| agent.tools.iter().any(|tool| tool == name))
            .cloned()
            .collect()
    }

    fn prune(&mut self, scores: &QualityScores, usage: &Usage) -> Result<(), EvolveError> {
        let settings = self.settings;
        for (name, score) in &scores.agents {
            let Some(agent) = self.registry().get(name).cloned() else {
                continue;
            };
            let (count, share) = usage.share(name);
            let weak = score.q < settings.prune_below_quality
                && score.verdicts >= settings.prune_min_verdicts
                && share < settings.prune_max_share;
            if agent.is_judge() || !weak {
                continue;
            }
            let reason = format!(
                "quality {:.2} over {} verdicts (below {:.2}) and {count} of {} invocations ({:.1}%, under {:.0}%)",
                score.q,
                score.verdicts,
                settings.prune_below_quality,
                usage.total,
                share * 100.0,
                settings.prune_max_share * 100.0
            );
            let parents = self.parents(name);
            let mut files = self.files.clone();
            let draft = if parents.is_empty() && agent.origin == Origin::Builtin {
                Err(format!(
                    "{reason}; but nothing calls the built-in {name}, and a built-in cannot be removed"
                ))
            } else {
                for parent in &parents {
                    let tools: Vec<String> = parent
                        .tools
                        .iter()
                        .filter(|tool| *tool != name)
                        .cloned()
                        .collect();
                    match set_list(&parent.source, "tools", &tools) {
                        Some(text) => files.write_agent(parent, text),
                        None => continue,
                    }
                }
                if agent.origin == Origin::Workspace {
                    files.remove(&agent.path);
                }
                Ok(files)
            };
            self.consider(
                ChangeKind::Prune,
                name,
                format!("prune {name}"),
                reason,
                draft,
            )?;
        }
        Ok(())
    }

    fn split(&mut self, usage: &Usage) -> Result<(), EvolveError> {
        let names: Vec<String> = self
            .registry()
            .agents()
            .map(|agent| agent.name.clone())
            .collect();
        for name in names {
            let Some(agent) = self.registry().get(&name).cloned() else {
                continue;
            };
            if agent.is_judge() {
                continue;
            }
            let tasks = usage.tasks.get(&name).cloned().unwrap_or_default();
            let children: Vec<String> = self
                .registry()
                .child_agents(&name)
                .into_iter()
                .filter(|child| !child.is_judge())
                .map(|child| child.name.clone())
                .collect();
            let draft = if let Some(split) = self.task_groups(&tasks) {
                self.split_by_tasks(&agent, &tasks, &split)
            } else if children.len() == self.settings.k_max
                && children.len() >= 2
                && !self.parents(&name).is_empty()
            {
                // A top agent is not split for its fan-out: it would leave two tops.
                self.split_by_tools(&agent, &children)
            } else {
                continue;
            };
            let (summary, reason, draft) = draft;
            self.consider(ChangeKind::Split, &name, summary, reason, draft)?;
        }
        Ok(())
    }

    /// Two groups of tasks far enough apart, each with at least two tasks and a
    /// fifth of them.
    fn task_groups(&self, tasks: &[String]) -> Option<crate::cluster::TwoClusters> {
        if tasks.len() < self.settings.split_min_tasks {
            return None;
        }
        let clusters = two_clusters(tasks)?;
        let smallest = clusters.groups.iter().map(Vec::len).min().unwrap_or(0);
        let apart = smallest >= 2
            && smallest * 5 >= tasks.len()
            && clusters.cross_similarity <= self.settings.split_max_cross_similarity
            && clusters.within_similarity >= self.settings.split_min_within_similarity;
        apart.then_some(clusters)
    }

    fn split_by_tasks(
        &self,
        agent: &AgentDef,
        tasks: &[String],
        clusters: &crate::cluster::TwoClusters,
    ) -> (String, String, Draft) {
        let names = self.new_names(agent, [&clusters.keywords[0], &clusters.keywords[1]]);
        let reason = format!(
            "its {} tasks fall into two groups ({} / {}): similarity {:.2} across, {:.2} within",
            tasks.len(),
            clusters.keywords[0]
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            clusters.keywords[1]
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            clusters.cross_similarity,
            clusters.within_similarity
        );
        let summary = format!("split {} into {} and {}", agent.name, names[0], names[1]);
        let halves: Vec<Result<String, String>> = (0..2)
            .map(|group| {
                let examples: Vec<String> = clusters.groups[group]
                    .iter()
                    .take(8)
                    .map(|index| summarize(&tasks[*index], 160))
                    .collect();
                let keywords = clusters.keywords[group]
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>();
                let description = format!(
                    "{} Specialised in requests about {}.",
                    one_line(&agent.description),
                    keywords.join(", ")
                );
                new_agent_text(
                    agent,
                    &names[group],
                    &description,
                    &agent.tools,
                    Some(&examples),
                )
            })
            .collect();
        let draft = self.replace_agent(agent, &names, halves);
        (summary, reason, draft)
    }

    fn split_by_tools(&self, agent: &AgentDef, children: &[String]) -> (String, String, Draft) {
        let middle = children.len().div_ceil(2);
        let (first, second) = children.split_at(middle);
        let stem = |name: &String| vec![name.strip_suffix("_agent").unwrap_or(name).to_string()];
        let names = self.new_names(agent, [&stem(&first[0]), &stem(&second[0])]);
        let reason = format!(
            "it calls {} agents, the most [run] k_max allows: each part calls half of them",
            children.len()
        );
        let summary = format!("split {} into {} and {}", agent.name, names[0], names[1]);
        let halves: Vec<Result<String, String>> = [first, second]
            .iter()
            .zip(&names)
            .map(|(half, new_name)| {
                let tools: Vec<String> = agent
                    .tools
                    .iter()
                    .filter(|tool| !children.contains(tool) || half.contains(tool))
                    .cloned()
                    .collect();
                let description = format!(
                    "{} This part works through {}.",
                    one_line(&agent.description),
                    half.join(", ")
                );
                new_agent_text(agent, new_name, &description, &tools, None)
            })
            .collect();
        let draft = self.replace_agent(agent, &names, halves);
        (summary, reason, draft)
    }

    /// Adds the two new agents, points the parents at them, and removes the old
    /// agent's workspace file (a built-in stays defined, no longer called).
    fn replace_agent(
        &self,
        agent: &AgentDef,
        names: &[String; 2],
        texts: Vec<Result<String, String>>,
    ) -> Draft {
        let mut files = self.files.clone();
        for (name, text) in names.iter().zip(texts) {
            files.create(name, text?);
        }
        for parent in self.parents(&agent.name) {
            let tools: Vec<String> = parent
                .tools
                .iter()
                .flat_map(|tool| {
                    if *tool == agent.name {
                        names.to_vec()
                    } else {
                        vec![tool.clone()]
                    }
                })
                .collect();
            let text = set_list(&parent.source, "tools", &tools)
                .ok_or_else(|| format!("{} has no front matter to edit", parent.path.display()))?;
            files.write_agent(&parent, text);
        }
        if agent.origin == Origin::Workspace {
            files.remove(&agent.path);
        }
        Ok(files)
    }

    /// Two names `<stem>_<word>_agent` from the keywords, unused in the pyramid.
    fn new_names(&self, agent: &AgentDef, keywords: [&Vec<String>; 2]) -> [String; 2] {
        let stem = agent.name.strip_suffix("_agent").unwrap_or(&agent.name);
        let mut taken: BTreeSet<String> = self
            .registry()
            .agents()
            .map(|agent| agent.name.clone())
            .collect();
        let mut pick = |words: &Vec<String>, fallback: &str| -> String {
            let candidates = words
                .iter()
                .map(|word| sanitized(word))
                .filter(|word| !word.is_empty())
                .chain([fallback.to_string()]);
            for word in candidates {
                let name = format!("{stem}_{word}_agent");
                if name.len() <= 64 && !taken.contains(&name) {
                    taken.insert(name.clone());
                    return name;
                }
            }
            let mut number = 2;
            loop {
                let name = format!("{stem}_{fallback}{number}_agent");
                if !taken.contains(&name) {
                    taken.insert(name.clone());
                    return name;
                }
                number += 1;
            }
        };
        let first = pick(keywords[0], "part1");
        let second = pick(keywords[1], "part2");
        [first, second]
    }

    fn router_examples(&mut self, runs: &[Run]) -> Result<(), EvolveError> {
        let mut proposed: BTreeSet<(String, String)> = BTreeSet::new();
        for (position, first) in runs.iter().enumerate() {
            let Some(routed) = &first.routed_to else {
                continue;
            };
            if first.succeeded || first.task.trim().is_empty() {
                continue;
            }
            let rerun = runs[position + 1..].iter().find(|later| {
                later.succeeded
                    && later.agent != *routed
                    && (same_text(&later.task, &first.task)
                        || jaccard(&later.task, &first.task)
                            >= self.settings.same_request_similarity)
            });
            let Some(rerun) = rerun else {
                continue;
            };
            let Some(target) = self.registry().get(&rerun.agent).cloned() else {
                continue;
            };
            let example = summarize(&first.task, 200);
            let known = target
                .examples
                .iter()
                .any(|known| same_text(known, &example));
            if known || !proposed.insert((target.name.clone(), example.to_lowercase())) {
                continue;
            }
            let reason = format!(
                "run {} was routed to {routed} and failed; run {} did the same request on {} and succeeded",
                first.id, rerun.id, target.name
            );
            let summary = format!("add a router example to {}: \"{example}\"", target.name);
            let mut examples = target.examples.clone();
            examples.push(example);
            let mut files = self.files.clone();
            let draft = match set_block_list(&target.source, "examples", &examples) {
                Some(text) => {
                    files.write_agent(&target, text);
                    Ok(files)
                }
                None => Err(format!(
                    "{} has no front matter to edit",
                    target.path.display()
                )),
            };
            let name = target.name.clone();
            self.consider(ChangeKind::RouterExample, &name, summary, reason, draft)?;
        }
        Ok(())
    }
}

/// A copy of `agent`'s file under a new name, description, tools and examples.
fn new_agent_text(
    agent: &AgentDef,
    name: &str,
    description: &str,
    tools: &[String],
    examples: Option<&[String]>,
) -> Result<String, String> {
    let unusable = || format!("{} has no front matter to edit", agent.path.display());
    let source = renamed_in_body(&agent.source, &agent.name, name);
    let text = set_scalar(&source, "name", name).ok_or_else(unusable)?;
    let text = set_scalar(&text, "description", description).ok_or_else(unusable)?;
    let text = set_list(&text, "tools", tools).ok_or_else(unusable)?;
    match examples {
        Some(examples) => set_block_list(&text, "examples", examples).ok_or_else(unusable),
        None => Ok(text),
    }
}

/// The file with `old` replaced by `new` in its body (the prompt), front matter kept.
fn renamed_in_body(source: &str, old: &str, new: &str) -> String {
    let body_start = source
        .match_indices("\n---")
        .next()
        .map_or(0, |(index, _)| index + "\n---".len());
    let (front_matter, body) = source.split_at(body_start);
    format!("{front_matter}{}", body.replace(old, new))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn sanitized(word: &str) -> String {
    word.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The same words in the same order, whatever the case, spacing and punctuation.
fn same_text(left: &str, right: &str) -> bool {
    let normal = |text: &str| {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
    };
    let left = normal(left);
    !left.is_empty() && left == normal(right) && !words(&left.join(" ")).is_empty()
}

impl Proposal {
    /// Whether anything is proposed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The proposal as text: each change with its reason and its diffs, then the
    /// changes left out.
    pub fn render(&self) -> String {
        let mut text = format!(
            "Read {} run(s) ({} agent invocations) and the quality scores of {} agent(s).\n",
            self.runs, self.invocations, self.scored_agents
        );
        if self.changes.is_empty() {
            text.push_str("\nNo changes to propose.\n");
        }
        for (number, change) in self.changes.iter().enumerate() {
            let _ = write!(
                text,
                "\n{}. {}\n   why: {}\n",
                number + 1,
                change.summary,
                change.reason
            );
            for edit in &change.edits {
                text.push_str(&edit.diff);
            }
        }
        if !self.dropped.is_empty() {
            text.push_str("\nLeft out:\n");
            for dropped in &self.dropped {
                let _ = writeln!(text, "- {}: {}", dropped.summary, dropped.reason);
            }
        }
        if !self.changes.is_empty() {
            let _ = writeln!(
                text,
                "\n{} change(s) to {} file(s).",
                self.changes.len(),
                self.edits.len()
            );
        }
        text
    }

    /// The proposal as JSON (for editors): the changes with their diffs, the
    /// changes left out, and the text of [`Proposal::render`].
    pub fn to_json(&self) -> Value {
        json!({
            "changes": self.changes.iter().map(|change| json!({
                "kind": change.kind.as_str(),
                "agent": change.agent,
                "summary": change.summary,
                "reason": change.reason,
                "files": change.edits.iter().map(edit_json).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "dropped": self.dropped.iter().map(|dropped| json!({
                "summary": dropped.summary, "reason": dropped.reason,
            })).collect::<Vec<_>>(),
            "files": self.edits.iter().map(edit_json).collect::<Vec<_>>(),
            "text": self.render(),
        })
    }

    /// Writes every change (atomically, file by file), after checking that no
    /// agent file changed since the proposal. Returns the files written or removed.
    pub fn apply(&self, workspace: &Path) -> Result<Vec<PathBuf>, EvolveError> {
        apply_edits(workspace, &self.edits)
    }
}

fn edit_json(edit: &FileEdit) -> Value {
    let action = match (&edit.before, &edit.after) {
        (None, _) => "create",
        (Some(_), Some(_)) => "change",
        (Some(_), None) => "remove",
    };
    json!({"path": edit.path, "action": action, "diff": edit.diff})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renaming_touches_the_body_only() {
        assert_eq!(
            renamed_in_body(
                "---\nname: a_agent\n---\nYou are a_agent.\n",
                "a_agent",
                "b_agent"
            ),
            "---\nname: a_agent\n---\nYou are b_agent.\n"
        );
    }

    #[test]
    fn same_text_ignores_case_and_punctuation() {
        assert!(same_text("Fix the CSV loader.", "fix the csv loader"));
        assert!(!same_text("fix the csv loader", "fix the loader"));
        assert!(!same_text("", ""));
    }
}
