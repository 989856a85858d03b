// A stand-in for the `vscode` module: the few APIs the extension uses, recording what
// it registers and shows, with answers the tests set. `testing` is the tests' handle.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

type Listener<T> = (value: T) => unknown;

export class Disposable {
  constructor(private readonly callback: () => void = () => undefined) {}
  static from(...disposables: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => disposables.forEach((disposable) => disposable.dispose()));
  }
  dispose(): void {
    this.callback();
  }
}

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  readonly event = (listener: Listener<T>): Disposable => {
    this.listeners.push(listener);
    return new Disposable(() => {
      this.listeners = this.listeners.filter((candidate) => candidate !== listener);
    });
  };
  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      listener(value);
    }
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
    private readonly text: string,
  ) {}
  static file(filePath: string): Uri {
    const url = pathToFileURL(filePath);
    return new Uri('file', url.pathname, url.href);
  }
  static parse(text: string): Uri {
    const url = new URL(text);
    return new Uri(url.protocol.replace(/:$/, ''), url.pathname, url.href);
  }
  get fsPath(): string {
    return fileURLToPath(this.text);
  }
  toString(): string {
    return this.text;
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  constructor(
    readonly start: Position,
    readonly end: Position,
  ) {}
  get isEmpty(): boolean {
    return this.start.line === this.end.line && this.start.character === this.end.character;
  }
}

export class Selection extends Range {
  constructor(
    readonly anchor: Position,
    readonly active: Position,
  ) {
    super(anchor, active);
  }
}

export class Location {
  readonly range: Range;
  /** As VS Code's: a range, or a position (an empty range there). */
  constructor(
    readonly uri: Uri,
    rangeOrPosition: Range | Position,
  ) {
    this.range = rangeOrPosition instanceof Position ? new Range(rangeOrPosition, rangeOrPosition) : rangeOrPosition;
  }
}

export enum TreeItemCollapsibleState {
  None = 0,
  Collapsed = 1,
  Expanded = 2,
}

export class ThemeIcon {
  constructor(readonly id: string) {}
}

export class TreeItem {
  description?: string;
  tooltip?: string;
  iconPath?: ThemeIcon;
  contextValue?: string;
  id?: string;
  command?: { command: string; title: string; arguments?: unknown[] };
  constructor(
    readonly label: string,
    readonly collapsibleState: TreeItemCollapsibleState = TreeItemCollapsibleState.None,
  ) {}
}

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

/** A status bar item that remembers whether it is shown. */
export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}

/** A progress shown with `window.withProgress`: what it reported, and its Cancel button. */
export interface ProgressStub {
  options: { location: ProgressLocation; title?: string; cancellable?: boolean };
  messages: string[];
  done: boolean;
  /** Presses the notification's Cancel button. */
  cancel(): void;
}

export class StatusBarItemStub {
  text = '';
  tooltip = '';
  name = '';
  command = '';
  visible = false;
  constructor(
    readonly id: string,
    readonly alignment: StatusBarAlignment,
    readonly priority: number,
  ) {}
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  dispose(): void {
    this.visible = false;
  }
}

/** Settings levels, most specific last. */
export type SettingLevel = 'global' | 'workspace' | 'workspaceFolder';

interface EditorStub {
  document: { uri: Uri };
  selection: Selection;
}

const packageJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, { default?: unknown }> } };
};

/** Defaults declared in package.json. */
function defaults(): Map<string, unknown> {
  const result = new Map<string, unknown>();
  for (const [key, property] of Object.entries(packageJson.contributes.configuration.properties)) {
    result.set(key, property.default);
  }
  return result;
}

function freshState() {
  return {
    settings: { global: new Map<string, unknown>(), workspace: new Map<string, unknown>(), workspaceFolder: new Map<string, unknown>() },
    commands: new Map<string, (...args: unknown[]) => unknown>(),
    /** Commands run through `commands.executeCommand` that the extension did not register. */
    executedCommands: [] as { command: string; args: unknown[] }[],
    inputBoxAnswers: [] as (string | undefined)[],
    inputBoxOptions: [] as Record<string, unknown>[],
    /** Picks the answer among the offered items (undefined: the user pressed Escape). */
    quickPick: (items: unknown[]): unknown => items[0],
    quickPickItems: [] as unknown[][],
    messages: [] as { level: 'error' | 'warning' | 'information'; text: string }[],
    statusBarItems: [] as StatusBarItemStub[],
    treeViews: new Map<string, { treeDataProvider: unknown }>(),
    shownDocuments: [] as string[],
    activeTextEditor: undefined as EditorStub | undefined,
    workspaceFolders: [] as { uri: Uri; name: string; index: number }[],
    configurationChanged: new EventEmitter<{ affectsConfiguration(section: string): boolean }>(),
    progresses: [] as ProgressStub[],
    /** Chat participants by id: their request handlers. */
    chatParticipants: new Map<string, (...args: unknown[]) => unknown>(),
  };
}

let state = freshState();

/** The tests' handle on the stub. */
export const testing = {
  get state() {
    return state;
  },
  reset(): void {
    state = freshState();
  },
  setWorkspace(folder: string): void {
    state.workspaceFolders = [{ uri: Uri.file(folder), name: path.basename(folder), index: 0 }];
  },
  setSetting(key: string, value: unknown, level: SettingLevel = 'global'): void {
    state.settings[level].set(key, value);
  },
  /** Changes a setting and fires `onDidChangeConfiguration` as VS Code does. */
  changeSetting(key: string, value: unknown, level: SettingLevel = 'global'): void {
    state.settings[level].set(key, value);
    state.configurationChanged.fire({
      affectsConfiguration: (section: string) => key === section || key.startsWith(`${section}.`),
    });
  },
  openEditor(filePath: string, selection?: [number, number, number, number]): void {
    const [startLine, startCharacter, endLine, endCharacter] = selection ?? [0, 0, 0, 0];
    state.activeTextEditor = {
      document: { uri: Uri.file(filePath) },
      selection: new Selection(new Position(startLine, startCharacter), new Position(endLine, endCharacter)),
    };
  },
  closeEditors(): void {
    state.activeTextEditor = undefined;
  },
  /** Runs a registered command as the palette would. */
  async run(command: string, ...args: unknown[]): Promise<unknown> {
    const handler = state.commands.get(command);
    if (!handler) {
      throw new Error(`command ${command} is not registered`);
    }
    return await handler(...args);
  },
};

/** The setting's value with VS Code's precedence, or an object of the keys below it. */
function settingValue(fullKey: string): unknown {
  const levels = [defaults(), state.settings.global, state.settings.workspace, state.settings.workspaceFolder];
  let value: unknown = undefined;
  for (const level of levels) {
    if (level.has(fullKey)) {
      value = level.get(fullKey);
    }
  }
  if (value !== undefined) {
    return value;
  }
  const nested: Record<string, unknown> = {};
  let found = false;
  for (const level of levels) {
    for (const [key, setting] of level) {
      if (key.startsWith(`${fullKey}.`)) {
        found = true;
        const parts = key.slice(fullKey.length + 1).split('.');
        let cursor = nested;
        for (const part of parts.slice(0, -1)) {
          cursor[part] = cursor[part] ?? {};
          cursor = cursor[part] as Record<string, unknown>;
        }
        cursor[parts[parts.length - 1]] = setting;
      }
    }
  }
  return found ? nested : undefined;
}

export const workspace = {
  get workspaceFolders() {
    return state.workspaceFolders.length > 0 ? state.workspaceFolders : undefined;
  },
  asRelativePath(uri: Uri): string {
    const folder = state.workspaceFolders.find((candidate) => uri.fsPath.startsWith(candidate.uri.fsPath + path.sep));
    return folder ? path.relative(folder.uri.fsPath, uri.fsPath) : uri.fsPath;
  },
  getWorkspaceFolder(uri: Uri) {
    return state.workspaceFolders.find((folder) => uri.fsPath.startsWith(folder.uri.fsPath + path.sep));
  },
  getConfiguration(section?: string) {
    const full = (key: string) => (section ? `${section}.${key}` : key);
    return {
      get<T>(key: string, fallback?: T): T | undefined {
        const value = settingValue(full(key));
        return value === undefined ? fallback : (value as T);
      },
      has(key: string): boolean {
        return settingValue(full(key)) !== undefined;
      },
      inspect(key: string) {
        const fullKey = full(key);
        return {
          key: fullKey,
          defaultValue: defaults().get(fullKey),
          globalValue: state.settings.global.get(fullKey),
          workspaceValue: state.settings.workspace.get(fullKey),
          workspaceFolderValue: state.settings.workspaceFolder.get(fullKey),
        };
      },
    };
  },
  onDidChangeConfiguration(listener: Listener<{ affectsConfiguration(section: string): boolean }>): Disposable {
    return state.configurationChanged.event(listener);
  },
  openTextDocument(uri: Uri) {
    return Promise.resolve({ uri });
  },
};

function message(level: 'error' | 'warning' | 'information') {
  return (text: string): Promise<undefined> => {
    state.messages.push({ level, text });
    return Promise.resolve(undefined);
  };
}

export const window = {
  get activeTextEditor() {
    return state.activeTextEditor;
  },
  showInputBox(options: Record<string, unknown>): Promise<string | undefined> {
    state.inputBoxOptions.push(options);
    if (state.inputBoxAnswers.length === 0) {
      return Promise.reject(new Error('showInputBox called with no answer queued'));
    }
    return Promise.resolve(state.inputBoxAnswers.shift());
  },
  showQuickPick(items: unknown[]): Promise<unknown> {
    state.quickPickItems.push(items);
    return Promise.resolve(state.quickPick(items));
  },
  showErrorMessage: message('error'),
  showWarningMessage: message('warning'),
  showInformationMessage: message('information'),
  createStatusBarItem(id: string, alignment: StatusBarAlignment, priority: number): StatusBarItemStub {
    const item = new StatusBarItemStub(id, alignment, priority);
    state.statusBarItems.push(item);
    return item;
  },
  withProgress<R>(
    options: ProgressStub['options'],
    task: (
      progress: { report(value: { message?: string }): void },
      token: { onCancellationRequested(listener: () => void): Disposable },
    ) => Promise<R>,
  ): Promise<R> {
    const cancelled = new EventEmitter<void>();
    const shown: ProgressStub = { options, messages: [], done: false, cancel: () => cancelled.fire() };
    state.progresses.push(shown);
    const reported = { report: (value: { message?: string }) => shown.messages.push(value.message ?? '') };
    return task(reported, { onCancellationRequested: (listener) => cancelled.event(listener) }).finally(() => {
      shown.done = true;
    });
  },
  createTreeView(id: string, options: { treeDataProvider: unknown }) {
    state.treeViews.set(id, options);
    return new Disposable();
  },
  createOutputChannel(name: string) {
    return { name, appendLine: () => undefined, dispose: () => undefined };
  },
  showTextDocument(document: { uri: Uri }) {
    state.shownDocuments.push(document.uri.fsPath);
    return Promise.resolve({});
  },
};

export const commands = {
  registerCommand(command: string, handler: (...args: unknown[]) => unknown): Disposable {
    if (state.commands.has(command)) {
      throw new Error(`command ${command} already registered`);
    }
    state.commands.set(command, handler);
    return new Disposable(() => state.commands.delete(command));
  },
  async executeCommand(command: string, ...args: unknown[]): Promise<unknown> {
    const handler = state.commands.get(command);
    if (handler) {
      return await handler(...args);
    }
    state.executedCommands.push({ command, args });
    return undefined;
  },
};

export const chat = {
  createChatParticipant(id: string, handler: (...args: unknown[]) => unknown): Disposable {
    state.chatParticipants.set(id, handler);
    return new Disposable(() => state.chatParticipants.delete(id));
  },
};
