"use strict";
// The extension's own code (settings, palette commands, runs view, status bar) against
// the real `infiagent lsp`, over JSON-RPC on stdio, with the scripted model endpoint
// of `infiagent demo --serve-model`. The language client here answers the server the
// way vscode-languageclient does: `workspace/configuration` through the extension's
// middleware, progress tokens accepted, diagnostics kept.
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
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
const strict_1 = __importDefault(require("node:assert/strict"));
const node_child_process_1 = require("node:child_process");
const fs = __importStar(require("node:fs"));
const os = __importStar(require("node:os"));
const path = __importStar(require("node:path"));
const readline = __importStar(require("node:readline"));
const node_test_1 = require("node:test");
const node_1 = require("vscode-languageserver-protocol/node");
const activate_1 = require("../src/activate");
const vscode_1 = require("./stub/vscode");
const BINARY = process.env.INFIAGENT_BIN ?? path.resolve(__dirname, '..', '..', '..', '..', 'target', 'debug', 'infiagent');
/** `infiagent lsp` as a child process, spoken to as vscode-languageclient would. */
class ServerProcessClient {
    serverOptions;
    clientOptions;
    folder;
    child;
    connection;
    notificationHandlers = new Map();
    diagnostics = new Map();
    messages = [];
    stderr = '';
    constructor(serverOptions, clientOptions, folder) {
        this.serverOptions = serverOptions;
        this.clientOptions = clientOptions;
        this.folder = folder;
    }
    async start() {
        const { command, args } = this.serverOptions;
        const child = (0, node_child_process_1.spawn)(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
        child.stderr?.on('data', (chunk) => (this.stderr += chunk.toString()));
        this.child = child;
        const connection = (0, node_1.createProtocolConnection)(new node_1.StreamMessageReader(child.stdout), new node_1.StreamMessageWriter(child.stdin));
        this.connection = connection;
        const configuration = this.clientOptions.middleware?.workspace?.configuration;
        connection.onRequest('workspace/configuration', (params, token) => {
            // vscode-languageclient's own answer: each section's settings as they are.
            const raw = (request) => request.items.map((item) => vscode_1.workspace.getConfiguration().get(item.section ?? '') ?? null);
            return configuration ? configuration(params, token, raw) : raw(params);
        });
        connection.onRequest('window/workDoneProgress/create', () => null);
        connection.onNotification('$/progress', () => undefined);
        connection.onNotification('window/logMessage', () => undefined);
        connection.onNotification('window/showMessage', (params) => this.messages.push(params));
        connection.onNotification('textDocument/publishDiagnostics', (params) => this.diagnostics.set(params.uri, params.diagnostics));
        for (const [method, handler] of this.notificationHandlers) {
            connection.onNotification(method, handler);
        }
        connection.listen();
        const folderUri = vscode_1.Uri.file(this.folder).toString();
        await connection.sendRequest('initialize', {
            processId: process.pid,
            rootUri: folderUri,
            workspaceFolders: [{ uri: folderUri, name: 'workspace' }],
            capabilities: {
                window: { workDoneProgress: true },
                workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true } },
            },
            initializationOptions: this.clientOptions.initializationOptions,
        });
        await connection.sendNotification('initialized', {});
    }
    async stop() {
        if (!this.connection) {
            return;
        }
        await this.connection.sendRequest('shutdown');
        await this.connection.sendNotification('exit');
        this.connection.dispose();
        this.child?.kill();
    }
    sendRequest(method, params) {
        if (!this.connection) {
            return Promise.reject(new Error('the client is not started'));
        }
        return this.connection.sendRequest(method, params);
    }
    onNotification(method, handler) {
        this.notificationHandlers.set(method, handler);
        return { dispose: () => this.notificationHandlers.delete(method) };
    }
}
async function waitFor(what, probe, timeoutMs = 30_000) {
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
function startModel() {
    const child = (0, node_child_process_1.spawn)(BINARY, ['demo', '--serve-model', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    return new Promise((resolve, reject) => {
        const lines = readline.createInterface({ input: child.stdout });
        lines.once('line', (line) => {
            if (line.startsWith('http://127.0.0.1:')) {
                resolve({ baseUrl: line.trim(), child });
            }
            else {
                reject(new Error(`the scripted model endpoint printed ${line}`));
            }
        });
        child.once('exit', (code) => reject(new Error(`the scripted model endpoint exited with ${code}`)));
    });
}
(0, node_test_1.describe)('against infiagent lsp', () => {
    let model;
    let extension;
    let client;
    let folder;
    (0, node_test_1.before)(async () => {
        strict_1.default.ok(fs.existsSync(BINARY), `${BINARY} is missing: run \`cargo build -p infiagent-cli\` first (or set INFIAGENT_BIN)`);
        model = await startModel();
        vscode_1.testing.reset();
        folder = fs.mkdtempSync(path.join(os.tmpdir(), 'infiagent-vscode-e2e-'));
        vscode_1.testing.setWorkspace(folder);
        vscode_1.testing.setSetting('infiagent.path', BINARY);
        vscode_1.testing.setSetting('infiagent.model.base_url', model.baseUrl);
        vscode_1.testing.setSetting('infiagent.model.name', 'scripted');
        vscode_1.testing.setSetting('infiagent.run.autonomy', 'auto');
        const context = { subscriptions: [] };
        extension = (0, activate_1.activateWith)(context, (serverOptions, clientOptions) => {
            client = new ServerProcessClient(serverOptions, clientOptions, folder);
            return client;
        });
        await extension.client();
    });
    (0, node_test_1.after)(async () => {
        await extension?.stop();
        model?.child.kill();
    });
    function finished(runId) {
        return extension.runs.all().find((status) => status.runId === runId && status.state !== 'running');
    }
    (0, node_test_1.it)('Judge Current File ends with an error verdict: Error diagnostic, failed run, status bar', async () => {
        const broken = path.join(folder, 'broken.py');
        fs.writeFileSync(broken, "def f():\n    return 1\nraise ValueError('boom')\n");
        vscode_1.testing.openEditor(broken);
        await vscode_1.testing.run('infiagent.judgeFile');
        strict_1.default.deepEqual(vscode_1.testing.state.messages, [], client.stderr);
        const started = await waitFor('the run to be reported', () => extension.runs.all().at(-1));
        strict_1.default.equal(started.title, 'judge broken.py');
        const ended = await waitFor('the judge run to end', () => finished(started.runId), 60_000);
        strict_1.default.equal(ended.state, 'failed');
        strict_1.default.match(ended.message, /^judge_agent ended with an error/);
        strict_1.default.match(extension.statusBar.item.text, /^\$\(error\) judge_agent failed · \$\d+\.\d{4}$/);
        const diagnostics = await waitFor('diagnostics on broken.py', () => client.diagnostics.get(vscode_1.Uri.file(broken).toString()));
        strict_1.default.equal(diagnostics.length, 1);
        strict_1.default.equal(diagnostics[0].severity, 1);
        strict_1.default.equal(diagnostics[0].source, 'infiagent');
        strict_1.default.equal(diagnostics[0].range.start.line, 2);
        strict_1.default.deepEqual(client.messages.filter((message) => /infiagent\.model/.test(message.message)), [], 'no complaint about the model settings');
    });
    (0, node_test_1.it)('Cancel Run stops a long run', async () => {
        const slow = path.join(folder, 'slow.py');
        fs.writeFileSync(slow, 'import time\ntime.sleep(60)\n');
        vscode_1.testing.openEditor(slow);
        await vscode_1.testing.run('infiagent.judgeFile');
        const running = await waitFor('the slow run to be running', () => extension.runs.running().find((status) => status.title === 'judge slow.py'));
        vscode_1.testing.state.quickPick = (items) => items.find((item) => item.runId === running.runId);
        await vscode_1.testing.run('infiagent.cancelRun');
        const ended = await waitFor('the slow run to be cancelled', () => finished(running.runId));
        strict_1.default.equal(ended.state, 'cancelled');
        strict_1.default.match(extension.statusBar.item.text, /cancelled/);
    });
    (0, node_test_1.it)('the pyramid comes from the server, highest level first', async () => {
        const [, pyramid] = await extension.view.getChildren();
        const levels = await extension.view.getChildren(pyramid);
        const labels = levels.map((element) => {
            const label = extension.view.getTreeItem(element).label;
            return typeof label === 'string' ? label : label?.label;
        });
        strict_1.default.deepEqual(labels, ['Level 3', 'Level 2', 'Level 1', 'Judge (level -1)']);
    });
});
//# sourceMappingURL=server.test.js.map