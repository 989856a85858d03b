// How the extension talks to `infiagent lsp`: the part of the language client it
// uses, the options it starts the client with, and the server's commands.

import * as vscode from 'vscode';
import type {
  CancellationToken,
  ConfigurationParams,
  ConfigurationRequest,
  LanguageClientOptions,
  ResponseError,
  ServerOptions,
} from 'vscode-languageclient/node';
import { JsonObject, SECTION, serverSection } from './settings';

/** The part of `LanguageClient` the extension uses (a fake one in tests). */
export interface InfiClient {
  start(): Promise<void>;
  stop(): Promise<void>;
  sendRequest<R>(method: string, params: unknown): Promise<R>;
  onNotification<P>(method: string, handler: (params: P) => void): { dispose(): void };
}

/** Makes a client; the extension passes one that makes a `LanguageClient`. */
export type ClientFactory = (serverOptions: ServerOptions, clientOptions: LanguageClientOptions) => InfiClient;

/** The server's commands (`workspace/executeCommand`). */
export const ServerCommand = {
  run: 'infiagent.run',
  plan: 'infiagent.plan',
  build: 'infiagent.build',
  judge: 'infiagent.judge',
  cancel: 'infiagent.cancel',
  runs: 'infiagent.runs',
  agents: 'infiagent.agents',
  evolve: 'infiagent.evolve',
  undo: 'infiagent.undo',
  resume: 'infiagent.resume',
} as const;

/** The notification with a run's structured state. */
export const RUN_STATUS_NOTIFICATION = 'infiagent/runStatus';

/** The notification with one step of a run. */
export const RUN_EVENT_NOTIFICATION = 'infiagent/runEvent';

/** Starts `<binary> lsp` over stdio. */
export function serverOptions(binary: string): ServerOptions {
  return { command: binary, args: ['lsp'], options: { env: process.env } };
}

/**
 * Every file document is synced (agents read the editor's text, unsaved changes
 * included). The settings go as `initializationOptions` and answer the server's
 * `workspace/configuration` requests for the `infiagent` section; a settings change
 * makes the server pull them again.
 */
export function clientOptions(outputChannel?: vscode.OutputChannel): LanguageClientOptions {
  return {
    documentSelector: [{ scheme: 'file' }],
    initializationOptions: serverSection(),
    outputChannel,
    synchronize: { configurationSection: SECTION },
    middleware: {
      workspace: {
        configuration: answerConfiguration,
        // `{settings: null}`: the server pulls the section through the middleware above,
        // so it never sees extension-only keys such as `path`.
        didChangeConfiguration: (_sections, next) => next(undefined),
      },
    },
  };
}

/** Answers `workspace/configuration`: the `infiagent` section (or a part of it) as the server reads it. */
async function answerConfiguration(
  params: ConfigurationParams,
  token: CancellationToken,
  next: ConfigurationRequest.HandlerSignature,
): Promise<unknown[] | ResponseError<void>> {
  const answers: unknown[] | ResponseError<void> = await next(params, token);
  if (!Array.isArray(answers)) {
    return answers;
  }
  return params.items.map((item, index) => {
    const section = item.section ?? '';
    if (section !== SECTION && !section.startsWith(`${SECTION}.`)) {
      return answers[index];
    }
    const scope = item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined;
    return subsection(serverSection(scope), section);
  });
}

function subsection(section: JsonObject, name: string): JsonObject | null {
  let cursor: JsonObject | null = section;
  for (const part of name.split('.').slice(1)) {
    const next: unknown = cursor?.[part];
    cursor = typeof next === 'object' && next !== null && !Array.isArray(next) ? (next as JsonObject) : null;
  }
  return cursor;
}

/** Sends a server command with its one argument (none for `infiagent.runs` and `infiagent.agents`). */
export function executeServerCommand<R>(client: InfiClient, command: string, argument?: unknown): Promise<R> {
  return client.sendRequest<R>('workspace/executeCommand', {
    command,
    arguments: argument === undefined ? [] : [argument],
  });
}
