//! `infiagent build`: a plan's build order run as parallel builder runs.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use infiagent_build::{
    BuildEvent, BuildHandle, BuildOptions, BuildPlan, BuildReport, DESIGN_SUMMARY, ScriptStatus,
};

use crate::progress::{StatusLine, StatusWriter};
use crate::run_command::{EngineArgs, Output, open_engine};
use crate::terminal::{Interrupts, TerminalEditor};
use crate::{EXIT_CANCELLED, EXIT_FAILURE, EXIT_USAGE};

/// Arguments of `infiagent build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    engine: EngineArgs,
    /// Scripts built at the same time (default: `[run] jobs` of the configuration).
    #[arg(long, short = 'j', value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// The summary design with the `## Build order`, relative to the workspace.
    #[arg(default_value = DESIGN_SUMMARY)]
    design_summary: PathBuf,
}

pub(crate) async fn run(args: BuildArgs) -> anyhow::Result<u8> {
    let workspace = args.engine.workspace()?;
    let config = args.engine.config(&workspace)?;
    let plan = BuildPlan::load(&workspace, &args.design_summary)?;
    let Some(engine) = open_engine(&workspace, config)? else {
        return Ok(EXIT_USAGE);
    };
    let editor = Arc::new(TerminalEditor {
        autonomy: engine.config().run.autonomy,
    });
    let options = BuildOptions {
        jobs: args.jobs.map(usize::from),
        editor,
    };
    let total = plan.order().steps().len();
    let summary = plan.summary().to_string();
    let handle = infiagent_build::start(engine, plan, options)?;
    let status_line = StatusLine::of_stderr();
    let mut progress = BuildProgress::new(std::io::stderr(), status_line, total);
    progress.line(&format!("building {total} scripts of {summary}"));
    let mut interrupts = Interrupts::listen()?;
    let report = watch(handle, &mut progress, &mut interrupts).await;
    let interrupted = interrupts.any();
    progress.finish();
    match args.engine.output() {
        Output::Json => println!("{}", serde_json::to_string(&report)?),
        Output::Human => println!("{}", report.describe()),
    }
    Ok(if interrupted || report.cancelled {
        EXIT_CANCELLED
    } else if report.succeeded() {
        0
    } else {
        EXIT_FAILURE
    })
}

/// Renders events until the build ends; Ctrl-C cancels every run (twice: exit at once).
async fn watch(
    handle: BuildHandle,
    progress: &mut BuildProgress<std::io::Stderr>,
    interrupts: &mut Interrupts,
) -> BuildReport {
    let BuildHandle {
        mut events,
        cancel,
        completion,
        ..
    } = handle;
    let cancelling = "cancelling the build: stopping every run and its processes";
    interrupts
        .follow(&mut events, &cancel, cancelling, |event| {
            progress.on_event(event);
        })
        .await;
    completion.wait().await
}

/// One line per script starting, ending or skipped; on a terminal, a status line
/// with the scripts in flight and the tokens so far.
struct BuildProgress<W: Write> {
    out: StatusWriter<W>,
    total: usize,
    done: usize,
    in_flight: Vec<String>,
    tokens: u64,
}

impl<W: Write> BuildProgress<W> {
    fn new(out: W, status_line: StatusLine, total: usize) -> Self {
        BuildProgress {
            out: StatusWriter::new(out, status_line),
            total,
            done: 0,
            in_flight: Vec::new(),
            tokens: 0,
        }
    }

    fn on_event(&mut self, event: &BuildEvent) {
        match event {
            BuildEvent::Started { script, run_id } => {
                self.in_flight.push(script.clone());
                self.line(&format!("▸ {script}  started (run {run_id})"));
            }
            BuildEvent::Progress { event, .. } => {
                if let infiagent_protocol::RunEvent::ModelCalled { usage, .. } = event {
                    self.tokens += usage.total();
                }
            }
            BuildEvent::Finished(report) => {
                self.in_flight.retain(|script| script != &report.script);
                self.done += 1;
                let mark = match report.status {
                    ScriptStatus::Succeeded => "✓",
                    ScriptStatus::Failed | ScriptStatus::Skipped | ScriptStatus::Cancelled => "✗",
                };
                let reason = report
                    .reason
                    .as_deref()
                    .map(|reason| format!(": {reason}"))
                    .unwrap_or_default();
                self.line(&format!(
                    "{mark} {}  {} in {:.1}s [{}/{}]{reason}",
                    report.script,
                    report.status.as_str(),
                    report.duration_ms as f64 / 1000.0,
                    self.done,
                    self.total
                ));
            }
            BuildEvent::Skipped(report) => {
                self.done += 1;
                self.line(&format!(
                    "- {}  {} [{}/{}]: {}",
                    report.script,
                    report.status.as_str(),
                    self.done,
                    self.total,
                    report.reason.as_deref().unwrap_or_default()
                ));
            }
        }
        self.draw_status();
    }

    fn line(&mut self, text: &str) {
        self.out.line(text);
    }

    fn finish(&mut self) {
        self.out.finish();
    }

    fn draw_status(&mut self) {
        if self.in_flight.is_empty() {
            return;
        }
        let text = format!(
            "building {} · {}/{} done · {} tokens",
            self.in_flight.join(", "),
            self.done,
            self.total,
            self.tokens
        );
        self.out.status(&text);
    }
}

#[cfg(test)]
mod tests {
    use infiagent_build::ScriptReport;
    use infiagent_protocol::Totals;

    use super::*;

    fn report(script: &str, status: ScriptStatus, reason: Option<&str>) -> ScriptReport {
        ScriptReport {
            script: script.into(),
            status,
            run_id: (status != ScriptStatus::Skipped).then(|| "r1".to_string()),
            duration_ms: 1500,
            reason: reason.map(str::to_string),
            totals: Totals::default(),
        }
    }

    #[test]
    fn renders_a_build() {
        let mut progress = BuildProgress::new(Vec::new(), StatusLine::Off, 3);
        for event in [
            BuildEvent::Started {
                script: "a.py".into(),
                run_id: "r1".into(),
            },
            BuildEvent::Finished(report("a.py", ScriptStatus::Failed, Some("it crashes"))),
            BuildEvent::Skipped(report(
                "b.py",
                ScriptStatus::Skipped,
                Some("depends on a.py, which failed: it crashes"),
            )),
            BuildEvent::Started {
                script: "c.py".into(),
                run_id: "r2".into(),
            },
            BuildEvent::Finished(report("c.py", ScriptStatus::Succeeded, None)),
        ] {
            progress.on_event(&event);
        }
        insta::assert_snapshot!(String::from_utf8(progress.out.out).unwrap(), @r"
        ▸ a.py  started (run r1)
        ✗ a.py  failed in 1.5s [1/3]: it crashes
        - b.py  skipped [2/3]: depends on a.py, which failed: it crashes
        ▸ c.py  started (run r2)
        ✓ c.py  succeeded in 1.5s [3/3]
        ");
    }
}
