//! `evolve` on real engine runs: a weak, little-used agent; a hub at the fan-out
//! limit; an agent whose tasks are about two things; a request the router sent to
//! the wrong agent and that succeeded when re-run on another. Then hand-made
//! workspaces for what the runs do not show: a change the DAG rules refuse, a
//! pyramid already broken, applying.

use crate::support;

use std::path::Path;

use infiagent_evolve::{EvolveError, EvolveSettings, propose, propose_with};
use infiagent_test_support::model::{ScriptedModel, finish};
use infiagent_test_support::workspace;

fn agent(name: &str, level: i32, description: &str, tools: &str, extra: &str) -> (String, String) {
    (
        format!("{name}.md"),
        format!(
            "---\nname: {name}\nlevel: {level}\ndescription: {description}\ntools: [{tools}]\n{extra}---\nYou are {name}. Do the task with your tools, then call final_output.\n"
        ),
    )
}

fn agents() -> Vec<(String, String)> {
    vec![
        agent(
            "top_agent",
            3,
            "Takes data requests end to end and hands them to the right team.",
            "file_read, hub_agent, data_agent, weak_agent",
            "",
        ),
        agent(
            "hub_agent",
            2,
            "Converts configuration files between formats through the format agents.",
            "file_read, csv_agent, json_agent, xml_agent, yaml_agent",
            "",
        ),
        agent(
            "data_agent",
            1,
            "Works on data files.",
            "file_read, file_write",
            "examples:\n  - work on this data file\n",
        ),
        agent(
            "weak_agent",
            1,
            "Summarises reports.",
            "file_read",
            "audit: judge\n",
        ),
        agent(
            "csv_agent",
            1,
            "Reads CSV tables and reports on their columns.",
            "file_read",
            "",
        ),
        agent(
            "json_agent",
            1,
            "Reads and writes JSON documents.",
            "file_read",
            "",
        ),
        agent(
            "xml_agent",
            1,
            "Reads and writes XML documents.",
            "file_read",
            "",
        ),
        agent(
            "yaml_agent",
            1,
            "Reads and writes YAML documents.",
            "file_read",
            "",
        ),
        agent(
            "perf_agent",
            1,
            "Makes slow programs faster.",
            "file_read, file_write",
            "",
        ),
    ]
}

const CONFIG: &str = "[run]\nk_max = 4\nmax_repairs = 4\n";

const DATA_TASKS: &[&str] = &[
    "parse the csv columns of sales.csv",
    "plot a bar chart of monthly revenue",
    "read the csv header and parse the columns of stock.csv",
    "draw a line chart plot of the temperatures",
    "parse csv rows with quoted columns in orders.csv",
    "plot a chart of errors per day",
    "count the csv columns in users.csv",
    "make a pie chart plot of the market share",
];

const MISROUTED: &str = "speed up how loader.py reads the csv columns";

fn model() -> std::sync::Arc<ScriptedModel> {
    std::sync::Arc::new(ScriptedModel::new(|turn| match turn.agent {
        "judge_agent" if turn.task.contains("carried out by `weak_agent`") => {
            finish("verdict", "error", "the summary misses the totals")
        }
        "judge_agent" => finish("verdict", "success", "checked"),
        "perf_agent" => finish("edit", "success", "`loader.py`: reads in one pass"),
        _ if turn.task.contains("loader.py") => {
            finish("refuse", "error", "changing code is not my job")
        }
        _ => finish("done", "success", "done"),
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposals_from_engine_runs() {
    let agents = agents();
    let named: Vec<(&str, &str)> = agents
        .iter()
        .map(|(file, text)| (file.as_str(), text.as_str()))
        .collect();
    let workspace = workspace::with_agents(&named, CONFIG, &[("loader.py", "print('load')\n")]);
    let root = workspace.path();
    let model = model();
    let weak = support::run(
        root,
        Some("weak_agent"),
        "Summarise the weekly report",
        model.clone(),
    )
    .await;
    assert!(!weak.succeeded());
    for task in DATA_TASKS {
        support::run(root, Some("data_agent"), task, model.clone()).await;
    }
    for task in [
        "convert config.yaml to json",
        "convert settings.xml to yaml",
    ] {
        support::run(root, Some("hub_agent"), task, model.clone()).await;
    }
    let misrouted = support::run(root, None, MISROUTED, model.clone()).await;
    assert!(!misrouted.succeeded(), "{misrouted:?}");
    assert_eq!(misrouted.agent, "csv_agent");
    support::next_second().await;
    let rerun = support::run(root, Some("perf_agent"), MISROUTED, model).await;
    assert!(rerun.succeeded(), "{rerun:?}");
    support::record_fixture(root, "pyramid");

    let proposal = propose(root).unwrap();
    insta::assert_snapshot!("pyramid_proposal", without_run_ids(&proposal.render()));
}

/// Run ids name when a run started; the proposal's text is otherwise the same
/// for the recorded fixture.
fn without_run_ids(text: &str) -> String {
    regex::Regex::new(r"run \d{8}-\d{6}-[0-9a-f]{4}")
        .unwrap()
        .replace_all(text, "run <id>")
        .into_owned()
}

#[test]
fn proposals_from_the_recorded_fixture() {
    let workspace = workspace::evolve_fixture("pyramid");
    let proposal = propose(workspace.path()).unwrap();
    insta::assert_snapshot!("pyramid_proposal", without_run_ids(&proposal.render()));
}

#[test]
fn applying_writes_what_was_shown_and_the_result_checks_clean() {
    let workspace = workspace::evolve_fixture("pyramid");
    let proposal = propose(workspace.path()).unwrap();
    let written = proposal.apply(workspace.path()).unwrap();
    let mut shown: Vec<String> = written
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    shown.sort();
    insta::assert_snapshot!(shown.join("\n"), @r"
    .infiagent/agents/data_agent.md
    .infiagent/agents/data_chart_agent.md
    .infiagent/agents/data_csv_agent.md
    .infiagent/agents/hub_agent.md
    .infiagent/agents/hub_csv_agent.md
    .infiagent/agents/hub_xml_agent.md
    .infiagent/agents/perf_agent.md
    .infiagent/agents/top_agent.md
    .infiagent/agents/weak_agent.md
    ");
    let (registry, problems) = infiagent_agents::load_registry(Some(workspace.path()));
    assert!(problems.is_empty(), "{problems:?}");
    assert!(registry.get("weak_agent").is_none());
    assert!(registry.get("hub_agent").is_none());
    assert_eq!(
        registry.get("top_agent").unwrap().tools,
        [
            "file_read",
            "hub_csv_agent",
            "hub_xml_agent",
            "data_csv_agent",
            "data_chart_agent"
        ]
    );
    assert_eq!(registry.get("perf_agent").unwrap().examples, [MISROUTED]);
    // Nothing is left to propose but what the new agents' own runs will show.
    let again = propose(workspace.path()).unwrap();
    assert!(again.is_empty(), "{}", again.render());
    // The same proposal cannot be applied twice: the files changed.
    let stale = proposal.apply(workspace.path()).unwrap_err();
    assert!(matches!(stale, EvolveError::Stale { .. }), "{stale}");
}

fn write_agents(root: &Path, agents: &[(String, String)]) {
    let dir = root.join(".infiagent/agents");
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in agents {
        std::fs::write(dir.join(file), text).unwrap();
    }
}

#[test]
fn a_split_that_breaks_the_fan_out_of_its_parent_is_left_out() {
    let workspace = tempfile::tempdir().unwrap();
    write_agents(
        workspace.path(),
        &[
            agent(
                "root_agent",
                3,
                "The top.",
                "mid_agent, side_agent, other_agent",
                "",
            ),
            agent(
                "mid_agent",
                2,
                "Middle.",
                "leaf_one_agent, leaf_two_agent, leaf_three_agent",
                "",
            ),
            agent("side_agent", 2, "Side.", "file_read", ""),
            agent("other_agent", 2, "Other.", "file_read", ""),
            agent("leaf_one_agent", 1, "Leaf one.", "file_read", ""),
            agent("leaf_two_agent", 1, "Leaf two.", "file_read", ""),
            agent("leaf_three_agent", 1, "Leaf three.", "file_read", ""),
        ],
    );
    let settings = EvolveSettings {
        k_max: 3,
        ..EvolveSettings::default()
    };
    let proposal = propose_with(workspace.path(), &settings).unwrap();
    insta::assert_snapshot!(proposal.render(), @r"
    Read 0 run(s) (0 agent invocations) and the quality scores of 0 agent(s).

    No changes to propose.

    Left out:
    - split mid_agent into mid_leaf_one_agent and mid_leaf_three_agent: it would break the pyramid: .infiagent/agents/root_agent.md:5:1: error: 'root_agent' calls 4 agents; at most 3 (k_max) are allowed: split it or move some calls to a child
    ");
}

#[test]
fn a_broken_pyramid_is_reported_first() {
    let workspace = tempfile::tempdir().unwrap();
    write_agents(
        workspace.path(),
        &[agent("loop_agent", 1, "Calls itself.", "loop_agent", "")],
    );
    let error = propose(workspace.path()).unwrap_err();
    insta::assert_snapshot!(error.to_string(), @r"
    the agent pyramid has problems; fix them first (see `infiagent agents check`):
    .infiagent/agents/loop_agent.md:5:9: error: 'loop_agent' cannot call itself: an agent calls only agents of a strictly lower level
    ");
}
