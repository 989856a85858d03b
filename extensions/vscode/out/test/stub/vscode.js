"use strict";
// A stand-in for the `vscode` module: the few APIs the extension uses, recording what
// it registers and shows, with answers the tests set. `testing` is the tests' handle.
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __setModuleDefault = (this && this.__setModuleDefault) || (Object.create ? (function(o, v) {
    Object.defineProperty(o, "default", { enumerable: true, value: v });
}) : function(o, v) {
    o["default"] = v;
});
var __importStar = (this && this.__importStar) || (function () {
    var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function (o) {
            var ar = [];
            for (var k in o) if (Object.prototype.hasOwnProperty.call(o, k)) ar[ar.length] = k;
            return ar;
        };
        return ownKeys(o);
    };
    return function (mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        __setModuleDefault(result, mod);
        return result;
    };
})();
Object.defineProperty(exports, "__esModule", { value: true });
exports.commands = exports.window = exports.workspace = exports.testing = exports.StatusBarItemStub = exports.StatusBarAlignment = exports.TreeItem = exports.ThemeIcon = exports.TreeItemCollapsibleState = exports.Selection = exports.Range = exports.Position = exports.Uri = exports.EventEmitter = exports.Disposable = void 0;
const fs = __importStar(require("node:fs"));
const path = __importStar(require("node:path"));
const node_url_1 = require("node:url");
class Disposable {
    callback;
    constructor(callback = () => undefined) {
        this.callback = callback;
    }
    static from(...disposables) {
        return new Disposable(() => disposables.forEach((disposable) => disposable.dispose()));
    }
    dispose() {
        this.callback();
    }
}
exports.Disposable = Disposable;
class EventEmitter {
    listeners = [];
    event = (listener) => {
        this.listeners.push(listener);
        return new Disposable(() => {
            this.listeners = this.listeners.filter((candidate) => candidate !== listener);
        });
    };
    fire(value) {
        for (const listener of [...this.listeners]) {
            listener(value);
        }
    }
    dispose() {
        this.listeners = [];
    }
}
exports.EventEmitter = EventEmitter;
class Uri {
    scheme;
    path;
    text;
    constructor(scheme, path, text) {
        this.scheme = scheme;
        this.path = path;
        this.text = text;
    }
    static file(filePath) {
        const url = (0, node_url_1.pathToFileURL)(filePath);
        return new Uri('file', url.pathname, url.href);
    }
    static parse(text) {
        const url = new URL(text);
        return new Uri(url.protocol.replace(/:$/, ''), url.pathname, url.href);
    }
    get fsPath() {
        return (0, node_url_1.fileURLToPath)(this.text);
    }
    toString() {
        return this.text;
    }
}
exports.Uri = Uri;
class Position {
    line;
    character;
    constructor(line, character) {
        this.line = line;
        this.character = character;
    }
}
exports.Position = Position;
class Range {
    start;
    end;
    constructor(start, end) {
        this.start = start;
        this.end = end;
    }
    get isEmpty() {
        return this.start.line === this.end.line && this.start.character === this.end.character;
    }
}
exports.Range = Range;
class Selection extends Range {
    anchor;
    active;
    constructor(anchor, active) {
        super(anchor, active);
        this.anchor = anchor;
        this.active = active;
    }
}
exports.Selection = Selection;
var TreeItemCollapsibleState;
(function (TreeItemCollapsibleState) {
    TreeItemCollapsibleState[TreeItemCollapsibleState["None"] = 0] = "None";
    TreeItemCollapsibleState[TreeItemCollapsibleState["Collapsed"] = 1] = "Collapsed";
    TreeItemCollapsibleState[TreeItemCollapsibleState["Expanded"] = 2] = "Expanded";
})(TreeItemCollapsibleState || (exports.TreeItemCollapsibleState = TreeItemCollapsibleState = {}));
class ThemeIcon {
    id;
    constructor(id) {
        this.id = id;
    }
}
exports.ThemeIcon = ThemeIcon;
class TreeItem {
    label;
    collapsibleState;
    description;
    tooltip;
    iconPath;
    contextValue;
    id;
    command;
    constructor(label, collapsibleState = TreeItemCollapsibleState.None) {
        this.label = label;
        this.collapsibleState = collapsibleState;
    }
}
exports.TreeItem = TreeItem;
var StatusBarAlignment;
(function (StatusBarAlignment) {
    StatusBarAlignment[StatusBarAlignment["Left"] = 1] = "Left";
    StatusBarAlignment[StatusBarAlignment["Right"] = 2] = "Right";
})(StatusBarAlignment || (exports.StatusBarAlignment = StatusBarAlignment = {}));
/** A status bar item that remembers whether it is shown. */
class StatusBarItemStub {
    id;
    alignment;
    priority;
    text = '';
    tooltip = '';
    name = '';
    command = '';
    visible = false;
    constructor(id, alignment, priority) {
        this.id = id;
        this.alignment = alignment;
        this.priority = priority;
    }
    show() {
        this.visible = true;
    }
    hide() {
        this.visible = false;
    }
    dispose() {
        this.visible = false;
    }
}
exports.StatusBarItemStub = StatusBarItemStub;
const packageJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
/** Defaults declared in package.json. */
function defaults() {
    const result = new Map();
    for (const [key, property] of Object.entries(packageJson.contributes.configuration.properties)) {
        result.set(key, property.default);
    }
    return result;
}
function freshState() {
    return {
        settings: { global: new Map(), workspace: new Map(), workspaceFolder: new Map() },
        commands: new Map(),
        /** Commands run through `commands.executeCommand` that the extension did not register. */
        executedCommands: [],
        inputBoxAnswers: [],
        inputBoxOptions: [],
        /** Picks the answer among the offered items (undefined: the user pressed Escape). */
        quickPick: (items) => items[0],
        quickPickItems: [],
        messages: [],
        statusBarItems: [],
        treeViews: new Map(),
        shownDocuments: [],
        activeTextEditor: undefined,
        workspaceFolders: [],
        configurationChanged: new EventEmitter(),
    };
}
let state = freshState();
/** The tests' handle on the stub. */
exports.testing = {
    get state() {
        return state;
    },
    reset() {
        state = freshState();
    },
    setWorkspace(folder) {
        state.workspaceFolders = [{ uri: Uri.file(folder), name: path.basename(folder), index: 0 }];
    },
    setSetting(key, value, level = 'global') {
        state.settings[level].set(key, value);
    },
    /** Changes a setting and fires `onDidChangeConfiguration` as VS Code does. */
    changeSetting(key, value, level = 'global') {
        state.settings[level].set(key, value);
        state.configurationChanged.fire({
            affectsConfiguration: (section) => key === section || key.startsWith(`${section}.`),
        });
    },
    openEditor(filePath, selection) {
        const [startLine, startCharacter, endLine, endCharacter] = selection ?? [0, 0, 0, 0];
        state.activeTextEditor = {
            document: { uri: Uri.file(filePath) },
            selection: new Selection(new Position(startLine, startCharacter), new Position(endLine, endCharacter)),
        };
    },
    closeEditors() {
        state.activeTextEditor = undefined;
    },
    /** Runs a registered command as the palette would. */
    async run(command, ...args) {
        const handler = state.commands.get(command);
        if (!handler) {
            throw new Error(`command ${command} is not registered`);
        }
        return await handler(...args);
    },
};
/** The setting's value with VS Code's precedence, or an object of the keys below it. */
function settingValue(fullKey) {
    const levels = [defaults(), state.settings.global, state.settings.workspace, state.settings.workspaceFolder];
    let value = undefined;
    for (const level of levels) {
        if (level.has(fullKey)) {
            value = level.get(fullKey);
        }
    }
    if (value !== undefined) {
        return value;
    }
    const nested = {};
    let found = false;
    for (const level of levels) {
        for (const [key, setting] of level) {
            if (key.startsWith(`${fullKey}.`)) {
                found = true;
                const parts = key.slice(fullKey.length + 1).split('.');
                let cursor = nested;
                for (const part of parts.slice(0, -1)) {
                    cursor[part] = cursor[part] ?? {};
                    cursor = cursor[part];
                }
                cursor[parts[parts.length - 1]] = setting;
            }
        }
    }
    return found ? nested : undefined;
}
exports.workspace = {
    get workspaceFolders() {
        return state.workspaceFolders.length > 0 ? state.workspaceFolders : undefined;
    },
    getWorkspaceFolder(uri) {
        return state.workspaceFolders.find((folder) => uri.fsPath.startsWith(folder.uri.fsPath + path.sep));
    },
    getConfiguration(section) {
        const full = (key) => (section ? `${section}.${key}` : key);
        return {
            get(key, fallback) {
                const value = settingValue(full(key));
                return value === undefined ? fallback : value;
            },
            has(key) {
                return settingValue(full(key)) !== undefined;
            },
            inspect(key) {
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
    onDidChangeConfiguration(listener) {
        return state.configurationChanged.event(listener);
    },
    openTextDocument(uri) {
        return Promise.resolve({ uri });
    },
};
function message(level) {
    return (text) => {
        state.messages.push({ level, text });
        return Promise.resolve(undefined);
    };
}
exports.window = {
    get activeTextEditor() {
        return state.activeTextEditor;
    },
    showInputBox(options) {
        state.inputBoxOptions.push(options);
        if (state.inputBoxAnswers.length === 0) {
            return Promise.reject(new Error('showInputBox called with no answer queued'));
        }
        return Promise.resolve(state.inputBoxAnswers.shift());
    },
    showQuickPick(items) {
        state.quickPickItems.push(items);
        return Promise.resolve(state.quickPick(items));
    },
    showErrorMessage: message('error'),
    showWarningMessage: message('warning'),
    showInformationMessage: message('information'),
    createStatusBarItem(id, alignment, priority) {
        const item = new StatusBarItemStub(id, alignment, priority);
        state.statusBarItems.push(item);
        return item;
    },
    createTreeView(id, options) {
        state.treeViews.set(id, options);
        return new Disposable();
    },
    createOutputChannel(name) {
        return { name, appendLine: () => undefined, dispose: () => undefined };
    },
    showTextDocument(document) {
        state.shownDocuments.push(document.uri.fsPath);
        return Promise.resolve({});
    },
};
exports.commands = {
    registerCommand(command, handler) {
        if (state.commands.has(command)) {
            throw new Error(`command ${command} already registered`);
        }
        state.commands.set(command, handler);
        return new Disposable(() => state.commands.delete(command));
    },
    async executeCommand(command, ...args) {
        const handler = state.commands.get(command);
        if (handler) {
            return await handler(...args);
        }
        state.executedCommands.push({ command, args });
        return undefined;
    },
};
//# sourceMappingURL=vscode.js.map