// A fake language client and an activation helper for the command-wiring tests.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
import * as vscode from 'vscode';
import { InfiAgentExtension, activateWith } from '../src/activate';
import { InfiClient } from '../src/client';
import { RunNote, RunStatus } from '../src/runs';
import { testing } from './stub/vscode';

/** One `workspace/executeCommand` the extension sent. */
export interface SentCommand {
  command: string;
  arguments: unknown[];
}

/** Records requests, answers server commands from `answers`, and delivers notifications. */
export class FakeClient implements InfiClient {
  readonly sent: SentCommand[] = [];
  readonly handlers = new Map<string, (params: unknown) => void>();
  started = false;
  stopped = false;
  answers: Record<string, (argument: unknown) => unknown> = {
    'infiagent.runs': () => ({ runs: [] }),
  };

  constructor(
    readonly serverOptions: ServerOptions,
    readonly clientOptions: LanguageClientOptions,
  ) {}

  start(): Promise<void> {
    this.started = true;
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.stopped = true;
    return Promise.resolve();
  }

  sendRequest<R>(method: string, params: unknown): Promise<R> {
    if (method !== 'workspace/executeCommand') {
      return Promise.reject(new Error(`unexpected request ${method}`));
    }
    const request = params as SentCommand;
    this.sent.push(request);
    const answer = this.answers[request.command] ?? (() => ({ runId: `run-${this.sent.length}` }));
    try {
      return Promise.resolve(answer(request.arguments[0]) as R);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  onNotification<P>(method: string, handler: (params: P) => void): { dispose(): void } {
    this.handlers.set(method, handler as (params: unknown) => void);
    return { dispose: () => this.handlers.delete(method) };
  }

  /** Delivers a notification from the server. */
  notify(method: string, params: RunStatus | RunNote): void {
    const handler = this.handlers.get(method);
    if (!handler) {
      throw new Error(`no handler for ${method}`);
    }
    handler(params);
  }

  /** The commands sent, without the `infiagent.runs` refreshes. */
  runCommands(): SentCommand[] {
    return this.sent.filter((request) => request.command !== 'infiagent.runs');
  }
}

/** An activated extension over fresh stub state, with every client it made. */
export interface Activated {
  extension: InfiAgentExtension;
  clients: FakeClient[];
  /** The newest client, started. */
  client: () => Promise<FakeClient>;
  workspace: string;
}

/**
 * Resets the stub, makes a workspace folder, applies `settings`, and activates
 * (the extension installed in `extensionPath`, when given).
 */
export async function activate(settings: Record<string, unknown> = {}, extensionPath?: string): Promise<Activated> {
  testing.reset();
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'infiagent-vscode-'));
  testing.setWorkspace(workspace);
  for (const [key, value] of Object.entries(settings)) {
    testing.setSetting(key, value);
  }
  const clients: FakeClient[] = [];
  const context = {
    subscriptions: [] as { dispose(): unknown }[],
    extensionPath,
  } as unknown as vscode.ExtensionContext;
  const extension = activateWith(context, (serverOptions, clientOptions) => {
    const client = new FakeClient(serverOptions, clientOptions);
    clients.push(client);
    return client;
  });
  await extension.client();
  return {
    extension,
    clients,
    workspace,
    client: async () => {
      await extension.client();
      return clients[clients.length - 1];
    },
  };
}

/** A run status as the server sends it. */
export function runStatus(overrides: Partial<RunStatus> & { runId: string }): RunStatus {
  return {
    agent: 'judge_agent',
    title: 'judge broken.py',
    state: 'running',
    stack: [],
    totals: { prompt_tokens: 0, completion_tokens: 0, cost_usd: 0, model_calls: 0, tool_calls: 0 },
    message: '',
    startedAt: '2026-11-25T10:15:00Z',
    record: '/nonexistent',
    ...overrides,
  };
}

/** Writes `text` to `relative` under `workspace` and returns the path. */
export function writeFile(workspace: string, relative: string, text = ''): string {
  const file = path.join(workspace, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}
