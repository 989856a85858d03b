// Drives a VS Code workbench in a browser page the way a user does: keys, the
// palette, Quick Open, the light bulb, the Problems panel, notifications.

import * as fs from 'node:fs';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check()` returns a truthy value and returns it; says `what` on timeout. */
export async function until(what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) {
        return value;
      }
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    }
    await sleep(200);
  }
}

export class Workbench {
  /** @param {import('puppeteer-core').Page} page */
  constructor(page, screenshots) {
    this.page = page;
    this.screenshots = screenshots;
    this.shot = 0;
  }

  /** Presses a chord such as `Control+Shift+KeyM`. */
  async press(chord) {
    const keys = chord.split('+');
    const last = keys.pop();
    for (const key of keys) {
      await this.page.keyboard.down(key);
    }
    await this.page.keyboard.press(last);
    for (const key of keys.reverse()) {
      await this.page.keyboard.up(key);
    }
  }

  /**
   * Clicks the element `selector` finds. The workbench draws lists and widgets
   * again as they settle: a click on an element that went away is tried again on
   * the one that replaced it (it fails before clicking, so nothing is clicked twice).
   */
  async click(selector, what = selector) {
    await until(`a click on ${what}`, async () => {
      const element = await this.page.waitForSelector(selector, { visible: true, timeout: 5_000 });
      await element.click();
      return true;
    });
  }

  /** Writes `NN-name.png` in the screenshots folder. */
  async screenshot(name) {
    this.shot += 1;
    const file = `${this.screenshots}/${String(this.shot).padStart(2, '0')}-${name}.png`;
    await this.page.screenshot({ path: file });
    return file;
  }

  /** The rows the open quick input offers (their accessible labels). */
  async quickInputRows() {
    return this.page.$$eval('.quick-input-widget .quick-input-list .monaco-list-row', (rows) =>
      rows.map((row) => row.getAttribute('aria-label') ?? ''),
    );
  }

  /** Opens a quick input with `chord`, makes its text `text`, waits for a row starting with `row`, and accepts it. */
  async quickInput(chord, text, row) {
    const box = '.quick-input-widget .quick-input-box input';
    // A chord pressed while the workbench moves the focus (a closing editor or
    // widget) can be lost: press it again until the quick input shows.
    await until(`the quick input of ${chord}`, async () => {
      await this.press(chord);
      return this.page.waitForSelector(box, { visible: true, timeout: 2_000 }).then(
        () => true,
        () => false,
      );
    });
    await until(`"${text}" typed into the quick input`, async () => {
      await this.page.focus(box);
      await this.press('Control+KeyA');
      await this.page.keyboard.type(text);
      return (await this.page.$eval(box, (input) => input.value)) === text;
    });
    await until(`"${row}" in the quick input for "${text}"`, async () =>
      (await this.quickInputRows()).some((label) => label.startsWith(row)),
    );
    // The first row is the one the typed text matches best; pick the wanted one.
    await this.click(`.quick-input-widget .quick-input-list .monaco-list-row[aria-label^=${JSON.stringify(row)}]`, row);
  }

  /** Runs a palette command by its full title, e.g. `InfiAgent: Show Runs`. */
  async command(title) {
    await this.quickInput('F1', `>${title}`, title);
  }

  /** Opens a workspace file with Quick Open, and waits for its tab. */
  async open(relative) {
    const name = relative.split('/').at(-1);
    await this.quickInput('Control+KeyP', relative, name);
    await until(`the editor of ${relative}`, () =>
      this.page.$eval('.tab.active', (tab) => tab.getAttribute('aria-label') ?? '').then((label) => label.startsWith(name)),
    );
    await this.page.waitForSelector('.editor-instance .monaco-editor .view-lines', { visible: true });
  }

  /** Puts the cursor on `line` (1-based) of the active editor. */
  async goToLine(line) {
    await this.press('Control+KeyG');
    const input = await this.page.waitForSelector('.quick-input-widget .quick-input-box input', { visible: true });
    await input.type(String(line));
    await this.page.keyboard.press('Enter');
    await until(`the cursor on line ${line}`, async () =>
      (await this.statusText('status.editor.selection')).startsWith(`Ln ${line},`),
    );
  }

  /** The code actions' menu, opened from the light bulb (or Ctrl+. when `keyboard`): the titles. */
  async openCodeActions({ keyboard = false } = {}) {
    if (keyboard) {
      await this.press('Control+Period');
    } else {
      await this.click('.lightBulbWidget', 'the light bulb');
    }
    await this.page.waitForSelector('.action-widget .monaco-list-row.action', { visible: true });
    return this.page.$$eval('.action-widget .monaco-list-row.action', (rows) =>
      rows.map((row) => row.getAttribute('aria-label') ?? ''),
    );
  }

  /** Picks the open code actions' entry whose title starts with `title`. */
  async pickCodeAction(title) {
    await this.click(`.action-widget .monaco-list-row.action[aria-label^=${JSON.stringify(title)}]`, title);
  }

  /** The text of the status bar entry `id` (e.g. `status.problems`), '' when it is not there. */
  async statusText(id) {
    const item = await this.page.$(`[id=${JSON.stringify(id)}]`);
    return item ? ((await item.evaluate((element) => element.textContent ?? '')) || '').trim() : '';
  }

  /** The accessible label of the status bar entry `id`. */
  async statusLabel(id) {
    const item = await this.page.$(`[id=${JSON.stringify(id)}]`);
    return item ? await item.evaluate((element) => element.getAttribute('aria-label') ?? '') : '';
  }

  /** The messages of the notifications on screen. */
  async notifications() {
    return this.page.$$eval('.notification-toast .notification-list-item-message', (messages) =>
      messages.map((message) => message.textContent ?? ''),
    );
  }

  /** Waits for a notification whose message matches `pattern` (the run's end, say). */
  async notified(what, pattern, timeoutMs = 60_000) {
    await until(what, async () => (await this.notifications()).some((text) => pattern.test(text)), timeoutMs);
  }

  /** Closes every notification on screen. */
  async clearNotifications() {
    await this.command('Notifications: Clear All Notifications');
    await until('no notification', async () => (await this.notifications()).length === 0);
  }

  /** The code lenses of the active editor. */
  async codeLenses() {
    return this.page.$$eval('.editor-instance .codelens-decoration', (lenses) => lenses.map((lens) => lens.textContent ?? ''));
  }

  /** The Problems panel's entries (opened with Ctrl+Shift+M). */
  async problems() {
    await this.press('Control+Shift+KeyM');
    await this.page.waitForSelector('.markers-panel', { visible: true });
    return this.page.$$eval('.markers-panel .monaco-list-row', (rows) => rows.map((row) => row.getAttribute('aria-label') ?? ''));
  }

  /**
   * Sets a user setting in the Settings editor, as a user does: a choice from its
   * drop-down, or text typed into its box. Resolves once the workbench has saved it
   * to `settingsFile`; the Settings editor is closed again.
   */
  async setSetting(key, value, settingsFile) {
    await this.command('Preferences: Open User Settings');
    // The search box takes the focus as the editor opens: type once it holds what was typed.
    await until(`the settings search for ${key}`, async () => {
      const search = await this.page.waitForSelector('.settings-editor .search-container .monaco-editor', { visible: true });
      await search.click();
      await this.press('Control+KeyA');
      await this.page.keyboard.type(key);
      await sleep(300);
      const typed = await search.evaluate((editor) => editor.querySelector('.view-lines')?.textContent ?? '');
      return typed.replace(/\u00a0/g, ' ') === key;
    });
    const item = `.settings-editor .setting-item-contents[data-key=${JSON.stringify(key)}]`;
    await this.page.waitForSelector(item, { visible: true });
    if (await this.page.$(`${item} select`)) {
      await this.click(`${item} select`, `the drop-down of ${key}`);
      await this.click(
        `.monaco-select-box-dropdown-container .monaco-list-row[aria-label^=${JSON.stringify(`${value}.`)}]`,
        `${value} in the drop-down`,
      );
    } else {
      await this.click(`${item} input`, `the box of ${key}`);
      await this.press('Control+KeyA');
      await this.page.keyboard.type(value);
      await this.page.keyboard.press('Enter');
    }
    await until(`${key} saved by the workbench`, () => JSON.parse(fs.readFileSync(settingsFile, 'utf8'))[key] === value);
    await until('the Settings editor closed', async () => {
      if (!(await this.page.$('.settings-editor'))) {
        return true;
      }
      await this.page.keyboard.press('Escape');
      return false;
    });
  }
}

/** Waits for `file` to exist with content. */
export function waitForFile(file, timeoutMs = 60_000) {
  return until(`${file} to be written`, () => fs.existsSync(file) && fs.statSync(file).size > 0, timeoutMs);
}
