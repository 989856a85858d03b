// The `infiagent.*` settings as the server reads them: the same keys as
// `.infiagent/config.toml` (`{model: {base_url, ...}, run: {...}}`), for
// `initializationOptions` and the `infiagent` section of `workspace/configuration`.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

/** The settings section. */
export const SECTION = 'infiagent';

/** Keys of the section that only the extension reads; never sent to the server. */
const EXTENSION_ONLY_KEYS = ['path'];

/**
 * The contributed keys the server reads, relative to the section. Only the values a
 * user set are sent: the defaults shown in the settings editor are the server's own,
 * and sending them would hide `.infiagent/config.toml`.
 */
export const SERVER_KEYS = [
  'model.provider',
  'model.base_url',
  'model.name',
  'model.api_key_env',
  'run.autonomy',
  'run.max_steps',
  'run.max_tokens',
  'run.max_cost_usd',
  'sandbox.mode',
  'sandbox.network',
  'sandbox.writable_roots',
  'mcp.servers',
] as const;

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };
/** A JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/**
 * The section the server expects, from the settings in effect for `scope` (a folder or
 * document URI; none: the first workspace folder). Keys written in settings.json
 * beyond the contributed ones (e.g. `infiagent.run.jobs`) pass through as they are.
 */
export function serverSection(scope?: vscode.Uri): JsonObject {
  const configuration = vscode.workspace.getConfiguration(SECTION, scope ?? firstFolder());
  const section = plainJson(vscode.workspace.getConfiguration(undefined, scope ?? firstFolder()).get(SECTION));
  for (const key of EXTENSION_ONLY_KEYS) {
    delete section[key];
  }
  for (const key of SERVER_KEYS) {
    setPath(section, key, explicitValue(configuration, key));
  }
  return pruneEmpty(section);
}

/** Where a platform-specific package carries the server, inside the extension's folder. */
export const BUNDLED_BINARY = path.join('server', process.platform === 'win32' ? 'infiagent.exe' : 'infiagent');

/**
 * The binary to start: `infiagent.path`, else the one a platform-specific package
 * carries (`server/infiagent` in `extensionPath`), else `infiagent` on the PATH.
 */
export function binaryPath(extensionPath: string | undefined): string {
  const configured = vscode.workspace.getConfiguration(SECTION).get<string>('path', '').trim();
  if (configured !== '') {
    return configured;
  }
  const bundled = extensionPath === undefined ? undefined : path.join(extensionPath, BUNDLED_BINARY);
  if (bundled !== undefined && isExecutable(bundled)) {
    return bundled;
  }
  return 'infiagent';
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function firstFolder(): vscode.Uri | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri;
}

/** The value the user set at the most specific level, or undefined when only the default applies. */
function explicitValue(configuration: vscode.WorkspaceConfiguration, key: string): JsonValue | undefined {
  const inspected = configuration.inspect<JsonValue>(key);
  if (!inspected) {
    return undefined;
  }
  return (
    inspected.workspaceFolderLanguageValue ??
    inspected.workspaceFolderValue ??
    inspected.workspaceLanguageValue ??
    inspected.workspaceValue ??
    inspected.globalLanguageValue ??
    inspected.globalValue
  );
}

function setPath(target: JsonObject, dottedKey: string, value: JsonValue | undefined): void {
  const path = dottedKey.split('.');
  let cursor = target;
  for (const part of path.slice(0, -1)) {
    const next = cursor[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      cursor[part] = {};
    }
    cursor = cursor[part] as JsonObject;
  }
  const last = path[path.length - 1];
  if (value === undefined) {
    delete cursor[last];
  } else {
    cursor[last] = value;
  }
}

/** Drops empty strings, nulls and objects left empty: the server's own defaults then apply. */
function pruneEmpty(object: JsonObject): JsonObject {
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(object)) {
    if (value === null || value === '') {
      continue;
    }
    if (typeof value === 'object' && !Array.isArray(value)) {
      const pruned = pruneEmpty(value);
      if (Object.keys(pruned).length > 0) {
        result[key] = pruned;
      }
      continue;
    }
    result[key] = value;
  }
  return result;
}

/** A deep copy made of plain JSON (configuration objects are proxies with getters). */
function plainJson(value: unknown): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {};
  }
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}
