"use strict";
// The runs of the session, kept from `infiagent/runStatus` notifications and the
// `infiagent.runs` command.
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
exports.RunStore = void 0;
exports.activeAgent = activeAgent;
exports.formatCost = formatCost;
exports.totalTokens = totalTokens;
exports.stateIcon = stateIcon;
const vscode = __importStar(require("vscode"));
/** Runs of this session, in start order. */
class RunStore {
    byId = new Map();
    lastUpdated;
    changed = new vscode.EventEmitter();
    /** Fires after any change. */
    onDidChange = this.changed.event;
    /** Records a status from a notification (a new run or a newer state of a known one). */
    update(status) {
        this.byId.set(status.runId, status);
        this.lastUpdated = status.runId;
        this.changed.fire();
    }
    /** Replaces everything with the server's list (after a start or restart). */
    replaceAll(statuses) {
        this.byId.clear();
        for (const status of statuses) {
            this.byId.set(status.runId, status);
        }
        this.changed.fire();
    }
    /** All runs, oldest first. */
    all() {
        return [...this.byId.values()];
    }
    /** Runs still going, oldest first. */
    running() {
        return this.all().filter((status) => status.state === 'running');
    }
    /** The run the status bar shows: the newest running one, else the one that changed last. */
    current() {
        const all = this.all();
        const running = all.filter((status) => status.state === 'running');
        const last = this.lastUpdated === undefined ? undefined : this.byId.get(this.lastUpdated);
        return running.at(-1) ?? last ?? all.at(-1);
    }
    dispose() {
        this.changed.dispose();
    }
}
exports.RunStore = RunStore;
/** The agent working now: the innermost call of the first stack, else the run's agent. */
function activeAgent(status) {
    const stack = status.stack[0];
    if (!stack) {
        return status.agent;
    }
    const innermost = stack.split(' › ').at(-1) ?? stack;
    const name = innermost.split('(')[0].split(' [')[0].trim();
    return name || status.agent;
}
/** `$0.0012`: the cost with four decimals, like the server's reports. */
function formatCost(costUsd) {
    return `$${costUsd.toFixed(4)}`;
}
/** Total tokens of a run. */
function totalTokens(totals) {
    return totals.prompt_tokens + totals.completion_tokens;
}
/** A codicon per state. */
function stateIcon(state) {
    switch (state) {
        case 'running':
            return 'sync~spin';
        case 'succeeded':
            return 'pass';
        case 'failed':
            return 'error';
        case 'cancelled':
            return 'circle-slash';
    }
}
//# sourceMappingURL=runs.js.map