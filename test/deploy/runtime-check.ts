/**
 * The second half of scripts/check-runtime-deps.sh: runs the compiled broker from a tree that
 * holds only what the production image holds (the pruned dist/, package.json and
 * `npm ci --omit=dev`'s node_modules) and shows that it serves: on PostgreSQL and on the
 * embedded default (PGlite), each time /health, one grant through the real GCP adapter against
 * the GCP simulator (run here, from the source tree: it is not in the image), and a clean exit
 * on SIGTERM. Startup time and idle RSS are printed, never asserted. Exits 1 on any failure.
 *
 * Usage: node -r @swc-node/register test/deploy/runtime-check.ts <runtime dir>
 *   JIT_CHECK_DATABASE_URL  a PostgreSQL server to create the scratch database on
 *                           (default postgres://postgres@127.0.0.1:5432/postgres)
 *   JIT_CHECK_NODE          the node binary to run the broker with (default: this one)
 */
import { ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { GcpSimulator } from '@jit/sim-gcp';
import { freePort } from '../setup/broker-process';

const POLICY = resolve(__dirname, '..', 'fixtures', 'allow-all.policy.yaml');
const ADMIN = `adm_${randomBytes(16).toString('hex')}`;
const GCP_TOKEN = 'runtime-check';
const PROJECT = 'runtime-check-project';

interface RunOutcome {
  readyMs: number;
  rssMb: number;
  exitCode: number | null;
  exitMs: number;
}

async function main(): Promise<void> {
  const appDir = resolve(process.argv[2] ?? '');
  const entry = join(appDir, 'dist', 'apps', 'broker', 'src', 'main.js');
  if (!existsSync(entry)) throw new Error(`no compiled broker at ${entry}: run scripts/check-runtime-deps.sh`);
  const node = process.env.JIT_CHECK_NODE || process.execPath;
  const gcp = await GcpSimulator.start({ token: GCP_TOKEN });
  gcp.createProject(PROJECT);
  const scratch = mkdtempSync(join(tmpdir(), 'jit-runtime-check-'));
  const keyFile = join(scratch, 'audit-signing.pem');
  writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const common = {
    JIT_PROVIDERS: 'gcp',
    JIT_GCP_RESOURCE_MANAGER_ENDPOINT: `http://${gcp.host}:${gcp.port}`,
    JIT_GCP_STATIC_ACCESS_TOKEN: GCP_TOKEN,
    JIT_ADMIN_TOKEN: ADMIN,
    JIT_POLICY_FILE: POLICY,
    JIT_AUDIT_SIGNING_KEY: keyFile,
    JIT_AUDIT_CHECKPOINT_FILE: join(scratch, 'checkpoints.jsonl'),
  };
  const server = process.env.JIT_CHECK_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `jit_runtime_check_${process.pid}`;
  const admin = new Client({ connectionString: server });
  const results: string[] = [];
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    const url = new URL(server);
    url.pathname = `/${dbName}`;
    const pg = await runOnce(node, appDir, { ...common, DATABASE_URL: url.toString(), JIT_REPLICA_ID: 'runtime-check-pg' }, 1);
    results.push(describe('PostgreSQL', pg));
    const dataDir = join(scratch, 'data');
    const embedded = await runOnce(node, appDir, { ...common, JIT_DATA_DIR: dataDir, JIT_REPLICA_ID: 'runtime-check-embedded' }, 2);
    results.push(describe('embedded (PGlite)', embedded));
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
    await gcp.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  const version = await nodeVersion(node);
  console.log(`runtime check passed (node ${version}, ${appDir}):`);
  for (const r of results) console.log(`  ${r}`);
}

function describe(database: string, r: RunOutcome): string {
  return `${database}: /health 200 after ${r.readyMs} ms, idle RSS ${r.rssMb} MB, grant 201 active, SIGTERM exit ${r.exitCode} after ${r.exitMs} ms`;
}

/** Starts the compiled broker with exactly the given environment, proves it serves, and stops it. */
async function runOnce(node: string, appDir: string, env: Record<string, string>, run: number): Promise<RunOutcome> {
  const port = await freePort();
  const startedAt = Date.now();
  // No inherited environment: nothing of the source tree (NODE_OPTIONS, NODE_PATH) may help it along.
  const child = spawn(node, ['dist/apps/broker/src/main.js'], {
    cwd: appDir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const base = `http://127.0.0.1:${port}`;
  const fail = (why: string): never => {
    child.kill('SIGKILL');
    throw new Error(`${why}\n--- broker output ---\n${output}`);
  };
  try {
    await waitForHealth(base, child, fail);
    const readyMs = Date.now() - startedAt;
    // Idle: let start-up work settle before reading the resident set.
    await sleep(2000);
    const rssMb = residentMb(child);
    const res = await fetch(`${base}/v1/grants`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        cloud: 'gcp',
        principal: { type: 'workload', id: `serviceAccount:runtime-${run}@${PROJECT}.iam.gserviceaccount.com` },
        target: { kind: 'gcp.iam-binding', resource: `projects/${PROJECT}`, role: 'roles/storage.objectViewer' },
        duration: 'PT5M',
        justification: 'runtime dependency check',
      }),
    });
    const body = (await res.json()) as { state?: string };
    if (res.status !== 201 || body.state !== 'active') fail(`grant answered ${res.status} ${JSON.stringify(body)}`);
    const stopAt = Date.now();
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    if (code !== 0) fail(`SIGTERM: exited with ${code ?? signal}, not 0`);
    return { readyMs, rssMb, exitCode: code, exitMs: Date.now() - stopAt };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

async function waitForHealth(base: string, child: ChildProcess, fail: (why: string) => never): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) fail('the broker exited during start-up');
    try {
      const res = await fetch(`${base}/health`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) fail('no 200 from /health within 120 s');
    await sleep(100);
  }
}

/** VmRSS of the child from /proc (Linux), in MB; -1 where /proc is not there. */
function residentMb(child: ChildProcess): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : -1;
  } catch {
    return -1;
  }
}

async function nodeVersion(node: string): Promise<string> {
  const child = spawn(node, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await once(child, 'exit');
  return out.trim();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

main().catch((e: unknown) => {
  console.error(`runtime check FAILED: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
