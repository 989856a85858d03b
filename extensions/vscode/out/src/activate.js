"use strict";
// Wires the extension together: the language client, the runs, the tree view, the
// status bar and the palette commands.
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
exports.activateWith = activateWith;
const vscode = __importStar(require("vscode"));
const client_1 = require("./client");
const commands_1 = require("./commands");
const runs_1 = require("./runs");
const settings_1 = require("./settings");
const statusBar_1 = require("./statusBar");
const view_1 = require("./view");
/** Activates with `createClient` making the language client. */
function activateWith(context, createClient) {
    const runs = new runs_1.RunStore();
    const outputChannel = vscode.window.createOutputChannel('InfiAgent');
    let current;
    const startClient = () => {
        if (current) {
            return current.started;
        }
        const binary = (0, settings_1.binaryPath)();
        const client = createClient((0, client_1.serverOptions)(binary), (0, client_1.clientOptions)(outputChannel));
        context.subscriptions.push(client.onNotification(client_1.RUN_STATUS_NOTIFICATION, (status) => runs.update(status)));
        const started = client.start().then(async () => {
            const { runs: known } = await (0, client_1.executeServerCommand)(client, client_1.ServerCommand.runs);
            runs.replaceAll(known);
            return client;
        }, (error) => {
            current = undefined;
            void vscode.window
                .showErrorMessage(`InfiAgent: cannot start \`${binary} lsp\` (${error instanceof Error ? error.message : String(error)}). Install infiagent or set infiagent.path.`, 'Open Settings')
                .then((choice) => {
                if (choice === 'Open Settings') {
                    void vscode.commands.executeCommand('workbench.action.openSettings', 'infiagent.path');
                }
            });
            throw error;
        });
        current = { client, started };
        return started;
    };
    const stop = async () => {
        const stopping = current;
        current = undefined;
        if (stopping) {
            await stopping.started.then((client) => client.stop(), () => undefined);
        }
    };
    const view = new view_1.InfiAgentView(runs, async () => (0, client_1.executeServerCommand)(await startClient(), client_1.ServerCommand.agents));
    const statusBar = new statusBar_1.RunStatusBar(runs);
    context.subscriptions.push(outputChannel, runs, view, statusBar, vscode.window.createTreeView('infiagent.view', { treeDataProvider: view }), ...(0, commands_1.registerCommands)({ client: startClient, runs, view }), vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration(`${settings_1.SECTION}.path`)) {
            void stop().then(() => startClient().catch(() => undefined));
        }
    }));
    void startClient().catch(() => undefined);
    return { runs, view, statusBar, client: startClient, stop };
}
//# sourceMappingURL=activate.js.map