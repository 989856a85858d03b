// `infiagent/runStatus` notifications drive the tree view and the status bar; the
// pyramid is shown by level.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StatusBarItemStub, TreeItem, testing } from './stub/vscode';
import { activate, runStatus } from './helpers';
import { InfiAgentView, ViewElement } from '../src/view';

function view(): InfiAgentView {
  const registered = testing.state.treeViews.get('infiagent.view');
  assert.ok(registered, 'the tree view infiagent.view is registered');
  return registered.treeDataProvider as InfiAgentView;
}

function statusBar(): StatusBarItemStub {
  assert.equal(testing.state.statusBarItems.length, 1);
  return testing.state.statusBarItems[0];
}

async function children(element?: ViewElement): Promise<ViewElement[]> {
  return view().getChildren(element);
}

function item(element: ViewElement): TreeItem {
  return view().getTreeItem(element) as unknown as TreeItem;
}

async function runItems(): Promise<TreeItem[]> {
  const [runs] = await children();
  return (await children(runs)).map(item);
}

describe('runs view and status bar', () => {
  it('start empty: the status bar is hidden, the runs group says how to start', async () => {
    await activate();
    assert.equal(statusBar().visible, false);
    const [runs, pyramid] = (await children()).map(item);
    assert.deepEqual([runs.label, pyramid.label], ['Runs', 'Agent Pyramid']);
    assert.deepEqual(
      (await runItems()).map((entry) => entry.label),
      ['No runs yet: use InfiAgent: Run Task… or a code action.'],
    );
  });

  it('a running status shows the working agent, state and cost', async () => {
    const { client } = await activate();
    const fake = await client();
    let redraws = 0;
    view().onDidChangeTreeData(() => redraws++);
    fake.notify(
      'infiagent/runStatus',
      runStatus({
        runId: 'r1',
        agent: 'project_planner_agent',
        title: 'plan requirement.md',
        stack: ['project_planner_agent(requirement.md) › judge_agent(requirement.md) [step 2]'],
        totals: { prompt_tokens: 1000, completion_tokens: 234, cost_usd: 0.0012, model_calls: 3, tool_calls: 4 },
        message: 'project_planner_agent(requirement.md) › judge_agent(requirement.md) [step 2] · 1234 tokens · $0.0012',
      }),
    );
    assert.equal(redraws, 1);
    assert.equal(statusBar().visible, true);
    assert.equal(statusBar().text, '$(sync~spin) judge_agent running · $0.0012');
    assert.equal(statusBar().command, 'infiagent.showRuns');
    const [entry] = await runItems();
    assert.equal(entry.label, 'plan requirement.md');
    assert.equal(entry.description, 'judge_agent · running · $0.0012');
    assert.equal(entry.contextValue, 'run.running');
    assert.equal(entry.iconPath?.id, 'sync~spin');
    assert.match(String(entry.tooltip), /1234 tokens, 3 model calls, 4 tool calls/);
    assert.deepEqual(entry.command?.arguments, ['r1']);
  });

  it('the end of a run updates its entry; the status bar follows the newest running run', async () => {
    const { client } = await activate();
    const fake = await client();
    fake.notify('infiagent/runStatus', runStatus({ runId: 'r1', agent: 'code_builder_agent', title: 'build numstats.py' }));
    fake.notify('infiagent/runStatus', runStatus({ runId: 'r2', agent: 'judge_agent', title: 'judge broken.py' }));
    assert.match(statusBar().text, /^\$\(sync~spin\) judge_agent running/);
    fake.notify(
      'infiagent/runStatus',
      runStatus({ runId: 'r2', agent: 'judge_agent', title: 'judge broken.py', state: 'failed', message: 'judge_agent ended with an error' }),
    );
    assert.match(statusBar().text, /^\$\(sync~spin\) code_builder_agent running/);
    fake.notify(
      'infiagent/runStatus',
      runStatus({
        runId: 'r1',
        agent: 'code_builder_agent',
        title: 'build numstats.py',
        state: 'succeeded',
        totals: { prompt_tokens: 10, completion_tokens: 5, cost_usd: 0.5, model_calls: 1, tool_calls: 1 },
      }),
    );
    assert.equal(statusBar().text, '$(pass) code_builder_agent succeeded · $0.5000');
    const entries = await runItems();
    assert.deepEqual(
      entries.map((entry) => [entry.label, entry.contextValue, entry.iconPath?.id]),
      [
        ['judge broken.py', 'run.failed', 'error'],
        ['build numstats.py', 'run.succeeded', 'pass'],
      ],
    );
  });

  it("the client's start loads the session's runs from the server", async () => {
    const { client, extension } = await activate();
    const fake = await client();
    assert.deepEqual(fake.sent[0], { command: 'infiagent.runs', arguments: [] });
    assert.deepEqual(extension.runs.all(), []);
  });

  it('the pyramid lists agents by level, highest first, with the problems on top', async () => {
    const { client } = await activate();
    const fake = await client();
    fake.answers['infiagent.agents'] = () => ({
      graph: {
        nodes: [
          { name: 'project_lead_agent', level: 3, description: 'the top', tools: ['project_planner_agent'] },
          { name: 'code_builder_agent', level: 1, description: 'builds', tools: ['file_write', 'judge_agent'] },
          { name: 'judge_agent', level: -1, description: 'judges', tools: ['file_read'] },
          { name: 'project_planner_agent', level: 2, description: 'plans', tools: ['judge_agent'] },
          { name: 'code_editor_agent', level: 1, description: 'edits', tools: [] },
        ],
        edges: [],
      },
      problems: ['agents/x.md:1:1: error: missing name'],
    });
    const [, pyramid] = await children();
    const levels = await children(pyramid);
    assert.deepEqual(
      levels.map((element) => [item(element).label, item(element).description]),
      [
        ['agents/x.md:1:1: error: missing name', undefined],
        ['Level 3', '1 agent'],
        ['Level 2', '1 agent'],
        ['Level 1', '2 agents'],
        ['Judge (level -1)', '1 agent'],
      ],
    );
    const levelOne = await children(levels[3]);
    assert.deepEqual(
      levelOne.map((element) => [item(element).label, item(element).description, item(element).tooltip]),
      [
        ['code_builder_agent', 'file_write, judge_agent', 'builds'],
        ['code_editor_agent', '', 'edits'],
      ],
    );
    assert.deepEqual(
      fake.runCommands().map((sent) => sent.command),
      ['infiagent.agents'],
    );
  });

  it('a pyramid that cannot be loaded says why', async () => {
    const { client } = await activate();
    (await client()).answers['infiagent.agents'] = () => {
      throw new Error('the server stopped');
    };
    const [, pyramid] = await children();
    assert.deepEqual(
      (await children(pyramid)).map((element) => item(element).label),
      ['Cannot load the pyramid: the server stopped'],
    );
  });
});
