"use strict";
// The "InfiAgent" tree view: the session's runs, and the agent pyramid by level.
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
exports.InfiAgentView = void 0;
exports.levelLabel = levelLabel;
const vscode = __importStar(require("vscode"));
const runs_1 = require("./runs");
/** The tree: "Runs" (newest first) and "Agent Pyramid" (highest level first). */
class InfiAgentView {
    runs;
    loadPyramid;
    changed = new vscode.EventEmitter();
    onDidChangeTreeData = this.changed.event;
    pyramid;
    subscription;
    constructor(runs, loadPyramid) {
        this.runs = runs;
        this.loadPyramid = loadPyramid;
        this.subscription = runs.onDidChange(() => this.changed.fire(undefined));
    }
    /** Loads the pyramid again and redraws. */
    async refreshPyramid() {
        try {
            this.pyramid = await this.loadPyramid();
        }
        catch (error) {
            this.pyramid = { error: error instanceof Error ? error.message : String(error) };
        }
        this.changed.fire(undefined);
    }
    getChildren(element) {
        if (!element) {
            return [{ kind: 'runs' }, { kind: 'pyramid' }];
        }
        switch (element.kind) {
            case 'runs': {
                const runs = this.runs.all().reverse();
                return runs.length > 0
                    ? runs.map((status) => ({ kind: 'run', status }))
                    : [{ kind: 'message', text: 'No runs yet: use InfiAgent: Run Task… or a code action.' }];
            }
            case 'pyramid':
                return this.pyramidChildren();
            case 'level':
                return element.agents.map((agent) => ({ kind: 'agent', agent }));
            case 'run':
            case 'agent':
            case 'problem':
            case 'message':
                return [];
        }
    }
    getTreeItem(element) {
        switch (element.kind) {
            case 'runs':
                return group('Runs', 'history');
            case 'pyramid':
                return group('Agent Pyramid', 'type-hierarchy');
            case 'run':
                return runItem(element.status);
            case 'level': {
                const item = new vscode.TreeItem(levelLabel(element.level), vscode.TreeItemCollapsibleState.Expanded);
                item.description = `${element.agents.length} agent${element.agents.length === 1 ? '' : 's'}`;
                return item;
            }
            case 'agent': {
                const item = new vscode.TreeItem(element.agent.name, vscode.TreeItemCollapsibleState.None);
                item.description = element.agent.tools.join(', ');
                item.tooltip = element.agent.description;
                item.iconPath = new vscode.ThemeIcon('hubot');
                return item;
            }
            case 'problem': {
                const item = new vscode.TreeItem(element.text, vscode.TreeItemCollapsibleState.None);
                item.iconPath = new vscode.ThemeIcon('warning');
                return item;
            }
            case 'message':
                return new vscode.TreeItem(element.text, vscode.TreeItemCollapsibleState.None);
        }
    }
    async pyramidChildren() {
        if (this.pyramid === undefined) {
            await this.refreshPyramid();
        }
        const pyramid = this.pyramid;
        if (pyramid === undefined) {
            return [];
        }
        if ('error' in pyramid) {
            return [{ kind: 'message', text: `Cannot load the pyramid: ${pyramid.error}` }];
        }
        const byLevel = new Map();
        for (const agent of pyramid.graph.nodes) {
            byLevel.set(agent.level, [...(byLevel.get(agent.level) ?? []), agent]);
        }
        const levels = [...byLevel.entries()]
            .sort(([left], [right]) => right - left)
            .map(([level, agents]) => ({ kind: 'level', level, agents }));
        const problems = pyramid.problems.map((text) => ({ kind: 'problem', text }));
        return [...problems, ...levels];
    }
    dispose() {
        this.subscription.dispose();
        this.changed.dispose();
    }
}
exports.InfiAgentView = InfiAgentView;
/** "Level 3", or for the judge's level -1 "Judge (level -1)". */
function levelLabel(level) {
    return level < 1 ? `Judge (level ${level})` : `Level ${level}`;
}
function group(label, icon) {
    const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Expanded);
    item.iconPath = new vscode.ThemeIcon(icon);
    return item;
}
function runItem(status) {
    const item = new vscode.TreeItem(status.title || status.agent, vscode.TreeItemCollapsibleState.None);
    const who = status.state === 'running' ? (0, runs_1.activeAgent)(status) : status.agent;
    item.description = `${who} · ${status.state} · ${(0, runs_1.formatCost)(status.totals.cost_usd)}`;
    item.tooltip = [
        `${status.runId} (${status.startedAt})`,
        status.message,
        `${(0, runs_1.totalTokens)(status.totals)} tokens, ${status.totals.model_calls} model calls, ${status.totals.tool_calls} tool calls`,
    ]
        .filter((line) => line !== '')
        .join('\n');
    item.iconPath = new vscode.ThemeIcon((0, runs_1.stateIcon)(status.state));
    item.contextValue = `run.${status.state}`;
    item.id = status.runId;
    item.command = { command: 'infiagent.showRuns', title: 'Open Run', arguments: [status.runId] };
    return item;
}
//# sourceMappingURL=view.js.map