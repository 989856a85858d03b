// The extension's own code (settings, palette commands, runs view, status bar) against
// the real `infiagent lsp`, over JSON-RPC on stdio, with the scripted model endpoint
// of `infiagent demo --serve-model`. The language client here answers the server the
// way vscode-languageclient does: `workspace/configuration` through the extension's
// middleware, progress tokens accepted, diagnostics kept.

import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import type { LanguageClientOptions, ServerOptions } from 'vscode-languageclient/node';
import {
  CancellationToken,
  ConfigurationParams,
  ProtocolConnection,
  PublishDiagnosticsParams,
  ShowMessageParams,
  StreamMessageReader,
  StreamMessageWriter,
  createProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import { InfiAgentExtension, activateWith } from '../src/activate';
import { InfiClient } from '../src/client';
import { RunStatus } from '../src/runs';
import { Uri, testing, workspace as settingsWorkspace } from './stub/vscode';
import * as vscode from 'vscode';

const BINARY = process.env.INFIAGENT_BIN ?? path.resolve(__dirname, '..', '..', '..', '..', 'target', 'debug', 'infiagent');

/** `infiagent lsp` as a child process, spoken to as vscode-languageclient would. */
class ServerProcessClient implements InfiClient {
  private child: ChildProcess | undefined;
  private connection: ProtocolConnection | undefined;
  private readonly notificationHandlers = new Map<string, (params: unknown) => void>();
  readonly diagnostics = new Map<string, PublishDiagnosticsParams['diagnostics']>();
  readonly messages: ShowMessageParams[] = [];
  stderr = '';

  constructor(
    private readonly serverOptions: ServerOptions,
    private readonly clientOptions: LanguageClientOptions,
    private readonly folder: string,
  ) {}

  async start(): Promise<void> {
    const { command, args } = this.serverOptions as { command: string; args: string[] };
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child = child;
    const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    this.connection = connection;
    const configuration = this.clientOptions.middleware?.workspace?.configuration;
    connection.onRequest('workspace/configuration', (params: ConfigurationParams, token: CancellationToken) => {
      // vscode-languageclient's own answer: each section's settings as they are.
      const raw = (request: ConfigurationParams) =>
        request.items.map((item) => settingsWorkspace.getConfiguration().get(item.section ?? '') ?? null);
      return configuration ? configuration(params, token, raw) : raw(params);
    });
    connection.onRequest('window/workDoneProgress/create', () => null);
    connection.onNotification('$/progress', () => undefined);
    connection.onNotification('window/logMessage', () => undefined);
    connection.onNotification('window/showMessage', (params: ShowMessageParams) => this.messages.push(params));
    connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) =>
      this.diagnostics.set(params.uri, params.diagnostics),
    );
    for (const [method, handler] of this.notificationHandlers) {
      connection.onNotification(method, handler);
    }
    connection.listen();
    const folderUri = Uri.file(this.folder).toString();
    await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: folderUri,
      workspaceFolders: [{ uri: folderUri, name: 'workspace' }],
      capabilities: {
        window: { workDoneProgress: true },
        workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true } },
      },
      initializationOptions: this.clientOptions.initializationOptions as unknown,
    });
    await connection.sendNotification('initialized', {});
  }

  async stop(): Promise<void> {
    if (!this.connection) {
      return;
    }
    await this.connection.sendRequest('shutdown');
    await this.connection.sendNotification('exit');
    this.connection.dispose();
    this.child?.kill();
  }

  sendRequest<R>(method: string, params: unknown): Promise<R> {
    if (!this.connection) {
      return Promise.reject(new Error('the client is not started'));
    }
    return this.connection.sendRequest<R>(method, params);
  }

  onNotification<P>(method: string, handler: (params: P) => void): { dispose(): void } {
    this.notificationHandlers.set(method, handler as (params: unknown) => void);
    return { dispose: () => this.notificationHandlers.delete(method) };
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts the scripted model endpoint; resolves to its base URL. */
function startModel(): Promise<{ baseUrl: string; child: ChildProcess }> {
  const child = spawn(BINARY, ['demo', '--serve-model', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      if (line.startsWith('http://127.0.0.1:')) {
        resolve({ baseUrl: line.trim(), child });
      } else {
        reject(new Error(`the scripted model endpoint printed ${line}`));
      }
    });
    child.once('exit', (code) => reject(new Error(`the scripted model endpoint exited with ${code}`)));
  });
}

describe('against infiagent lsp', () => {
  let model: { baseUrl: string; child: ChildProcess };
  let extension: InfiAgentExtension;
  let client: ServerProcessClient;
  let folder: string;

  before(async () => {
    assert.ok(fs.existsSync(BINARY), `${BINARY} is missing: run \`cargo build -p infiagent-cli\` first (or set INFIAGENT_BIN)`);
    model = await startModel();
    testing.reset();
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'infiagent-vscode-e2e-'));
    testing.setWorkspace(folder);
    testing.setSetting('infiagent.path', BINARY);
    testing.setSetting('infiagent.model.base_url', model.baseUrl);
    testing.setSetting('infiagent.model.name', 'scripted');
    testing.setSetting('infiagent.run.autonomy', 'auto');
    const context = { subscriptions: [] } as unknown as vscode.ExtensionContext;
    extension = activateWith(context, (serverOptions, clientOptions) => {
      client = new ServerProcessClient(serverOptions, clientOptions, folder);
      return client;
    });
    await extension.client();
  });

  after(async () => {
    await extension?.stop();
    model?.child.kill();
  });

  function finished(runId: string | undefined): RunStatus | undefined {
    return extension.runs.all().find((status) => status.runId === runId && status.state !== 'running');
  }

  it('Judge Current File ends with an error verdict: Error diagnostic, failed run, status bar', async () => {
    const broken = path.join(folder, 'broken.py');
    fs.writeFileSync(broken, "def f():\n    return 1\nraise ValueError('boom')\n");
    testing.openEditor(broken);
    await testing.run('infiagent.judgeFile');
    assert.deepEqual(testing.state.messages, [], client.stderr);
    const started = await waitFor('the run to be reported', () => extension.runs.all().at(-1));
    assert.equal(started.title, 'judge broken.py');
    const ended = await waitFor('the judge run to end', () => finished(started.runId), 60_000);
    assert.equal(ended.state, 'failed');
    assert.match(ended.message, /^judge_agent ended with an error/);
    assert.match(extension.statusBar.item.text, /^\$\(error\) judge_agent failed · \$\d+\.\d{4}$/);
    const diagnostics = await waitFor('diagnostics on broken.py', () => client.diagnostics.get(Uri.file(broken).toString()));
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0].severity, 1);
    assert.equal(diagnostics[0].source, 'infiagent');
    assert.equal(diagnostics[0].range.start.line, 2);
    const verdict = extension.runs.notes(started.runId).find((note) => note.kind === 'verdict');
    assert.equal(verdict?.status, 'error', JSON.stringify(extension.runs.notes(started.runId)));
    assert.deepEqual(verdict?.files?.[0], { path: broken, line: 3 });
    assert.deepEqual(
      client.messages.filter((message) => /infiagent\.model/.test(message.message)),
      [],
      'no complaint about the model settings',
    );
  });

  it('Cancel Run stops a long run', async () => {
    const slow = path.join(folder, 'slow.py');
    fs.writeFileSync(slow, 'import time\ntime.sleep(60)\n');
    testing.openEditor(slow);
    await testing.run('infiagent.judgeFile');
    const running = await waitFor('the slow run to be running', () =>
      extension.runs.running().find((status) => status.title === 'judge slow.py'),
    );
    testing.state.quickPick = (items) => (items as { runId: string }[]).find((item) => item.runId === running.runId);
    await testing.run('infiagent.cancelRun');
    const ended = await waitFor('the slow run to be cancelled', () => finished(running.runId));
    assert.equal(ended.state, 'cancelled');
    assert.match(extension.statusBar.item.text, /cancelled/);
  });

  it('the pyramid comes from the server, highest level first', async () => {
    const [, pyramid] = await extension.view.getChildren();
    const levels = await extension.view.getChildren(pyramid);
    const labels = levels.map((element) => {
      const label = extension.view.getTreeItem(element).label;
      return typeof label === 'string' ? label : label?.label;
    });
    assert.deepEqual(labels, ['Level 3', 'Level 2', 'Level 1', 'Judge (level -1)']);
  });
});
