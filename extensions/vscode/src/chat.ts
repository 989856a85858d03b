// The `@infiagent` chat participant: `/plan`, `/build`, `/judge` on a file, and
// `/run` or free text, start a run through the server's commands (the same
// engine as the palette), tell the run as it goes (its live call stack as
// progress; the agents called, the tool calls and the verdicts with links to the
// files and lines they concern), and end with its result, the files it changed
// and its record.

import * as vscode from 'vscode';
import { InfiClient, ServerCommand, executeServerCommand } from './client';
import { RunNote, RunStatus, RunStore } from './runs';

/** The participant's id (`contributes.chatParticipants`). */
export const CHAT_PARTICIPANT = 'infiagent.chat';

/** What the participant works with. */
export interface ChatDeps {
  /** The started client (starts it on first use). */
  client(): Promise<InfiClient>;
  runs: RunStore;
}

/** The chat commands that work on a file, and the server command each starts. */
const FILE_COMMANDS: Record<string, string> = {
  plan: ServerCommand.plan,
  build: ServerCommand.build,
  judge: ServerCommand.judge,
};

/** Registers `@infiagent` where the editor has a chat view. */
export function registerChat(deps: ChatDeps): vscode.Disposable[] {
  if (typeof vscode.chat?.createChatParticipant !== 'function') {
    return [];
  }
  return [vscode.chat.createChatParticipant(CHAT_PARTICIPANT, (request, _context, stream, token) => answer(deps, request, stream, token))];
}

/** Answers one chat request: starts its run and follows it to its end. */
export async function answer(
  deps: ChatDeps,
  request: vscode.ChatRequest,
  stream: vscode.ChatResponseStream,
  token: vscode.CancellationToken,
): Promise<vscode.ChatResult> {
  const client = await deps.client();
  const started = await start(client, request);
  if (typeof started === 'string') {
    stream.markdown(started);
    return {};
  }
  const runId = started.runId;
  stream.progress(`Started run ${runId}`);
  const cancelled = token.onCancellationRequested(() => {
    void executeServerCommand(client, ServerCommand.cancel, { runId });
  });
  const changed = new Set<string>();
  const tell = (note: RunNote) => {
    if (note.runId === runId) {
      tellNote(stream, note, changed);
    }
  };
  // Notes sent before the server answered the command are kept by the store.
  deps.runs.notes(runId).forEach(tell);
  const noted = deps.runs.onDidNote(tell);
  try {
    const status = await follow(deps.runs, runId, (message) => stream.progress(message));
    stream.markdown(`\n**${status.state}** · ${status.message}\n`);
    if (changed.size > 0) {
      stream.markdown('\nFiles changed:\n');
      for (const file of changed) {
        stream.reference(vscode.Uri.file(file));
      }
    }
    if (status.summary) {
      stream.reference(vscode.Uri.file(status.summary));
    }
    return { metadata: { runId } };
  } finally {
    noted.dispose();
    cancelled.dispose();
  }
}

/** One note as a line of the answer; the files a tool changed go into `changed`. */
function tellNote(stream: vscode.ChatResponseStream, note: RunNote, changed: Set<string>): void {
  const files = note.files ?? [];
  switch (note.kind) {
    case 'agent':
      stream.markdown(`- **${note.label}** called: ${note.text}\n`);
      return;
    case 'tool':
      stream.markdown(`- ${note.label}: \`${note.text}\`${note.isError ? ' failed' : ''}\n`);
      files.forEach((file) => changed.add(file.path));
      return;
    case 'verdict':
      stream.markdown(`- ${note.status === 'success' ? '✓' : '✗'} judge on **${note.label}**: ${note.status ?? ''} · ${note.text} `);
      for (const file of files) {
        const uri = vscode.Uri.file(file.path);
        if (file.line === undefined) {
          stream.anchor(uri, vscode.workspace.asRelativePath(uri));
        } else {
          const at = new vscode.Position(file.line - 1, 0);
          stream.anchor(new vscode.Location(uri, at), `${vscode.workspace.asRelativePath(uri)}:${file.line}`);
        }
      }
      stream.markdown('\n');
      return;
  }
}

/** Starts the run `request` asks for; a string says why it cannot. */
async function start(client: InfiClient, request: vscode.ChatRequest): Promise<{ runId: string } | string> {
  const command = request.command ?? 'run';
  const server = FILE_COMMANDS[command];
  if (server === undefined) {
    const task = request.prompt.trim();
    if (task === '') {
      return 'Say what the agents should do, e.g. `@infiagent add a --verbose flag to main.py`.';
    }
    return executeServerCommand<{ runId: string }>(client, ServerCommand.run, { task });
  }
  const uri = referencedFile(request) ?? vscode.window.activeTextEditor?.document.uri;
  if (!uri || uri.scheme !== 'file') {
    return `\`/${command}\` works on a file: open it, or reference it with \`#file\`.`;
  }
  const argument: { uri: string; instruction?: string } = { uri: uri.toString() };
  if (command === 'judge' && request.prompt.trim() !== '') {
    argument.instruction = request.prompt.trim();
  }
  return executeServerCommand<{ runId: string }>(client, server, argument);
}

/** The first file the request references (`#file`), if any. */
function referencedFile(request: vscode.ChatRequest): vscode.Uri | undefined {
  for (const reference of request.references) {
    const value = reference.value;
    if (value instanceof vscode.Uri) {
      return value;
    }
    if (value instanceof vscode.Location) {
      return value.uri;
    }
  }
  return undefined;
}

/** Resolves with the run's status once it has ended; `progress` gets each new message. */
function follow(runs: RunStore, runId: string, progress: (message: string) => void): Promise<RunStatus> {
  return new Promise((resolve) => {
    let last = '';
    const check = (): boolean => {
      const status = runs.get(runId);
      if (!status) {
        return false;
      }
      if (status.state !== 'running') {
        resolve(status);
        return true;
      }
      if (status.message !== '' && status.message !== last) {
        last = status.message;
        progress(status.message);
      }
      return false;
    };
    if (check()) {
      return;
    }
    const subscription = runs.onDidChange(() => {
      if (check()) {
        subscription.dispose();
      }
    });
  });
}
