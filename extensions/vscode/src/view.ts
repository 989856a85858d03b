// The "InfiAgent" tree view: the session's runs, and the agent pyramid by level.

import * as vscode from 'vscode';
import { RunStatus, RunStore, activeAgent, formatCost, stateIcon, totalTokens } from './runs';

/** One agent of `infiagent.agents`. */
export interface AgentNode {
  name: string;
  level: number;
  description: string;
  tools: string[];
}

/** The answer of `infiagent.agents`. */
export interface AgentsResponse {
  graph: { nodes: AgentNode[]; edges: { from: string; to: string }[] };
  problems: string[];
}

/** An element of the tree. */
export type ViewElement =
  | { kind: 'runs' }
  | { kind: 'run'; status: RunStatus }
  | { kind: 'pyramid' }
  | { kind: 'level'; level: number; agents: AgentNode[] }
  | { kind: 'agent'; agent: AgentNode }
  | { kind: 'problem'; text: string }
  | { kind: 'message'; text: string };

/** The tree: "Runs" (newest first) and "Agent Pyramid" (highest level first). */
export class InfiAgentView implements vscode.TreeDataProvider<ViewElement>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ViewElement | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private pyramid: AgentsResponse | { error: string } | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly runs: RunStore,
    private readonly loadPyramid: () => Promise<AgentsResponse>,
  ) {
    this.subscription = runs.onDidChange(() => this.changed.fire(undefined));
  }

  /** Loads the pyramid again and redraws. */
  async refreshPyramid(): Promise<void> {
    try {
      this.pyramid = await this.loadPyramid();
    } catch (error) {
      this.pyramid = { error: error instanceof Error ? error.message : String(error) };
    }
    this.changed.fire(undefined);
  }

  getChildren(element?: ViewElement): ViewElement[] | Promise<ViewElement[]> {
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

  getTreeItem(element: ViewElement): vscode.TreeItem {
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

  private async pyramidChildren(): Promise<ViewElement[]> {
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
    const byLevel = new Map<number, AgentNode[]>();
    for (const agent of pyramid.graph.nodes) {
      byLevel.set(agent.level, [...(byLevel.get(agent.level) ?? []), agent]);
    }
    const levels: ViewElement[] = [...byLevel.entries()]
      .sort(([left], [right]) => right - left)
      .map(([level, agents]) => ({ kind: 'level', level, agents }));
    const problems: ViewElement[] = pyramid.problems.map((text) => ({ kind: 'problem', text }));
    return [...problems, ...levels];
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

/** "Level 3", or for the judge's level -1 "Judge (level -1)". */
export function levelLabel(level: number): string {
  return level < 1 ? `Judge (level ${level})` : `Level ${level}`;
}

function group(label: string, icon: string): vscode.TreeItem {
  const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Expanded);
  item.iconPath = new vscode.ThemeIcon(icon);
  return item;
}

function runItem(status: RunStatus): vscode.TreeItem {
  const item = new vscode.TreeItem(status.title || status.agent, vscode.TreeItemCollapsibleState.None);
  const who = status.state === 'running' ? activeAgent(status) : status.agent;
  item.description = `${who} · ${status.state} · ${formatCost(status.totals.cost_usd)}`;
  item.tooltip = [
    `${status.runId} (${status.startedAt})`,
    status.message,
    `${totalTokens(status.totals)} tokens, ${status.totals.model_calls} model calls, ${status.totals.tool_calls} tool calls`,
  ]
    .filter((line) => line !== '')
    .join('\n');
  item.iconPath = new vscode.ThemeIcon(stateIcon(status.state));
  item.contextValue = `run.${status.state}`;
  item.id = status.runId;
  item.command = { command: 'infiagent.showRuns', title: 'Open Run', arguments: [status.runId] };
  return item;
}
