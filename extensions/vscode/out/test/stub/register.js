"use strict";
// Loaded with `node --require`: makes `require('vscode')` load the stub.
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
const node_module_1 = __importDefault(require("node:module"));
const stubPath = require.resolve('./vscode');
const resolvable = node_module_1.default;
const original = resolvable._resolveFilename;
resolvable._resolveFilename = function (request, ...rest) {
    return request === 'vscode' ? stubPath : original.call(this, request, ...rest);
};
//# sourceMappingURL=register.js.map