"use strict";
// The extension's entry points.
Object.defineProperty(exports, "__esModule", { value: true });
exports.activate = activate;
exports.deactivate = deactivate;
const node_1 = require("vscode-languageclient/node");
const activate_1 = require("./activate");
let extension;
function activate(context) {
    extension = (0, activate_1.activateWith)(context, (serverOptions, clientOptions) => new node_1.LanguageClient('infiagent', 'InfiAgent', serverOptions, clientOptions));
    return extension;
}
async function deactivate() {
    await extension?.stop();
    extension = undefined;
}
//# sourceMappingURL=extension.js.map