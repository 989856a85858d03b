"use strict";
// The palette commands: each asks what it needs, then sends one server command.
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
exports.PaletteCommand = void 0;
exports.registerCommands = registerCommands;
exports.recordFile = recordFile;
const fs = __importStar(require("node:fs"));
const path = __importStar(require("node:path"));
const vscode = __importStar(require("vscode"));
const client_1 = require("./client");
const runs_1 = require("./runs");
/** The palette command ids (the server's own `infiagent.*` ids are taken by the language client). */
exports.PaletteCommand = {
    runTask: 'infiagent.runTask',
    planProject: 'infiagent.planProject',
    buildDesign: 'infiagent.buildDesign',
    judgeFile: 'infiagent.judgeFile',
    cancelRun: 'infiagent.cancelRun',
    showRuns: 'infiagent.showRuns',
    showAgents: 'infiagent.showAgents',
};
/** Registers every palette command. */
function registerCommands(deps) {
    const handlers = {
        [exports.PaletteCommand.runTask]: () => runTask(deps),
        [exports.PaletteCommand.planProject]: (uri) => startOnFile(deps, client_1.ServerCommand.plan, uri, 'a requirement (Markdown)'),
        [exports.PaletteCommand.buildDesign]: (uri) => startOnFile(deps, client_1.ServerCommand.build, uri, 'a design file (project_designs/project_design_<script>.md)'),
        [exports.PaletteCommand.judgeFile]: (uri) => startOnFile(deps, client_1.ServerCommand.judge, uri, 'the file to judge'),
        [exports.PaletteCommand.cancelRun]: (target) => cancelRun(deps, target),
        [exports.PaletteCommand.showRuns]: (runId) => showRuns(deps, runId),
        [exports.PaletteCommand.showAgents]: () => showAgents(deps),
    };
    return Object.entries(handlers).map(([id, handler]) => vscode.commands.registerCommand(id, async (...args) => {
        try {
            await handler(...args);
        }
        catch (error) {
            void vscode.window.showErrorMessage(`InfiAgent: ${errorMessage(error)}`);
        }
    }));
}
/** Run Task…: the typed task, with the active file and its selection when there is one. */
async function runTask(deps) {
    const editor = workspaceEditor();
    const selection = editor && !editor.selection.isEmpty ? editor.selection : undefined;
    const task = await vscode.window.showInputBox({
        title: 'InfiAgent: Run Task',
        prompt: selection
            ? 'What should the agents do? (empty: the selected text is the task)'
            : 'What should the agents do?',
        placeHolder: 'e.g. Add a --verbose flag to main.py',
        ignoreFocusOut: true,
    });
    if (task === undefined) {
        return;
    }
    if (task.trim() === '' && !selection) {
        void vscode.window.showWarningMessage('InfiAgent: type a task, or select the text that describes it.');
        return;
    }
    const argument = {};
    if (task.trim() !== '') {
        argument.task = task;
    }
    if (editor) {
        argument.uri = editor.document.uri.toString();
        if (selection) {
            argument.range = lspRange(selection);
        }
    }
    await startRun(deps, client_1.ServerCommand.run, argument);
}
/** Plan, Build, Judge: the file given (explorer menu) or the active editor's. */
async function startOnFile(deps, command, given, what) {
    const editor = vscode.window.activeTextEditor;
    const uri = given instanceof vscode.Uri ? given : editor?.document.uri;
    if (!uri || uri.scheme !== 'file') {
        void vscode.window.showWarningMessage(`InfiAgent: open ${what} first.`);
        return;
    }
    const argument = { uri: uri.toString() };
    const sameEditor = editor && editor.document.uri.toString() === uri.toString();
    if (command === client_1.ServerCommand.plan && sameEditor && !editor.selection.isEmpty) {
        argument.range = lspRange(editor.selection);
    }
    await startRun(deps, command, argument);
}
async function startRun(deps, command, argument) {
    const client = await deps.client();
    await (0, client_1.executeServerCommand)(client, command, argument);
}
/** Cancel Run: the run given (tree view button), else one picked among the running ones. */
async function cancelRun(deps, target) {
    const client = await deps.client();
    let runId = runIdOf(target);
    if (runId === undefined) {
        const { runs } = await (0, client_1.executeServerCommand)(client, client_1.ServerCommand.runs);
        deps.runs.replaceAll(runs);
        const running = runs.filter((status) => status.state === 'running').reverse();
        if (running.length === 0) {
            void vscode.window.showInformationMessage('InfiAgent: no run is running.');
            return;
        }
        const picked = await vscode.window.showQuickPick(running.map(runPick), {
            title: 'InfiAgent: Cancel Run',
            placeHolder: 'The run to cancel (with its children and their processes)',
        });
        if (!picked) {
            return;
        }
        runId = picked.runId;
    }
    await (0, client_1.executeServerCommand)(client, client_1.ServerCommand.cancel, { runId });
}
/** Show Runs: pick a run (or the one given), open its summary, else its run.json. */
async function showRuns(deps, given) {
    const client = await deps.client();
    const { runs } = await (0, client_1.executeServerCommand)(client, client_1.ServerCommand.runs);
    deps.runs.replaceAll(runs);
    let status = runs.find((candidate) => candidate.runId === runIdOf(given));
    if (!status) {
        if (runs.length === 0) {
            void vscode.window.showInformationMessage('InfiAgent: no runs in this session yet.');
            return;
        }
        const picked = await vscode.window.showQuickPick([...runs].reverse().map(runPick), {
            title: 'InfiAgent: Runs',
            placeHolder: 'The run whose record to open',
            matchOnDescription: true,
            matchOnDetail: true,
        });
        status = runs.find((candidate) => candidate.runId === picked?.runId);
    }
    if (!status) {
        return;
    }
    const file = recordFile(status);
    if (!file) {
        void vscode.window.showInformationMessage(`InfiAgent: ${status.runId} has no record yet (${status.record}).`);
        return;
    }
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    await vscode.window.showTextDocument(document, { preview: true });
}
/** The record file to open: `summary.md`, else `run.json`, else `trajectory.jsonl`. */
function recordFile(status) {
    return ['summary.md', 'run.json', 'trajectory.jsonl']
        .map((name) => path.join(status.record, name))
        .find((file) => fs.existsSync(file));
}
/** Show Agent Pyramid: reloads it and shows the view. */
async function showAgents(deps) {
    await deps.view.refreshPyramid();
    await vscode.commands.executeCommand('infiagent.view.focus');
}
function runPick(status) {
    return {
        label: `$(${(0, runs_1.stateIcon)(status.state)}) ${status.title || status.agent}`,
        description: `${status.agent} · ${status.state} · ${(0, runs_1.formatCost)(status.totals.cost_usd)}`,
        detail: status.message || status.runId,
        runId: status.runId,
    };
}
function runIdOf(target) {
    if (typeof target === 'string') {
        return target;
    }
    const element = target;
    return element?.kind === 'run' ? element.status.runId : undefined;
}
/** The active editor when its document is a file inside a workspace folder (the server refuses others). */
function workspaceEditor() {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.uri.scheme !== 'file') {
        return undefined;
    }
    return vscode.workspace.getWorkspaceFolder(editor.document.uri) ? editor : undefined;
}
function lspRange(range) {
    return {
        start: { line: range.start.line, character: range.start.character },
        end: { line: range.end.line, character: range.end.character },
    };
}
function errorMessage(error) {
    return error instanceof Error ? error.message : String(error);
}
//# sourceMappingURL=commands.js.map