import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * @jit-broker/client as a user gets it: libs/client built with its tsconfig.build.json, packed
 * with its package.json, installed from the tarball into a project of its own, then required
 * (CommonJS), imported (ESM) and type-checked there, against a small local HTTP server. Nothing is
 * written into the tree. Its dependencies (openapi-fetch and what that needs) are packed from
 * node_modules and installed with it, offline, with an empty npm cache of the test's own: no
 * registry is asked, so a fresh machine (whose `npm ci` cached only abbreviated metadata) passes too.
 */
const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const CLIENT = join(ROOT, 'libs', 'client');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const GRANT_ID = '0b7e6a52-3f4d-4c1a-9e2b-8d7c6b5a4f3e';

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
}
const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** The installed directories of `deps` and of their dependencies, each once, looked up as Node does (nested, then the root's node_modules). */
function installedClosure(deps: Record<string, string>, from: string, seen = new Map<string, string>()): Map<string, string> {
  for (const name of Object.keys(deps)) {
    if (seen.has(name)) continue;
    const dir = [join(from, 'node_modules', name), join(ROOT, 'node_modules', name)].find((d) => existsSync(join(d, 'package.json')));
    if (!dir) throw new Error(`${name} (a dependency of the client) is not installed in ${ROOT}/node_modules`);
    seen.set(name, dir);
    installedClosure(manifestOf(dir).dependencies ?? {}, dir, seen);
  }
  return seen;
}

describe('@jit-broker/client, packed and installed', () => {
  let dir: string;
  let app: string;
  let server: Server;
  let baseUrl: string;
  let packed: { name: string; version: string; filename: string; files: { path: string }[] };
  let installed: Record<string, string>;
  const seen: { method: string; url: string; authorization: string | undefined; body: string }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jit-client-pkg-'));
    const pkg = join(dir, 'pkg');
    mkdirSync(pkg);
    for (const file of ['package.json', 'README.md']) copyFileSync(join(CLIENT, file), join(pkg, file));
    await run(process.execPath, [TSC, '-p', join(CLIENT, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')]);
    const { stdout } = await run(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: pkg });
    [packed] = JSON.parse(stdout) as (typeof packed)[];

    // The dependencies as they are in node_modules, packed too: the tarballs are all npm needs.
    const deps = join(dir, 'deps');
    mkdirSync(deps);
    const tarballs = [join(dir, packed.filename)];
    for (const depDir of installedClosure(manifestOf(CLIENT).dependencies ?? {}, CLIENT).values()) {
      const { stdout: out } = await run(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', deps, depDir], { cwd: dir });
      tarballs.push(join(deps, (JSON.parse(out) as { filename: string }[])[0].filename));
    }

    app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    // An empty cache of its own and --offline: any registry request fails (ENOTCACHED) instead of passing on a warm cache.
    const offline = ['--offline', `--cache=${join(dir, 'npm-cache')}`, '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'];
    await run(NPM, ['install', ...offline, ...tarballs], { cwd: app });
    installed = Object.fromEntries(
      ['@jit-broker/client', ...Object.keys(manifestOf(CLIENT).dependencies ?? {})].map((name) => [name, manifestOf(join(app, 'node_modules', name)).version]),
    );

    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
        if (req.method === 'GET' && req.url === `/v1/grants/${GRANT_ID}`) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: GRANT_ID, state: 'active' }));
        } else {
          res
            .writeHead(400, { 'content-type': 'application/problem+json' })
            .end(JSON.stringify({ type: 'urn:jit-broker:problem:validation', title: 'Invalid request', status: 400, detail: 'comment: required', errors: [{ field: 'comment', message: 'required' }] }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 300_000); // two compilers and npm on a loaded machine: a bound, not a measurement

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('should pack the built JavaScript and declarations, without sources or specs', () => {
    const own = JSON.parse(readFileSync(join(CLIENT, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: object };
    const broker = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
    expect({ name: packed.name, version: packed.version }).toEqual({ name: '@jit-broker/client', version: broker.version });
    // Released with the broker, on the openapi-fetch the repository's code is tested with.
    expect(own).toMatchObject({ version: broker.version, dependencies: { 'openapi-fetch': broker.dependencies['openapi-fetch'] } });
    const files = packed.files.map((f) => f.path).sort();
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/jit-client.js', 'dist/jit-api-error.d.ts', 'dist/openapi.generated.d.ts']));
    expect(files.filter((f) => !/^(package\.json|README\.md|dist\/[a-z.-]+\.(js|d\.ts))$/.test(f) || f.includes('spec'))).toEqual([]);
  });

  it('should install with the dependency versions the repository is tested with', () => {
    const broker = manifestOf(ROOT);
    expect(installed).toEqual({ '@jit-broker/client': broker.version, 'openapi-fetch': manifestOf(join(ROOT, 'node_modules', 'openapi-fetch')).version });
  });

  it('should be required (CommonJS) and call a broker with its token, throwing a JitApiError for a problem', async () => {
    const script = `
      const { createJitClient, JitApiError } = require('@jit-broker/client');
      (async () => {
        const jit = createJitClient({ baseUrl: process.argv[1], token: 't0ken' });
        const grant = await jit.getGrant('${GRANT_ID}');
        const error = await jit.denyGrant('${GRANT_ID}', { comment: '' }).catch((e) => e);
        console.log(JSON.stringify({ grant, isApiError: error instanceof JitApiError, status: error.status, code: error.code, field: error.field }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const { stdout } = await run(process.execPath, ['-e', script, baseUrl], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({ grant: { id: GRANT_ID, state: 'active' }, isApiError: true, status: 400, code: 'validation', field: 'comment' });
    expect(seen.slice(-2)).toEqual([
      { method: 'GET', url: `/v1/grants/${GRANT_ID}`, authorization: 'Bearer t0ken', body: '' },
      { method: 'POST', url: `/v1/grants/${GRANT_ID}/deny`, authorization: 'Bearer t0ken', body: '{"comment":""}' },
    ]);
  });

  it('should be imported by name from an ES module', async () => {
    const script = `
      import { createJitClient, JitApiError } from '@jit-broker/client';
      const grant = await createJitClient({ baseUrl: process.argv[1], getToken: async () => 'esm' }).getGrant('${GRANT_ID}');
      console.log(JSON.stringify({ grant, JitApiError: typeof JitApiError }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, baseUrl], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({ grant: { id: GRANT_ID, state: 'active' }, JitApiError: 'function' });
    expect(seen.at(-1)?.authorization).toBe('Bearer esm');
  });

  it('should give a TypeScript consumer its types: right calls compile, wrong ones do not', async () => {
    writeFileSync(
      join(app, 'consumer.ts'),
      [
        "import { createJitClient, JitApiError, type Grant, type GrantState } from '@jit-broker/client';",
        "const jit = createJitClient({ baseUrl: 'https://jit.example.com', token: 't' });",
        'export async function main(): Promise<GrantState> {',
        "  const grant: Grant = await jit.getGrant('id');",
        "  await jit.denyGrant(grant.id, { comment: 'not during the freeze' });",
        "  const page = await jit.api.GET('/v1/grants', { params: { query: { state: 'active' } } });",
        '  if (page.error instanceof JitApiError) throw page.error;',
        '  // @ts-expect-error deny needs a comment',
        '  await jit.denyGrant(grant.id, {});',
        '  // @ts-expect-error no such state',
        "  const wrong: GrantState = 'approved';",
        '  void wrong;',
        '  return grant.state;',
        '}',
      ].join('\n'),
    );
    // A consumer of its own: no @types/node (fetch's types from the DOM lib), and our declarations checked too.
    const compilerOptions = { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2023', 'dom'], types: [], skipLibCheck: false };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
    // tsc prints its errors (an unused @ts-expect-error among them) on stdout and exits non-zero.
    const { stdout } = await run(process.execPath, [TSC, '-p', app], { cwd: app }).catch((e: Error & { stdout?: string }) => ({ stdout: e.stdout || e.message }));
    expect(stdout).toBe('');
  }, 180_000);
});
