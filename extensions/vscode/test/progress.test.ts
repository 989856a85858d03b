// Each running run gets a cancellable notification that follows its status and
// closes when it ends; its Cancel button sends `infiagent.cancel`.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressLocation, testing } from './stub/vscode';
import { activate, runStatus } from './helpers';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('run notifications', () => {
  it('follow a run from its start to its end', async () => {
    const { client } = await activate();
    const fake = await client();
    fake.notify('infiagent/runStatus', runStatus({ runId: 'r1', title: 'plan requirement.md', agent: 'project_planner_agent' }));
    fake.notify(
      'infiagent/runStatus',
      runStatus({
        runId: 'r1',
        title: 'plan requirement.md',
        agent: 'project_planner_agent',
        stack: ['project_planner_agent(requirement.md) [step 2]'],
        totals: { prompt_tokens: 1000, completion_tokens: 234, cost_usd: 0.0012, model_calls: 2, tool_calls: 1 },
      }),
    );
    const [shown] = testing.state.progresses;
    assert.equal(testing.state.progresses.length, 1, 'one notification per run');
    assert.deepEqual(shown.options, {
      location: ProgressLocation.Notification,
      title: 'InfiAgent: plan requirement.md',
      cancellable: true,
    });
    assert.deepEqual(shown.messages, [
      'project_planner_agent · 0 tokens · $0.0000',
      'project_planner_agent(requirement.md) [step 2] · 1234 tokens · $0.0012',
    ]);
    fake.notify('infiagent/runStatus', runStatus({ runId: 'r1', state: 'succeeded' }));
    await tick();
    assert.equal(shown.done, true, 'the notification closes when the run ends');
    fake.notify('infiagent/runStatus', runStatus({ runId: 'r2' }));
    assert.equal(testing.state.progresses.length, 2, 'the next run has its own');
  });

  it('cancel the run from the Cancel button', async () => {
    const { client } = await activate();
    const fake = await client();
    fake.notify('infiagent/runStatus', runStatus({ runId: 'r1' }));
    testing.state.progresses[0].cancel();
    await tick();
    assert.deepEqual(fake.runCommands(), [{ command: 'infiagent.cancel', arguments: [{ runId: 'r1' }] }]);
    assert.equal(testing.state.progresses[0].done, false, 'it stays until the server says the run ended');
    fake.notify('infiagent/runStatus', runStatus({ runId: 'r1', state: 'cancelled' }));
    await tick();
    assert.equal(testing.state.progresses[0].done, true);
  });
});
