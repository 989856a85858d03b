//! A long run (220 tool steps) stays inside its context budget on every model
//! call, and sends far fewer tokens than a loop that resends its whole history.

use infiagent_engine::Summarizer;
use infiagent_index::count_tokens;
use infiagent_protocol::{RunEnd, Status};
use infiagent_test_support::openai::{bodies, finish, serve_in_order, tool_calls};
use serde_json::{Value, json};

use crate::support::{engine, start};

const STEPS: usize = 220;
const TAU: usize = 3000;
const BUDGET: usize = 1500;

fn text_of(message: &Value) -> String {
    let mut text = message["content"].as_str().unwrap_or_default().to_string();
    for call in message["tool_calls"].as_array().into_iter().flatten() {
        text.push_str(call["function"]["name"].as_str().unwrap_or_default());
        text.push_str(call["function"]["arguments"].as_str().unwrap_or_default());
    }
    text
}

fn tokens(message: &Value) -> usize {
    count_tokens(&text_of(message)) + 4
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_run_stays_within_budget() {
    let workspace = tempfile::tempdir().unwrap();
    // Twelve source files of ~1.5 KB each, so reads are realistic and the memory index has material.
    for file in 0..12 {
        let body: String = (0..40)
            .map(|line| format!("def function_{file}_{line}(value):\n    return value * {line}\n"))
            .collect();
        std::fs::write(workspace.path().join(format!("module_{file}.py")), body).unwrap();
    }
    let mut replies: Vec<_> = (0..STEPS)
        .map(|step| {
            tool_calls(&[(
                "file_read",
                &json!({"path": format!("module_{}.py", step % 12)}).to_string(),
            )])
        })
        .collect();
    replies.push(finish("success", "read everything"));
    let server = serve_in_order(replies).await;
    let engine = engine(workspace.path(), &server, |config| {
        config.context.tau = TAU;
        config.context.budget_tokens = BUDGET;
        config.context.summarizer = Summarizer::Lines;
        config.run.max_steps = 500;
        // The same reads come round again on purpose: no loop guard here.
        config.run.max_repeated_calls = 0;
    });
    let handle = start(
        &engine,
        "Read module_3.py and the other modules, one by one, and report what they define.",
    );
    let dir = handle.dir.clone();
    let outcome = handle.completion.wait().await;
    let RunEnd::Finished { output } = &outcome.end else {
        panic!("{:?}", outcome.end)
    };
    assert_eq!(output.status, Status::Success);

    let bodies = bodies(&server).await;
    assert_eq!(bodies.len(), STEPS + 1);
    let mut sent_total = 0;
    let mut naive_total = 0;
    let mut history = 0;
    for (step, body) in bodies.iter().enumerate() {
        let messages = body["messages"].as_array().unwrap();
        let system = messages[0]["content"].as_str().unwrap();
        let memory = system
            .split("## Workspace memory index\n")
            .nth(1)
            .and_then(|rest| rest.split("\n## Call stack").next())
            .unwrap_or_default();
        assert!(
            count_tokens(memory) <= BUDGET + 40,
            "step {step}: C_LM over budget"
        );
        assert!(
            memory.contains("module_3.py"),
            "the file the task names is in the memory index"
        );
        // C_ENV: everything after the task message (the summary included).
        let environment: usize = messages[2..].iter().map(tokens).sum();
        assert!(
            environment <= TAU + TAU / 4,
            "step {step}: C_ENV has {environment} tokens"
        );
        let request: usize = messages.iter().map(tokens).sum();
        sent_total += request;
        // The naive loop sends the system prompt, the task and every step so far.
        let system_and_task = tokens(&messages[0]) + tokens(&messages[1]);
        naive_total += system_and_task + history;
        if step + 1 < bodies.len() {
            let next = bodies[step + 1]["messages"].as_array().unwrap();
            let newest: usize = next[next.len() - 2..].iter().map(tokens).sum();
            history += newest;
        }
    }
    let ratio = naive_total as f64 / sent_total as f64;
    println!(
        "prompt tokens over {} calls: sent {sent_total}, naive full-history loop {naive_total}, ratio {ratio:.1}x",
        bodies.len()
    );
    assert!(
        ratio >= 5.0,
        "only {ratio:.1}x fewer tokens than the naive loop"
    );
    let trajectory = std::fs::read_to_string(dir.join("trajectory.jsonl")).unwrap();
    assert!(trajectory.contains("\"kind\":\"context_compressed\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_writes_the_summary_when_asked() {
    use wiremock::matchers::{body_string_contains, method};
    use wiremock::{Mock, ResponseTemplate};

    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(
        workspace.path().join("big.txt"),
        "lorem ipsum dolor sit amet ".repeat(200),
    )
    .unwrap();
    let mut replies: Vec<_> = (0..12)
        .map(|_| tool_calls(&[("file_read", r#"{"path": "big.txt"}"#)]))
        .collect();
    replies.push(finish("success", "done"));
    let server = serve_in_order(replies).await;
    Mock::given(method("POST"))
        .and(body_string_contains("context_summarizer"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "- read big.txt many times; it is lorem ipsum"}}]
        })))
        .with_priority(1)
        .mount(&server)
        .await;
    let engine = engine(workspace.path(), &server, |config| {
        config.context.tau = 1500;
        config.context.summarizer = Summarizer::Model;
        // The same read again and again on purpose: no loop guard here.
        config.run.max_repeated_calls = 0;
    });
    let outcome = start(&engine, "read big.txt a dozen times")
        .completion
        .wait()
        .await;
    assert!(
        matches!(&outcome.end, RunEnd::Finished { output } if output.status == Status::Success),
        "{:?}",
        outcome.end
    );
    let bodies = bodies(&server).await;
    let summarized = bodies
        .iter()
        .any(|body| body.to_string().contains("## Your earlier steps (compressed to keep the context bounded)\\n- read big.txt many times; it is lorem ipsum"));
    assert!(summarized, "the model's summary replaces the old steps");
}

/// A request as one text, in the order a provider caches it: the system prompt,
/// the tools, then each message.
fn request_text(body: &Value) -> String {
    let mut text = String::new();
    let messages = body["messages"].as_array().unwrap();
    text.push_str(&text_of(&messages[0]));
    text.push_str(&body["tools"].to_string());
    for message in &messages[1..] {
        text.push('\n');
        text.push_str(message["role"].as_str().unwrap_or_default());
        text.push_str(&text_of(message));
    }
    text
}

/// 24 scripts written one by one, default context settings: the share of each
/// follow-up request's tokens that repeats the previous request as an exact
/// prefix (what a provider's prompt cache can serve), and the input cost at
/// list prices with cached input at a tenth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_up_requests_repeat_the_previous_one_as_a_prefix() {
    const SCRIPTS: usize = 24;
    let workspace = tempfile::tempdir().unwrap();
    for file in 0..12 {
        let body: String = (0..40)
            .map(|line| format!("def helper_{file}_{line}(value):\n    return value + {line}\n"))
            .collect();
        std::fs::write(workspace.path().join(format!("lib_{file}.py")), body).unwrap();
    }
    let mut replies: Vec<_> = (0..SCRIPTS)
        .map(|script| {
            let content: String = (0..30)
                .map(|line| {
                    format!(
                        "def step_{script}_{line}(data):\n    return helper_{}_{line}(data)\n",
                        script % 12
                    )
                })
                .collect();
            tool_calls(&[(
                "file_write",
                &json!({"path": format!("script_{script}.py"), "content": content}).to_string(),
            )])
        })
        .collect();
    replies.push(finish("success", "wrote the scripts"));
    let server = serve_in_order(replies).await;
    let engine = engine(workspace.path(), &server, |config| {
        config.context.summarizer = Summarizer::Lines;
    });
    let handle = start(
        &engine,
        "Write script_0.py to script_23.py, each using the helpers of lib_*.py.",
    );
    let outcome = handle.completion.wait().await;
    assert!(
        matches!(outcome.end, RunEnd::Finished { .. }),
        "{:?}",
        outcome.end
    );

    let texts: Vec<String> = bodies(&server).await.iter().map(request_text).collect();
    assert_eq!(texts.len(), SCRIPTS + 1);
    let (mut repeated, mut follow_up) = (0, 0);
    let (mut all_input, mut first_input) = (0, 0);
    for (index, text) in texts.iter().enumerate() {
        let tokens = count_tokens(text);
        all_input += tokens;
        if index == 0 {
            first_input = tokens;
            continue;
        }
        let previous = &texts[index - 1];
        let common = text
            .char_indices()
            .zip(previous.chars())
            .find(|((_, mine), theirs)| mine != theirs)
            .map_or(text.len().min(previous.len()), |((at, _), _)| at);
        repeated += count_tokens(&text[..common]);
        follow_up += tokens;
    }
    let share = repeated as f64 / follow_up as f64;
    // List price of cached input: a tenth of uncached.
    let uncached_cost = all_input as f64;
    let cached_cost = first_input as f64 + (follow_up - repeated) as f64 + 0.1 * repeated as f64;
    println!(
        "prefix share of follow-up requests: {:.1}% ({repeated} of {follow_up} tokens over {} requests); input cost with caching: {:.1}% of uncached ({all_input} tokens)",
        100.0 * share,
        texts.len() - 1,
        100.0 * cached_cost / uncached_cost
    );
    assert!(share >= 0.9, "prefix share {share:.3}");
}
