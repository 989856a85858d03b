// The extension's entry points.

import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import { InfiAgentExtension, activateWith } from './activate';

let extension: InfiAgentExtension | undefined;

export function activate(context: vscode.ExtensionContext): InfiAgentExtension {
  extension = activateWith(
    context,
    (serverOptions, clientOptions) => new LanguageClient('infiagent', 'InfiAgent', serverOptions, clientOptions),
  );
  return extension;
}

export async function deactivate(): Promise<void> {
  await extension?.stop();
  extension = undefined;
}
