// The status bar item: the current run's working agent, state and cost.

import * as vscode from 'vscode';
import { RunStore, activeAgent, formatCost, stateIcon } from './runs';

/** Shows the newest running run (else the newest run); hidden until there is one. */
export class RunStatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly runs: RunStore) {
    this.item = vscode.window.createStatusBarItem('infiagent.run', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'InfiAgent Run';
    this.item.command = 'infiagent.showRuns';
    this.subscription = runs.onDidChange(() => this.render());
    this.render();
  }

  private render(): void {
    const status = this.runs.current();
    if (!status) {
      this.item.hide();
      return;
    }
    const agent = status.state === 'running' ? activeAgent(status) : status.agent;
    this.item.text = `$(${stateIcon(status.state)}) ${agent} ${status.state} · ${formatCost(status.totals.cost_usd)}`;
    this.item.tooltip = [status.title, status.message].filter((line) => line !== '').join('\n');
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
