// The runs of the session, kept from `infiagent/runStatus` notifications and the
// `infiagent.runs` command.

import * as vscode from 'vscode';

/** Where a run is. */
export type RunState = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Tokens, cost and calls of a run so far. */
export interface RunTotals {
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  model_calls: number;
  tool_calls: number;
}

/** The payload of `infiagent/runStatus` and one entry of `infiagent.runs`. */
export interface RunStatus {
  runId: string;
  agent: string;
  title: string;
  state: RunState;
  /** One entry per active call chain, e.g. `project_planner_agent(requirement.md) › judge_agent(requirement.md) [step 2]`. */
  stack: string[];
  totals: RunTotals;
  message: string;
  startedAt: string;
  /** The run's record folder: `.infiagent/runs/<runId>`. */
  record: string;
  /** It stopped before its end (cancelled, or stopped by a bound or a model failure): it can be resumed. */
  resumable?: boolean;
  /** The run's `summary.md`, once it has ended. */
  summary?: string | null;
}

/** One step of a run (`infiagent/runEvent`): an agent called, a tool call ended, a verdict. */
export interface RunNote {
  runId: string;
  kind: 'agent' | 'tool' | 'verdict';
  /** The call site, e.g. `code_builder_agent(numstats.py)`. */
  label: string;
  /** One line: the agent's task, the tool and what it worked on, the verdict. */
  text: string;
  /** A verdict's status. */
  status?: 'success' | 'error';
  /** A tool call that failed. */
  isError?: boolean;
  /** Files a tool changed or a verdict concerns (absolute paths; a finding's 1-based line). */
  files?: { path: string; line?: number }[];
}

/** The answer of `infiagent.runs`. */
export interface RunsResponse {
  runs: RunStatus[];
}

/** The notes kept per run, for a listener that comes after the run started. */
const NOTES_KEPT = 500;

/** Runs of this session, in start order, and the notes of each. */
export class RunStore implements vscode.Disposable {
  private readonly byId = new Map<string, RunStatus>();
  private readonly notesById = new Map<string, RunNote[]>();
  private lastUpdated: string | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly noted = new vscode.EventEmitter<RunNote>();
  /** Fires after any change. */
  readonly onDidChange = this.changed.event;
  /** Fires with each note of a run. */
  readonly onDidNote = this.noted.event;

  /** Records a note from `infiagent/runEvent`. */
  note(note: RunNote): void {
    const notes = this.notesById.get(note.runId) ?? [];
    notes.push(note);
    notes.splice(0, Math.max(0, notes.length - NOTES_KEPT));
    this.notesById.set(note.runId, notes);
    this.noted.fire(note);
  }

  /** The notes of `runId` so far (the newest `NOTES_KEPT`). */
  notes(runId: string): RunNote[] {
    return [...(this.notesById.get(runId) ?? [])];
  }

  /** Records a status from a notification (a new run or a newer state of a known one). */
  update(status: RunStatus): void {
    this.byId.set(status.runId, status);
    this.lastUpdated = status.runId;
    this.changed.fire();
  }

  /** Replaces everything with the server's list (after a start or restart). */
  replaceAll(statuses: RunStatus[]): void {
    this.byId.clear();
    for (const status of statuses) {
      this.byId.set(status.runId, status);
    }
    this.changed.fire();
  }

  /** The run `runId`, if known. */
  get(runId: string): RunStatus | undefined {
    return this.byId.get(runId);
  }

  /** All runs, oldest first. */
  all(): RunStatus[] {
    return [...this.byId.values()];
  }

  /** Runs still going, oldest first. */
  running(): RunStatus[] {
    return this.all().filter((status) => status.state === 'running');
  }

  /** The run the status bar shows: the newest running one, else the one that changed last. */
  current(): RunStatus | undefined {
    const all = this.all();
    const running = all.filter((status) => status.state === 'running');
    const last = this.lastUpdated === undefined ? undefined : this.byId.get(this.lastUpdated);
    return running.at(-1) ?? last ?? all.at(-1);
  }

  dispose(): void {
    this.changed.dispose();
    this.noted.dispose();
  }
}

/** The agent working now: the innermost call of the first stack, else the run's agent. */
export function activeAgent(status: RunStatus): string {
  const stack = status.stack[0];
  if (!stack) {
    return status.agent;
  }
  const innermost = stack.split(' › ').at(-1) ?? stack;
  const name = innermost.split('(')[0].split(' [')[0].trim();
  return name || status.agent;
}

/** `$0.0012`: the cost with four decimals, like the server's reports. */
export function formatCost(costUsd: number): string {
  return `$${costUsd.toFixed(4)}`;
}

/** Total tokens of a run. */
export function totalTokens(totals: RunTotals): number {
  return totals.prompt_tokens + totals.completion_tokens;
}

/** A codicon per state. */
export function stateIcon(state: RunState): string {
  switch (state) {
    case 'running':
      return 'sync~spin';
    case 'succeeded':
      return 'pass';
    case 'failed':
      return 'error';
    case 'cancelled':
      return 'circle-slash';
  }
}
