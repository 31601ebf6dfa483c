import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { SystemClock } from '@jit/domain';
import { Database, PostgresWorkQueue, openDatabase } from '@jit/persistence';
import { GcpSimulator } from '@jit/sim-gcp';
import { ConnectionWatchProxy } from '@jit/testing';
import { ensureAuditSigningKey } from '../../apps/broker/src/audit/audit-signing-key.file';
import { BrokerProcess, spawnBroker } from '../setup/broker-process';
import { pollUntil } from '../setup/poll-until.util';
import { ensurePgliteTemplate } from '../setup/test-database';
import { ALLOW_ALL_POLICY } from '../setup/test-broker';

const ADMIN = `adm_${randomBytes(16).toString('hex')}`;
const TOKEN = 'shutdown-test-token';
const PROJECT = 'shutdown-project';
/** The request's own project: the adapter queues writes to one project's policy behind each other. */
const OTHER_PROJECT = 'shutdown-project-2';
/** The deadline under test; the cloud below hangs far longer, so only a cancelled call lets the broker exit before it. */
const DEADLINE_S = 20;
/** Compiling and starting the broker process on a loaded two-core machine. */
const BOOT_MS = 120_000;
/** A cloud that does not answer: ten minutes per call. */
const HANG_MS = 10 * 60_000;

/** Whether something may listen on `port` of 127.0.0.1 now (the old process no longer holds it). */
async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    if (server.listening) {
      server.close();
      await once(server, 'close');
    }
  }
}

/**
 * Issue 12 point 3: "With a cloud failing, SIGTERM kept the old broker alive for about a
 * minute while its replacement could not bind the port." The broker (`npm start`'s main.ts, the
 * real GCP adapter against the simulator, behind a proxy that sees cancelled calls) is stopped
 * while the cloud hangs under two calls: the sweeper's revocation of an expired grant and an API
 * request's grant call. It must exit cleanly well inside JIT_SHUTDOWN_DEADLINE, having cancelled
 * both calls (the requester gets a 503), freed the port, and handed back its claims (the grant, the request's write-ahead row), which another replica
 * can claim at once, with nothing recorded of the cancelled revocation.
 */
describe('bounded shutdown with a hanging cloud', () => {
  const onPostgres = !!process.env.TEST_DATABASE_URL;
  let dataDir: string;
  let databaseUrl: string | undefined;
  let gcp: GcpSimulator;
  let watch: ConnectionWatchProxy;
  let broker: BrokerProcess | null = null;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'jit-shutdown-'));
    gcp = await GcpSimulator.start({ token: TOKEN });
    gcp.createProject(PROJECT);
    gcp.createProject(OTHER_PROJECT);
    watch = await ConnectionWatchProxy.start(`http://${gcp.host}:${gcp.port}`);
    if (onPostgres) {
      const name = `jit_shutdown_${randomBytes(6).toString('hex')}`;
      const admin = new Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const url = new URL(process.env.TEST_DATABASE_URL!);
      url.pathname = `/${name}`;
      databaseUrl = url.toString();
    } else {
      // Migrated already: a fresh embedded database takes half a minute to migrate on a busy machine.
      cpSync(await ensurePgliteTemplate(), join(dataDir, 'data'), { recursive: true });
    }
  }, BOOT_MS);
  afterAll(async () => {
    if (broker?.child.exitCode === null) await broker.kill9();
    await watch?.close();
    await gcp?.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (databaseUrl) {
      const admin = new Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${new URL(databaseUrl).pathname.slice(1)} WITH (FORCE)`);
      await admin.end();
    }
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${broker!.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${ADMIN}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };
  const grantBody = (seconds: number, who: string, project = PROJECT) => ({
    cloud: 'gcp',
    principal: { type: 'workload', id: `serviceAccount:${who}@${project}.iam.gserviceaccount.com` },
    target: { kind: 'gcp.iam-binding', resource: `projects/${project}`, role: 'roles/storage.objectViewer' },
    duration: `PT${seconds}S`,
    justification: 'shutdown test',
  });

  it('should free the port, cancel the hanging calls, hand back its claim and exit well inside the deadline', async () => {
    broker = await spawnBroker('apps/broker/src/main.ts', {
      JIT_PROVIDERS: 'gcp',
      JIT_GCP_RESOURCE_MANAGER_ENDPOINT: watch.endpoint,
      JIT_GCP_STATIC_ACCESS_TOKEN: TOKEN,
      JIT_ADMIN_TOKEN: ADMIN,
      JIT_POLICY_FILE: ALLOW_ALL_POLICY,
      JIT_MIN_DURATION: 'PT1S',
      JIT_SWEEP_INTERVAL: 'PT1S',
      JIT_SHUTDOWN_DEADLINE: `PT${DEADLINE_S}S`,
      JIT_REPLICA_ID: 'replica-being-replaced',
      JIT_AUDIT_SIGNING_KEY: ensureAuditSigningKey(dataDir).keyFile,
      JIT_AUDIT_CHECKPOINT_FILE: join(dataDir, 'audit-checkpoints.jsonl'),
      JIT_DATA_DIR: join(dataDir, 'data'),
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    }, BOOT_MS);
    const port = Number(new URL(broker.url).port);
    const created = await call('POST', '/v1/grants', grantBody(2, 'expiring'));
    expect(created.status).toBe(201);
    const grantId = created.body.id as string;

    // The cloud stops answering: the sweeper's revocation at expiry hangs, and so does a request's grant call.
    gcp.inject({ latencyMs: HANG_MS });
    await pollUntil(async () => (watch.waiting >= 1 ? true : undefined), 20_000);
    const pendingRequest = call('POST', '/v1/grants', grantBody(3600, 'late', OTHER_PROJECT));
    await pollUntil(async () => (watch.waiting >= 2 ? true : undefined), 20_000);

    const signalledAt = Date.now();
    const exited = once(broker.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    broker.child.kill('SIGTERM');
    const answer = await pendingRequest;
    const [code] = await exited;
    const exitMs = Date.now() - signalledAt;

    expect({ code, output: code === 0 ? '' : broker.output() }).toEqual({ code: 0, output: '' });
    // A cloud call waited out would take ten minutes: the process ended because both were cancelled.
    expect(exitMs).toBeLessThan(DEADLINE_S * 1000);
    // Both calls' connections were closed unanswered (seen here a moment after the exit, as the proxy reads the closes).
    await pollUntil(async () => (watch.closedUnanswered >= 2 ? true : undefined), 5_000);
    expect(broker.output()).not.toMatch(/deadline .* passed/);
    expect(await portFree(port)).toBe(true);
    // The request in flight was told to come back, not cut off.
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('5');
    expect(answer.body.type).toBe('urn:jit-broker:problem:provider_unavailable');

    // Another replica claims the grant at once: the old one handed its claim back and recorded nothing of the cancelled call.
    const db: Database = await openDatabase(databaseUrl, join(dataDir, 'data'));
    try {
      type Row = { state: string; lease_owner: string | null; attempts: number; last_error: string | null };
      const [row] = await db.dataSource.query<Row[]>(`SELECT state, lease_owner, attempts, last_error FROM grants WHERE id = $1`, [grantId]);
      expect(row).toEqual({ state: 'active', lease_owner: null, attempts: 0, last_error: null });
      const other = new PostgresWorkQueue(db.dataSource, new SystemClock(), 'replacement-replica');
      const claimed = await other.claimDue('replacement-replica', 60_000, 10);
      // The expired grant, and the request's write-ahead row, which the next replica provisions or fails.
      expect(claimed.map((g) => ({ principal: g.principal.id.split('@')[0], state: g.state })).sort((x, y) => x.state.localeCompare(y.state))).toEqual([
        { principal: 'serviceAccount:expiring', state: 'active' },
        { principal: 'serviceAccount:late', state: 'provisioning' },
      ]);
      expect(claimed.find((g) => g.state === 'active')?.id).toBe(grantId);
    } finally {
      await db.close();
    }
  }, 2 * BOOT_MS);
});
