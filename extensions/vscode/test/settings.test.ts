// Settings become the server's `initializationOptions` and `workspace/configuration`
// answers with its own snake_case keys; the binary comes from `infiagent.path`.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { ConfigurationParams } from 'vscode-languageclient/node';
import { testing } from './stub/vscode';
import { activate } from './helpers';

const modelSettings = {
  'infiagent.path': '/opt/infiagent/bin/infiagent',
  'infiagent.model.base_url': 'http://127.0.0.1:8765/v1',
  'infiagent.model.name': 'scripted',
  'infiagent.model.api_key_env': 'LOCAL_KEY',
  'infiagent.run.autonomy': 'auto',
  'infiagent.run.max_steps': 12,
  'infiagent.run.max_cost_usd': 0.5,
};

type ConfigurationHandler = (
  params: ConfigurationParams,
  token: unknown,
  next: (params: ConfigurationParams, token: unknown) => unknown[],
) => Promise<unknown[]>;

describe('settings', () => {
  it('the settings a user set become initializationOptions, nested with the server keys', async () => {
    const { client } = await activate(modelSettings);
    const fake = await client();
    assert.deepEqual(fake.clientOptions.initializationOptions, {
      model: { base_url: 'http://127.0.0.1:8765/v1', name: 'scripted', api_key_env: 'LOCAL_KEY' },
      run: { autonomy: 'auto', max_steps: 12, max_cost_usd: 0.5 },
    });
  });

  it('defaults are not sent, so .infiagent/config.toml still applies', async () => {
    const { client } = await activate();
    assert.deepEqual((await client()).clientOptions.initializationOptions, {});
  });

  it('a workspace value beats the user value; an empty string unsets', async () => {
    testing.reset();
    const { client } = await activate({ 'infiagent.model.name': 'from-user', 'infiagent.model.base_url': 'http://a/v1' });
    testing.setSetting('infiagent.model.name', 'from-workspace', 'workspace');
    testing.setSetting('infiagent.model.base_url', '', 'workspace');
    const fake = await client();
    const answer = await configuration(fake.clientOptions, [{ section: 'infiagent' }]);
    assert.deepEqual(answer, [{ model: { name: 'from-workspace' } }]);
  });

  it('workspace/configuration answers the infiagent section without extension-only keys', async () => {
    const { client } = await activate(modelSettings);
    testing.setSetting('infiagent.run.jobs', 2);
    const fake = await client();
    const answer = await configuration(fake.clientOptions, [{ section: 'infiagent' }, { section: 'infiagent.model' }, { section: 'editor' }]);
    assert.deepEqual(answer, [
      {
        model: { base_url: 'http://127.0.0.1:8765/v1', name: 'scripted', api_key_env: 'LOCAL_KEY' },
        run: { autonomy: 'auto', max_steps: 12, max_cost_usd: 0.5, jobs: 2 },
      },
      { base_url: 'http://127.0.0.1:8765/v1', name: 'scripted', api_key_env: 'LOCAL_KEY' },
      'passed through: editor',
    ]);
  });

  it('a settings change makes the server pull them (settings: null)', async () => {
    const { client } = await activate(modelSettings);
    const fake = await client();
    assert.deepEqual(fake.clientOptions.synchronize, { configurationSection: 'infiagent' });
    const sent: unknown[] = [];
    const didChange = fake.clientOptions.middleware?.workspace?.didChangeConfiguration;
    assert.ok(didChange);
    await didChange(['infiagent'], (sections) => {
      sent.push(sections);
      return Promise.resolve();
    });
    assert.deepEqual(sent, [undefined]);
  });

  it('starts `infiagent lsp` from the PATH, or infiagent.path', async () => {
    const fromPath = await activate();
    assert.deepEqual((await fromPath.client()).serverOptions, { command: 'infiagent', args: ['lsp'], options: { env: process.env } });
    const configured = await activate(modelSettings);
    const options = (await configured.client()).serverOptions as { command: string };
    assert.equal(options.command, '/opt/infiagent/bin/infiagent');
  });

  it('a platform package starts the server it carries, unless infiagent.path says otherwise', async () => {
    const installed = fs.mkdtempSync(path.join(os.tmpdir(), 'infiagent-extension-'));
    const bundled = path.join(installed, 'server', 'infiagent');
    fs.mkdirSync(path.dirname(bundled));
    fs.writeFileSync(bundled, '#!/bin/sh\n', { mode: 0o755 });
    const carried = await activate({}, installed);
    assert.equal(((await carried.client()).serverOptions as { command: string }).command, bundled);
    const configured = await activate(modelSettings, installed);
    assert.equal(((await configured.client()).serverOptions as { command: string }).command, '/opt/infiagent/bin/infiagent');
    fs.chmodSync(bundled, 0o644);
    const notExecutable = await activate({}, installed);
    assert.equal(((await notExecutable.client()).serverOptions as { command: string }).command, 'infiagent');
  });

  it('changing infiagent.path restarts the server with the new binary; other settings do not', async () => {
    const { clients, client } = await activate();
    const first = await client();
    testing.changeSetting('infiagent.model.name', 'other');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(clients.length, 1);
    testing.changeSetting('infiagent.path', '/usr/local/bin/infiagent');
    await new Promise((resolve) => setImmediate(resolve));
    const second = await client();
    assert.equal(first.stopped, true);
    assert.notEqual(first, second);
    assert.equal(second.started, true);
    assert.equal((second.serverOptions as { command: string }).command, '/usr/local/bin/infiagent');
  });

  it('every setting the extension reads is contributed in package.json', async () => {
    await activate();
    const { SERVER_KEYS } = await import('../src/settings');
    for (const key of [...SERVER_KEYS, 'path']) {
      const inspected = (await import('./stub/vscode')).workspace.getConfiguration('infiagent').inspect(key);
      assert.notEqual(inspected.defaultValue, undefined, `infiagent.${key} has a default in package.json`);
    }
  });
});

async function configuration(
  options: { middleware?: { workspace?: { configuration?: unknown } } },
  items: { section: string }[],
): Promise<unknown[]> {
  const handler = options.middleware?.workspace?.configuration as ConfigurationHandler | undefined;
  assert.ok(handler, 'a workspace/configuration middleware');
  const { workspace } = await import('./stub/vscode');
  // What vscode-languageclient answers by itself: the raw settings of each section.
  const next = (params: ConfigurationParams) =>
    params.items.map((item) =>
      item.section === 'editor' ? 'passed through: editor' : workspace.getConfiguration().get(item.section ?? ''),
    );
  return handler({ items }, undefined, next);
}
