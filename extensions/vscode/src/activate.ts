// Wires the extension together: the language client, the runs, the tree view, the
// status bar, the runs' notifications, the palette commands and the chat participant.

import * as vscode from 'vscode';
import {
  ClientFactory,
  InfiClient,
  RUN_EVENT_NOTIFICATION,
  RUN_STATUS_NOTIFICATION,
  ServerCommand,
  clientOptions,
  executeServerCommand,
  serverOptions,
} from './client';
import { registerChat } from './chat';
import { registerCommands } from './commands';
import { RunNotifications } from './progress';
import { RunNote, RunStatus, RunStore, RunsResponse } from './runs';
import { SECTION, binaryPath } from './settings';
import { RunStatusBar } from './statusBar';
import { AgentsResponse, InfiAgentView } from './view';

/** What `activate` returns (the extension's API; tests use it too). */
export interface InfiAgentExtension {
  runs: RunStore;
  view: InfiAgentView;
  statusBar: RunStatusBar;
  /** The started client; starts it (again) when needed. */
  client(): Promise<InfiClient>;
  /** Stops the client. */
  stop(): Promise<void>;
}

/** Activates with `createClient` making the language client. */
export function activateWith(context: vscode.ExtensionContext, createClient: ClientFactory): InfiAgentExtension {
  const runs = new RunStore();
  const outputChannel = vscode.window.createOutputChannel('InfiAgent');
  let current: { client: InfiClient; started: Promise<InfiClient> } | undefined;

  const startClient = (): Promise<InfiClient> => {
    if (current) {
      return current.started;
    }
    const binary = binaryPath(context.extensionPath);
    const client = createClient(serverOptions(binary), clientOptions(outputChannel));
    context.subscriptions.push(
      client.onNotification(RUN_STATUS_NOTIFICATION, (status: RunStatus) => runs.update(status)),
      client.onNotification(RUN_EVENT_NOTIFICATION, (note: RunNote) => runs.note(note)),
    );
    const started = client.start().then(
      async () => {
        const { runs: known } = await executeServerCommand<RunsResponse>(client, ServerCommand.runs);
        runs.replaceAll(known);
        return client;
      },
      (error: unknown) => {
        current = undefined;
        void vscode.window
          .showErrorMessage(
            `InfiAgent: cannot start \`${binary} lsp\` (${error instanceof Error ? error.message : String(error)}). Install infiagent or set infiagent.path.`,
            'Open Settings',
          )
          .then((choice) => {
            if (choice === 'Open Settings') {
              void vscode.commands.executeCommand('workbench.action.openSettings', 'infiagent.path');
            }
          });
        throw error;
      },
    );
    current = { client, started };
    return started;
  };

  const stop = async (): Promise<void> => {
    const stopping = current;
    current = undefined;
    if (stopping) {
      await stopping.started.then(
        (client) => client.stop(),
        () => undefined,
      );
    }
  };

  const view = new InfiAgentView(runs, async () =>
    executeServerCommand<AgentsResponse>(await startClient(), ServerCommand.agents),
  );
  const statusBar = new RunStatusBar(runs);
  const notifications = new RunNotifications(runs, async (runId) => {
    await executeServerCommand(await startClient(), ServerCommand.cancel, { runId });
  });
  context.subscriptions.push(
    outputChannel,
    runs,
    view,
    statusBar,
    notifications,
    vscode.window.createTreeView('infiagent.view', { treeDataProvider: view }),
    ...registerCommands({ client: startClient, runs, view }),
    ...registerChat({ client: startClient, runs }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.path`)) {
        void stop().then(() => startClient().catch(() => undefined));
      }
    }),
  );
  void startClient().catch(() => undefined);
  return { runs, view, statusBar, client: startClient, stop };
}
