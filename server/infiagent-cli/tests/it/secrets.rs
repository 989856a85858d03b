//! The API key stays in memory. A whole pyramid runs against the scripted demo
//! model served over HTTP with a key from the environment; the key (and its
//! `Bearer` form) then appears in no log line (TRACE, every crate), in no file of
//! the workspace (trajectory, `run.json`, `summary.md`, `quality.json`, the index
//! cache), in no exported training example, and in no error, even when a server
//! refuses the key and echoes it back.

use std::path::Path;

use infiagent_test_support::rerun::rerun_with_variable;
use infiagent_test_support::workspace::files_under;

const KEY_VAR: &str = "INFIAGENT_TEST_SECRET_KEY";
const KEY: &str = "sk-test-SECRET-0123456789abcdef";

/// Every file under `dir` that contains `needle`, and how many files were seen.
fn files_containing(dir: &Path, needle: &str) -> (Vec<String>, usize) {
    let files = files_under(dir);
    let found = files
        .iter()
        .filter(|path| {
            std::fs::read(path)
                .unwrap()
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
        })
        .map(|path| path.display().to_string())
        .collect();
    (found, files.len())
}

/// The checks run in a child process of this test binary, started with the key in
/// its environment.
#[test]
fn the_key_leaks_nowhere() {
    let rerun = rerun_with_variable(
        module_path!(),
        "with_the_key_in_the_environment::leaks_nowhere",
        KEY_VAR,
        KEY,
    );
    for text in [&rerun.stdout, &rerun.stderr] {
        assert!(!text.contains(KEY), "the key was printed: {text}");
    }
}

mod with_the_key_in_the_environment {
    use std::path::Path;
    use std::sync::{Arc, Mutex};

    use infiagent_engine::{
        Autonomy, Config, Engine, ModelPool, QUALITY_FILE, RUN_FILE, RunRequest, SUMMARY_FILE,
    };
    use infiagent_protocol::{FileRef, RunEnd, TRAJECTORY_FILE};
    use infiagent_test_support::openai::serve_refusing_keys;
    use infiagent_tools::{Approval, HeadlessEditor};
    use tracing_subscriber::util::SubscriberInitExt;

    use super::{KEY, KEY_VAR, files_containing};

    fn config(base_url: String) -> Config {
        let mut config = Config::default();
        config.model.base_url = Some(base_url);
        config.model.name = Some("scripted".into());
        config.model.api_key_env = Some(KEY_VAR.into());
        config.model.max_retries = Some(0);
        config.run.autonomy = Autonomy::Auto;
        config
    }

    fn engine(workspace: &Path, config: Config) -> Engine {
        let (registry, problems) = infiagent_agents::load_registry(Some(workspace));
        assert!(problems.is_empty(), "{problems:?}");
        let models = ModelPool::from_config(&config).unwrap();
        Engine::new(workspace, config, registry, models).unwrap()
    }

    fn request() -> RunRequest {
        RunRequest {
            agent: None,
            task: infiagent_demo::DEMO_TASK.into(),
            files: vec![FileRef {
                path: "requirement.md".into(),
                description: "the project requirement".into(),
            }],
            editor: Arc::new(HeadlessEditor {
                approval: Approval::Deny,
            }),
        }
    }

    /// Where the log goes: a buffer the test reads at the end.
    #[derive(Clone, Default)]
    struct LogBuffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for LogBuffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn assert_clean(what: &str, text: &str) {
        for secret in [KEY.to_string(), format!("Bearer {KEY}")] {
            assert!(!text.contains(&secret), "{what} holds the key: {text}");
        }
    }

    #[test]
    fn leaks_nowhere() {
        // Run by `the_key_leaks_nowhere` in a child process; elsewhere there is
        // no key to look for.
        if std::env::var(KEY_VAR).as_deref() != Ok(KEY) {
            return;
        }
        // Processes run in the real sandbox, launched by the built binary.
        infiagent_sandbox::register_launcher(env!("CARGO_BIN_EXE_infiagent").into());
        let log = LogBuffer::default();
        let writer = log.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish()
            .try_init()
            .unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let pyramid = tempfile::tempdir().unwrap();
            let refused = tempfile::tempdir().unwrap();
            check_a_whole_pyramid(pyramid.path()).await;
            check_a_refused_key(refused.path()).await;
            check_the_exported_dataset(pyramid.path());
            for workspace in [pyramid.path(), refused.path()] {
                for secret in [KEY.to_string(), format!("Bearer {KEY}")] {
                    let (leaks, seen) = files_containing(workspace, &secret);
                    assert!(leaks.is_empty(), "the key is in {leaks:?}");
                    assert!(seen > 3, "only {seen} files were written");
                }
            }
        });
        let log = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
        assert!(
            log.contains("TRACE") && log.contains("127.0.0.1"),
            "the log was not captured: {} bytes",
            log.len()
        );
        assert_clean("the log", &log);
    }

    async fn check_a_whole_pyramid(workspace: &Path) {
        std::fs::write(
            workspace.join("requirement.md"),
            infiagent_demo::files::REQUIREMENT,
        )
        .unwrap();
        let endpoint = infiagent_demo::serve("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let engine = engine(workspace, config(endpoint.base_url()));

        let outcome = engine.start(request()).unwrap().completion.wait().await;

        assert!(outcome.succeeded(), "{:?}", outcome.end);
        let run_dir = workspace.join(".infiagent/runs").join(&outcome.run_id);
        for file in [TRAJECTORY_FILE, RUN_FILE, SUMMARY_FILE] {
            assert!(run_dir.join(file).is_file(), "{file} missing");
        }
        assert!(workspace.join(".infiagent").join(QUALITY_FILE).is_file());
        assert!(workspace.join(".infiagent/index").is_dir());
    }

    async fn check_a_refused_key(workspace: &Path) {
        let server = serve_refusing_keys().await;
        let engine = engine(workspace, config(format!("{}/v1", server.uri())));

        let outcome = engine.start(request()).unwrap().completion.wait().await;

        let RunEnd::Aborted { reason, .. } = &outcome.end else {
            panic!(
                "expected the refused key to abort the run: {:?}",
                outcome.end
            );
        };
        assert!(
            reason.contains("HTTP 401 (the API key was refused")
                && reason.contains("invalid key in header: Bearer [REDACTED]"),
            "the echo should be there, scrubbed: {reason}"
        );
        assert_clean("the abort reason", reason);
        assert_clean("the outcome", &format!("{outcome:?}"));

        // The model's own errors, shown and debugged.
        let settings = config(format!("{}/v1", server.uri()))
            .model_settings(None)
            .unwrap();
        let error = infiagent_model::connect(&settings)
            .unwrap()
            .chat(&infiagent_model::ChatRequest {
                system: String::new(),
                messages: vec![infiagent_model::Message::User {
                    content: "hello".into(),
                }],
                tools: Vec::new(),
            })
            .await
            .unwrap_err();
        assert!(error.to_string().contains("Bearer [REDACTED]"), "{error}");
        assert_clean("the model error", &format!("{error} {error:?}"));
    }

    fn check_the_exported_dataset(workspace: &Path) {
        let dataset = infiagent_evolve::export_dataset(
            workspace,
            &infiagent_evolve::ExportOptions::default(),
            &infiagent_model::Redactor::with_secrets(Vec::new()),
        )
        .unwrap();
        assert!(
            !dataset.examples.is_empty(),
            "nothing exported: {}",
            dataset.report
        );
        for example in &dataset.examples {
            assert_clean("an exported example", &example.to_string());
        }
    }
}
