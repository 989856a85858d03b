// The `@infiagent` chat participant: each request starts a run through the
// server's commands, the run's progress streams into the response, and a cancel
// in the chat cancels the run.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as path from 'node:path';
import { Location, Uri, testing } from './stub/vscode';
import { activate, runStatus, writeFile } from './helpers';

/** A response stream that records what the participant says. */
function recordingStream() {
  const said = {
    progress: [] as string[],
    markdown: [] as string[],
    references: [] as unknown[],
    anchors: [] as { value: unknown; title: string }[],
  };
  const stream = {
    progress: (message: string) => said.progress.push(message),
    markdown: (text: string) => said.markdown.push(text),
    reference: (value: unknown) => said.references.push(value),
    anchor: (value: unknown, title: string) => said.anchors.push({ value, title }),
  };
  return { said, stream };
}

/** A cancellation token whose cancel the test triggers. */
function cancellation() {
  let listener: (() => void) | undefined;
  const token = {
    isCancellationRequested: false,
    onCancellationRequested: (callback: () => void) => {
      listener = callback;
      return { dispose: () => (listener = undefined) };
    },
  };
  return { token, cancel: () => listener?.() };
}

type Handler = (request: unknown, context: unknown, stream: unknown, token: unknown) => Promise<{ metadata?: { runId: string } }>;

function participant(): Handler {
  const handler = testing.state.chatParticipants.get('infiagent.chat');
  assert.ok(handler, 'the participant is registered');
  return handler as Handler;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('chat participant', () => {
  it('/plan on a #file reference starts infiagent.plan and streams the run to its end', async () => {
    const { client, workspace } = await activate();
    const fake = await client();
    fake.answers['infiagent.plan'] = () => ({ runId: 'r1' });
    const requirement = writeFile(workspace, 'requirement.md', '# A tool\n');
    const { said, stream } = recordingStream();
    const answered = participant()(
      { command: 'plan', prompt: '', references: [{ id: 'file', value: Uri.file(requirement) }] },
      {},
      stream,
      cancellation().token,
    );
    await tick();
    fake.notify('infiagent/runStatus', runStatus({ runId: 'r1', message: 'project_planner_agent(requirement.md) [step 1]' }));
    fake.notify(
      'infiagent/runStatus',
      runStatus({ runId: 'r1', state: 'succeeded', message: 'project_planner_agent succeeded', summary: '/w/summary.md' }),
    );
    const result = await answered;
    assert.deepEqual(fake.runCommands(), [{ command: 'infiagent.plan', arguments: [{ uri: Uri.file(requirement).toString() }] }]);
    assert.deepEqual(said.progress, ['Started run r1', 'project_planner_agent(requirement.md) [step 1]']);
    assert.deepEqual(said.markdown, ['\n**succeeded** · project_planner_agent succeeded\n']);
    assert.equal((said.references[0] as Uri).fsPath, '/w/summary.md');
    assert.deepEqual(result.metadata, { runId: 'r1' });
  });

  it('free text is routed like infiagent.run, and a cancel in the chat cancels the run', async () => {
    const { client } = await activate();
    const fake = await client();
    fake.answers['infiagent.run'] = () => ({ runId: 'r2' });
    const { said, stream } = recordingStream();
    const { token, cancel } = cancellation();
    const answered = participant()({ prompt: 'add a --verbose flag to main.py', references: [] }, {}, stream, token);
    await tick();
    cancel();
    await tick();
    fake.notify('infiagent/runStatus', runStatus({ runId: 'r2', state: 'cancelled', message: 'cancelled · 0 tokens' }));
    await answered;
    assert.deepEqual(fake.runCommands(), [
      { command: 'infiagent.run', arguments: [{ task: 'add a --verbose flag to main.py' }] },
      { command: 'infiagent.cancel', arguments: [{ runId: 'r2' }] },
    ]);
    assert.deepEqual(said.markdown, ['\n**cancelled** · cancelled · 0 tokens\n']);
  });

  it('tells the agents called, the tool calls and the verdicts with their lines, and ends with the files changed', async () => {
    const { client, workspace } = await activate();
    const fake = await client();
    const script = path.join(workspace, 'numstats.py');
    fake.answers['infiagent.build'] = () => {
      // A note the server sends before its answer to the command.
      fake.notify('infiagent/runEvent', {
        runId: 'r3',
        kind: 'tool',
        label: 'code_builder_agent(numstats.py)',
        text: 'file_write numstats.py',
        files: [{ path: script }],
      });
      return { runId: 'r3' };
    };
    const design = writeFile(workspace, 'project_designs/project_design_numstats.md', '# Design\n');
    testing.openEditor(design);
    const { said, stream } = recordingStream();
    const answered = participant()({ command: 'build', prompt: '', references: [] }, {}, stream, cancellation().token);
    await tick();
    fake.notify('infiagent/runEvent', {
      runId: 'r3',
      kind: 'agent',
      label: 'judge_agent(numstats.py)',
      text: 'Check numstats.py against its design',
    });
    fake.notify('infiagent/runEvent', {
      runId: 'r3',
      kind: 'verdict',
      label: 'code_builder_agent',
      text: '`mean` must raise ValueError',
      status: 'error',
      files: [{ path: script, line: 4 }],
    });
    fake.notify('infiagent/runEvent', { runId: 'other', kind: 'agent', label: 'elsewhere', text: 'not this run' });
    fake.notify('infiagent/runStatus', runStatus({ runId: 'r3', state: 'failed', message: 'the judge rejected the output' }));
    await answered;
    assert.deepEqual(said.markdown, [
      '- code_builder_agent(numstats.py): `file_write numstats.py`\n',
      '- **judge_agent(numstats.py)** called: Check numstats.py against its design\n',
      '- ✗ judge on **code_builder_agent**: error · `mean` must raise ValueError ',
      '\n',
      '\n**failed** · the judge rejected the output\n',
      '\nFiles changed:\n',
    ]);
    const [anchor] = said.anchors;
    assert.equal(anchor.title, 'numstats.py:4');
    const location = anchor.value as Location;
    assert.deepEqual([location.uri.fsPath, location.range.start.line], [script, 3]);
    assert.deepEqual(
      said.references.map((reference) => (reference as Uri).fsPath),
      [script],
    );
  });

  it('/build with no file open says what it needs and starts nothing', async () => {
    const { client } = await activate();
    const { said, stream } = recordingStream();
    await participant()({ command: 'build', prompt: '', references: [] }, {}, stream, cancellation().token);
    assert.deepEqual((await client()).runCommands(), []);
    assert.match(said.markdown[0], /`\/build` works on a file/);
  });
});
