"use strict";
// How the extension talks to `infiagent lsp`: the part of the language client it
// uses, the options it starts the client with, and the server's commands.
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
exports.RUN_STATUS_NOTIFICATION = exports.ServerCommand = void 0;
exports.serverOptions = serverOptions;
exports.clientOptions = clientOptions;
exports.executeServerCommand = executeServerCommand;
const vscode = __importStar(require("vscode"));
const settings_1 = require("./settings");
/** The server's commands (`workspace/executeCommand`). */
exports.ServerCommand = {
    run: 'infiagent.run',
    plan: 'infiagent.plan',
    build: 'infiagent.build',
    judge: 'infiagent.judge',
    cancel: 'infiagent.cancel',
    runs: 'infiagent.runs',
    agents: 'infiagent.agents',
};
/** The notification with a run's structured state. */
exports.RUN_STATUS_NOTIFICATION = 'infiagent/runStatus';
/** Starts `<binary> lsp` over stdio. */
function serverOptions(binary) {
    return { command: binary, args: ['lsp'], options: { env: process.env } };
}
/**
 * Every file document is synced (agents read the editor's text, unsaved changes
 * included). The settings go as `initializationOptions` and answer the server's
 * `workspace/configuration` requests for the `infiagent` section; a settings change
 * makes the server pull them again.
 */
function clientOptions(outputChannel) {
    return {
        documentSelector: [{ scheme: 'file' }],
        initializationOptions: (0, settings_1.serverSection)(),
        outputChannel,
        synchronize: { configurationSection: settings_1.SECTION },
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
async function answerConfiguration(params, token, next) {
    const answers = await next(params, token);
    if (!Array.isArray(answers)) {
        return answers;
    }
    return params.items.map((item, index) => {
        const section = item.section ?? '';
        if (section !== settings_1.SECTION && !section.startsWith(`${settings_1.SECTION}.`)) {
            return answers[index];
        }
        const scope = item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined;
        return subsection((0, settings_1.serverSection)(scope), section);
    });
}
function subsection(section, name) {
    let cursor = section;
    for (const part of name.split('.').slice(1)) {
        const next = cursor?.[part];
        cursor = typeof next === 'object' && next !== null && !Array.isArray(next) ? next : null;
    }
    return cursor;
}
/** Sends a server command with its one argument (none for `infiagent.runs` and `infiagent.agents`). */
function executeServerCommand(client, command, argument) {
    return client.sendRequest('workspace/executeCommand', {
        command,
        arguments: argument === undefined ? [] : [argument],
    });
}
//# sourceMappingURL=client.js.map