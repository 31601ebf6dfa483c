#!/usr/bin/env node
// The `jit` bin of this package: the compiled CLI (dist/apps/cli/src/main.js, written by
// `npm run build`). From the TypeScript source, without a build, `npm run jit -- <args>` runs it
// (through @swc-node/register, a devDependency the compiled bin must not need).
// docs/clients.md, "The jit CLI".
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const compiled = join(__dirname, '..', '..', '..', 'dist', 'apps', 'cli', 'src', 'main.js');
if (!existsSync(compiled)) {
  process.stderr.write(`jit: ${compiled} is missing: run \`npm run build\` first, or \`npm run jit -- <args>\` from the source\n`);
  process.exit(2);
}
require(compiled)
  .runCli(process.argv.slice(2))
  .then((code) => {
    // As main.ts's exitWith: out once stdout and stderr are flushed, whatever handle is left open.
    process.exitCode = code;
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
