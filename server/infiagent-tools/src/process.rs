//! Sandboxed processes and the tools that start them: `execute_code` and `execute_shell`.
//!
//! [`run_process`] puts every child in its own process group, feeds its stdin, reads
//! stdout and stderr concurrently under a cap, and kills the whole group on timeout,
//! on cancel, when the leader exits (no background process outlives the call) and
//! when its future is dropped. [`render_outcome`] is the one place an outcome becomes
//! the model's text.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use infiagent_sandbox::{Launch, Network};
use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{ChildStdin, Command};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::editor::{Approval, ApprovalRequest};
use crate::spec::ToolResult;
use crate::{DEFAULT_PROCESS_TIMEOUT, SandboxError, ToolContext, ToolOutput, python};

/// How long the pipes may stay open after the process group was killed (only a
/// process that left the group can hold them longer).
const DRAIN_GRACE: Duration = Duration::from_secs(1);
/// How long a killed leader may take to be reaped.
const REAP_GRACE: Duration = Duration::from_secs(5);
/// Longest timeout a model may ask for, in seconds.
const MAX_TIMEOUT_SECONDS: u64 = 3600;

/// Timeouts and output caps for one process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessLimits {
    /// Wall-clock time before the process group is killed.
    pub timeout: Duration,
    /// Bytes kept of stdout and of stderr each; the rest is counted and dropped.
    pub max_output_bytes: usize,
}

impl Default for ProcessLimits {
    fn default() -> Self {
        ProcessLimits {
            timeout: DEFAULT_PROCESS_TIMEOUT,
            max_output_bytes: 64 * 1024,
        }
    }
}

/// How a process ended and what it printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessOutcome {
    /// The exit code; `None` when the process was killed by a signal.
    pub exit_code: Option<i32>,
    /// Standard output (lossy UTF-8), with a note in the middle when truncated.
    pub stdout: String,
    /// Standard error (lossy UTF-8), with a note in the middle when truncated.
    pub stderr: String,
    /// The timeout expired and the process group was killed.
    pub timed_out: bool,
    /// The cancellation token fired and the process group was killed.
    pub cancelled: bool,
    /// Wall-clock time from start to the end of the output.
    pub duration: Duration,
    /// Part of stdout was dropped.
    pub stdout_truncated: bool,
    /// Part of stderr was dropped.
    pub stderr_truncated: bool,
}

impl ProcessOutcome {
    /// True when the process exited by itself with code 0.
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out && !self.cancelled
    }
}

/// Runs `command` in a new process group under `limits`, killing the whole group on
/// timeout, when `cancel` fires, once the leader has exited, and if this future is
/// dropped. `stdin` is written to the child, which otherwise reads from `/dev/null`.
///
/// Only a failure to start or to wait for the process is an `Err`.
pub async fn run_process(
    mut command: Command,
    stdin: Option<String>,
    limits: &ProcessLimits,
    cancel: &CancellationToken,
) -> io::Result<ProcessOutcome> {
    command
        .process_group(0)
        .kill_on_drop(true)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    // A timeout too large for the clock means no timeout.
    let deadline = started.checked_add(limits.timeout);
    let mut child = command.spawn()?;
    let leader = child
        .id()
        .ok_or_else(|| io::Error::other("the process ended before its id was read"))?;
    let mut group = ProcessGroup {
        pgid: Pid::from_raw(i32::try_from(leader).map_err(io::Error::other)?),
        armed: true,
    };

    let stdout_pipe = child.stdout.take();
    let stderr_pipe = child.stderr.take();
    let stdin_pipe = child.stdin.take();
    let mut stdout_capture = Capture::new(limits.max_output_bytes);
    let mut stderr_capture = Capture::new(limits.max_output_bytes);
    let ended = {
        let pipes = async {
            tokio::join!(
                stdout_capture.read_all(stdout_pipe),
                stderr_capture.read_all(stderr_pipe),
                write_stdin(stdin_pipe, stdin),
            )
        };
        tokio::pin!(pipes);
        let mut pipes_done = false;
        let ended = loop {
            tokio::select! {
                _ = &mut pipes, if !pipes_done => pipes_done = true,
                status = child.wait() => break Ended::Exited(status?),
                () = reach(deadline) => break Ended::TimedOut,
                () = cancel.cancelled() => break Ended::Cancelled,
            }
        };
        group.kill();
        if !pipes_done {
            // Only a process that left the group can keep the pipes open now.
            let _ = tokio::time::timeout(DRAIN_GRACE, &mut pipes).await;
        }
        ended
    };
    let status = match ended {
        Ended::Exited(status) => Some(status),
        Ended::TimedOut | Ended::Cancelled => tokio::time::timeout(REAP_GRACE, child.wait())
            .await
            .ok()
            .and_then(Result::ok),
    };
    group.armed = false;

    let (stdout, stdout_truncated) = stdout_capture.finish();
    let (stderr, stderr_truncated) = stderr_capture.finish();
    Ok(ProcessOutcome {
        exit_code: status.and_then(|status| status.code()),
        stdout,
        stderr,
        timed_out: matches!(ended, Ended::TimedOut),
        cancelled: matches!(ended, Ended::Cancelled),
        duration: started.elapsed(),
        stdout_truncated,
        stderr_truncated,
    })
}

/// Completes at `deadline`, or never without one.
async fn reach(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Why the wait for a process stopped.
enum Ended {
    Exited(ExitStatus),
    TimedOut,
    Cancelled,
}

/// A child's process group, killed when this is dropped while still armed.
struct ProcessGroup {
    pgid: Pid,
    armed: bool,
}

impl ProcessGroup {
    fn kill(&self) {
        match killpg(self.pgid, Signal::SIGKILL) {
            // ESRCH: the group is already empty.
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(error) => {
                tracing::warn!(pgid = %self.pgid, %error, "could not kill a process group")
            }
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if self.armed {
            self.kill();
        }
    }
}

/// Writes `input` to the child's stdin and closes it; a child that stops reading
/// early is not an error.
async fn write_stdin(pipe: Option<ChildStdin>, input: Option<String>) {
    if let (Some(mut pipe), Some(input)) = (pipe, input) {
        let _ = pipe.write_all(input.as_bytes()).await;
    }
}

/// One output stream kept under a cap: its beginning and its end, with the count of
/// the bytes dropped in between.
struct Capture {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    head_capacity: usize,
    tail_capacity: usize,
    total_bytes: usize,
}

impl Capture {
    fn new(max_bytes: usize) -> Self {
        let tail_capacity = max_bytes / 2;
        Capture {
            head: Vec::new(),
            tail: VecDeque::new(),
            head_capacity: max_bytes - tail_capacity,
            tail_capacity,
            total_bytes: 0,
        }
    }

    /// Reads `pipe` to its end (or a read error), so the child never blocks on a full pipe.
    async fn read_all(&mut self, pipe: Option<impl AsyncRead + Unpin>) {
        let Some(mut pipe) = pipe else { return };
        let mut buffer = vec![0; 16 * 1024];
        while let Ok(read @ 1..) = pipe.read(&mut buffer).await {
            self.push(&buffer[..read]);
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.total_bytes += bytes.len();
        let room = self.head_capacity - self.head.len();
        let (to_head, rest) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(to_head);
        self.tail.extend(rest);
        let excess = self.tail.len().saturating_sub(self.tail_capacity);
        self.tail.drain(..excess);
    }

    /// The text kept, and whether bytes were dropped.
    fn finish(self) -> (String, bool) {
        let omitted = self.total_bytes - self.head.len() - self.tail.len();
        let head = String::from_utf8_lossy(&self.head);
        let tail = String::from_utf8_lossy(self.tail.as_slices().0).into_owned()
            + &String::from_utf8_lossy(self.tail.as_slices().1);
        if omitted == 0 {
            (format!("{head}{tail}"), false)
        } else {
            let text = format!("{head}\n[output truncated: {omitted} bytes omitted]\n{tail}");
            (text, true)
        }
    }
}

/// The model's view of a finished process: how it ended, how long it ran, and its
/// output. Anything but a clean exit with code 0 is an error.
pub(crate) fn render_outcome(outcome: &ProcessOutcome, limits: &ProcessLimits) -> ToolOutput {
    let ending = if outcome.timed_out {
        format!(
            "timed out after {:?}; the process and its children were killed",
            limits.timeout
        )
    } else if outcome.cancelled {
        "cancelled; the process and its children were killed".to_string()
    } else {
        match outcome.exit_code {
            Some(code) => format!("exit code {code}"),
            None => "killed by a signal".to_string(),
        }
    };
    let content = format!(
        "{ending} (ran {:.2}s)\n{}\n{}",
        outcome.duration.as_secs_f64(),
        stream_section("stdout", &outcome.stdout),
        stream_section("stderr", &outcome.stderr),
    );
    if outcome.succeeded() {
        ToolOutput::ok(content)
    } else {
        ToolOutput::error(content)
    }
}

fn stream_section(name: &str, text: &str) -> String {
    if text.is_empty() {
        format!("{name}: (empty)")
    } else {
        format!("{name}:\n{}", text.strip_suffix('\n').unwrap_or(text))
    }
}

/// A process a tool starts.
pub(crate) struct ToolProcess<'a> {
    /// The program (found on `PATH` when it has no slash).
    pub program: OsString,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// What it reads on stdin.
    pub stdin: Option<String>,
    /// Whether it may use the network beyond what the policy says.
    pub network: Network,
    /// Its timeout and output cap.
    pub limits: &'a ProcessLimits,
}

/// Runs a tool's process in the run's sandbox, from the workspace root, with a
/// private temporary folder, without the hidden environment variables, with
/// unbuffered Python output and the workspace's virtual environment (when there is
/// one) first on `PATH`; waits for a free process slot first. Renders the outcome.
pub(crate) async fn run_tool_process(process: ToolProcess<'_>, ctx: &ToolContext) -> ToolResult {
    let shown = process.program.to_string_lossy().into_owned();
    let _slot = ctx.run.process_slot().await;
    let private_tmp = tempfile::Builder::new()
        .prefix("infiagent-process-")
        .tempdir()
        .map_err(|error| format!("cannot run `{shown}`: no private temporary folder: {error}"))?;
    let writable = [ctx.venv_dir.clone()];
    let launch = Launch {
        workspace: ctx.sandbox.root(),
        private_tmp: private_tmp.path(),
        network: process.network,
        cpu: process.limits.timeout,
        writable: &writable,
    };
    let sandboxed = ctx
        .run
        .processes()
        .command(&process.program, &launch)
        .map_err(|error| format!("`{shown}`: {error}"))?;
    let mut command = Command::from(sandboxed);
    command
        .args(&process.args)
        .current_dir(ctx.sandbox.root())
        .env("TMPDIR", private_tmp.path())
        .env("PYTHONUNBUFFERED", "1")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    python::activate_venv(&mut command, ctx);
    for name in &ctx.hidden_env {
        command.env_remove(name);
    }
    // What the process changes in the workspace is checkpointed (not in a
    // candidate's copy).
    let checkpoints = ctx
        .run
        .checkpoints()
        .filter(|checkpoints| checkpoints.root() == ctx.sandbox.root());
    if let Some(checkpoints) = checkpoints {
        checkpoints.before_process().await;
    }
    let ran = run_process(command, process.stdin, process.limits, &ctx.cancel).await;
    if let Some(checkpoints) = checkpoints {
        checkpoints.after_process().await;
    }
    match ran {
        Ok(outcome) => Ok(render_outcome(&outcome, process.limits)),
        Err(error) => Err(format!("could not start `{shown}`: {error}")),
    }
}

/// The context's limits, with the model's `timeout_seconds` when it gave one.
pub(crate) fn limits_with_timeout(
    timeout_seconds: Option<u64>,
    ctx: &ToolContext,
) -> Result<ProcessLimits, String> {
    match timeout_seconds {
        None => Ok(ctx.limits.clone()),
        Some(seconds @ 1..=MAX_TIMEOUT_SECONDS) => Ok(ProcessLimits {
            timeout: Duration::from_secs(seconds),
            ..ctx.limits.clone()
        }),
        Some(seconds) => Err(format!(
            "timeout_seconds must be between 1 and {MAX_TIMEOUT_SECONDS}, not {seconds}"
        )),
    }
}

/// What an *Always for this workspace* answer allows from then on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Always {
    /// The same command of the tool (a shell command, an install, a script).
    ThisCommand,
    /// Every call of the tool (an MCP server's tool).
    EveryCall,
}

/// Asks the user through the editor whether `summary` of `tool` may run, unless it
/// was allowed for good in this workspace; remembers an *Always* answer as
/// `always` says.
pub(crate) async fn ask_approval(
    tool: &str,
    summary: &str,
    always: Always,
    ctx: &ToolContext,
) -> Result<(), String> {
    if ctx.run.approvals().allows(tool, summary) {
        return Ok(());
    }
    let request = ApprovalRequest {
        tool: tool.to_string(),
        agent: ctx.agent.clone(),
        summary: summary.to_string(),
        call: ctx.call,
    };
    match ctx.editor.approve(&request).await {
        Approval::Allow => Ok(()),
        Approval::AlwaysForWorkspace => {
            let pattern = match always {
                Always::ThisCommand => summary,
                Always::EveryCall => "*",
            };
            if let Err(error) = ctx.run.approvals().remember(tool, pattern) {
                tracing::warn!(%error, "could not remember an approval");
            }
            Ok(())
        }
        Approval::Deny => Err(match always {
            Always::ThisCommand => format!(
                "the user did not approve running `{summary}`; continue without it or ask for it in your final output"
            ),
            Always::EveryCall => format!(
                "the user did not approve calling `{tool}`; continue without it or ask for it in your final output"
            ),
        }),
    }
}

/// Why a workspace file may not run.
#[derive(Debug, thiserror::Error)]
pub enum NotApproved {
    /// The user declined (or could not be asked).
    #[error("the user did not approve running it")]
    Declined,
    /// The path is not a file of the workspace.
    #[error(transparent)]
    Path(#[from] SandboxError),
}

/// Asks whether the workspace file `path` may run, unless the run wrote it (or the
/// user already allowed it) and the sandbox is complete on this machine. On
/// approval, the file runs without asking for the rest of the run.
pub async fn approve_execution(path: &str, ctx: &ToolContext) -> Result<(), NotApproved> {
    let script = ctx.sandbox.resolve(path)?;
    if ctx.run.may_run(&script) && ctx.run.sandbox_complete().await {
        return Ok(());
    }
    ask_approval(
        "execute_code",
        &ctx.sandbox.relative(&script),
        Always::ThisCommand,
        ctx,
    )
    .await
    .map_err(|_| NotApproved::Declined)?;
    ctx.run.allow_run(&script);
    Ok(())
}

/// Asks whether `command`, which the runtime itself runs for `tool` (a project
/// check), may run, unless it was allowed for good in this workspace.
pub async fn approve_command(
    tool: &str,
    command: &str,
    ctx: &ToolContext,
) -> Result<(), NotApproved> {
    ask_approval(tool, command, Always::ThisCommand, ctx)
        .await
        .map_err(|_| NotApproved::Declined)
}

/// Asks whether `tool` (a tool outside the basic ones, such as an MCP server's)
/// may be called, `summary` showing the call, unless it was allowed for good in
/// this workspace. *Always for this workspace* allows every call of `tool`.
pub async fn approve_tool(tool: &str, summary: &str, ctx: &ToolContext) -> Result<(), String> {
    ask_approval(tool, summary, Always::EveryCall, ctx).await
}

/// Arguments of `execute_code`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExecuteCodeArgs {
    path: String,
    #[serde(default)]
    args: Vec<String>,
    stdin: Option<String>,
    timeout_seconds: Option<u64>,
}

/// Runs a script file of the workspace with the interpreter its extension names.
pub(crate) async fn execute_code(args: ExecuteCodeArgs, ctx: &ToolContext) -> ToolResult {
    let limits = limits_with_timeout(args.timeout_seconds, ctx)?;
    let script = ctx
        .sandbox
        .resolve(&args.path)
        .map_err(|error| error.to_string())?;
    let shown = ctx.sandbox.relative(&script);
    if !script.is_file() {
        if ctx.editor.open_text(&script).is_some() {
            // `review` autonomy: the run's writes wait for the user at its end.
            return Err(format!(
                "script '{shown}' is held for review: this run's changes reach the disk only when the user applies them at its end, so it cannot run yet; do not retry, say in your final output how to run it"
            ));
        }
        return Err(format!(
            "script '{shown}' does not exist or is not a file; write it with file_write first, or use dir_list to find it"
        ));
    }
    let extension = script
        .extension()
        .map(|extension| extension.to_string_lossy().to_ascii_lowercase());
    let program: OsString = match extension.as_deref() {
        Some("py") => python::python_program(ctx).into(),
        Some("js" | "mjs" | "cjs") => "node".into(),
        Some("sh") => "bash".into(),
        _ => {
            return Err(format!(
                "cannot run '{shown}': execute_code runs .py (Python), .js/.mjs/.cjs (Node.js) and .sh (bash) files; use execute_shell for anything else"
            ));
        }
    };
    approve_execution(&args.path, ctx)
        .await
        .map_err(|refusal| match refusal {
            NotApproved::Declined => format!(
                "the user did not approve running `{shown}`; continue without it or ask for it in your final output"
            ),
            NotApproved::Path(error) => error.to_string(),
        })?;
    let process = ToolProcess {
        program,
        args: std::iter::once(script.into_os_string())
            .chain(args.args.into_iter().map(OsString::from))
            .collect(),
        stdin: args.stdin,
        network: Network::AsPolicy,
        limits: &limits,
    };
    run_tool_process(process, ctx).await
}

/// Arguments of `execute_shell`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExecuteShellArgs {
    command: String,
    timeout_seconds: Option<u64>,
}

/// Runs a bash command line in the workspace root once the user approves it.
pub(crate) async fn execute_shell(args: ExecuteShellArgs, ctx: &ToolContext) -> ToolResult {
    let limits = limits_with_timeout(args.timeout_seconds, ctx)?;
    if args.command.trim().is_empty() {
        return Err("the command is empty; give a bash command line such as `ls -la`".into());
    }
    ask_approval("execute_shell", &args.command, Always::ThisCommand, ctx).await?;
    let process = ToolProcess {
        program: "bash".into(),
        args: vec!["-c".into(), args.command.into()],
        stdin: None,
        network: Network::AsPolicy,
        limits: &limits,
    };
    run_tool_process(process, ctx).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn limits(timeout: Duration, max_output_bytes: usize) -> ProcessLimits {
        ProcessLimits {
            timeout,
            max_output_bytes,
        }
    }

    fn bash(script: &str) -> Command {
        let mut command = Command::new("bash");
        command.arg("-c").arg(script);
        command
    }

    /// Whether `pid` is still a live (not zombie) process.
    fn alive(pid: i32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // The state follows the parenthesized command name.
            Ok(stat) => !stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z')),
            Err(_) => false,
        }
    }

    /// Waits up to a second for every pid in `file` to be gone.
    async fn assert_all_gone(file: &Path) {
        let pids: Vec<i32> = std::fs::read_to_string(file)
            .unwrap()
            .split_whitespace()
            .map(|pid| pid.parse().unwrap())
            .collect();
        assert_eq!(pids.len(), 3, "{pids:?}");
        for _ in 0..20 {
            if !pids.iter().any(|&pid| alive(pid)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("processes still alive: {pids:?}");
    }

    /// A shell that records its pid and its two background children's pids in
    /// `file`, then waits for them.
    fn family(file: &Path) -> Command {
        bash(&format!(
            "echo $$ > {file}; sleep 60 & echo $! >> {file}; sleep 60 & echo $! >> {file}; wait",
            file = file.display()
        ))
    }

    async fn wait_for_lines(file: &Path, count: usize) {
        while std::fs::read_to_string(file).map_or(0, |text| text.lines().count()) < count {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn stdout_stderr_stdin_and_exit_code() {
        let outcome = run_process(
            bash("cat; echo oops >&2; exit 3"),
            Some("hello\n".into()),
            &ProcessLimits::default(),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert_eq!(outcome.stdout, "hello\n");
        assert_eq!(outcome.stderr, "oops\n");
        assert_eq!(outcome.exit_code, Some(3));
        assert!(!outcome.succeeded());
        assert!(!outcome.stdout_truncated && !outcome.timed_out && !outcome.cancelled);
    }

    #[tokio::test]
    async fn output_over_the_cap_keeps_both_ends_and_the_child_never_blocks() {
        let script = "echo start; head -c 5000000 /dev/zero | tr '\\0' x; echo; echo end";
        let outcome = run_process(
            bash(script),
            None,
            &limits(Duration::from_secs(20), 100),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert!(outcome.stdout_truncated);
        assert!(
            outcome.stdout.starts_with("start\nxxx"),
            "{}",
            outcome.stdout
        );
        assert!(outcome.stdout.ends_with("xxx\nend\n"), "{}", outcome.stdout);
        assert!(
            outcome
                .stdout
                .contains("\n[output truncated: 4999911 bytes omitted]\n"),
            "{}",
            outcome.stdout
        );
        assert_eq!(outcome.exit_code, Some(0));
    }

    #[tokio::test]
    async fn a_large_stdin_the_child_ignores_does_not_hang() {
        let outcome = run_process(
            bash("exit 0"),
            Some("x".repeat(1 << 20)),
            &limits(Duration::from_secs(10), 100),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert!(outcome.succeeded());
    }

    #[tokio::test]
    async fn timeout_kills_the_process() {
        let outcome = run_process(
            bash("sleep 30"),
            None,
            &limits(Duration::from_secs(1), 1000),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert!(outcome.timed_out);
        assert_eq!(outcome.exit_code, None);
        assert!(
            outcome.duration < Duration::from_secs(3),
            "{:?}",
            outcome.duration
        );
    }

    #[tokio::test]
    async fn cancel_kills_the_whole_process_group() {
        let directory = tempfile::tempdir().unwrap();
        let pids = directory.path().join("pids");
        let cancel = CancellationToken::new();
        let canceller = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            canceller.cancel();
        });
        let outcome = run_process(
            family(&pids),
            None,
            &limits(Duration::from_secs(60), 1000),
            &cancel,
        )
        .await
        .unwrap();
        assert!(outcome.cancelled);
        assert!(
            outcome.duration < Duration::from_secs(2),
            "{:?}",
            outcome.duration
        );
        assert_all_gone(&pids).await;
    }

    #[tokio::test]
    async fn dropping_the_future_kills_the_whole_process_group() {
        let directory = tempfile::tempdir().unwrap();
        let pids = directory.path().join("pids");
        let limits = limits(Duration::from_secs(60), 1000);
        let cancel = CancellationToken::new();
        let running = run_process(family(&pids), None, &limits, &cancel);
        tokio::select! {
            _ = running => panic!("the process ended by itself"),
            () = wait_for_lines(&pids, 3) => {}
        }
        assert_all_gone(&pids).await;
    }

    #[tokio::test]
    async fn background_processes_do_not_outlive_the_leader() {
        let directory = tempfile::tempdir().unwrap();
        let pids = directory.path().join("pids");
        let script = format!(
            "echo $$ > {file}; sleep 60 & echo $! >> {file}; sleep 60 & echo $! >> {file}; echo done",
            file = pids.display()
        );
        let outcome = run_process(
            bash(&script),
            None,
            &limits(Duration::from_secs(60), 1000),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert_eq!(outcome.stdout, "done\n");
        assert!(
            outcome.duration < Duration::from_secs(3),
            "{:?}",
            outcome.duration
        );
        assert_all_gone(&pids).await;
    }

    #[tokio::test]
    async fn an_endless_timeout_is_no_timeout() {
        let outcome = run_process(
            bash("echo fine"),
            None,
            &limits(Duration::MAX, 1000),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert_eq!(outcome.stdout, "fine\n");
    }

    #[tokio::test]
    async fn a_missing_program_is_an_io_error() {
        let error = run_process(
            Command::new("/nonexistent/program"),
            None,
            &ProcessLimits::default(),
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn capture_keeps_everything_under_the_cap() {
        let mut capture = Capture::new(10);
        capture.push(b"0123");
        capture.push(b"456789");
        assert_eq!(capture.finish(), ("0123456789".to_string(), false));
        let mut capture = Capture::new(0);
        capture.push(b"abc");
        assert_eq!(
            capture.finish(),
            ("\n[output truncated: 3 bytes omitted]\n".to_string(), true)
        );
    }

    #[test]
    fn rendering() {
        let finished = ProcessOutcome {
            exit_code: Some(1),
            stdout: "line one\nline two\n".into(),
            stderr: String::new(),
            timed_out: false,
            cancelled: false,
            duration: Duration::from_millis(1234),
            stdout_truncated: false,
            stderr_truncated: false,
        };
        let timed_out = ProcessOutcome {
            exit_code: None,
            stdout: String::new(),
            stderr: "partial".into(),
            timed_out: true,
            duration: Duration::from_secs(5),
            ..finished.clone()
        };
        let succeeded = ProcessOutcome {
            exit_code: Some(0),
            ..finished.clone()
        };
        let limits = limits(Duration::from_secs(5), 100);
        let rendered = [finished, timed_out, succeeded].map(|outcome| {
            let output = render_outcome(&outcome, &limits);
            format!("is_error: {}\n{}", output.is_error, output.content)
        });
        insta::assert_snapshot!(rendered.join("\n---\n"));
    }
}
