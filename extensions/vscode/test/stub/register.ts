// Loaded with `node --require`: makes `require('vscode')` load the stub.

import Module from 'node:module';

const stubPath = require.resolve('./vscode');
type Resolve = (request: string, ...rest: unknown[]) => string;
const resolvable = Module as unknown as { _resolveFilename: Resolve };
const original = resolvable._resolveFilename;
resolvable._resolveFilename = function (this: unknown, request: string, ...rest: unknown[]): string {
  return request === 'vscode' ? stubPath : original.call(this, request, ...rest);
};
