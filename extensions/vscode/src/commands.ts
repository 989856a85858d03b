// The palette commands: each asks what it needs, then sends one server command.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { InfiClient, ServerCommand, executeServerCommand } from './client';
import { RunStatus, RunStore, RunsResponse, formatCost, stateIcon } from './runs';
import { InfiAgentView, ViewElement } from './view';

/** The palette command ids (the server's own `infiagent.*` ids are taken by the language client). */
export const PaletteCommand = {
  runTask: 'infiagent.runTask',
  planProject: 'infiagent.planProject',
  buildDesign: 'infiagent.buildDesign',
  judgeFile: 'infiagent.judgeFile',
  cancelRun: 'infiagent.cancelRun',
  showRuns: 'infiagent.showRuns',
  showAgents: 'infiagent.showAgents',
  evolvePyramid: 'infiagent.evolvePyramid',
  resumeRun: 'infiagent.resumeRun',
  undoRun: 'infiagent.undoRun',
} as const;

/** What the commands work with. */
export interface CommandDeps {
  /** The started client (starts it on first use). */
  client(): Promise<InfiClient>;
  runs: RunStore;
  view: InfiAgentView;
}

/** A position as LSP has it. */
interface LspRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

/** Registers every palette command. */
export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const handlers: Record<string, (...args: unknown[]) => Promise<void>> = {
    [PaletteCommand.runTask]: () => runTask(deps),
    [PaletteCommand.planProject]: (uri) => startOnFile(deps, ServerCommand.plan, uri, 'a requirement (Markdown)'),
    [PaletteCommand.buildDesign]: (uri) =>
      startOnFile(deps, ServerCommand.build, uri, 'a design file (project_designs/project_design_<script>.md)'),
    [PaletteCommand.judgeFile]: (uri) => startOnFile(deps, ServerCommand.judge, uri, 'the file to judge'),
    [PaletteCommand.cancelRun]: (target) => cancelRun(deps, target),
    [PaletteCommand.showRuns]: (runId) => showRuns(deps, runId),
    [PaletteCommand.showAgents]: () => showAgents(deps),
    [PaletteCommand.evolvePyramid]: () => evolvePyramid(deps),
    [PaletteCommand.resumeRun]: (target) => resumeRun(deps, target),
    [PaletteCommand.undoRun]: () => undoRun(deps),
  };
  return Object.entries(handlers).map(([id, handler]) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        await handler(...args);
      } catch (error) {
        void vscode.window.showErrorMessage(`InfiAgent: ${errorMessage(error)}`);
      }
    }),
  );
}

/** Run Task…: the typed task, with the active file and its selection when there is one. */
async function runTask(deps: CommandDeps): Promise<void> {
  const editor = workspaceEditor();
  const selection = editor && !editor.selection.isEmpty ? editor.selection : undefined;
  const task = await vscode.window.showInputBox({
    title: 'InfiAgent: Run Task',
    prompt: selection
      ? 'What should the agents do? (empty: the selected text is the task)'
      : 'What should the agents do?',
    placeHolder: 'e.g. Add a --verbose flag to main.py',
    ignoreFocusOut: true,
  });
  if (task === undefined) {
    return;
  }
  if (task.trim() === '' && !selection) {
    void vscode.window.showWarningMessage('InfiAgent: type a task, or select the text that describes it.');
    return;
  }
  const argument: { task?: string; uri?: string; range?: LspRange } = {};
  if (task.trim() !== '') {
    argument.task = task;
  }
  if (editor) {
    argument.uri = editor.document.uri.toString();
    if (selection) {
      argument.range = lspRange(selection);
    }
  }
  await startRun(deps, ServerCommand.run, argument);
}

/** Plan, Build, Judge: the file given (explorer menu) or the active editor's. */
async function startOnFile(deps: CommandDeps, command: string, given: unknown, what: string): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const uri = given instanceof vscode.Uri ? given : editor?.document.uri;
  if (!uri || uri.scheme !== 'file') {
    void vscode.window.showWarningMessage(`InfiAgent: open ${what} first.`);
    return;
  }
  const argument: { uri: string; range?: LspRange } = { uri: uri.toString() };
  const sameEditor = editor && editor.document.uri.toString() === uri.toString();
  if (command === ServerCommand.plan && sameEditor && !editor.selection.isEmpty) {
    argument.range = lspRange(editor.selection);
  }
  await startRun(deps, command, argument);
}

async function startRun(deps: CommandDeps, command: string, argument: unknown): Promise<void> {
  const client = await deps.client();
  await executeServerCommand<{ runId: string }>(client, command, argument);
}

/** Cancel Run: the run given (tree view button), else one picked among the running ones. */
async function cancelRun(deps: CommandDeps, target: unknown): Promise<void> {
  const client = await deps.client();
  const runId =
    runIdOf(target) ??
    (await pickRun(deps, client, (status) => status.state === 'running', {
      title: 'InfiAgent: Cancel Run',
      placeHolder: 'The run to cancel (with its children and their processes)',
      none: 'InfiAgent: no run is running.',
    }));
  if (runId !== undefined) {
    await executeServerCommand(client, ServerCommand.cancel, { runId });
  }
}

/** Resume Run: the run given, else one picked among the runs that stopped before their end. */
async function resumeRun(deps: CommandDeps, target: unknown): Promise<void> {
  const client = await deps.client();
  const runId =
    runIdOf(target) ??
    (await pickRun(deps, client, (status) => status.resumable === true, {
      title: 'InfiAgent: Resume Run',
      placeHolder: 'The run to go on with (what it did is not done again)',
      none: 'InfiAgent: no run of this session stopped before its end.',
    }));
  if (runId !== undefined) {
    await executeServerCommand(client, ServerCommand.resume, { runId });
  }
}

/** One of the session's runs that `fits`, newest first, picked by the user; says `none` when there is none. */
async function pickRun(
  deps: CommandDeps,
  client: InfiClient,
  fits: (status: RunStatus) => boolean,
  words: { title: string; placeHolder: string; none: string },
): Promise<string | undefined> {
  const { runs } = await executeServerCommand<RunsResponse>(client, ServerCommand.runs);
  deps.runs.replaceAll(runs);
  const offered = runs.filter(fits).reverse();
  if (offered.length === 0) {
    void vscode.window.showInformationMessage(words.none);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(offered.map(runPick), {
    title: words.title,
    placeHolder: words.placeHolder,
  });
  return picked?.runId;
}

/** Undo Last Run: the server puts back the files of the last run not undone, and says what it did. */
async function undoRun(deps: CommandDeps): Promise<void> {
  const client = await deps.client();
  await executeServerCommand(client, ServerCommand.undo, {});
}

/** Show Runs: pick a run (or the one given), open its summary, else its run.json. */
async function showRuns(deps: CommandDeps, given: unknown): Promise<void> {
  const client = await deps.client();
  const { runs } = await executeServerCommand<RunsResponse>(client, ServerCommand.runs);
  deps.runs.replaceAll(runs);
  let status = runs.find((candidate) => candidate.runId === runIdOf(given));
  if (!status) {
    if (runs.length === 0) {
      void vscode.window.showInformationMessage('InfiAgent: no runs in this session yet.');
      return;
    }
    const picked = await vscode.window.showQuickPick([...runs].reverse().map(runPick), {
      title: 'InfiAgent: Runs',
      placeHolder: 'The run whose record to open',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    status = runs.find((candidate) => candidate.runId === picked?.runId);
  }
  if (!status) {
    return;
  }
  const file = recordFile(status);
  if (!file) {
    void vscode.window.showInformationMessage(`InfiAgent: ${status.runId} has no record yet (${status.record}).`);
    return;
  }
  const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  await vscode.window.showTextDocument(document, { preview: true });
}

/** The record file to open: `summary.md`, else `run.json`, else `trajectory.jsonl`. */
export function recordFile(status: RunStatus): string | undefined {
  return ['summary.md', 'run.json', 'trajectory.jsonl']
    .map((name) => path.join(status.record, name))
    .find((file) => fs.existsSync(file));
}

/** Show Agent Pyramid: reloads it and shows the view. */
async function showAgents(deps: CommandDeps): Promise<void> {
  await deps.view.refreshPyramid();
  await vscode.commands.executeCommand('infiagent.view.focus');
}

/**
 * Evolve the Pyramid: the server reads the runs and quality scores, opens its
 * proposal (a diff of the agent files) and asks before writing anything.
 */
async function evolvePyramid(deps: CommandDeps): Promise<void> {
  const client = await deps.client();
  await executeServerCommand(client, ServerCommand.evolve, { review: true });
}

interface RunPick extends vscode.QuickPickItem {
  runId: string;
}

function runPick(status: RunStatus): RunPick {
  return {
    label: `$(${stateIcon(status.state)}) ${status.title || status.agent}`,
    description: `${status.agent} · ${status.state} · ${formatCost(status.totals.cost_usd)}`,
    detail: status.message || status.runId,
    runId: status.runId,
  };
}

function runIdOf(target: unknown): string | undefined {
  if (typeof target === 'string') {
    return target;
  }
  const element = target as ViewElement | undefined;
  return element?.kind === 'run' ? element.status.runId : undefined;
}

/** The active editor when its document is a file inside a workspace folder (the server refuses others). */
function workspaceEditor(): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.uri.scheme !== 'file') {
    return undefined;
  }
  return vscode.workspace.getWorkspaceFolder(editor.document.uri) ? editor : undefined;
}

function lspRange(range: vscode.Range): LspRange {
  return {
    start: { line: range.start.line, character: range.start.character },
    end: { line: range.end.line, character: range.end.character },
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
