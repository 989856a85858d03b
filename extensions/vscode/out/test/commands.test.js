"use strict";
// Each palette command sends the right server command with the right argument.
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
const fs = __importStar(require("node:fs"));
const path = __importStar(require("node:path"));
const node_test_1 = require("node:test");
const vscode_1 = require("./stub/vscode");
const helpers_1 = require("./helpers");
const contributed = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).contributes.commands;
(0, node_test_1.describe)('palette commands', () => {
    (0, node_test_1.it)('registers exactly the contributed commands, none clashing with the server commands', async () => {
        await (0, helpers_1.activate)();
        const registered = [...vscode_1.testing.state.commands.keys()].sort();
        strict_1.default.deepEqual(registered, contributed.map((command) => command.command).sort());
        const serverCommands = ['infiagent.run', 'infiagent.plan', 'infiagent.build', 'infiagent.judge', 'infiagent.cancel', 'infiagent.runs', 'infiagent.agents'];
        strict_1.default.deepEqual(registered.filter((command) => serverCommands.includes(command)), []);
        strict_1.default.deepEqual(contributed.map((command) => command.title), ['Run Task…', 'Plan Project from Requirement', 'Build from Design', 'Judge Current File', 'Cancel Run', 'Show Runs', 'Show Agent Pyramid']);
    });
    (0, node_test_1.it)('Run Task… sends the typed task alone when no file is open', async () => {
        const { client } = await (0, helpers_1.activate)();
        vscode_1.testing.state.inputBoxAnswers.push('Add a --verbose flag to main.py');
        await vscode_1.testing.run('infiagent.runTask');
        strict_1.default.deepEqual((await client()).runCommands(), [
            { command: 'infiagent.run', arguments: [{ task: 'Add a --verbose flag to main.py' }] },
        ]);
    });
    (0, node_test_1.it)('Run Task… adds the active file and its selection', async () => {
        const { client, workspace } = await (0, helpers_1.activate)();
        const file = (0, helpers_1.writeFile)(workspace, 'main.py', 'print(1)\nprint(2)\n');
        vscode_1.testing.openEditor(file, [0, 2, 1, 5]);
        vscode_1.testing.state.inputBoxAnswers.push('Explain this');
        await vscode_1.testing.run('infiagent.runTask');
        strict_1.default.deepEqual((await client()).runCommands(), [
            {
                command: 'infiagent.run',
                arguments: [
                    {
                        task: 'Explain this',
                        uri: vscode_1.Uri.file(file).toString(),
                        range: { start: { line: 0, character: 2 }, end: { line: 1, character: 5 } },
                    },
                ],
            },
        ]);
    });
    (0, node_test_1.it)('Run Task… with an empty answer makes the selection the task', async () => {
        const { client, workspace } = await (0, helpers_1.activate)();
        const file = (0, helpers_1.writeFile)(workspace, 'notes.md', 'Write a CSV parser\n');
        vscode_1.testing.openEditor(file, [0, 0, 0, 18]);
        vscode_1.testing.state.inputBoxAnswers.push('');
        await vscode_1.testing.run('infiagent.runTask');
        const [sent] = (await client()).runCommands();
        strict_1.default.deepEqual(sent.arguments, [
            { uri: vscode_1.Uri.file(file).toString(), range: { start: { line: 0, character: 0 }, end: { line: 0, character: 18 } } },
        ]);
        strict_1.default.match(String(vscode_1.testing.state.inputBoxOptions[0].prompt), /selected text is the task/);
    });
    (0, node_test_1.it)('Run Task… leaves out a file outside the workspace', async () => {
        const { client } = await (0, helpers_1.activate)();
        vscode_1.testing.openEditor('/elsewhere/main.py', [0, 0, 0, 3]);
        vscode_1.testing.state.inputBoxAnswers.push('Do it');
        await vscode_1.testing.run('infiagent.runTask');
        strict_1.default.deepEqual((await client()).runCommands(), [{ command: 'infiagent.run', arguments: [{ task: 'Do it' }] }]);
    });
    (0, node_test_1.it)('Run Task… sends nothing when the input is dismissed or empty without a selection', async () => {
        const { client } = await (0, helpers_1.activate)();
        vscode_1.testing.state.inputBoxAnswers.push(undefined, '  ');
        await vscode_1.testing.run('infiagent.runTask');
        await vscode_1.testing.run('infiagent.runTask');
        strict_1.default.deepEqual((await client()).runCommands(), []);
        strict_1.default.deepEqual(vscode_1.testing.state.messages, [
            { level: 'warning', text: 'InfiAgent: type a task, or select the text that describes it.' },
        ]);
    });
    (0, node_test_1.it)('Plan, Build and Judge send the active file', async () => {
        const { client, workspace } = await (0, helpers_1.activate)();
        const requirement = (0, helpers_1.writeFile)(workspace, 'requirement.md', '# Stats\n');
        const design = (0, helpers_1.writeFile)(workspace, 'project_designs/project_design_numstats.md');
        const script = (0, helpers_1.writeFile)(workspace, 'broken.py');
        vscode_1.testing.openEditor(requirement);
        await vscode_1.testing.run('infiagent.planProject');
        vscode_1.testing.openEditor(design);
        await vscode_1.testing.run('infiagent.buildDesign');
        vscode_1.testing.openEditor(script);
        await vscode_1.testing.run('infiagent.judgeFile');
        strict_1.default.deepEqual((await client()).runCommands(), [
            { command: 'infiagent.plan', arguments: [{ uri: vscode_1.Uri.file(requirement).toString() }] },
            { command: 'infiagent.build', arguments: [{ uri: vscode_1.Uri.file(design).toString() }] },
            { command: 'infiagent.judge', arguments: [{ uri: vscode_1.Uri.file(script).toString() }] },
        ]);
    });
    (0, node_test_1.it)('Plan sends the selection as the range; a file from the explorer wins over the editor', async () => {
        const { client, workspace } = await (0, helpers_1.activate)();
        const requirement = (0, helpers_1.writeFile)(workspace, 'requirement.md', '# A\n## B\n');
        const other = (0, helpers_1.writeFile)(workspace, 'other.py');
        vscode_1.testing.openEditor(requirement, [1, 0, 2, 0]);
        await vscode_1.testing.run('infiagent.planProject');
        await vscode_1.testing.run('infiagent.judgeFile', vscode_1.Uri.file(other));
        strict_1.default.deepEqual((await client()).runCommands(), [
            {
                command: 'infiagent.plan',
                arguments: [{ uri: vscode_1.Uri.file(requirement).toString(), range: { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } } }],
            },
            { command: 'infiagent.judge', arguments: [{ uri: vscode_1.Uri.file(other).toString() }] },
        ]);
    });
    (0, node_test_1.it)('Plan, Build and Judge with no file open say so and send nothing', async () => {
        const { client } = await (0, helpers_1.activate)();
        for (const command of ['infiagent.planProject', 'infiagent.buildDesign', 'infiagent.judgeFile']) {
            await vscode_1.testing.run(command);
        }
        strict_1.default.deepEqual((await client()).runCommands(), []);
        strict_1.default.deepEqual(vscode_1.testing.state.messages.map((message) => message.text), [
            'InfiAgent: open a requirement (Markdown) first.',
            'InfiAgent: open a design file (project_designs/project_design_<script>.md) first.',
            'InfiAgent: open the file to judge first.',
        ]);
    });
    (0, node_test_1.it)("shows the server's error when it refuses a command", async () => {
        const { client, workspace } = await (0, helpers_1.activate)();
        (await client()).answers['infiagent.build'] = () => {
            throw new Error('notes.md is not a design file: infiagent.build takes project_designs/project_design_<script>.md');
        };
        vscode_1.testing.openEditor((0, helpers_1.writeFile)(workspace, 'notes.md'));
        await vscode_1.testing.run('infiagent.buildDesign');
        strict_1.default.deepEqual(vscode_1.testing.state.messages, [
            {
                level: 'error',
                text: 'InfiAgent: notes.md is not a design file: infiagent.build takes project_designs/project_design_<script>.md',
            },
        ]);
    });
    (0, node_test_1.it)('Cancel Run offers the running runs, newest first, and cancels the one picked', async () => {
        const { client } = await (0, helpers_1.activate)();
        const fake = await client();
        fake.answers['infiagent.runs'] = () => ({
            runs: [
                (0, helpers_1.runStatus)({ runId: 'a', title: 'plan requirement.md', state: 'succeeded' }),
                (0, helpers_1.runStatus)({ runId: 'b', title: 'judge slow.py' }),
                (0, helpers_1.runStatus)({ runId: 'c', title: 'build numstats.py' }),
            ],
        });
        vscode_1.testing.state.quickPick = (items) => items[1];
        await vscode_1.testing.run('infiagent.cancelRun');
        const offered = vscode_1.testing.state.quickPickItems[0];
        strict_1.default.deepEqual(offered.map((item) => [item.runId, item.label]), [
            ['c', '$(sync~spin) build numstats.py'],
            ['b', '$(sync~spin) judge slow.py'],
        ]);
        strict_1.default.deepEqual(fake.runCommands(), [{ command: 'infiagent.cancel', arguments: [{ runId: 'b' }] }]);
    });
    (0, node_test_1.it)('Cancel Run from the tree cancels that run; with none running it says so', async () => {
        const { client, extension } = await (0, helpers_1.activate)();
        const fake = await client();
        const status = (0, helpers_1.runStatus)({ runId: 'r1' });
        await vscode_1.testing.run('infiagent.cancelRun', { kind: 'run', status });
        await vscode_1.testing.run('infiagent.cancelRun');
        vscode_1.testing.state.quickPick = () => undefined;
        fake.answers['infiagent.runs'] = () => ({ runs: [status] });
        await vscode_1.testing.run('infiagent.cancelRun');
        strict_1.default.deepEqual(fake.runCommands(), [{ command: 'infiagent.cancel', arguments: [{ runId: 'r1' }] }]);
        strict_1.default.deepEqual(vscode_1.testing.state.messages, [{ level: 'information', text: 'InfiAgent: no run is running.' }]);
        strict_1.default.deepEqual(extension.runs.all().map((run) => run.runId), ['r1']);
    });
    (0, node_test_1.it)("Show Runs opens the picked run's summary.md, else its run.json", async () => {
        const { client, workspace } = await (0, helpers_1.activate)();
        const fake = await client();
        const withSummary = path.join(workspace, '.infiagent/runs/r1');
        const withoutSummary = path.join(workspace, '.infiagent/runs/r2');
        (0, helpers_1.writeFile)(withSummary, 'run.json', '{}');
        (0, helpers_1.writeFile)(withSummary, 'summary.md', '# Run');
        (0, helpers_1.writeFile)(withoutSummary, 'run.json', '{}');
        fake.answers['infiagent.runs'] = () => ({
            runs: [
                (0, helpers_1.runStatus)({ runId: 'r1', state: 'succeeded', record: withSummary }),
                (0, helpers_1.runStatus)({ runId: 'r2', state: 'failed', record: withoutSummary }),
            ],
        });
        vscode_1.testing.state.quickPick = (items) => items.find((item) => item.runId === 'r1');
        await vscode_1.testing.run('infiagent.showRuns');
        vscode_1.testing.state.quickPick = (items) => items.find((item) => item.runId === 'r2');
        await vscode_1.testing.run('infiagent.showRuns');
        await vscode_1.testing.run('infiagent.showRuns', 'r1');
        strict_1.default.deepEqual(vscode_1.testing.state.shownDocuments, [
            path.join(withSummary, 'summary.md'),
            path.join(withoutSummary, 'run.json'),
            path.join(withSummary, 'summary.md'),
        ]);
        strict_1.default.equal(vscode_1.testing.state.quickPickItems.length, 2, 'a run id given skips the pick');
        const offered = vscode_1.testing.state.quickPickItems[0];
        strict_1.default.deepEqual(offered.map((item) => item.runId), ['r2', 'r1']);
    });
    (0, node_test_1.it)('Show Agent Pyramid asks the server for the agents and shows the view', async () => {
        const { client } = await (0, helpers_1.activate)();
        const fake = await client();
        fake.answers['infiagent.agents'] = () => ({ graph: { nodes: [], edges: [] }, problems: [] });
        await vscode_1.testing.run('infiagent.showAgents');
        strict_1.default.deepEqual(fake.runCommands(), [{ command: 'infiagent.agents', arguments: [] }]);
        strict_1.default.deepEqual(vscode_1.testing.state.executedCommands, [{ command: 'infiagent.view.focus', args: [] }]);
    });
});
//# sourceMappingURL=commands.test.js.map