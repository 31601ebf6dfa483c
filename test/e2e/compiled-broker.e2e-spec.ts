import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { GcpSimulator } from '@jit/sim-gcp';
import { sha256Hex } from '../../apps/broker/src/http/auth/token-registry';
import { freePort } from '../setup/broker-process';
import { ALLOW_ALL_POLICY } from '../setup/test-broker';
import { ensurePgliteTemplate } from '../setup/test-database';

const ROOT = join(__dirname, '..', '..');
/** The build, a cold start and (on the embedded database) every migration, on a loaded 2-core machine. */
const TIMEOUT_MS = 240_000;
const TOKEN = 'tok-compiled-broker-requester-0001';
const GCP_TOKEN = 'compiled-broker-gcp-token';

/** `node <args>` with nothing of jest's node options, and what it printed. */
function node(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, out: stdout + stderr }),
    );
  });
}

/** Every .js file under `dir`, relative to it. */
function jsFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.js'));
}

/**
 * Issue 13 point 1: `npm run build` output run as `npm start` runs it, `node dist/apps/broker/src/main.js`
 * (no loader, no flag), migrating an empty database itself (on PostgreSQL) and granting through a
 * real adapter (GCP, against its simulator). The build goes to a temporary folder, not the checkout's dist/.
 */
describe('the compiled broker (npm run build, then node)', () => {
  let dir: string;
  let dist: string;
  let sim: GcpSimulator;
  let child: ChildProcess | undefined;
  let output = '';
  let dropDatabase: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jit-compiled-broker-'));
    dist = join(dir, 'dist');
    // The compiled files require their packages as the checkout's dist/ would find them.
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    sim = await GcpSimulator.start({ port: 0, token: GCP_TOKEN });
  }, TIMEOUT_MS);

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await sim?.close();
    await dropDatabase?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should compile every app and lib with the @jit aliases resolved and decorator metadata kept', async () => {
    const build = await node(['scripts/build.mjs', '--out-dir', dist]);
    expect(build).toEqual({ code: 0, out: expect.stringMatching(/^build: \d+ files compiled/) });
    const files = jsFiles(dist);
    // Whatever app or lib exists, with no list to keep up to date; but the console, a browser app
    // that Vite builds into static files (dist/console), is not compiled file by file.
    const sources = ['apps', 'libs'].flatMap((top) =>
      (readdirSync(join(ROOT, top), { recursive: true }) as string[])
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
        .map((f) => join(top, f))
        .filter((f) => !f.startsWith(join('apps', 'console') + '/')),
    );
    expect(existsSync(join(dist, 'console/index.html'))).toBe(true);
    // What the broker serves publicly at /console: no source maps, which would carry the full source.
    expect((readdirSync(join(dist, 'console'), { recursive: true }) as string[]).filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('apps/console/'))).toEqual([]);
    expect(sources.length).toBeGreaterThan(100);
    expect(sources.map((f) => f.replace(/\.ts$/, '.js')).filter((f) => !files.includes(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.spec.js'))).toEqual([]);
    const unresolved = files.filter((f) => /require\(['"]@jit\//.test(readFileSync(join(dist, f), 'utf8')));
    expect(unresolved).toEqual([]);
    // Nest's dependency injection reads the constructor parameter types.
    expect(readFileSync(join(dist, 'apps/broker/src/http/grants.controller.js'), 'utf8')).toContain('"design:paramtypes"');
  }, TIMEOUT_MS);

  it('should bundle the broker entry into one file that requires no package but those left out on purpose', () => {
    // scripts/build.mjs's EXTERNAL: the clouds' SDKs, PGlite, pg and OpenTelemetry, and Nest's optional packages.
    const external = /^(@aws-sdk|@smithy|@azure|@microsoft|@google-cloud|@googleapis|@electric-sql|@opentelemetry)\/|^(google-gax|google-auth-library|googleapis-common|pg|pg-native|class-validator|class-transformer)$|^@nestjs\/(microservices|websockets)(\/|$)|^@fastify\/static$/;
    const main = readFileSync(join(dist, 'apps/broker/src/main.js'), 'utf8');
    const loaded = [...main.matchAll(/\b(?:require|import)\("([^"]+)"\)/g)].map((m) => m[1]);
    const builtin = (id: string) => id.startsWith('node:') || builtinModules.includes(id);
    // No file of the project (./ or ../) and no bundled package is left to load at run time.
    expect([...new Set(loaded.filter((id) => !builtin(id) && !external.test(id.replace(/\/build\/.*$/, ''))))]).toEqual([]);
    expect(loaded).toEqual(expect.arrayContaining(['@aws-sdk/client-iam', 'pg']));
    // Nest and the libs are inside; so are the decorator metadata SWC wrote for them.
    expect(main).toContain('design:paramtypes');
    expect(main).toContain('GrantsController');
  }, TIMEOUT_MS);

  it('should check a rules file with the compiled rules CLI', async () => {
    const run = await node([join(dist, 'apps/broker/src/cli/rules.js'), 'test', 'examples/sandbox.rules.yaml', 'examples/sandbox.rules.cases.yaml']);
    expect(run.out).toMatch(/\d+ passed, 0 failed/);
    expect(run.code).toBe(0);
  }, TIMEOUT_MS);

  it('should start with plain node on the test database (on PostgreSQL an empty one, which it migrates) and answer a grant with 201', async () => {
    const project = sim.createProject('compiled-broker');
    const tokensFile = join(dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify({ tokens: [{ subject: 'ci', roles: ['requester'], sha256: sha256Hex(TOKEN) }] }));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '',
      NO_COLOR: '1',
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      JIT_DATA_DIR: join(dir, 'data'),
      JIT_AUDIT_UNSIGNED: 'true',
      JIT_TOKENS_FILE: tokensFile,
      JIT_POLICY_FILE: ALLOW_ALL_POLICY,
      JIT_PROVIDERS: 'gcp',
      JIT_GCP_RESOURCE_MANAGER_ENDPOINT: sim.endpoint,
      JIT_GCP_STATIC_ACCESS_TOKEN: GCP_TOKEN,
      JIT_GCP_RECONCILE_RESOURCES: project,
    };
    const serverUrl = process.env.TEST_DATABASE_URL;
    if (serverUrl) {
      // An empty database, not one from the migrated template: the compiled migrations must run.
      const name = `jit_test_compiled_${randomBytes(6).toString('hex')}`;
      const admin = new Client({ connectionString: serverUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      dropDatabase = async () => {
        const c = new Client({ connectionString: serverUrl });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      };
      const url = new URL(serverUrl);
      url.pathname = `/${name}`;
      env.DATABASE_URL = url.toString();
    } else {
      // The embedded database from the migrated template (its migrations in a child take a minute
      // on a loaded machine); the PostgreSQL run has the compiled migrations build the schema.
      cpSync(await ensurePgliteTemplate(), env.JIT_DATA_DIR!, { recursive: true });
    }

    child = spawn(process.execPath, [join(dist, 'apps/broker/src/main.js')], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = once(child, 'exit');
    const url = `http://127.0.0.1:${env.PORT}`;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the compiled broker exited during boot:\n${output}`);
      const health = await fetch(`${url}/health`).catch(() => undefined);
      if (health?.status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    const res = await fetch(`${url}/v1/grants`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        cloud: 'gcp',
        principal: { type: 'workload', id: 'serviceAccount:deployer@compiled-broker.iam.gserviceaccount.com' },
        target: { kind: 'gcp.iam-binding', resource: project, role: 'roles/storage.objectViewer' },
        duration: 'PT10M',
        justification: 'the compiled broker grants',
      }),
    });
    const grant = (await res.json()) as { state: string; expiresAt: string };
    expect({ status: res.status, state: grant.state }).toEqual({ status: 201, state: 'active' });
    // Granted in the cloud, not only recorded.
    expect(sim.holds(project, 'serviceAccount:deployer@compiled-broker.iam.gserviceaccount.com', 'roles/storage.objectViewer', new Date())).toBe(true);
    expect(output).toContain(serverUrl ? 'database=postgresql' : 'database=embedded PostgreSQL');

    // gcp.group-membership: Google's generated Cloud Identity client, required from node_modules.
    sim.groups.createGroup('compiled-team@example.com');
    const joined = await fetch(`${url}/v1/grants`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        cloud: 'gcp',
        principal: { type: 'user', id: 'user:dana@example.com' },
        target: { kind: 'gcp.group-membership', group: 'compiled-team@example.com' },
        duration: 'PT10M',
        justification: 'the compiled broker adds a group member',
      }),
    });
    const membership = (await joined.json()) as { state: string; expiresAt: string };
    expect({ status: joined.status, state: membership.state }).toEqual({ status: 201, state: 'active' });
    expect(sim.groups.member('compiled-team@example.com', 'dana@example.com')?.roles).toEqual([{ name: 'MEMBER', expireTime: new Date(membership.expiresAt) }]);

    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect({ code, output }).toEqual({ code: 0, output: expect.any(String) });
  }, TIMEOUT_MS);
});
