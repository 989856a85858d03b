//! Model-level evolution: an agent with `candidates:` runs its task on each
//! candidate model at the same time, each in an isolated copy of the site it was
//! called in. The judge scores each result in its copy (with the runtime's hard
//! evidence gathered there); only the winner's changes are merged back; every
//! copy is removed, whatever happens.

pub(crate) mod copies;
pub(crate) mod merge;
pub(crate) mod site;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use futures::future::join_all;
use infiagent_agents::{AgentDef, Position, Problem, Registry, Role};

use crate::agent::{AgentResult, Invocation, run_agent};
use crate::candidates::copies::{CopyGroup, Snapshot, WorkCopy, copy_open_buffers};
use crate::candidates::merge::{Deletions, MergeReport};
use crate::candidates::site::Site;
use crate::config::Autonomy;
use crate::models::ModelPool;
use crate::run::Abort;
use crate::run::RunShared;
use crate::run::report::{CandidatesJudged, Fact};
use infiagent_protocol::{CandidateScore, CandidateStatus, Record, RunEvent};
use infiagent_protocol::{FinalOutput, Status};

/// Added to the judge's task when it scores a candidate.
pub(crate) const SCORE_REQUEST: &str = "\n\n### Score\nSeveral models carried out this task; yours is one of them. End your output with a line `score: S`, S from 0 to 1: how well the result meets the instruction.";

/// Checks the `candidates:` of every agent against the models `models` can give:
/// each must be defined (a `[models.<name>]` table), listed once, and there must be
/// a judge (`role: judge`) to choose, which itself has none. Problems point at the entry.
pub fn check_candidates(registry: &Registry, models: &ModelPool) -> Vec<Problem> {
    let mut problems = Vec::new();
    let has_judge = registry.with_role(Role::Judge).is_some();
    for agent in registry.agents() {
        let position = |index: usize| -> Position {
            agent
                .positions
                .candidates
                .get(index)
                .copied()
                .unwrap_or(agent.positions.name)
        };
        let mut report = |position: Position, message: String| {
            problems.push(Problem {
                path: agent.path.clone(),
                position,
                message,
            });
        };
        if agent.candidates.is_empty() {
            continue;
        }
        if agent.is_judge() {
            report(
                position(0),
                format!(
                    "'{}' cannot have candidates: it is the one that judges them; remove `candidates:`",
                    agent.name
                ),
            );
            continue;
        }
        if !has_judge {
            report(
                position(0),
                format!(
                    "'{}' has candidates but no agent has `role: judge` to judge them: add one or remove `candidates:`",
                    agent.name
                ),
            );
        }
        let mut first_listed: HashMap<&str, Position> = HashMap::new();
        for (index, model) in agent.candidates.iter().enumerate() {
            if let Some(first) = first_listed.get(model.as_str()) {
                report(
                    position(index),
                    format!(
                        "duplicate candidate '{model}': it is already listed at {}:{}; remove this entry",
                        first.line, first.col
                    ),
                );
                continue;
            }
            first_listed.insert(model, position(index));
            if !models.defines(model) {
                report(
                    position(index),
                    format!(
                        "candidate model '{model}' of '{}' is not defined: add a [models.{model}] table to .infiagent/config.toml",
                        agent.name
                    ),
                );
            }
        }
    }
    problems.sort();
    problems
}

/// Whether this invocation fans out to candidates (a candidate's own run, and the
/// judge, do not).
pub(crate) fn applies(def: &AgentDef, invocation: &Invocation) -> bool {
    !def.candidates.is_empty()
        && invocation.candidate.is_none()
        && invocation.audit.is_none()
        && !def.is_judge()
}

/// A verdict's score: the judge's `score:` (in its output or its error
/// information) when it gives one in [0, 1], else 1 for success and 0 for error.
pub(crate) fn score(verdict: &FinalOutput) -> f64 {
    let text = format!("{}\n{}", verdict.output, verdict.error_information);
    stated_score(&text).unwrap_or(match verdict.status {
        Status::Success => 1.0,
        Status::Error => 0.0,
    })
}

/// The last `score: S` (or `score = S`, `**Score:** S`) with S in [0, 1].
fn stated_score(text: &str) -> Option<f64> {
    let lower = text.to_ascii_lowercase();
    lower
        .match_indices("score")
        .filter_map(|(index, word)| {
            let rest = lower.get(index + word.len()..)?;
            let rest = rest.trim_start_matches(['*', ' ']);
            let rest = rest.strip_prefix([':', '='])?;
            let rest = rest.trim_start_matches(['*', ' ']);
            let number: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let number = number.trim_end_matches('.');
            number
                .parse::<f64>()
                .ok()
                .filter(|value| (0.0..=1.0).contains(value))
        })
        .last()
}

/// One candidate, ready to run.
struct Entrant {
    model: String,
    copy: WorkCopy,
    /// The copy as it started.
    baseline: Snapshot,
    site: Arc<Site>,
}

/// How one candidate did.
struct Outcome {
    score: CandidateScore,
    result: Option<AgentResult>,
}

/// Runs `def` on each of its candidate models, each in a copy of the invocation's
/// site; returns the winner's result as if the agent had run once.
pub(crate) async fn run(
    shared: Arc<RunShared>,
    def: AgentDef,
    invocation: Invocation,
) -> Result<AgentResult, Abort> {
    let base = invocation.site.clone();
    let inputs: Vec<String> = invocation
        .files
        .iter()
        .map(|file| file.path.clone())
        .collect();
    let label = format!("{}-{}", shared.run_id, def.name);
    let mut group = match CopyGroup::create(base.tools.sandbox.root(), &label).await {
        Ok(group) => group,
        Err(err) => return Ok(not_isolated(&def, &err.to_string())),
    };
    let entrants = match prepare_all(&shared, &def, &mut group, &base, &inputs).await {
        Ok(entrants) => entrants,
        Err(stop) => {
            remove(&shared, group).await;
            return stop;
        }
    };
    let runs = entrants.iter().map(|entrant| {
        run_agent(
            shared.clone(),
            Invocation {
                agent: def.name.clone(),
                task: invocation.task.clone(),
                files: invocation.files.clone(),
                parent: invocation.parent,
                stack: invocation.stack.clone(),
                audit: None,
                site: entrant.site.clone(),
                candidate: Some(entrant.model.clone()),
                call: invocation.call,
                call_key: invocation.call_key.clone(),
                replay: false,
            },
        )
    });
    let results = join_all(runs).await;
    if base.tools.cancel.is_cancelled() {
        remove(&shared, group).await;
        return Err(base.abort_reason(&shared));
    }
    let mut outcomes: Vec<Outcome> = entrants
        .iter()
        .zip(results)
        .map(|(entrant, result)| outcome(&entrant.model, result))
        .collect();
    record_unjudged(&shared, &def.name, &outcomes).await;
    let order = ranking(&outcomes);
    let best = order.first().copied();
    let winner = best.filter(|index| outcomes[*index].score.status == CandidateStatus::Success);
    let report = match winner {
        Some(index) => merge_winner(&shared, &base, &entrants[index], &inputs).await,
        None => MergeReport::default(),
    };
    let scores: Vec<CandidateScore> = outcomes
        .iter()
        .map(|outcome| outcome.score.clone())
        .collect();
    let winner_model = winner.map(|index| entrants[index].model.clone());
    shared
        .report(Fact::CandidatesJudged(CandidatesJudged {
            agent: &def.name,
            caller_frame: invocation.parent,
            scores,
            winner: winner_model.clone(),
            merge: &report,
        }))
        .await;
    let result = match (winner, best) {
        (Some(index), _) => {
            let result = winner_result(&def, &mut outcomes[index], &report);
            if let Some(verdict) = &result.verdict
                && base.is_workspace()
            {
                shared
                    .emit(RunEvent::Verdict {
                        frame: verdict.frame,
                        audited_agent: Some(def.name.clone()),
                        files: report.applied.clone(),
                        verdict: verdict.output.clone(),
                        overruled: false,
                    })
                    .await;
            }
            result
        }
        (None, Some(index)) => failure_result(&def, &mut outcomes, index),
        (None, None) => not_isolated(&def, "it has no candidates"),
    };
    remove(&shared, group).await;
    Ok(result)
}

/// Every candidate's copy, recorded; or how the agent ends when one cannot be
/// made (the run was cancelled, or copying failed).
async fn prepare_all(
    shared: &RunShared,
    def: &AgentDef,
    group: &mut CopyGroup,
    base: &Site,
    inputs: &[String],
) -> Result<Vec<Entrant>, Result<AgentResult, Abort>> {
    let mut entrants = Vec::new();
    for (index, model) in def.candidates.iter().enumerate() {
        if base.tools.cancel.is_cancelled() {
            return Err(Err(base.abort_reason(shared)));
        }
        match prepare(group, base, index, model, inputs).await {
            Ok(entrant) => {
                shared.trajectory.record(Record::CandidateCopy {
                    agent: def.name.clone(),
                    model: model.clone(),
                    method: entrant.copy.method.as_str().to_string(),
                    path: entrant.copy.dir.clone(),
                });
                entrants.push(entrant);
            }
            Err(err) => {
                return Err(Ok(not_isolated(
                    def,
                    &format!("candidate '{model}': {err}"),
                )));
            }
        }
    }
    Ok(entrants)
}

/// Makes one candidate's copy, with the editor's open buffers, and its site.
async fn prepare(
    group: &mut CopyGroup,
    base: &Site,
    index: usize,
    model: &str,
    inputs: &[String],
) -> std::io::Result<Entrant> {
    let copy = group.add(&format!("{index}-{model}"), inputs).await?;
    let source = base.tools.sandbox.root().to_path_buf();
    let editor = base.tools.editor.clone();
    let root = copy.root.clone();
    let extra = inputs.to_vec();
    let baseline = tokio::task::spawn_blocking(move || {
        copy_open_buffers(&root, &source, |path| editor.open_text(path))?;
        Snapshot::take(&root, &extra)
    })
    .await
    .map_err(std::io::Error::other)??;
    let site = Site::copy_of(base, &copy.root).map_err(std::io::Error::other)?;
    Ok(Entrant {
        model: model.to_string(),
        copy,
        baseline,
        site: Arc::new(site),
    })
}

/// Scores one candidate's end.
fn outcome(model: &str, result: Result<AgentResult, Abort>) -> Outcome {
    let (status, score, reason) = match &result {
        Ok(result) => {
            let verdict = result.verdict.as_ref();
            match (result.output.status, verdict) {
                (Status::Success, Some(verdict)) if verdict.output.status == Status::Success => (
                    CandidateStatus::Success,
                    verdict.score,
                    first_line(&verdict.output.output),
                ),
                (Status::Success, Some(verdict)) => (
                    CandidateStatus::Rejected,
                    verdict.score,
                    first_line(&verdict.output.error_information)
                        .or_else(|| first_line(&verdict.output.output)),
                ),
                (Status::Success, None) => (
                    CandidateStatus::Rejected,
                    0.0,
                    Some("the judge gave no verdict".to_string()),
                ),
                (Status::Error, verdict) => (
                    CandidateStatus::Error,
                    verdict.map_or(0.0, |verdict| verdict.score),
                    first_line(&result.output.error_information)
                        .or_else(|| first_line(&result.output.output)),
                ),
            }
        }
        Err(Abort::Fatal(reason)) => (CandidateStatus::Aborted, 0.0, first_line(reason)),
        Err(Abort::Cancelled) => (
            CandidateStatus::Aborted,
            0.0,
            Some("stopped before finishing".to_string()),
        ),
    };
    Outcome {
        score: CandidateScore {
            model: model.to_string(),
            score,
            status,
            reason: reason.unwrap_or_default(),
        },
        result: result.ok(),
    }
}

/// Candidates the judge did not see (an error, a stop) still count as failures
/// in the quality scores; the judged ones were counted by the audit.
async fn record_unjudged(shared: &RunShared, agent: &str, outcomes: &[Outcome]) {
    for outcome in outcomes {
        let judged = outcome
            .result
            .as_ref()
            .is_some_and(|result| result.verdict.is_some());
        if judged {
            continue;
        }
        let model = &outcome.score.model;
        let model_name = shared
            .models
            .get(Some(model))
            .map(|entry| entry.model.name().to_string())
            .unwrap_or_else(|_| model.clone());
        shared.quality.record(agent, &model_name, false).await;
    }
}

/// Indices of `outcomes`, best first: successes, then by score, then failures by
/// how far they got (rejected, error, aborted), then in the order of `candidates:`.
fn ranking(outcomes: &[Outcome]) -> Vec<usize> {
    let class = |status: CandidateStatus| match status {
        CandidateStatus::Success => 0,
        CandidateStatus::Rejected => 1,
        CandidateStatus::Error => 2,
        CandidateStatus::Aborted => 3,
    };
    let mut order: Vec<usize> = (0..outcomes.len()).collect();
    order.sort_by(|a, b| {
        let (a_score, b_score) = (&outcomes[*a].score, &outcomes[*b].score);
        let a_success = a_score.status == CandidateStatus::Success;
        let b_success = b_score.status == CandidateStatus::Success;
        b_success
            .cmp(&a_success)
            .then(b_score.score.total_cmp(&a_score.score))
            .then(class(a_score.status).cmp(&class(b_score.status)))
            .then(a.cmp(b))
    });
    order
}

/// Brings the winner's changes into `base`.
async fn merge_winner(
    shared: &RunShared,
    base: &Site,
    winner: &Entrant,
    inputs: &[String],
) -> MergeReport {
    let root = winner.copy.root.clone();
    let extra = inputs.to_vec();
    let after = match tokio::task::spawn_blocking(move || Snapshot::take(&root, &extra)).await {
        Ok(Ok(after)) => after,
        Ok(Err(err)) => return unreadable_copy(&err.to_string()),
        Err(err) => return unreadable_copy(&err.to_string()),
    };
    let changes = after.changes_since(&winner.baseline);
    let deletions = match shared.config.run.autonomy {
        Autonomy::Review => Deletions::Report,
        Autonomy::Ask | Autonomy::Auto => Deletions::Apply,
    };
    let report = merge::apply(
        base,
        &winner.copy.root,
        &winner.baseline,
        &changes,
        deletions,
    )
    .await;
    if base.is_workspace() {
        shared.note_changed(&report.applied).await;
    }
    report
}

fn unreadable_copy(err: &str) -> MergeReport {
    MergeReport {
        applied: Vec::new(),
        skipped: vec![(
            ".".to_string(),
            format!("the winner's copy could not be read: {err}"),
        )],
    }
}

/// The winner's result, its changed files being the merged ones.
fn winner_result(def: &AgentDef, outcome: &mut Outcome, report: &MergeReport) -> AgentResult {
    let model = &outcome.score.model;
    let Some(mut result) = outcome.result.take() else {
        return not_isolated(def, &format!("the winner '{model}' left no result"));
    };
    if !report.skipped.is_empty() {
        let skipped: Vec<String> = report
            .skipped
            .iter()
            .map(|(path, reason)| format!("`{path}` ({reason})"))
            .collect();
        result.output.output = format!(
            "{}\n\nNot merged into the workspace: {}.",
            result.output.output.trim_end(),
            skipped.join("; ")
        );
    }
    result.changed = report.applied.iter().cloned().collect::<BTreeSet<_>>();
    result
}

/// No candidate succeeded: the best failure's output, as an error; nothing merged.
fn failure_result(def: &AgentDef, outcomes: &mut [Outcome], best: usize) -> AgentResult {
    let summary: Vec<String> = outcomes
        .iter()
        .map(|outcome| {
            let score = &outcome.score;
            format!(
                "{}: {} ({:.2}){}",
                score.model,
                score.status.as_str(),
                score.score,
                if score.reason.is_empty() {
                    String::new()
                } else {
                    format!(", {}", score.reason)
                }
            )
        })
        .collect();
    let error_information = format!(
        "no candidate of '{}' succeeded, so nothing was merged: {}",
        def.name,
        summary.join("; ")
    );
    let outcome = &mut outcomes[best];
    let (output, findings) = match outcome.result.take() {
        Some(result) => {
            let findings = result
                .verdict
                .map(|verdict| verdict.output.findings)
                .unwrap_or(result.output.findings);
            (result.output.output, findings)
        }
        None => (String::new(), Vec::new()),
    };
    AgentResult {
        output: FinalOutput {
            status: Status::Error,
            output,
            error_information,
            findings,
        },
        changed: BTreeSet::new(),
        verdict: None,
        replayed: false,
    }
}

/// The agent could not run its candidates in isolation: an error for its caller.
fn not_isolated(def: &AgentDef, reason: &str) -> AgentResult {
    AgentResult {
        output: FinalOutput::error(
            "",
            format!(
                "'{}' could not run its candidates in isolated copies of the workspace: {reason}. Free space in the temporary folder or remove `candidates:` from its file",
                def.name
            ),
        ),
        changed: BTreeSet::new(),
        verdict: None,
        replayed: false,
    }
}

async fn remove(shared: &RunShared, group: CopyGroup) {
    let dir = group.dir().to_path_buf();
    group.remove().await;
    shared
        .trajectory
        .record(Record::CandidateCopiesRemoved { path: dir });
}

fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use infiagent_agents::{Origin, parse_agent};

    use super::*;

    #[test]
    fn stated_scores() {
        for (text, expected) in [
            ("Runs as asked.\nscore: 0.8", Some(0.8)),
            ("**Score:** 1", Some(1.0)),
            ("score = 0.25.", Some(0.25)),
            ("Score: 0.2 at first, then score: 0.7", Some(0.7)),
            ("score: 7", None),
            ("the score is good", None),
            ("no number here", None),
        ] {
            assert_eq!(stated_score(text), expected, "{text}");
        }
        let verdict = FinalOutput::error("", "it crashes\nscore: 0.3");
        assert!((score(&verdict) - 0.3).abs() < 1e-9);
        assert!((score(&FinalOutput::error("", "it crashes")) - 0.0).abs() < 1e-9);
    }

    fn outcome(model: &str, status: CandidateStatus, score: f64) -> Outcome {
        Outcome {
            score: CandidateScore {
                model: model.into(),
                score,
                status,
                reason: String::new(),
            },
            result: None,
        }
    }

    fn check_ranking(outcomes: &[Outcome], expected: &[&str]) {
        let ranked: Vec<&str> = ranking(outcomes)
            .into_iter()
            .map(|index| outcomes[index].score.model.as_str())
            .collect();
        assert_eq!(ranked, expected);
    }

    #[test]
    fn successes_first_then_scores_then_how_far_then_order() {
        use CandidateStatus::{Aborted, Error, Rejected, Success};
        check_ranking(
            &[
                outcome("a", Rejected, 0.9),
                outcome("b", Success, 0.6),
                outcome("c", Success, 0.8),
            ],
            &["c", "b", "a"],
        );
        check_ranking(
            &[outcome("a", Success, 1.0), outcome("b", Success, 1.0)],
            &["a", "b"],
        );
        check_ranking(
            &[
                outcome("a", Aborted, 0.0),
                outcome("b", Error, 0.0),
                outcome("c", Rejected, 0.0),
                outcome("d", Rejected, 0.4),
            ],
            &["d", "c", "b", "a"],
        );
    }

    fn agent(name: &str, level: i32, candidates: &str) -> AgentDef {
        let text = format!(
            "---\nname: {name}\nlevel: {level}\ndescription: An agent.\ntools: [file_read]\ncandidates: {candidates}\n{role}---\nYou work.\n",
            role = if level == -1 { "role: judge\n" } else { "" }
        );
        parse_agent(Path::new(&format!("{name}.md")), &text, Origin::Workspace).unwrap()
    }

    #[test]
    fn the_judge_has_no_candidates_and_must_exist_to_judge_them() {
        let pool = ModelPool::with_models(
            crate::models::ModelEntry {
                model: Arc::new(NoModel),
                price: None,
            },
            [],
        );
        let registry = Registry::new(vec![agent("builder", 1, "[fast]")]);
        assert_eq!(
            problem_lines(&registry, &pool),
            [
                "builder.md:6:14: error: 'builder' has candidates but no agent has `role: judge` to judge them: add one or remove `candidates:`",
                "builder.md:6:14: error: candidate model 'fast' of 'builder' is not defined: add a [models.fast] table to .infiagent/config.toml",
            ]
        );
        let registry = Registry::new(vec![agent("judge_agent", -1, "[fast]")]);
        assert_eq!(
            problem_lines(&registry, &pool),
            [
                "judge_agent.md:6:14: error: 'judge_agent' cannot have candidates: it is the one that judges them; remove `candidates:`"
            ]
        );
        let registry = Registry::new(vec![agent("builder", 1, "[]")]);
        assert!(check_candidates(&registry, &pool).is_empty());
    }

    fn problem_lines(registry: &Registry, pool: &ModelPool) -> Vec<String> {
        check_candidates(registry, pool)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    struct NoModel;

    #[async_trait::async_trait]
    impl infiagent_model::ChatModel for NoModel {
        fn name(&self) -> &str {
            "none"
        }

        async fn chat(
            &self,
            _request: &infiagent_model::ChatRequest,
        ) -> Result<infiagent_model::ChatResponse, infiagent_model::ModelError> {
            Err(infiagent_model::ModelError::EmptyResponse)
        }
    }
}
