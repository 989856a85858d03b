//! The offline demo's editor flow: plan, build, the judge's rejection as an Error
//! diagnostic that stays (no automatic repair), its quick fix, and the repair run
//! that clears it.

use serde_json::{Value, json};

use super::harness::{Answers, Client, uri};
use super::{
    NUMSTATS_DESIGN, diagnostics_for, execute, execute_to_end, first_lens, model_and_requirement,
};

/// The first unread diagnostics published for `relative` that `matches`, waiting
/// for them if need be.
async fn wait_for_diagnostics(
    client: &mut Client,
    root: &std::path::Path,
    relative: &str,
    matches: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let target = uri(root, relative);
    let published = client
        .wait_for_method("textDocument/publishDiagnostics", |params| {
            params["uri"] == target
                && matches(params["diagnostics"].as_array().map_or(&[], Vec::as_slice))
        })
        .await;
    diagnostics_for(&published)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_stays_until_its_quick_fix_repairs_it() {
    let (model, workspace) = model_and_requirement().await;
    let root = workspace.path();
    let options = json!({"model": {"base_url": model.base_url(), "name": "scripted"},
        "run": {"autonomy": "auto", "max_repairs": 0}, "sandbox": {"mode": "off"}});
    let mut client = Client::start(root, options, Answers::default()).await;

    let end = execute_to_end(&mut client, "infiagent.plan", root, "requirement.md").await;
    assert!(end.starts_with("project_planner_agent succeeded"), "{end}");

    let end = execute_to_end(&mut client, "infiagent.build", root, NUMSTATS_DESIGN).await;
    assert!(
        end.starts_with("code_builder_agent ended with an error: the judge rejected the output"),
        "{end}"
    );
    let diagnostics = wait_for_diagnostics(&mut client, root, "numstats.py", |diagnostics| {
        !diagnostics.is_empty()
    })
    .await;
    let expected = &infiagent_demo::rejection_findings()[0];
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let rejection = diagnostics[0].clone();
    assert_eq!(rejection["severity"], 1);
    assert_eq!(rejection["source"], "infiagent");
    assert_eq!(rejection["message"], expected.message.as_str());
    assert_eq!(
        rejection["range"]["start"]["line"],
        expected.line.unwrap() - 1
    );
    client
        .wait_for_message("the judge rejected the output")
        .await;

    let actions = client
        .request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri(root, "numstats.py")},
                "range": rejection["range"], "context": {"diagnostics": [rejection]}}),
        )
        .await
        .unwrap();
    let quick_fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|action| action["kind"] == "quickfix")
        .unwrap_or_else(|| panic!("no quick fix in {actions:#}"))
        .clone();
    assert_eq!(quick_fix["title"], "Repair with code_editor_agent");
    assert_eq!(quick_fix["diagnostics"], json!([rejection]));
    // What was published before the repair is done with.
    client.take("textDocument/publishDiagnostics");
    let command = &quick_fix["command"];
    let run_id = execute(
        &mut client,
        command["command"].as_str().unwrap(),
        command["arguments"][0].clone(),
    )
    .await;
    let end = client.wait_run_end(&run_id).await;
    assert!(end.starts_with("code_editor_agent succeeded"), "{end}");
    // A success is not a problem: the error clears, and the file's lens says
    // it was judged.
    wait_for_diagnostics(&mut client, root, "numstats.py", |diagnostics| {
        diagnostics.is_empty()
    })
    .await;
    let lens = first_lens(&mut client, root, "numstats.py").await;
    let title = lens["command"]["title"].as_str().unwrap_or_default();
    assert!(
        title.starts_with("✓ judged: success (code_editor_agent)"),
        "{lens:#}"
    );
    assert_eq!(lens["range"]["start"]["line"], 0);
    assert_eq!(
        std::fs::read_to_string(root.join("numstats.py")).unwrap(),
        infiagent_demo::files::NUMSTATS
    );
    client.take("window/showMessage");
    client.finish().await;
}
