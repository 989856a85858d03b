// The packaged extension in a real VS Code workbench (code-server in headless
// Chromium), driven as a user drives it through the steps `infiagent demo --lsp`
// prints: no `infiagent` on the PATH (the package carries the server), the demo's
// scripted model on loopback, screenshots of each state in $WORKBENCH_OUT.
//
// Environment (set by run.sh): VSIX, CODE_SERVER, NODE24_DIR, CHROMIUM, WORKBENCH_OUT.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import puppeteer from 'puppeteer-core';
import { Workbench, sleep, until, waitForFile } from './ui.mjs';

const { VSIX, CODE_SERVER, NODE24_DIR, CHROMIUM, WORKBENCH_OUT } = process.env;
for (const [name, value] of Object.entries({ VSIX, CODE_SERVER, NODE24_DIR, CHROMIUM, WORKBENCH_OUT })) {
  assert.ok(value, `${name} is not set: run workbench/run.sh`);
}

/** No `infiagent` here: the workbench must use the server the package carries. */
const PATH = `${NODE24_DIR}:/usr/bin:/bin`;
const STATUS_ITEM = 'infiagent.infiagent.infiagent.run';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'infiagent-workbench-'));
const dirs = {
  userData: path.join(scratch, 'user-data'),
  extensions: path.join(scratch, 'extensions'),
  chrome: path.join(scratch, 'chrome'),
  workspace: path.join(scratch, 'demo'),
};
const settingsFile = path.join(dirs.userData, 'User', 'settings.json');
const baseSettings = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'update.mode': 'none',
  // The Chat view needs a signed-in Copilot to route any request (see docs/editors.md).
  'chat.disableAIFeatures': true,
};

/** Processes started here, killed with their groups at the end. */
const children = [];
let browser;
/** @type {Workbench} */
let ui;
let server;

function start(command, args, options = {}) {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.push(child);
  return child;
}

/** Resolves with the first line of `child`'s stdout that matches `pattern` (its match). */
function lineMatching(child, pattern, what) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what}: no line matching ${pattern} in 60 s:\n${seen}`)), 60_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      seen += chunk;
      const match = seen.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.on('exit', (code) => reject(new Error(`${what} exited (${code}):\n${seen}`)));
  });
}

/** The user settings the workbench starts with (it does not watch the file: later changes go through its Settings editor). */
function writeSettings(extra = {}) {
  fs.mkdirSync(path.dirname(settingsFile), { recursive: true });
  fs.writeFileSync(settingsFile, JSON.stringify({ ...baseSettings, ...extra }, null, 2));
}

/** The running `infiagent lsp` processes of the installed extension: pid and executable. */
function languageServers() {
  const found = spawnSync('pgrep', ['-a', '-f', 'infiagent lsp'], { encoding: 'utf8' });
  return found.stdout
    .split('\n')
    .filter((line) => / lsp$/.test(line))
    .map((line) => {
      const [pid, executable] = line.split(' ');
      return { pid: Number(pid), executable };
    })
    .filter((found) => found.executable.startsWith(dirs.extensions));
}

/**
 * A model endpoint that takes every request and never answers: a run against it
 * stays busy until it is cancelled. Records each request's model and whether the
 * client went away.
 */
function silentModel() {
  const requests = [];
  const listener = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const entry = { path: request.url, model: JSON.parse(body || '{}').model, closed: false };
      requests.push(entry);
      response.on('close', () => (entry.closed = true));
    });
  });
  return new Promise((resolve) =>
    listener.listen(0, '127.0.0.1', () => resolve({ listener, requests, url: `http://127.0.0.1:${listener.address().port}/v1` })),
  );
}

before(async () => {
  fs.rmSync(WORKBENCH_OUT, { recursive: true, force: true });
  fs.mkdirSync(WORKBENCH_OUT, { recursive: true });
  const env = { ...process.env, PATH, HOME: scratch, XDG_CONFIG_HOME: path.join(scratch, 'config') };

  const installed = spawnSync(
    CODE_SERVER,
    ['--extensions-dir', dirs.extensions, '--user-data-dir', dirs.userData, '--install-extension', VSIX],
    { env, encoding: 'utf8' },
  );
  assert.equal(installed.status, 0, `installing ${VSIX}: ${installed.stdout}${installed.stderr}`);
  const [folder] = fs.readdirSync(dirs.extensions).filter((name) => name.startsWith('infiagent.'));
  const carried = path.join(dirs.extensions, folder, 'server', 'infiagent');
  assert.ok(fs.existsSync(carried), 'the installed extension carries its server');
  assert.notEqual(spawnSync('sh', ['-c', 'command -v infiagent'], { env }).status, 0, 'no infiagent on the PATH');

  // The demo's workspace and scripted model, by the server the package carries.
  const demo = start(carried, ['demo', '--lsp', dirs.workspace], { env });
  await lineMatching(demo, /Serving the model until Ctrl-C\./, 'infiagent demo --lsp');

  writeSettings({ 'infiagent.run.autonomy': 'review' });
  server = start(
    CODE_SERVER,
    [
      '--auth', 'none',
      '--bind-addr', '127.0.0.1:0',
      '--user-data-dir', dirs.userData,
      '--extensions-dir', dirs.extensions,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      dirs.workspace,
    ],
    { env },
  );
  server.stderr.pipe(fs.createWriteStream(path.join(WORKBENCH_OUT, 'code-server.stderr.log')));
  const [, url] = await lineMatching(server, /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+\/)/, 'code-server');

  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: dirs.chrome,
    defaultViewport: { width: 1400, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--window-size=1400,900',
    ],
  });
  const page = await browser.newPage();
  const console = fs.createWriteStream(path.join(WORKBENCH_OUT, 'browser-console.log'));
  page.on('console', (message) => console.write(`${message.type()}: ${message.text()}\n`));
  ui = new Workbench(page, WORKBENCH_OUT);
  await page.goto(`${url}?folder=${encodeURIComponent(dirs.workspace)}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('.monaco-workbench .part.statusbar', { visible: true, timeout: 60_000 });
});

after(async () => {
  await browser?.close().catch(() => undefined);
  for (const child of children) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await sleep(500);
  if (failed) {
    console.log(`kept for a look: ${scratch}`);
  } else {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});

let failed = false;

/** Each step's failure leaves a screenshot of what was on screen; the steps after it are skipped. */
async function step(t, name, body) {
  if (failed) {
    t.skip('an earlier step failed');
    return;
  }
  try {
    await body();
  } catch (error) {
    failed = true;
    const file = await ui.screenshot(`FAILED-${name}`).catch(() => 'no screenshot');
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n(screen: ${file})`, { cause: error });
  }
}

const workspaceFile = (relative) => path.join(dirs.workspace, relative);

test('the workbench loads the packaged extension, which starts the server it carries', async (t) => {
  await step(t, 'activate', async () => {
    await ui.page.waitForSelector('.activitybar .action-item [aria-label^="InfiAgent"]', { visible: true, timeout: 60_000 });
    const servers = await until('the carried infiagent lsp running', () => {
      const running = languageServers();
      return running.length > 0 && running;
    });
    assert.equal(servers.length, 1);
    await ui.screenshot('workbench');
  });
});

test('review autonomy (the initial settings): Plan from the light bulb; the staged designs are shown and accepted', async (t) => {
  await step(t, 'plan-review', async () => {
    await ui.open('requirement.md');
    const actions = await ui.openCodeActions();
    assert.ok(actions.some((title) => title.startsWith('Plan project from this requirement')), actions.join('\n'));
    await ui.pickCodeAction('Plan project from this requirement');
    await ui.page.waitForSelector('.bulk-edit-panel', { visible: true, timeout: 60_000 });
    const staged = await until('three staged design files', async () => {
      const rows = await ui.page.$$eval('.bulk-edit-panel .monaco-list-row', (list) =>
        list.map((row) => row.getAttribute('aria-label') ?? ''),
      );
      const files = rows.filter((row) => /^Creating project_designs\/project_design_\w+\.md/.test(row));
      if (files.length !== 3) {
        throw new Error(`the preview's rows: ${JSON.stringify(rows)}`);
      }
      return files;
    });
    assert.equal(fs.existsSync(workspaceFile('project_designs')), false, 'nothing is written before Apply');
    await ui.screenshot('plan-staged-in-refactor-preview');
    // Changes that need confirmation start unticked: tick each file, then Apply.
    for (const name of staged.map((row) => row.match(/project_designs\/project_design_\w+\.md/)[0])) {
      const box = `.bulk-edit-panel .monaco-list-row[aria-label^="Creating ${name}"] .edit-checkbox`;
      await until(`${name} ticked`, async () => {
        if ((await ui.page.$eval(box, (element) => element.getAttribute('aria-checked'))) === 'true') {
          return true;
        }
        await ui.click(box, `the box of ${name}`);
        return false;
      });
    }
    await ui.click('.bulk-edit-panel .monaco-button ::-p-text(Apply)', 'Apply');
    for (const name of ['summary', 'textstats', 'numstats']) {
      await waitForFile(workspaceFile(`project_designs/project_design_${name}.md`));
    }
    await ui.notified('the plan run to succeed', /^InfiAgent: project_planner_agent succeeded/, 30_000);
    assert.match(await ui.statusText(STATUS_ITEM), /project_planner_agent succeeded · \$\d+\.\d{4}/);
    await ui.screenshot('plan-applied');
    await ui.setSetting('infiagent.run.autonomy', 'auto', settingsFile);
    // From the workbench the change goes to the extension host, then to the server;
    // nothing on screen says when it arrived.
    await sleep(2000);
  });
});

test("Build from the palette: the judge's rejection is an Error on line 4 of numstats.py", async (t) => {
  await step(t, 'build', async () => {
    await ui.clearNotifications();
    await ui.open('project_designs/project_design_numstats.md');
    await ui.command('InfiAgent: Build from Design');
    await ui.notified('the build to end with the judge rejection', /code_builder_agent ended with an error: the judge rejected/);
    assert.equal(await ui.statusLabel('status.problems'), 'Errors: 1');
    await ui.open('numstats.py');
    const problems = await ui.problems();
    assert.equal(problems.length, 2, problems.join('\n'));
    const [, error] = problems;
    assert.match(error, /`mean` must raise `ValueError\("empty list"\)`/);
    assert.match(error, /at line 4 and character 1/);
    await ui.screenshot('judge-error-in-problems');
  });
});

test('the Repair quick fix clears the error, and a success is a code lens, not a problem', async (t) => {
  await step(t, 'repair', async () => {
    await ui.clearNotifications();
    await ui.goToLine(4);
    const actions = await ui.openCodeActions({ keyboard: true });
    assert.equal(actions[0], 'Repair with code_editor_agent, Quick Fix', actions.join('\n'));
    await ui.pickCodeAction('Repair with code_editor_agent');
    const lens = await until('the judged lens', async () =>
      (await ui.codeLenses()).find((text) => text.startsWith('✓ judged: success (code_editor_agent)')),
    );
    assert.match(lens, /checked `numstats\.py` against `project_designs\/project_design_numstats\.md`/);
    await until('no problems', async () => (await ui.statusLabel('status.problems')) === 'No Problems');
    assert.deepEqual(await ui.problems(), []);
    assert.match(fs.readFileSync(workspaceFile('numstats.py'), 'utf8'), /raise ValueError\("empty list"\)/);
    await ui.screenshot('repaired-judged-lens');
  });
});

test('Judge Current File from the palette: the verdict is a lens; Problems stays empty', async (t) => {
  await step(t, 'judge', async () => {
    await ui.clearNotifications();
    await ui.command('InfiAgent: Judge Current File');
    await ui.notified('the judge run to end', /^InfiAgent: judge_agent succeeded/);
    await until("the judge's own lens", async () =>
      (await ui.codeLenses()).some((text) => text.startsWith('✓ judged: success · Verified')),
    );
    assert.equal(await ui.statusLabel('status.problems'), 'No Problems');
    await ui.screenshot('judged-from-palette');
  });
});

test('Plan Project from Requirement from the palette plans again', async (t) => {
  await step(t, 'plan-palette', async () => {
    await ui.clearNotifications();
    await ui.open('requirement.md');
    await ui.command('InfiAgent: Plan Project from Requirement');
    await ui.notified('the second plan to succeed', /^InfiAgent: project_planner_agent succeeded/);
    assert.equal(await ui.statusLabel('status.problems'), 'No Problems');
  });
});

test('Show Runs from the status bar item opens a run record; Show Agent Pyramid fills the view', async (t) => {
  await step(t, 'runs', async () => {
    await ui.click(`[id="${STATUS_ITEM}"] .statusbar-item-label`, 'the status bar item');
    await until('the runs to pick from', async () => (await ui.quickInputRows()).length >= 5);
    const rows = await ui.quickInputRows();
    assert.ok(rows.some((row) => row.includes('plan requirement.md')), rows.join('\n'));
    await ui.screenshot('show-runs');
    await ui.click('.quick-input-list .monaco-list-row[aria-label*="plan requirement.md"]', 'the plan run');
    await until('summary.md opened', () =>
      ui.page.$eval('.tab.active', (tab) => tab.getAttribute('aria-label') ?? '').then((label) => label.startsWith('summary.md')),
    );

    await ui.command('InfiAgent: Show Agent Pyramid');
    const view = '[id="workbench.view.extension.infiagent"]';
    await ui.page.waitForSelector(`${view} .monaco-list-row`, { visible: true });
    const labels = async () => ui.page.$$eval(`${view} .monaco-list-row`, (list) => list.map((row) => row.textContent ?? ''));
    const runs = await until('the runs in the view', async () => {
      const shown = await labels();
      return shown.some((row) => row.includes('judge numstats.py')) && shown;
    });
    assert.ok(runs[0].startsWith('Runs') && runs.some((row) => row.startsWith('Agent Pyramid')), runs.join('\n'));
    for (const run of ['plan requirement.md', 'build numstats.py', 'repair numstats.py:4']) {
      assert.ok(runs.some((row) => row.startsWith(run)), `${run} in\n${runs.join('\n')}`);
    }
    const levels = await until('the pyramid by level', async () => {
      const shown = await labels();
      return shown.some((row) => row.startsWith('Level 3')) && shown;
    });
    for (const row of ['Level 3', 'project_lead_agent', 'Level 1', 'code_builder_agent', 'Judge (level -1)', 'judge_agent']) {
      assert.ok(levels.some((shown) => shown.startsWith(row)), `${row} in\n${levels.join('\n')}`);
    }
    await ui.screenshot('runs-view-and-pyramid');
  });
});

test('a model setting reaches the server without a restart; Run Task… is cancelled from its notification', async (t) => {
  await step(t, 'cancel', async () => {
    await ui.clearNotifications();
    const model = await silentModel();
    try {
      const [before] = languageServers();
      await ui.setSetting('infiagent.model.base_url', model.url, settingsFile);
      await ui.setSetting('infiagent.model.name', 'workbench-silent-model', settingsFile);
      await ui.open('numstats.py');
      await ui.command('InfiAgent: Run Task…');
      await until('the Run Task input box', async () =>
        /InfiAgent: Run Task/.test(await ui.page.$eval('.quick-input-widget .quick-input-title', (title) => title.textContent ?? '')),
      );
      await ui.page.keyboard.type('Explain what numstats.py computes');
      await ui.page.keyboard.press('Enter');
      const request = await until('a request at the model named in the settings', () => model.requests[0], 30_000);
      assert.equal(request.model, 'workbench-silent-model');
      assert.equal(languageServers()[0].pid, before.pid, 'the same server process');
      const cancel = '.notification-toast .monaco-button ::-p-text(Cancel)';
      await ui.page.waitForSelector(cancel, { visible: true });
      assert.ok(
        (await ui.notifications()).some((text) => text.includes('tokens')),
        'the notification shows the run live',
      );
      assert.match(await ui.statusText(STATUS_ITEM), /running/);
      await ui.screenshot('run-task-in-progress');
      await ui.click(cancel, 'Cancel');
      await until('the run cancelled', async () => /cancelled/.test(await ui.statusText(STATUS_ITEM)));
      await until('the model request abandoned', () => model.requests.every((entry) => entry.closed));
      await ui.screenshot('run-task-cancelled');
    } finally {
      model.listener.close();
    }
  });
});
