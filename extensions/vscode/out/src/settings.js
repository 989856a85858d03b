"use strict";
// The `infiagent.*` settings as the server reads them: the same keys as
// `.infiagent/config.toml` (`{model: {base_url, ...}, run: {...}}`), for
// `initializationOptions` and the `infiagent` section of `workspace/configuration`.
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
Object.defineProperty(exports, "__esModule", { value: true });
exports.SERVER_KEYS = exports.SECTION = void 0;
exports.serverSection = serverSection;
exports.binaryPath = binaryPath;
const vscode = __importStar(require("vscode"));
/** The settings section. */
exports.SECTION = 'infiagent';
/** Keys of the section that only the extension reads; never sent to the server. */
const EXTENSION_ONLY_KEYS = [];
/**
 * The contributed keys the server reads, relative to the section. Only the values a
 * user set are sent: the defaults shown in the settings editor are the server's own,
 * and sending them would hide `.infiagent/config.toml`.
 */
exports.SERVER_KEYS = [
    'model.provider',
    'model.base_url',
    'model.name',
    'model.api_key_env',
    'run.autonomy',
    'run.max_steps',
    'run.max_tokens',
    'run.max_cost_usd',
];
/**
 * The section the server expects, from the settings in effect for `scope` (a folder or
 * document URI; none: the first workspace folder). Keys written in settings.json
 * beyond the contributed ones (e.g. `infiagent.run.jobs`) pass through as they are.
 */
function serverSection(scope) {
    const configuration = vscode.workspace.getConfiguration(exports.SECTION, scope ?? firstFolder());
    const section = plainJson(vscode.workspace.getConfiguration(undefined, scope ?? firstFolder()).get(exports.SECTION));
    for (const key of EXTENSION_ONLY_KEYS) {
        delete section[key];
    }
    for (const key of exports.SERVER_KEYS) {
        setPath(section, key, explicitValue(configuration, key));
    }
    return pruneEmpty(section);
}
/** The binary to start: `infiagent.path`, else `infiagent` on the PATH. */
function binaryPath() {
    const configured = vscode.workspace.getConfiguration(exports.SECTION).get('path', '').trim();
    return configured === '' ? 'infiagent' : configured;
}
function firstFolder() {
    return vscode.workspace.workspaceFolders?.[0]?.uri;
}
/** The value the user set at the most specific level, or undefined when only the default applies. */
function explicitValue(configuration, key) {
    const inspected = configuration.inspect(key);
    if (!inspected) {
        return undefined;
    }
    return (inspected.workspaceFolderLanguageValue ??
        inspected.workspaceFolderValue ??
        inspected.workspaceLanguageValue ??
        inspected.workspaceValue ??
        inspected.globalLanguageValue ??
        inspected.globalValue);
}
function setPath(target, dottedKey, value) {
    const path = dottedKey.split('.');
    let cursor = target;
    for (const part of path.slice(0, -1)) {
        const next = cursor[part];
        if (typeof next !== 'object' || next === null || Array.isArray(next)) {
            cursor[part] = {};
        }
        cursor = cursor[part];
    }
    const last = path[path.length - 1];
    if (value === undefined) {
        delete cursor[last];
    }
    else {
        cursor[last] = value;
    }
}
/** Drops empty strings, nulls and objects left empty: the server's own defaults then apply. */
function pruneEmpty(object) {
    const result = {};
    for (const [key, value] of Object.entries(object)) {
        if (value === null || value === '') {
            continue;
        }
        if (typeof value === 'object' && !Array.isArray(value)) {
            const pruned = pruneEmpty(value);
            if (Object.keys(pruned).length > 0) {
                result[key] = pruned;
            }
            continue;
        }
        result[key] = value;
    }
    return result;
}
/** A deep copy made of plain JSON (configuration objects are proxies with getters). */
function plainJson(value) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return {};
    }
    return JSON.parse(JSON.stringify(value));
}
//# sourceMappingURL=settings.js.map