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
// sandbox's rules file, found relative to the compiled sandbox) into dist/examples. Then the
// broker's entry, dist/apps/broker/src/main.js, is bundled with esbuild into one file (below).
// Types are not checked here: `npm run typecheck` does that.
//
// Usage: node scripts/build.mjs [--out-dir <dir>]   (default: dist)
import { swcDir } from '@swc/cli';
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
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

// The broker's entry as one file: esbuild bundles the compiled dist/apps/broker/src/main.js with
// the libs and packages it loads into that same file, so `node dist/apps/broker/src/main.js`
// (npm start) no longer resolves and reads some 1,300 modules, a third of them ES modules
// (Nest 12) taken through require(), which was about half of its start-up
// (docs/benchmarks.md#start-up-and-idle-memory-issue-13-point-1). The other compiled files stay
// as they are for the CLIs, the sandbox and the tests. Bundled from SWC's output, which already
// carries the decorator metadata esbuild cannot emit; names are kept (Nest reads class names).
// Left out of the bundle, required from node_modules at run time:
const EXTERNAL = [
  // each cloud's SDK: required only for a cloud in JIT_PROVIDERS (its adapter, bundled, is
  // evaluated on first use), and Google's reads its protos from beside its own files
  '@aws-sdk/*', '@smithy/*', '@azure/*', '@microsoft/*', '@google-cloud/*', 'google-gax', 'google-auth-library',
  // Google's generated REST clients (Cloud Identity) and their runtime, whose transport loads its
  // proxy agent and fetch fallback by dynamic import
  '@googleapis/*', 'googleapis-common',
  // PGlite loads its WebAssembly and data files from its own folder
  '@electric-sql/*',
  // the OpenTelemetry SDK is loaded only with tracing on, and its pg instrumentation patches pg
  // when pg is required, which it cannot see in a bundle (typeorm requires pg at run time too)
  '@opentelemetry/*', 'pg', 'pg-native',
  // optional packages of Nest and @nestjs/swagger that the broker does not install; Nest
  // loads them only for features it does not use
  '@nestjs/microservices', '@nestjs/microservices/*', '@nestjs/websockets', '@nestjs/websockets/*',
  'class-validator', 'class-transformer', '@fastify/static',
];
const brokerMain = resolve(outDir, 'apps/broker/src/main.js');
{
  const { build: esbuild } = await import('esbuild');
  const main = brokerMain;
  const started = performance.now();
  const result = await esbuild({
    entryPoints: [main],
    outfile: main,
    allowOverwrite: true,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20.19',
    external: EXTERNAL,
    // Packages from this checkout's node_modules, wherever --out-dir is (scripts/check-runtime-deps.sh builds in /tmp).
    nodePaths: [resolve(root, 'node_modules')],
    // Without comments and whitespace, in ASCII: V8 parses the whole file before it runs any of
    // it and holds its text as long as the process lives, in two bytes a character if a single
    // one (a dash in a comment) is beyond Latin-1. 5.9 MB in one byte a character instead of
    // 9.2 MB in two: an AWS-only broker idles at 114 MiB instead of 128 MiB and starts on about
    // a sixth less CPU. Identifiers are not shortened: that held 19 MiB more idle (measured with
    // npm run bench:startup), and stack traces keep the functions' and classes' names.
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    charset: 'ascii',
    // The bundled packages' licence comments, in main.js.LEGAL.txt beside it.
    legalComments: 'linked',
    // Composed with SWC's maps: with node --enable-source-maps, stack traces name the TypeScript lines.
    sourcemap: true,
    sourcesContent: false,
    // The ES modules bundled into this CommonJS file (Nest's) read import.meta.url for createRequire.
    // The banner comes before the entry's "use strict", which esbuild would have put first: so it says it again.
    define: { 'import.meta.url': '__jit_import_meta_url' },
    banner: { js: '"use strict";\nvar __jit_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    plugins: [ownDirname(outDir)],
    logLevel: 'warning',
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs).length;
  const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
  process.stdout.write(`build: broker bundled into ${main} (${inputs} modules, ${(bytes / 1048576).toFixed(1)} MiB) in ${Math.round(performance.now() - started)} ms\n`);
}

/**
 * In a bundle every module's __dirname and __filename are the bundle's; a compiled file of the
 * project that reads one (a path to files beside it) gets its own back, relative to the bundle.
 */
function ownDirname(dist) {
  return {
    name: 'own-dirname',
    setup(build) {
      build.onLoad({ filter: /\.js$/ }, (args) => {
        if (!args.path.startsWith(dist + sep) || args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const code = readFileSync(args.path, 'utf8');
        if (!/\b__(dirname|filename)\b/.test(code)) return undefined;
        const dir = JSON.stringify(relative(dirname(brokerMain), dirname(args.path)));
        const file = JSON.stringify(relative(dirname(brokerMain), args.path));
        return {
          contents:
            // On the first line, so that SWC's source map of the file still matches its lines.
            `var __jit_own_dirname = require("node:path").join(__dirname, ${dir}), __jit_own_filename = require("node:path").join(__dirname, ${file}); ` +
            code.replace(/\b__dirname\b/g, '__jit_own_dirname').replace(/\b__filename\b/g, '__jit_own_filename'),
          loader: 'js',
          resolveDir: dirname(args.path),
        };
      });
    },
  };
}
// The console (apps/console, Vite and React; `npm run build:console` alone): static files in
// <out-dir>/console, which the broker serves at /console. Its configuration: apps/console/vite.config.mjs.
const { build: viteBuild } = await import('vite');
await viteBuild({ configFile: resolve(root, 'apps/console/vite.config.mjs'), logLevel: 'warn', build: { outDir: resolve(outDir, 'console') } });
process.stdout.write(`build: console written to ${resolve(outDir, 'console')}\n`);
