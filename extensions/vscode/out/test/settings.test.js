"use strict";
// Settings become the server's `initializationOptions` and `workspace/configuration`
// answers with its own snake_case keys; the binary comes from `infiagent.path`.
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
const node_test_1 = require("node:test");
const vscode_1 = require("./stub/vscode");
const helpers_1 = require("./helpers");
const modelSettings = {
    'infiagent.path': '/opt/infiagent/bin/infiagent',
    'infiagent.model.base_url': 'http://127.0.0.1:8765/v1',
    'infiagent.model.name': 'scripted',
    'infiagent.model.api_key_env': 'LOCAL_KEY',
    'infiagent.run.autonomy': 'auto',
    'infiagent.run.max_steps': 12,
    'infiagent.run.max_cost_usd': 0.5,
};
(0, node_test_1.describe)('settings', () => {
    (0, node_test_1.it)('the settings a user set become initializationOptions, nested with the server keys', async () => {
        const { client } = await (0, helpers_1.activate)(modelSettings);
        const fake = await client();
        strict_1.default.deepEqual(fake.clientOptions.initializationOptions, {
            model: { base_url: 'http://127.0.0.1:8765/v1', name: 'scripted', api_key_env: 'LOCAL_KEY' },
            run: { autonomy: 'auto', max_steps: 12, max_cost_usd: 0.5 },
        });
    });
    (0, node_test_1.it)('defaults are not sent, so .infiagent/config.toml still applies', async () => {
        const { client } = await (0, helpers_1.activate)();
        strict_1.default.deepEqual((await client()).clientOptions.initializationOptions, {});
    });
    (0, node_test_1.it)('a workspace value beats the user value; an empty string unsets', async () => {
        vscode_1.testing.reset();
        const { client } = await (0, helpers_1.activate)({ 'infiagent.model.name': 'from-user', 'infiagent.model.base_url': 'http://a/v1' });
        vscode_1.testing.setSetting('infiagent.model.name', 'from-workspace', 'workspace');
        vscode_1.testing.setSetting('infiagent.model.base_url', '', 'workspace');
        const fake = await client();
        const answer = await configuration(fake.clientOptions, [{ section: 'infiagent' }]);
        strict_1.default.deepEqual(answer, [{ model: { name: 'from-workspace' } }]);
    });
    (0, node_test_1.it)('workspace/configuration answers the infiagent section without extension-only keys', async () => {
        const { client } = await (0, helpers_1.activate)(modelSettings);
        vscode_1.testing.setSetting('infiagent.run.jobs', 2);
        const fake = await client();
        const answer = await configuration(fake.clientOptions, [{ section: 'infiagent' }, { section: 'infiagent.model' }, { section: 'editor' }]);
        strict_1.default.deepEqual(answer, [
            {
                model: { base_url: 'http://127.0.0.1:8765/v1', name: 'scripted', api_key_env: 'LOCAL_KEY' },
                run: { autonomy: 'auto', max_steps: 12, max_cost_usd: 0.5, jobs: 2 },
            },
            { base_url: 'http://127.0.0.1:8765/v1', name: 'scripted', api_key_env: 'LOCAL_KEY' },
            'passed through: editor',
        ]);
    });
    (0, node_test_1.it)('a settings change makes the server pull them (settings: null)', async () => {
        const { client } = await (0, helpers_1.activate)(modelSettings);
        const fake = await client();
        strict_1.default.deepEqual(fake.clientOptions.synchronize, { configurationSection: 'infiagent' });
        const sent = [];
        const didChange = fake.clientOptions.middleware?.workspace?.didChangeConfiguration;
        strict_1.default.ok(didChange);
        await didChange(['infiagent'], (sections) => {
            sent.push(sections);
            return Promise.resolve();
        });
        strict_1.default.deepEqual(sent, [undefined]);
    });
    (0, node_test_1.it)('starts `infiagent lsp` from the PATH, or infiagent.path', async () => {
        const fromPath = await (0, helpers_1.activate)();
        strict_1.default.deepEqual((await fromPath.client()).serverOptions, { command: 'infiagent', args: ['lsp'], options: { env: process.env } });
        const configured = await (0, helpers_1.activate)(modelSettings);
        const options = (await configured.client()).serverOptions;
        strict_1.default.equal(options.command, '/opt/infiagent/bin/infiagent');
    });
    (0, node_test_1.it)('changing infiagent.path restarts the server with the new binary; other settings do not', async () => {
        const { clients, client } = await (0, helpers_1.activate)();
        const first = await client();
        vscode_1.testing.changeSetting('infiagent.model.name', 'other');
        await new Promise((resolve) => setImmediate(resolve));
        strict_1.default.equal(clients.length, 1);
        vscode_1.testing.changeSetting('infiagent.path', '/usr/local/bin/infiagent');
        await new Promise((resolve) => setImmediate(resolve));
        const second = await client();
        strict_1.default.equal(first.stopped, true);
        strict_1.default.notEqual(first, second);
        strict_1.default.equal(second.started, true);
        strict_1.default.equal(second.serverOptions.command, '/usr/local/bin/infiagent');
    });
    (0, node_test_1.it)('every setting the extension reads is contributed in package.json', async () => {
        await (0, helpers_1.activate)();
        const { SERVER_KEYS } = await Promise.resolve().then(() => __importStar(require('../src/settings')));
        for (const key of [...SERVER_KEYS, 'path']) {
            const inspected = (await Promise.resolve().then(() => __importStar(require('./stub/vscode')))).workspace.getConfiguration('infiagent').inspect(key);
            strict_1.default.notEqual(inspected.defaultValue, undefined, `infiagent.${key} has a default in package.json`);
        }
    });
});
async function configuration(options, items) {
    const handler = options.middleware?.workspace?.configuration;
    strict_1.default.ok(handler, 'a workspace/configuration middleware');
    const { workspace } = await Promise.resolve().then(() => __importStar(require('./stub/vscode')));
    // What vscode-languageclient answers by itself: the raw settings of each section.
    const next = (params) => params.items.map((item) => item.section === 'editor' ? 'passed through: editor' : workspace.getConfiguration().get(item.section ?? ''));
    return handler({ items }, undefined, next);
}
//# sourceMappingURL=settings.test.js.map