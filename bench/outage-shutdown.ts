import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { GcpSimulator } from '@jit/sim-gcp';
import { CuttableProxy } from '@jit/testing';
import { ensureAuditSigningKey } from '../apps/broker/src/audit/audit-signing-key.file';
import { spawnBroker } from '../test/setup/broker-process';

/**
 * `node -r @swc-node/register bench/outage-shutdown.ts` (issue 12 points 1 and 3), on a fresh
 * PostgreSQL database (BENCH_DATABASE_URL's server, dropped afterwards):
 *   1. outage: a broker process (local clouds) whose database is cut by a proxy for
 *      OUTAGE_S seconds while a client sends a request every 100 ms: answers by status, /health,
 *      the first success after the restore, and how long after it the grants that fell due
 *      during the outage have ended;
 *   2. shutdown: `npm start` (GCP adapter, simulator hanging under the sweeper's revocation),
 *      SIGTERM: time until the port is free and until the process has exited, RUNS times.
 * Figures go into docs/benchmarks.md.
 */
const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const OUTAGE_S = Number(process.env.OUTAGE_S ?? 30);
const RUNS = Number(process.env.RUNS ?? 3);
const ADMIN = `adm_${randomBytes(16).toString('hex')}`;
const POLICY = join(__dirname, '..', 'test', 'fixtures', 'allow-all.policy.yaml');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `jit_bench_outage_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: SERVER });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: SERVER });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  // once() rejects on 'error': the port is still taken.
  const ok = await once(server, 'listening').then(
    () => true,
    () => false,
  );
  if (ok) {
    server.close();
    await once(server, 'close');
  }
  return ok;
}

async function outage(): Promise<void> {
  const db = await freshDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'jit-bench-outage-'));
  const url = new URL(db.url);
  const proxy = await CuttableProxy.start({ host: url.hostname, port: Number(url.port || 5432) });
  url.hostname = '127.0.0.1';
  url.port = String(proxy.listenPort);
  const broker = await spawnBroker('test/setup/local-broker.child.ts', {
    DATABASE_URL: url.toString(),
    JIT_ADMIN_TOKEN: ADMIN,
    JIT_POLICY_FILE: POLICY,
    JIT_MIN_DURATION: 'PT1S',
    JIT_AUDIT_SIGNING_KEY: ensureAuditSigningKey(dir).keyFile,
    JIT_AUDIT_CHECKPOINT_FILE: join(dir, 'checkpoints.jsonl'),
    JIT_DATA_DIR: dir,
  }, 120_000);
  const post = async (body: unknown, key?: string) => {
    const res = await fetch(`${broker.url}/v1/grants`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json', ...(key ? { 'Idempotency-Key': key } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { id?: string; type?: string; state?: string } };
  };
  const grant = (seconds: number, i: number) => ({
    cloud: 'aws',
    principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/ci-deployer' },
    target: { kind: 'aws.iam-policy', actions: ['s3:PutObject'], resources: [`arn:aws:s3:::outage-${i}/*`] },
    duration: `PT${seconds}S`,
    justification: 'outage bench',
  });
  try {
    // Grants that fall due during the outage.
    const due = await Promise.all(Array.from({ length: 20 }, (_, i) => post(grant(2 + Math.floor((i * OUTAGE_S) / 40), i))));
    await proxy.cut();
    const cutAt = Date.now();
    const statuses = new Map<string, number>();
    let health = '';
    let i = 100;
    while (Date.now() - cutAt < OUTAGE_S * 1000) {
      const r = await post(grant(3600, i++), `outage-${i}`);
      const k = `${r.status} ${r.body.type ?? ''} Retry-After=${r.retryAfter ?? '-'}`;
      statuses.set(k, (statuses.get(k) ?? 0) + 1);
      health = `${(await fetch(`${broker.url}/health`)).status}`;
      await sleep(100);
    }
    await proxy.restore();
    const restoredAt = Date.now();
    let firstOk = -1;
    while (firstOk < 0) {
      const r = await post(grant(3600, i++));
      if (r.status < 300) firstOk = Date.now() - restoredAt;
      else await sleep(20);
    }
    const ids = due.map((d) => d.body.id!);
    for (;;) {
      const states = await Promise.all(
        ids.map(async (id) => ((await (await fetch(`${broker.url}/v1/grants/${id}`, { headers: { Authorization: `Bearer ${ADMIN}` } })).json()) as { state: string }).state),
      );
      if (states.every((s) => s === 'expired')) break;
      await sleep(50);
    }
    const allEnded = Date.now() - restoredAt;
    console.log(`outage of ${OUTAGE_S} s, one request every ~100 ms:`);
    for (const [k, n] of statuses) console.log(`  ${n} x ${k}`);
    console.log(`  /health during the outage: ${health}`);
    console.log(`  first 2xx ${firstOk} ms after the restore; all 20 grants due during the outage ended ${allEnded} ms after it`);
  } finally {
    await broker.stop();
    await proxy.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function shutdown(): Promise<void> {
  const gcp = await GcpSimulator.start({ token: 'bench' });
  gcp.createProject('bench-project');
  const results: string[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      gcp.inject({ latencyMs: 0 });
      const db = await freshDatabase();
      const dir = mkdtempSync(join(tmpdir(), 'jit-bench-shutdown-'));
      const broker = await spawnBroker('apps/broker/src/main.ts', {
        DATABASE_URL: db.url,
        JIT_PROVIDERS: 'gcp',
        JIT_GCP_RESOURCE_MANAGER_ENDPOINT: `http://${gcp.host}:${gcp.port}`,
        JIT_GCP_STATIC_ACCESS_TOKEN: 'bench',
        JIT_ADMIN_TOKEN: ADMIN,
        JIT_POLICY_FILE: POLICY,
        JIT_MIN_DURATION: 'PT1S',
        JIT_SWEEP_INTERVAL: 'PT1S',
        JIT_AUDIT_SIGNING_KEY: ensureAuditSigningKey(dir).keyFile,
        JIT_AUDIT_CHECKPOINT_FILE: join(dir, 'checkpoints.jsonl'),
        JIT_DATA_DIR: dir,
      }, 120_000);
      try {
        const port = Number(new URL(broker.url).port);
        await fetch(`${broker.url}/v1/grants`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({
            cloud: 'gcp',
            principal: { type: 'workload', id: `serviceAccount:run-${run}@bench-project.iam.gserviceaccount.com` },
            target: { kind: 'gcp.iam-binding', resource: 'projects/bench-project', role: 'roles/storage.objectViewer' },
            duration: 'PT1S',
            justification: 'shutdown bench',
          }),
        });
        gcp.inject({ latencyMs: 10 * 60_000 });
        // The sweeper's revocation is under way (and hangs) a second or two after the expiry.
        await sleep(3000);
        const exited = once(broker.child, 'exit');
        const at = Date.now();
        broker.child.kill('SIGTERM');
        let freeMs = -1;
        while (freeMs < 0) {
          if (await portFree(port)) freeMs = Date.now() - at;
          else await sleep(5);
        }
        const [code] = (await exited) as [number | null];
        results.push(`run ${run + 1}: port free after ${freeMs} ms, exited (status ${code}) after ${Date.now() - at} ms`);
      } finally {
        if (broker.child.exitCode === null) await broker.kill9();
        await db.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await gcp.close();
  }
  console.log('SIGTERM with the cloud hanging under a revocation (JIT_SHUTDOWN_DEADLINE PT10S):');
  for (const r of results) console.log(`  ${r}`);
}

(async () => {
  if (process.env.SKIP_OUTAGE !== '1') await outage();
  await shutdown();
})().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
