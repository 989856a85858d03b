"use strict";
// The status bar item: the current run's working agent, state and cost.
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
exports.RunStatusBar = void 0;
const vscode = __importStar(require("vscode"));
const runs_1 = require("./runs");
/** Shows the newest running run (else the newest run); hidden until there is one. */
class RunStatusBar {
    runs;
    item;
    subscription;
    constructor(runs) {
        this.runs = runs;
        this.item = vscode.window.createStatusBarItem('infiagent.run', vscode.StatusBarAlignment.Left, 10);
        this.item.name = 'InfiAgent Run';
        this.item.command = 'infiagent.showRuns';
        this.subscription = runs.onDidChange(() => this.render());
        this.render();
    }
    render() {
        const status = this.runs.current();
        if (!status) {
            this.item.hide();
            return;
        }
        const agent = status.state === 'running' ? (0, runs_1.activeAgent)(status) : status.agent;
        this.item.text = `$(${(0, runs_1.stateIcon)(status.state)}) ${agent} ${status.state} · ${(0, runs_1.formatCost)(status.totals.cost_usd)}`;
        this.item.tooltip = [status.title, status.message].filter((line) => line !== '').join('\n');
        this.item.show();
    }
    dispose() {
        this.subscription.dispose();
        this.item.dispose();
    }
}
exports.RunStatusBar = RunStatusBar;
//# sourceMappingURL=statusBar.js.map