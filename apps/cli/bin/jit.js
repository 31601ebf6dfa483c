#!/usr/bin/env node
// The `jit` bin of this package: the compiled CLI (dist/apps/cli/src/main.js, written by
// `npm run build`) when it is there, else the TypeScript source through @swc-node/register,
// as `npm run jit` runs it. docs/clients.md, "The jit CLI".
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..', '..');
const compiled = join(root, 'dist', 'apps', 'cli', 'src', 'main.js');
let cli;
if (existsSync(compiled)) {
  cli = require(compiled);
} else {
  process.env.SWC_NODE_PROJECT ??= join(root, 'tsconfig.json');
  require('@swc-node/register');
  cli = require(join(root, 'apps', 'cli', 'src', 'main.ts'));
}
cli.runCli(process.argv.slice(2)).then(cli.exitWith);
