// Each palette command sends the right server command with the right argument.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Uri, testing } from './stub/vscode';
import { activate, runStatus, writeFile } from './helpers';

const contributed = (
  JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
    contributes: { commands: { command: string; title: string }[] };
  }
).contributes.commands;

describe('palette commands', () => {
  it('registers exactly the contributed commands, none clashing with the server commands', async () => {
    await activate();
    const registered = [...testing.state.commands.keys()].sort();
    assert.deepEqual(registered, contributed.map((command) => command.command).sort());
    const serverCommands = [
      'infiagent.run',
      'infiagent.plan',
      'infiagent.build',
      'infiagent.judge',
      'infiagent.cancel',
      'infiagent.runs',
      'infiagent.agents',
      'infiagent.evolve',
      'infiagent.generatePyramid',
      'infiagent.undo',
      'infiagent.resume',
    ];
    assert.deepEqual(registered.filter((command) => serverCommands.includes(command)), []);
    assert.deepEqual(
      contributed.map((command) => command.title),
      [
        'Run Task…',
        'Plan Project from Requirement',
        'Build from Design',
        'Judge Current File',
        'Cancel Run',
        'Show Runs',
        'Show Agent Pyramid',
        'Evolve the Pyramid (Propose Changes)',
        'Resume Run',
        'Undo Last Run',
      ],
    );
  });

  it('Resume Run offers the runs that stopped before their end and resumes the one picked', async () => {
    const { client } = await activate();
    const fake = await client();
    fake.answers['infiagent.runs'] = () => ({
      runs: [
        runStatus({ runId: 'a', title: 'plan requirement.md', state: 'succeeded' }),
        runStatus({ runId: 'b', title: 'build clean.py', state: 'cancelled', resumable: true }),
        runStatus({ runId: 'c', title: 'judge slow.py' }),
      ],
    });
    await testing.run('infiagent.resumeRun');
    const offered = testing.state.quickPickItems[0] as { runId: string }[];
    assert.deepEqual(
      offered.map((item) => item.runId),
      ['b'],
    );
    assert.deepEqual(fake.runCommands(), [{ command: 'infiagent.resume', arguments: [{ runId: 'b' }] }]);
  });

  it('Undo Last Run asks the server to undo the last run', async () => {
    const { client } = await activate();
    await testing.run('infiagent.undoRun');
    assert.deepEqual((await client()).runCommands(), [{ command: 'infiagent.undo', arguments: [{}] }]);
  });

  it('Evolve the Pyramid asks the server for a proposal to review', async () => {
    const { client } = await activate();
    await testing.run('infiagent.evolvePyramid');
    assert.deepEqual((await client()).runCommands(), [{ command: 'infiagent.evolve', arguments: [{ review: true }] }]);
  });

  it('Run Task… sends the typed task alone when no file is open', async () => {
    const { client } = await activate();
    testing.state.inputBoxAnswers.push('Add a --verbose flag to main.py');
    await testing.run('infiagent.runTask');
    assert.deepEqual((await client()).runCommands(), [
      { command: 'infiagent.run', arguments: [{ task: 'Add a --verbose flag to main.py' }] },
    ]);
  });

  it('Run Task… adds the active file and its selection', async () => {
    const { client, workspace } = await activate();
    const file = writeFile(workspace, 'main.py', 'print(1)\nprint(2)\n');
    testing.openEditor(file, [0, 2, 1, 5]);
    testing.state.inputBoxAnswers.push('Explain this');
    await testing.run('infiagent.runTask');
    assert.deepEqual((await client()).runCommands(), [
      {
        command: 'infiagent.run',
        arguments: [
          {
            task: 'Explain this',
            uri: Uri.file(file).toString(),
            range: { start: { line: 0, character: 2 }, end: { line: 1, character: 5 } },
          },
        ],
      },
    ]);
  });

  it('Run Task… with an empty answer makes the selection the task', async () => {
    const { client, workspace } = await activate();
    const file = writeFile(workspace, 'notes.md', 'Write a CSV parser\n');
    testing.openEditor(file, [0, 0, 0, 18]);
    testing.state.inputBoxAnswers.push('');
    await testing.run('infiagent.runTask');
    const [sent] = (await client()).runCommands();
    assert.deepEqual(sent.arguments, [
      { uri: Uri.file(file).toString(), range: { start: { line: 0, character: 0 }, end: { line: 0, character: 18 } } },
    ]);
    assert.match(String(testing.state.inputBoxOptions[0].prompt), /selected text is the task/);
  });

  it('Run Task… leaves out a file outside the workspace', async () => {
    const { client } = await activate();
    testing.openEditor('/elsewhere/main.py', [0, 0, 0, 3]);
    testing.state.inputBoxAnswers.push('Do it');
    await testing.run('infiagent.runTask');
    assert.deepEqual((await client()).runCommands(), [{ command: 'infiagent.run', arguments: [{ task: 'Do it' }] }]);
  });

  it('Run Task… sends nothing when the input is dismissed or empty without a selection', async () => {
    const { client } = await activate();
    testing.state.inputBoxAnswers.push(undefined, '  ');
    await testing.run('infiagent.runTask');
    await testing.run('infiagent.runTask');
    assert.deepEqual((await client()).runCommands(), []);
    assert.deepEqual(testing.state.messages, [
      { level: 'warning', text: 'InfiAgent: type a task, or select the text that describes it.' },
    ]);
  });

  it('Plan, Build and Judge send the active file', async () => {
    const { client, workspace } = await activate();
    const requirement = writeFile(workspace, 'requirement.md', '# Stats\n');
    const design = writeFile(workspace, 'project_designs/project_design_numstats.md');
    const script = writeFile(workspace, 'broken.py');
    testing.openEditor(requirement);
    await testing.run('infiagent.planProject');
    testing.openEditor(design);
    await testing.run('infiagent.buildDesign');
    testing.openEditor(script);
    await testing.run('infiagent.judgeFile');
    assert.deepEqual((await client()).runCommands(), [
      { command: 'infiagent.plan', arguments: [{ uri: Uri.file(requirement).toString() }] },
      { command: 'infiagent.build', arguments: [{ uri: Uri.file(design).toString() }] },
      { command: 'infiagent.judge', arguments: [{ uri: Uri.file(script).toString() }] },
    ]);
  });

  it('Plan sends the selection as the range; a file from the explorer wins over the editor', async () => {
    const { client, workspace } = await activate();
    const requirement = writeFile(workspace, 'requirement.md', '# A\n## B\n');
    const other = writeFile(workspace, 'other.py');
    testing.openEditor(requirement, [1, 0, 2, 0]);
    await testing.run('infiagent.planProject');
    await testing.run('infiagent.judgeFile', Uri.file(other));
    assert.deepEqual((await client()).runCommands(), [
      {
        command: 'infiagent.plan',
        arguments: [{ uri: Uri.file(requirement).toString(), range: { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } } }],
      },
      { command: 'infiagent.judge', arguments: [{ uri: Uri.file(other).toString() }] },
    ]);
  });

  it('Plan, Build and Judge with no file open say so and send nothing', async () => {
    const { client } = await activate();
    for (const command of ['infiagent.planProject', 'infiagent.buildDesign', 'infiagent.judgeFile']) {
      await testing.run(command);
    }
    assert.deepEqual((await client()).runCommands(), []);
    assert.deepEqual(
      testing.state.messages.map((message) => message.text),
      [
        'InfiAgent: open a requirement (Markdown) first.',
        'InfiAgent: open a design file (project_designs/project_design_<script>.md) first.',
        'InfiAgent: open the file to judge first.',
      ],
    );
  });

  it("shows the server's error when it refuses a command", async () => {
    const { client, workspace } = await activate();
    (await client()).answers['infiagent.build'] = () => {
      throw new Error('notes.md is not a design file: infiagent.build takes project_designs/project_design_<script>.md');
    };
    testing.openEditor(writeFile(workspace, 'notes.md'));
    await testing.run('infiagent.buildDesign');
    assert.deepEqual(testing.state.messages, [
      {
        level: 'error',
        text: 'InfiAgent: notes.md is not a design file: infiagent.build takes project_designs/project_design_<script>.md',
      },
    ]);
  });

  it('Cancel Run offers the running runs, newest first, and cancels the one picked', async () => {
    const { client } = await activate();
    const fake = await client();
    fake.answers['infiagent.runs'] = () => ({
      runs: [
        runStatus({ runId: 'a', title: 'plan requirement.md', state: 'succeeded' }),
        runStatus({ runId: 'b', title: 'judge slow.py' }),
        runStatus({ runId: 'c', title: 'build numstats.py' }),
      ],
    });
    testing.state.quickPick = (items) => items[1];
    await testing.run('infiagent.cancelRun');
    const offered = testing.state.quickPickItems[0] as { label: string; runId: string }[];
    assert.deepEqual(
      offered.map((item) => [item.runId, item.label]),
      [
        ['c', '$(sync~spin) build numstats.py'],
        ['b', '$(sync~spin) judge slow.py'],
      ],
    );
    assert.deepEqual(fake.runCommands(), [{ command: 'infiagent.cancel', arguments: [{ runId: 'b' }] }]);
  });

  it('Cancel Run from the tree cancels that run; with none running it says so', async () => {
    const { client, extension } = await activate();
    const fake = await client();
    const status = runStatus({ runId: 'r1' });
    await testing.run('infiagent.cancelRun', { kind: 'run', status });
    await testing.run('infiagent.cancelRun');
    testing.state.quickPick = () => undefined;
    fake.answers['infiagent.runs'] = () => ({ runs: [status] });
    await testing.run('infiagent.cancelRun');
    assert.deepEqual(fake.runCommands(), [{ command: 'infiagent.cancel', arguments: [{ runId: 'r1' }] }]);
    assert.deepEqual(testing.state.messages, [{ level: 'information', text: 'InfiAgent: no run is running.' }]);
    assert.deepEqual(
      extension.runs.all().map((run) => run.runId),
      ['r1'],
    );
  });

  it("Show Runs opens the picked run's summary.md, else its run.json", async () => {
    const { client, workspace } = await activate();
    const fake = await client();
    const withSummary = path.join(workspace, '.infiagent/runs/r1');
    const withoutSummary = path.join(workspace, '.infiagent/runs/r2');
    writeFile(withSummary, 'run.json', '{}');
    writeFile(withSummary, 'summary.md', '# Run');
    writeFile(withoutSummary, 'run.json', '{}');
    fake.answers['infiagent.runs'] = () => ({
      runs: [
        runStatus({ runId: 'r1', state: 'succeeded', record: withSummary }),
        runStatus({ runId: 'r2', state: 'failed', record: withoutSummary }),
      ],
    });
    testing.state.quickPick = (items) => (items as { runId: string }[]).find((item) => item.runId === 'r1');
    await testing.run('infiagent.showRuns');
    testing.state.quickPick = (items) => (items as { runId: string }[]).find((item) => item.runId === 'r2');
    await testing.run('infiagent.showRuns');
    await testing.run('infiagent.showRuns', 'r1');
    assert.deepEqual(testing.state.shownDocuments, [
      path.join(withSummary, 'summary.md'),
      path.join(withoutSummary, 'run.json'),
      path.join(withSummary, 'summary.md'),
    ]);
    assert.equal(testing.state.quickPickItems.length, 2, 'a run id given skips the pick');
    const offered = testing.state.quickPickItems[0] as { runId: string }[];
    assert.deepEqual(
      offered.map((item) => item.runId),
      ['r2', 'r1'],
    );
  });

  it('Show Agent Pyramid asks the server for the agents and shows the view', async () => {
    const { client } = await activate();
    const fake = await client();
    fake.answers['infiagent.agents'] = () => ({ graph: { nodes: [], edges: [] }, problems: [] });
    await testing.run('infiagent.showAgents');
    assert.deepEqual(fake.runCommands(), [{ command: 'infiagent.agents', arguments: [] }]);
    assert.deepEqual(testing.state.executedCommands, [{ command: 'infiagent.view.focus', args: [] }]);
  });
});
