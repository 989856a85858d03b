//! The loop guard: the same call on an unchanged workspace is refused the third
//! time and ends the agent the fourth; calls between which the workspace changed
//! are not the same.

use infiagent_protocol::{RunEnd, Status};
use infiagent_test_support::openai::{bodies, finish, serve_in_order, tool_calls, tool_messages};
use serde_json::json;

use crate::support::{self, start};

#[tokio::test]
async fn the_same_call_is_refused_then_ends_the_agent() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "notes\n").unwrap();
    let read = json!({"path": "notes.txt"}).to_string();
    let mut replies: Vec<_> = (0..4)
        .map(|_| tool_calls(&[("file_read", &read)]))
        .collect();
    replies.push(finish("success", "never asked for"));
    let server = serve_in_order(replies).await;
    let engine = support::engine(dir.path(), &server, |_| {});
    let outcome = start(&engine, "read the notes").completion.wait().await;
    let bodies = bodies(&server).await;
    assert_eq!(
        bodies.len(),
        4,
        "the model was not asked after the fourth same call"
    );
    let answers = tool_messages(&bodies[3]);
    assert!(answers[0].contains("notes"), "{}", answers[0]);
    assert!(answers[1].contains("notes"), "{}", answers[1]);
    assert_eq!(
        answers[2],
        "Tool error: not run: you called 'file_read' with the same arguments 3 times and nothing in the workspace changed since the first, so the answer would not change. Use the answer you have, do something else, or finish with final_output; the same call once more ends your task with an error ([run] max_repeated_calls = 3)."
    );
    let RunEnd::Finished { output } = outcome.end else {
        panic!("{:?}", outcome.end);
    };
    assert_eq!(output.status, Status::Error);
    assert_eq!(
        output.error_information,
        "'solo_agent' stopped in a loop: it called 'file_read' with the same arguments more than 3 times while the workspace did not change ([run] max_repeated_calls = 3; 0 turns the guard off)"
    );
}

#[tokio::test]
async fn calls_between_changes_are_not_the_same_and_the_guard_can_be_off() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "notes\n").unwrap();
    let read = json!({"path": "notes.txt"}).to_string();
    let write = |text: &str| json!({"path": "notes.txt", "content": text}).to_string();
    let server = serve_in_order(vec![
        tool_calls(&[("file_read", &read)]),
        tool_calls(&[("file_write", &write("one\n"))]),
        tool_calls(&[("file_read", &read)]),
        tool_calls(&[("file_write", &write("two\n"))]),
        tool_calls(&[("file_read", &read)]),
        finish("success", "done"),
    ])
    .await;
    let engine = support::engine(dir.path(), &server, |_| {});
    let outcome = start(&engine, "edit the notes").completion.wait().await;
    assert!(
        matches!(outcome.end, RunEnd::Finished { ref output } if output.status == Status::Success)
    );
    let last = bodies(&server).await.pop().unwrap();
    assert!(
        tool_messages(&last)
            .iter()
            .all(|answer| !answer.contains("not run"))
    );

    let server = serve_in_order(
        (0..5)
            .map(|_| tool_calls(&[("file_read", &read)]))
            .chain([finish("success", "read five times")])
            .collect(),
    )
    .await;
    let engine = support::engine(dir.path(), &server, |config| {
        config.run.max_repeated_calls = 0;
    });
    let outcome = start(&engine, "read the notes").completion.wait().await;
    assert!(
        matches!(outcome.end, RunEnd::Finished { ref output } if output.status == Status::Success)
    );
}

#[tokio::test]
async fn asking_a_child_the_same_task_again_and_again_is_a_loop() {
    use infiagent_agents::{Origin, Registry, parse_agent};
    let dir = tempfile::tempdir().unwrap();
    let parent = parse_agent(
        std::path::Path::new("boss.md"),
        "---\nname: boss_agent\nlevel: 2\ndescription: Delegates.\ntools: [helper_agent]\n---\nDelegate.\n",
        Origin::Workspace,
    )
    .unwrap();
    let child = parse_agent(
        std::path::Path::new("helper.md"),
        "---\nname: helper_agent\nlevel: 1\ndescription: Helps.\ntools: [file_read]\n---\nHelp.\n",
        Origin::Workspace,
    )
    .unwrap();
    // The same task each time, with other files: still the same task.
    let ask =
        |file: &str| json!({"task": "count the words", "files": [{"path": file}]}).to_string();
    let server = serve_in_order(vec![
        tool_calls(&[("helper_agent", &ask("a.txt"))]),
        finish("success", "12 words"),
        tool_calls(&[("helper_agent", &ask("b.txt"))]),
        finish("success", "12 words"),
        tool_calls(&[("helper_agent", &ask("c.txt"))]),
        tool_calls(&[("helper_agent", &ask("d.txt"))]),
        finish("success", "never asked for"),
    ])
    .await;
    let engine = support::engine_with(
        dir.path(),
        &server,
        Registry::new(vec![parent, child]),
        |_| {},
    );
    let outcome = engine
        .start(infiagent_engine::RunRequest {
            agent: Some("boss_agent".into()),
            task: "count".into(),
            files: Vec::new(),
            editor: std::sync::Arc::new(infiagent_tools::HeadlessEditor {
                approval: infiagent_tools::Approval::Deny,
            }),
        })
        .unwrap()
        .completion
        .wait()
        .await;
    let bodies = bodies(&server).await;
    assert_eq!(bodies.len(), 6, "the third and fourth asks ran no child");
    assert!(
        tool_messages(&bodies[5])[2]
            .contains("not run: you asked 'helper_agent' the same task 3 times"),
        "{:?}",
        tool_messages(&bodies[5])
    );
    let RunEnd::Finished { output } = outcome.end else {
        panic!("{:?}", outcome.end);
    };
    assert!(output.error_information.starts_with(
        "'boss_agent' stopped in a loop: it asked 'helper_agent' the same task more than 3 times"
    ));
}
