// A notification per running run: its live call stack, tokens and cost, and a
// Cancel button that cancels the run (with its children and their processes).
// The language client shows the server's work-done progress in the status bar
// only, where it cannot be cancelled.

import * as vscode from 'vscode';
import { RunStatus, RunStore, formatCost, totalTokens } from './runs';

/** Shows each run the store sees running until it ends; `cancel` is called with the run's id. */
export class RunNotifications implements vscode.Disposable {
  private readonly shown = new Map<string, { report(status: RunStatus): void; end(): void }>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly runs: RunStore,
    private readonly cancel: (runId: string) => Promise<void>,
  ) {
    this.subscription = runs.onDidChange(() => this.sync());
  }

  private sync(): void {
    for (const status of this.runs.all()) {
      const shown = this.shown.get(status.runId);
      if (status.state !== 'running') {
        shown?.end();
      } else if (shown) {
        shown.report(status);
      } else {
        this.show(status);
      }
    }
  }

  private show(first: RunStatus): void {
    const runId = first.runId;
    let report: (status: RunStatus) => void = () => undefined;
    let end: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => (end = resolve));
    this.shown.set(runId, { report: (status) => report(status), end });
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `InfiAgent: ${first.title || first.agent}`, cancellable: true },
      async (progress, token) => {
        report = (status) => progress.report({ message: progressMessage(status) });
        report(first);
        token.onCancellationRequested(() => {
          void this.cancel(runId).catch((error: unknown) => {
            void vscode.window.showErrorMessage(
              `InfiAgent: cannot cancel ${runId}: ${error instanceof Error ? error.message : String(error)}`,
            );
          });
        });
        await ended;
      },
    );
    void ended.then(() => this.shown.delete(runId));
  }

  dispose(): void {
    this.subscription.dispose();
    for (const shown of this.shown.values()) {
      shown.end();
    }
    this.shown.clear();
  }
}

/** `code_builder_agent(numstats.py) [step 3] · 1234 tokens · $0.0012`. */
export function progressMessage(status: RunStatus): string {
  const where = status.stack[0] ?? status.agent;
  return `${where} · ${totalTokens(status.totals)} tokens · ${formatCost(status.totals.cost_usd)}`;
}
