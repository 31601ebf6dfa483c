#!/usr/bin/env node
// `npm run build`: compiles every app under apps/ and every lib under libs/ (spec files left
// out) to plain CommonJS in dist/, keeping the source layout (apps/broker/src/main.ts becomes
// dist/apps/broker/src/main.js), so `node dist/apps/broker/src/main.js` runs without a loader.
//
// SWC (through @swc/cli's swcDir) with the transform the tests (@swc/jest) and the source
// runs (@swc-node/register) already use: legacy decorators with their design-time metadata,
// which Nest's dependency injection reads, and class names kept. The `@jit/*` aliases are
// rewritten to relative paths at build time from tsconfig.json's `paths`, the one list the
// type check, jest and the source runs read too, so a new lib needs no entry here. Files that
// are not TypeScript under apps/ and libs/ are copied beside the output, and examples/ (the
// sandbox's rules file, found relative to the compiled sandbox) into dist/examples.
// Types are not checked here: `npm run typecheck` does that.
//
// Usage: node scripts/build.mjs [--out-dir <dir>]   (default: dist)
import { swcDir } from '@swc/cli';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { 'out-dir': { type: 'string', default: 'dist' } } });
const outDir = resolve(root, values['out-dir']);
const tsconfig = JSON.parse(readFileSync(resolve(root, 'tsconfig.json'), 'utf8'));

rmSync(outDir, { recursive: true, force: true });
process.chdir(root);

let failed = 0;
await swcDir({
  cliOptions: {
    filenames: ['apps', 'libs'],
    outDir,
    // apps/console is a browser app: Vite builds it below, into dist/console.
    ignore: ['**/*.spec.ts', 'apps/console/**'],
    only: [],
    extensions: ['.ts'],
    outFileExtension: 'js',
    stripLeadingPaths: false,
    copyFiles: true,
    includeDotfiles: false,
    sync: false,
    quiet: true,
    watch: false,
  },
  swcOptions: {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
      target: 'es2022',
      baseUrl: root,
      paths: tsconfig.compilerOptions.paths,
    },
    module: { type: 'commonjs' },
    sourceMaps: true,
    swcrc: false,
    configFile: false,
  },
  callbacks: {
    onSuccess({ compiled, copied, duration }) {
      process.stdout.write(`build: ${compiled} files compiled, ${copied} copied to ${outDir} in ${Math.round(duration)} ms\n`);
    },
    onFail(e) {
      failed += 1;
      for (const [file, message] of e.reasons) process.stderr.write(`${file}: ${message}\n`);
    },
  },
});
if (failed > 0) {
  process.stderr.write(`build: failed, nothing usable in ${outDir}\n`);
  process.exit(1);
}
if (existsSync(resolve(root, 'examples'))) cpSync(resolve(root, 'examples'), resolve(outDir, 'examples'), { recursive: true });
// The console (apps/console, Vite and React; `npm run build:console` alone): static files in
// <out-dir>/console, which the broker serves at /console. Its configuration: apps/console/vite.config.mjs.
const { build: viteBuild } = await import('vite');
await viteBuild({ configFile: resolve(root, 'apps/console/vite.config.mjs'), logLevel: 'warn', build: { outDir: resolve(outDir, 'console') } });
process.stdout.write(`build: console written to ${resolve(outDir, 'console')}\n`);
