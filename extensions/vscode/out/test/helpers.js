"use strict";
// A fake language client and an activation helper for the command-wiring tests.
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
exports.FakeClient = void 0;
exports.activate = activate;
exports.runStatus = runStatus;
exports.writeFile = writeFile;
const fs = __importStar(require("node:fs"));
const os = __importStar(require("node:os"));
const path = __importStar(require("node:path"));
const activate_1 = require("../src/activate");
const vscode_1 = require("./stub/vscode");
/** Records requests, answers server commands from `answers`, and delivers notifications. */
class FakeClient {
    serverOptions;
    clientOptions;
    sent = [];
    handlers = new Map();
    started = false;
    stopped = false;
    answers = {
        'infiagent.runs': () => ({ runs: [] }),
    };
    constructor(serverOptions, clientOptions) {
        this.serverOptions = serverOptions;
        this.clientOptions = clientOptions;
    }
    start() {
        this.started = true;
        return Promise.resolve();
    }
    stop() {
        this.stopped = true;
        return Promise.resolve();
    }
    sendRequest(method, params) {
        if (method !== 'workspace/executeCommand') {
            return Promise.reject(new Error(`unexpected request ${method}`));
        }
        const request = params;
        this.sent.push(request);
        const answer = this.answers[request.command] ?? (() => ({ runId: `run-${this.sent.length}` }));
        try {
            return Promise.resolve(answer(request.arguments[0]));
        }
        catch (error) {
            return Promise.reject(error instanceof Error ? error : new Error(String(error)));
        }
    }
    onNotification(method, handler) {
        this.handlers.set(method, handler);
        return { dispose: () => this.handlers.delete(method) };
    }
    /** Delivers a notification from the server. */
    notify(method, params) {
        const handler = this.handlers.get(method);
        if (!handler) {
            throw new Error(`no handler for ${method}`);
        }
        handler(params);
    }
    /** The commands sent, without the `infiagent.runs` refreshes. */
    runCommands() {
        return this.sent.filter((request) => request.command !== 'infiagent.runs');
    }
}
exports.FakeClient = FakeClient;
/** Resets the stub, makes a workspace folder, applies `settings`, and activates. */
async function activate(settings = {}) {
    vscode_1.testing.reset();
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'infiagent-vscode-'));
    vscode_1.testing.setWorkspace(workspace);
    for (const [key, value] of Object.entries(settings)) {
        vscode_1.testing.setSetting(key, value);
    }
    const clients = [];
    const context = { subscriptions: [] };
    const extension = (0, activate_1.activateWith)(context, (serverOptions, clientOptions) => {
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
function runStatus(overrides) {
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
function writeFile(workspace, relative, text = '') {
    const file = path.join(workspace, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
}
//# sourceMappingURL=helpers.js.map