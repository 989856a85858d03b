//! `infiagent doctor [-w DIR]`: what this machine's process sandbox enforces, and a
//! self-test in which a sandboxed child tries to escape.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use infiagent_engine::Config;
use infiagent_sandbox::{Launch, Network, ProcessSandbox, SandboxMode, SandboxPolicy, Support};
use infiagent_tools::{ProcessLimits, run_process};
use tokio_util::sync::CancellationToken;

/// Show what the process sandbox enforces on this machine, and test it.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// The workspace whose `[sandbox]` policy to show (default: the current directory).
    #[arg(long, short = 'w')]
    workspace: Option<PathBuf>,
}

/// One escape the self-test tries.
struct Escape {
    what: &'static str,
    /// A bash command that succeeds only if the escape worked.
    script: String,
}

/// Prints the report; exits 1 when a rule is not enforced or an escape worked.
pub(crate) async fn run(args: DoctorArgs) -> anyhow::Result<u8> {
    let workspace = crate::folder_or_current(args.workspace)?;
    let config = Config::load(&workspace)?;
    let policy = config.sandbox.clone();
    println!("InfiAgent process sandbox");
    println!(
        "  policy:           mode = \"{}\", network = {} ({})",
        policy.mode.name(),
        policy.network,
        policy_source(&workspace)
    );
    println!("  user namespaces:  {}", user_namespaces());
    if policy.mode == SandboxMode::Off {
        println!("\nThe sandbox is off: processes run with your full rights.");
        return Ok(crate::EXIT_FAILURE);
    }
    let sandbox = ProcessSandbox::new(policy.clone());
    let support = tokio::task::spawn_blocking(move || sandbox.support().clone()).await?;
    print_support(&support);
    let escaped = self_test(&policy).await?;
    if support.complete() && !escaped {
        println!("\nEvery rule is enforced and no escape worked.");
        Ok(0)
    } else {
        println!(
            "\nThe sandbox is incomplete here: in the `ask` autonomy every process asks first. See docs/security.md."
        );
        Ok(crate::EXIT_FAILURE)
    }
}

fn policy_source(workspace: &Path) -> String {
    let file = workspace.join(".infiagent").join("config.toml");
    if file.exists() {
        format!("from {}", file.display())
    } else {
        "the defaults".into()
    }
}

fn user_namespaces() -> &'static str {
    let limit = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap_or_default();
    match limit.trim().parse::<u64>() {
        Ok(0) => "disabled (max_user_namespaces = 0)",
        Ok(_) => "available (not needed: Landlock needs no privileges)",
        Err(_) => "unknown",
    }
}

fn print_support(support: &Support) {
    println!("  kernel:           {}", support.kernel);
    println!("\nRules");
    for rule in &support.rules {
        let state = if rule.enforced {
            "enforced"
        } else {
            "NOT ENFORCED"
        };
        println!("  {state:<13} {}: {}", rule.name, rule.detail);
    }
}

/// Runs each escape in a sandboxed child of a scratch workspace; prints whether it
/// was blocked. Returns whether any escape worked.
async fn self_test(policy: &SandboxPolicy) -> anyhow::Result<bool> {
    let scratch = tempfile::tempdir()?;
    let workspace = scratch.path().join("workspace");
    let outside = scratch.path().join("outside");
    let secret = scratch.path().join("secret");
    std::fs::create_dir_all(workspace.join(".infiagent"))?;
    std::fs::create_dir_all(&outside)?;
    std::fs::write(&secret, "a secret the sandbox must not show\n")?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let policy = SandboxPolicy {
        deny_read: [policy.deny_read.clone(), vec![secret.display().to_string()]].concat(),
        network: false,
        ..policy.clone()
    };
    let sandbox = ProcessSandbox::new(policy.clone());
    let mut escapes = vec![
        Escape {
            what: "write a file outside the workspace",
            script: format!("echo x > {}/escaped", outside.display()),
        },
        Escape {
            what: "read a path of deny_read",
            script: format!("cat {}", secret.display()),
        },
        Escape {
            what: "connect to a loopback port",
            script: format!("exec 3<>/dev/tcp/127.0.0.1/{port}"),
        },
    ];
    if policy.protect.iter().any(|folder| folder == ".infiagent") {
        escapes.push(Escape {
            what: "write the workspace's .infiagent/config.toml",
            script: "echo 'autonomy = \"auto\"' > .infiagent/config.toml".into(),
        });
    }
    println!("\nSelf-test (a sandboxed child tries each)");
    let mut escaped = false;
    for escape in &escapes {
        let worked = runs(&sandbox, &workspace, &escape.script).await?;
        escaped |= worked;
        let state = if worked { "NOT BLOCKED" } else { "blocked" };
        println!("  {state:<13} {}", escape.what);
    }
    let control = runs(&sandbox, &workspace, "echo x > inside && cat inside").await?;
    let state = if control { "allowed" } else { "REFUSED" };
    println!("  {state:<13} write a file inside the workspace (as it should)");
    Ok(escaped || !control)
}

/// Whether `script` exits 0 when run by bash in the sandbox from `workspace`.
async fn runs(sandbox: &ProcessSandbox, workspace: &Path, script: &str) -> anyhow::Result<bool> {
    let private_tmp = tempfile::tempdir()?;
    let limits = ProcessLimits {
        timeout: Duration::from_secs(10),
        ..ProcessLimits::default()
    };
    let launch = Launch {
        workspace,
        private_tmp: private_tmp.path(),
        network: Network::AsPolicy,
        cpu: limits.timeout,
        writable: &[],
    };
    let command = sandbox.command("bash".as_ref(), &launch)?;
    let mut command = tokio::process::Command::from(command);
    command.arg("-c").arg(script).current_dir(workspace);
    let outcome = run_process(command, None, &limits, &CancellationToken::new()).await?;
    Ok(outcome.succeeded())
}
