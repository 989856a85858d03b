//! The terminal as the "editor" of a headless run: nothing is open, writes go to
//! disk, and approvals are asked on the terminal (or refused when there is none);
//! Ctrl-C cancels what runs.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use infiagent_engine::Autonomy;
use infiagent_tools::{Approval, ApprovalRequest, Editor, EditorWrite};
use tokio::signal::unix::{Signal, SignalKind};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::EXIT_CANCELLED;

/// One question on the terminal at a time: runs of a build ask concurrently.
static QUESTION: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Asks approvals on the terminal according to the autonomy setting.
pub(crate) struct TerminalEditor {
    pub autonomy: Autonomy,
}

#[async_trait::async_trait]
impl Editor for TerminalEditor {
    fn open_text(&self, _path: &Path) -> Option<String> {
        None
    }

    async fn write(&self, _path: &Path, _content: &str) -> EditorWrite {
        EditorWrite::NotOpen
    }

    async fn approve(&self, request: &ApprovalRequest) -> Approval {
        match self.autonomy {
            Autonomy::Auto => Approval::Allow,
            Autonomy::Ask | Autonomy::Review => {
                if !std::io::stdin().is_terminal() {
                    eprintln!(
                        "refused: {} wants to run {} `{}`; no terminal to ask (pass --autonomy auto to allow)",
                        request.agent, request.tool, request.summary
                    );
                    return Approval::Deny;
                }
                let _turn = QUESTION.lock().await;
                let question = format!(
                    "\n{} wants to run {}: `{}`\nAllow? [y]es, [N]o, [a]lways for this workspace: ",
                    request.agent, request.tool, request.summary
                );
                let answer = tokio::task::spawn_blocking(move || {
                    eprint!("{question}");
                    let _ = std::io::stderr().flush();
                    let mut line = String::new();
                    let _ = std::io::stdin().lock().read_line(&mut line);
                    line
                })
                .await
                .unwrap_or_default();
                match answer.trim() {
                    "y" | "Y" | "yes" => Approval::Allow,
                    "a" | "A" | "always" => Approval::AlwaysForWorkspace,
                    _ => Approval::Deny,
                }
            }
        }
    }
}

/// Ctrl-C, listened to for the whole command so that no signal is lost between two
/// events (or two problems of a benchmark). The second one exits at once.
pub(crate) struct Interrupts {
    signal: Signal,
    received: u32,
}

impl Interrupts {
    pub(crate) fn listen() -> anyhow::Result<Interrupts> {
        let signal = tokio::signal::unix::signal(SignalKind::interrupt())
            .context("cannot listen for Ctrl-C")?;
        Ok(Interrupts {
            signal,
            received: 0,
        })
    }

    /// Whether a Ctrl-C came.
    pub(crate) fn any(&self) -> bool {
        self.received > 0
    }

    /// Hands `events` to `on_event` until they end; a Ctrl-C meanwhile says
    /// `cancelling` and cancels `cancel`. Whether a Ctrl-C came.
    pub(crate) async fn follow<E>(
        &mut self,
        events: &mut impl Events<E>,
        cancel: &CancellationToken,
        cancelling: &str,
        mut on_event: impl FnMut(&E),
    ) -> bool {
        let mut interrupted = false;
        loop {
            tokio::select! {
                event = events.next_event() => match event {
                    Some(event) => on_event(&event),
                    None => return interrupted,
                },
                () = self.next() => {
                    interrupted = true;
                    eprintln!("\n{cancelling} (Ctrl-C again to exit at once)");
                    cancel.cancel();
                }
            }
        }
    }

    /// Completes at the next Ctrl-C.
    pub(crate) async fn next(&mut self) {
        if self.signal.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
        self.received += 1;
        if self.received > 1 {
            eprintln!("\ninterrupted twice: exiting now");
            std::process::exit(i32::from(EXIT_CANCELLED));
        }
    }
}

/// What yields events until it closes: the event channel of a run or of a build.
pub(crate) trait Events<E> {
    /// The next event; `None` once the channel is closed.
    async fn next_event(&mut self) -> Option<E>;
}

impl<E> Events<E> for mpsc::Receiver<E> {
    async fn next_event(&mut self) -> Option<E> {
        self.recv().await
    }
}

impl<E> Events<E> for mpsc::UnboundedReceiver<E> {
    async fn next_event(&mut self) -> Option<E> {
        self.recv().await
    }
}
