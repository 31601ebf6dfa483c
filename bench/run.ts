import 'reflect-metadata';
import { execSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { Client, Pool } from 'pg';
import { AuditLog, AuditTrail, hashEvent } from '@jit/audit';
import { BrokerConfig, loadBrokerConfig } from '@jit/config';
import { CLOUDS, GENESIS_HASH, Grant } from '@jit/domain';
import { LocalCloudProvider } from '@jit/provider-local';
import { targetKinds } from '@jit/testing';
import { PostgresAuditChainStore, PostgresUnitOfWork, openDatabase } from '@jit/persistence';
import { SystemClock } from '@jit/domain';
import { sha256Hex } from '../apps/broker/src/http/auth/token-registry';
import { ensureAuditSigningKey } from '../apps/broker/src/audit/audit-signing-key.file';
import { RunningBroker, startBroker } from '../apps/broker/src/start-broker';
import { BrokerProcess, spawnBroker } from '../test/setup/broker-process';
import { auditChained } from './audit-chained';
import { BENCH_APPLICATION, backendCpu, backendCpuDelta, catchUpReplicas, formatCounts, processCpuMs } from './catchup';
import { intEnv } from './env';
import { analyzeAfterLoad, benchAnalyze } from './scratch-database';

/**
 * `npm run bench`: on a fresh PostgreSQL database (BENCH_DATABASE_URL, dropped afterwards),
 *   1. grants per second through POST /v1/grants (local in-memory clouds), p50/p99 latency;
 *   2. the physical floor on the same database: one grant row plus one audit row per
 *      transaction at the same concurrency (bare, then also taking the audit chain head lock);
 *   3. revocation lag for BENCH_EXPIRING grants whose expiresAt are spread over BENCH_WINDOW_S;
 *   4. catch-up: BENCH_CATCHUP grants already past expiresAt when the broker starts, expiries/s,
 *      with node CPU, PostgreSQL CPU and statements per expiry; then the same with 1..BENCH_REPLICAS
 *      broker processes catching up together;
 *   5. replicas: POST /v1/grants against one, then two broker processes on the same database.
 * Phases 3 and 4 preload their grants with SQL, then ANALYZE the tables (BENCH_ANALYZE=0 skips
 * it), as autovacuum would have within a minute: otherwise the broker plans on the statistics of
 * an almost empty database, which no running deployment has.
 * Results are recorded in docs/benchmarks.md.
 */

const env = process.env;

const SERVER_URL = env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const GRANTS = intEnv('BENCH_GRANTS', 2000);
const CONCURRENCY = intEnv('BENCH_CONCURRENCY', 16);
const WARMUP = intEnv('BENCH_WARMUP', 200);
benchAnalyze();
const EXPIRING = intEnv('BENCH_EXPIRING', 10_000);
const WINDOW_S = intEnv('BENCH_WINDOW_S', 60);
/** Time between the end of the preload and the first expiry: the broker starts in between. */
const LEAD_MS = intEnv('BENCH_LEAD_MS', 6000);
/** Grants already expired when the broker starts (phase 4). */
const CATCHUP = intEnv('BENCH_CATCHUP', 10_000);
/** Broker processes for phase 5 (1 up to this many). */
const REPLICAS = intEnv('BENCH_REPLICAS', 2);
/** Where phase 1's and 5's load generator runs: a worker thread of this process (default, as in the runs recorded so far) or a process of its own. */
const LOADGEN = oneOf('BENCH_LOADGEN', ['worker', 'process'] as const);
/** Its HTTP client: Node's fetch (default) or node:http on a keep-alive agent. */
const CLIENT = oneOf('BENCH_CLIENT', ['fetch', 'http'] as const);
/** The phases to run (BENCH_PHASES=3,4 or 1-2,5; default all), so one part can be measured again without the rest. */
const PHASES = phaseSet(env.BENCH_PHASES);

const TOKENS = { requester: `bench-req-${randomBytes(12).toString('hex')}`, auditor: `bench-aud-${randomBytes(12).toString('hex')}` };

// ---------------------------------------------------------------------------------------------
// helpers

/**
 * Statements this process's node-postgres clients send, by first word, while `counting` (phase 4):
 * the in-process broker's, not the bench's own pool's (BENCH_APPLICATION). Bench-only: it wraps
 * `pg.Client.prototype.query`.
 */
const statementCounts = new Map<string, number>();
let countingStatements = false;
{
  type Query = (this: Client, ...args: unknown[]) => unknown;
  const original = Client.prototype.query as unknown as Query;
  (Client.prototype as unknown as { query: Query }).query = function (this: Client, ...args: unknown[]) {
    if (countingStatements && (this as unknown as { connectionParameters?: { application_name?: string } }).connectionParameters?.application_name !== BENCH_APPLICATION) {
      const first = args[0];
      const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '');
      const verb = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? '?';
      statementCounts.set(verb, (statementCounts.get(verb) ?? 0) + 1);
    }
    return original.apply(this, args);
  };
}

/** `1,3-5` as {1,3,4,5}; unset or empty is every phase (1-5). A value naming no phase 1-5 stops the run. */
function phaseSet(value: string | undefined): ReadonlySet<number> {
  if (value === undefined || value.trim() === '') return new Set([1, 2, 3, 4, 5]);
  const out = new Set<number>();
  for (const part of value.split(',').map((x) => x.trim())) {
    const m = /^([1-5])(?:-([1-5]))?$/.exec(part);
    if (!m) throw new Error(`BENCH_PHASES must list phases 1-5 (e.g. 3,4 or 1-2,5), got ${JSON.stringify(value)}`);
    for (let k = Number(m[1]); k <= Number(m[2] ?? m[1]); k++) out.add(k);
  }
  return out;
}

/** The variable `name`, one of `values` (the first when unset or empty). */
function oneOf<T extends string>(name: string, values: readonly T[]): T {
  const value = env[name]?.trim();
  if (!value) return values[0];
  if (!(values as readonly string[]).includes(value)) throw new Error(`${name} must be one of ${values.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

function pct(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
const sortNum = (xs: Iterable<number>) => Float64Array.from(xs).sort();
const ms = (x: number) => `${x.toFixed(1)} ms`;
const rate = (n: number, elapsedMs: number) => (n / (elapsedMs / 1000)).toFixed(0);
const line = (label: string, value: string) => console.log(`  ${label.padEnd(34)} ${value}`);

/** A request body like the sandbox example, with its own principal so grants never overlap. */
function requestBody(i: number | string) {
  return {
    cloud: 'aws',
    principal: { type: 'workload', id: `arn:aws:iam::123456789012:role/bench-${i}` },
    target: { kind: 'aws.iam-policy', actions: ['s3:PutObject'], resources: ['arn:aws:s3:::artifacts/*'] },
    duration: 'PT1H',
    justification: 'release 1.4.2',
    ticket: 'CHG-1234',
  };
}

/** An `active` grant exactly as the broker holds one after POST /v1/grants (same fields, same sizes). */
function activeGrant(provider: LocalCloudProvider, i: number, createdAt: Date, expiresAt: Date): Grant {
  const body = requestBody(`x${i}`);
  const id = randomUUID();
  const principal = body.principal as Grant['principal'];
  const target = body.target as Grant['target'];
  return {
    id,
    state: 'active',
    cloud: 'aws',
    kind: 'aws.iam-policy',
    principal,
    target,
    requestedBy: 'bench-pipeline',
    justification: body.justification,
    ticket: body.ticket,
    durationSeconds: Math.max(1, Math.round((expiresAt.getTime() - createdAt.getTime()) / 1000)),
    createdAt,
    startsAt: createdAt,
    expiresAt,
    endedAt: null,
    endReason: null,
    approvals: [{ approver: 'auto:within-duration-bounds', decision: 'approved', at: createdAt.toISOString() }],
    artifactName: provider.artifactName(id),
    overlapKey: provider.overlapKey(principal, target),
    providerRef: { local: 'aws', artifact: provider.artifactName(id) },
    lastError: null,
    attempts: 0,
    nextAttemptAt: null,
    decision: null,
    approvalDeadline: null,
  };
}

/** The columns and values PostgresGrantWrites.insert writes, in its order. */
const GRANT_COLUMNS =
  'id, state, cloud, kind, principal_type, principal_id, target, requested_by, justification, ticket, duration_seconds, created_at, ' +
  'starts_at, expires_at, ended_at, end_reason, approvals, artifact_name, overlap_key, provider_ref, last_error, attempts, ' +
  'next_attempt_at, lease_owner, lease_until, idempotency_key, request_hash, updated_at';
function grantValues(g: Grant): unknown[] {
  return [
    g.id, g.state, g.cloud, g.kind, g.principal.type, g.principal.id, JSON.stringify(g.target), g.requestedBy, g.justification,
    g.ticket, g.durationSeconds, g.createdAt, g.startsAt, g.expiresAt, g.endedAt, g.endReason, JSON.stringify(g.approvals),
    g.artifactName, g.overlapKey, g.providerRef && JSON.stringify(g.providerRef), g.lastError, g.attempts, g.nextAttemptAt,
    null, null, null, null, g.createdAt,
  ];
}
const placeholders = (row: number, width: number) => `(${Array.from({ length: width }, (_, k) => `$${row * width + k + 1}`).join(',')})`;

/** Runs `total` jobs with `concurrency` workers; returns per-job latency (ms) and wall time. */
async function closedLoop(total: number, concurrency: number, job: (i: number) => Promise<void>) {
  const latencies = new Float64Array(total);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      for (let i = next++; i < total; i = next++) {
        const s = performance.now();
        await job(i);
        latencies[i] = performance.now() - s;
      }
    }),
  );
  return { elapsed: performance.now() - t0, latencies: latencies.sort() };
}

/**
 * The HTTP load generator runs in a worker thread (its own event loop), so request building and
 * response parsing do not share the broker's event loop; with BENCH_LOADGEN=process it runs in a
 * child process instead, so the bench process's CPU is the broker's alone (phase 1) and the load
 * generator reports its own. BENCH_CLIENT=fetch (default): Node's fetch (undici), keep-alive;
 * BENCH_CLIENT=http: node:http on a keep-alive agent of BENCH_CONCURRENCY sockets, which costs
 * about a third of fetch's CPU per request (bench:profile, PROFILE_CLIENT).
 */
const LOAD_GENERATOR = `
const threads = require('node:worker_threads');
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const ownProcess = !threads.parentPort;
const { urls, token, warmup, total, concurrency, template, client } = ownProcess ? JSON.parse(process.env.BENCH_LOADGEN_DATA) : threads.workerData;
const reply = ownProcess ? (m) => process.send(m, () => process.exit(0)) : (m) => threads.parentPort.postMessage(m);
const headers = { authorization: 'Bearer ' + token, 'content-type': 'application/json' };
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
async function withFetch(url, body) {
  const res = await fetch(url, { method: 'POST', headers, body });
  await res.arrayBuffer();
  return res.status;
}
function withHttp(url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } });
    req.once('error', reject);
    req.once('response', (res) => {
      res.on('data', () => undefined);
      res.once('end', () => resolve(res.statusCode));
      res.once('error', reject);
    });
    req.end(body);
  });
}
const send = client === 'http' ? withHttp : withFetch;
async function run(count, tag) {
  const latencies = new Float64Array(count);
  const statuses = {};
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    for (let i = next++; i < count; i = next++) {
      const body = template.replace('__I__', tag + i);
      const s = performance.now();
      const status = await send(urls[i % urls.length] + '/v1/grants', body);
      latencies[i] = performance.now() - s;
      statuses[status] = (statuses[status] || 0) + 1;
    }
  }));
  return { elapsed: performance.now() - t0, latencies, statuses };
}
(async () => {
  await run(warmup, 'w');
  const cpu0 = process.cpuUsage();
  const measured = await run(total, 'm');
  const cpu = process.cpuUsage(cpu0);
  // In a worker thread process.cpuUsage() is the whole process's, broker included: not reported.
  reply({ ...measured, cpuMs: ownProcess ? (cpu.user + cpu.system) / 1000 : null });
})().catch((e) => reply({ error: String(e && e.stack || e) }));
`;

interface LoadResult {
  elapsed: number;
  latencies: Float64Array;
  statuses: Record<string, number>;
  /** The load generator's own CPU over the measured requests (BENCH_LOADGEN=process only). */
  cpuMs: number | null;
}

/** Sends request i to `urls[i % urls.length]` (one URL per replica). */
function runLoadGenerator(...urls: string[]): Promise<LoadResult> {
  const data = {
    urls,
    token: TOKENS.requester,
    warmup: WARMUP,
    total: GRANTS,
    concurrency: CONCURRENCY,
    template: JSON.stringify(requestBody('__I__')),
    client: CLIENT,
  };
  return new Promise((resolve, reject) => {
    const settle = (m: LoadResult & { error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m));
    if (LOADGEN === 'process') {
      const child = spawn(process.execPath, ['-e', LOAD_GENERATOR], {
        env: { ...process.env, BENCH_LOADGEN_DATA: JSON.stringify(data) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        // Structured clone over IPC, so the latencies stay a Float64Array.
        serialization: 'advanced',
      });
      child.once('message', settle);
      child.once('error', reject);
      child.once('exit', (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)));
      return;
    }
    const worker = new Worker(LOAD_GENERATOR, { eval: true, workerData: data });
    worker.once('message', (m) => {
      void worker.terminate();
      settle(m);
    });
    worker.once('error', reject);
  });
}

function writeTokensFile(dir: string): string {
  const file = join(dir, 'tokens.json');
  writeFileSync(
    file,
    JSON.stringify({
      tokens: [
        { subject: 'bench-pipeline', roles: ['requester'], sha256: sha256Hex(TOKENS.requester) },
        { subject: 'bench-auditor', roles: ['auditor'], sha256: sha256Hex(TOKENS.auditor) },
      ],
    }),
    { mode: 0o600 },
  );
  return file;
}

function brokerConfig(databaseUrl: string, tokensFile: string): BrokerConfig {
  return loadBrokerConfig({
    JIT_ROLE: 'all',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    JIT_TOKENS_FILE: tokensFile,
    // Checkpoints signed as in production (every 1,000 events or 60 s), into the run's folder.
    JIT_AUDIT_SIGNING_KEY: ensureAuditSigningKey(dirname(tokensFile)).keyFile,
    JIT_AUDIT_CHECKPOINT_FILE: join(dirname(tokensFile), 'audit-checkpoints.jsonl'),
    JIT_MIN_DURATION: 'PT1S',
    JIT_REPLICA_ID: 'bench',
    // The same allow-all rules the tests use: the bench measures the grant path, with one rule evaluated per request.
    JIT_POLICY_FILE: join(__dirname, '..', 'test', 'fixtures', 'allow-all.policy.yaml'),
    // One subject sends every request, far past the per-subject abuse limit (300 writes a minute).
    JIT_RATE_LIMIT_WRITES: '9999999/PT1M',
  });
}

function machine(): Record<string, string> {
  const cpus = os.cpus();
  let model = cpus[0]?.model ?? 'unknown';
  if (!model || model === 'unknown') {
    try {
      model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model;
    } catch {
      /* not Linux */
    }
  }
  let kernel = `${os.type()} ${os.release()}`;
  try {
    kernel = execSync('uname -srm').toString().trim();
  } catch {
    /* keep os.release */
  }
  return {
    cpu: model.trim(),
    cores: String(os.availableParallelism?.() ?? cpus.length),
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: kernel,
    node: process.version,
  };
}

/**
 * Samples what the database sessions of this benchmark are doing (pg_stat_activity every 20 ms):
 * waiting on a lock held by another transaction (the audit chain head), on WAL flush, or running.
 */
function sampleWaits(pool: Pool, dbName: string) {
  const counts = new Map<string, number>();
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await pool.query(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'running') AS w, count(*)::int AS n FROM pg_stat_activity
         WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid() GROUP BY 1`,
        [dbName],
      );
      samples++;
      for (const r of rows) counts.set(r.w, (counts.get(r.w) ?? 0) + r.n);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    const sorted = [...counts].sort((a, b) => b[1] - a[1]);
    return sorted.map(([w, n]) => `${w} ${(n / samples).toFixed(1)}`).join(', ');
  };
}

// ---------------------------------------------------------------------------------------------
// phases

async function apiThroughput(dbUrl: string, tokensFile: string, pool: Pool, dbName: string) {
  const providers = CLOUDS.map((c) => new LocalCloudProvider(c, targetKinds));
  const broker = await startBroker({ config: brokerConfig(dbUrl, tokensFile), providers, logLevels: ['error'] });
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const stopSampling = sampleWaits(pool, dbName);
    const r = await runLoadGenerator(broker.url!);
    const waits = await stopSampling();
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const cpuPercent = (cpuMs / (performance.now() - t0)) * 100;
    return { ...r, latencies: r.latencies.sort(), waits, cpuPercent, cpuMsPerGrant: cpuMs / (GRANTS + WARMUP) };
  } finally {
    await broker.close();
  }
}

/** One grant row plus one audit row per transaction, on copies of the broker's tables (same columns and indexes). */
async function floor(pool: Pool, withChainHead: boolean, concurrency = CONCURRENCY, total = GRANTS + WARMUP, suffix = withChainHead ? 'chained' : 'bare') {
  const provider = new LocalCloudProvider('aws', targetKinds);
  await pool.query(`CREATE TABLE floor_grants_${suffix} (LIKE grants INCLUDING ALL)`);
  await pool.query(`CREATE TABLE floor_audit_${suffix} (LIKE audit_events INCLUDING ALL)`);
  await pool.query(`CREATE TABLE floor_head_${suffix} (LIKE audit_chain_head INCLUDING ALL)`);
  await pool.query(`INSERT INTO floor_head_${suffix} VALUES (1, 0, $1)`, [GENESIS_HASH]);
  let seq = 0;
  let prevHash = GENESIS_HASH;
  const run = await closedLoop(total, concurrency, async (i) => {
    const now = new Date();
    const g = activeGrant(provider, i, now, new Date(now.getTime() + 3_600_000));
    const input = AuditTrail.requested(g, null);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // Same order as GrantTransitions.create: the grant row, then the chain head (locked until COMMIT).
      await client.query(`INSERT INTO floor_grants_${suffix} (${GRANT_COLUMNS}) VALUES ${placeholders(0, 28)}`, grantValues(g));
      let s: number;
      let prev: string;
      if (withChainHead) {
        const { rows } = await client.query(`SELECT seq, hash FROM floor_head_${suffix} WHERE id = 1 FOR UPDATE`);
        s = Number(rows[0].seq) + 1;
        prev = rows[0].hash;
      } else {
        s = ++seq;
        prev = prevHash;
      }
      const event = { ...input, seq: s, id: randomUUID(), occurredAt: now, prevHash: prev };
      const hash = hashEvent(event);
      prevHash = hash;
      await client.query(
        `INSERT INTO floor_audit_${suffix} (seq, id, occurred_at, type, grant_id, cloud, principal, actor, data, prev_hash, hash)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
        [s, event.id, now, input.type, input.grantId, input.cloud, input.principal, input.actor, JSON.stringify(input.data), prev, hash],
      );
      if (withChainHead) await client.query(`UPDATE floor_head_${suffix} SET seq = $1, hash = $2 WHERE id = 1`, [s, hash]);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  });
  return { elapsed: run.elapsed, total, latencies: run.latencies };
}

/**
 * Preload: `count` active grant rows in multi-row INSERTs with the store's columns, and their four
 * audit events each (requested, approved, provisioned, activated) chained by the broker's own
 * audit log (AuditLog.record).
 */
async function preloadActive(dbUrl: string, aws: LocalCloudProvider, createdAt: Date, count: number, expiresAt: (i: number) => Date) {
  const preloadDb = await openDatabase(dbUrl, '');
  const preloadClock = new SystemClock();
  const auditLog = new AuditLog(new PostgresUnitOfWork(preloadDb.dataSource, preloadClock, 'bench-preload'), new PostgresAuditChainStore(preloadDb.dataSource), preloadClock);
  const tPreload = performance.now();
  const grants: Grant[] = Array.from({ length: count }, (_, i) => activeGrant(aws, i, createdAt, expiresAt(i)));
  const BATCH = 500;
  for (let b = 0; b < grants.length; b += BATCH) {
    const batch = grants.slice(b, b + BATCH);
    await preloadDb.dataSource.query(
      `INSERT INTO grants (${GRANT_COLUMNS}) VALUES ${batch.map((_, r) => placeholders(r, 28)).join(',')}`,
      batch.flatMap(grantValues),
    );
    await auditLog.record(
      batch.flatMap((g) => [
        AuditTrail.requested(g, null),
        AuditTrail.approved(g, 'policy', null, true),
        AuditTrail.provisioned(g, g.providerRef!, false),
        AuditTrail.activated(g, createdAt),
      ]),
    );
  }
  // Statistics as autovacuum would have them by now (BENCH_ANALYZE), not those of an empty table.
  await analyzeAfterLoad(preloadDb.dataSource);
  await preloadDb.close();
  return { grants, preloadMs: performance.now() - tPreload };
}

/** Waits for the broker to chain every audit event committed so far (bench/audit-chained.ts), so audit_events can be counted. */
const chained = (url: string) => auditChained(url, TOKENS.auditor);

async function verifyLog(url: string) {
  const res = await fetch(`${url}/v1/audit/verify`, { headers: { authorization: `Bearer ${TOKENS.auditor}` } });
  return (await res.json()) as { ok: boolean; checked: number; firstBroken: unknown };
}

/**
 * Catch-up: CATCHUP grants already past their expiresAt when a broker (role=all, in-memory clouds)
 * starts, as after an outage; expiries/s from the broker being ready to the last grant ended.
 */
async function catchUp(dbUrl: string, tokensFile: string, pool: Pool, dbName: string) {
  const providers = CLOUDS.map((c) => new LocalCloudProvider(c, targetKinds));
  const aws = providers.find((p) => p.cloud === 'aws')!;
  const createdAt = new Date(Date.now() - 3_600_000);
  const { grants, preloadMs } = await preloadActive(dbUrl, aws, createdAt, CATCHUP, () => new Date(Date.now() - 1000));
  const ids = grants.map((g) => g.id);
  statementCounts.clear();
  countingStatements = true;
  const cpu0 = process.cpuUsage();
  const broker = await startBroker({ config: brokerConfig(dbUrl, tokensFile), providers, logLevels: ['error'] });
  const ready = Date.now();
  // From the broker being ready: its start-up (migrations check, lease release) is not catch-up work.
  const startCpu = process.cpuUsage(cpu0);
  const startStatements = [...statementCounts.values()].reduce((a, b) => a + b, 0);
  statementCounts.clear();
  const pg0 = await backendCpu(pool, dbName);
  try {
    let ended = 0;
    while (Date.now() < ready + 300_000) {
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM grants WHERE id = ANY($1::uuid[]) AND state = 'expired'`, [ids]);
      ended = rows[0].n;
      if (ended >= CATCHUP) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const cpu = process.cpuUsage(cpu0);
    countingStatements = false;
    const pgCpuMs = backendCpuDelta(pg0, await backendCpu(pool, dbName));
    const { rows } = await pool.query(`SELECT max(ended_at) AS last FROM grants WHERE id = ANY($1::uuid[])`, [ids]);
    const lastEnd = new Date(rows[0].last).getTime();
    // A state change answers before its events are chained (docs/audit.md).
    await chained(broker.url!);
    const { rows: audit } = await pool.query(
      `SELECT count(DISTINCT grant_id)::int AS n FROM audit_events WHERE type = 'grant.expired' AND grant_id = ANY($1::uuid[])`,
      [ids],
    );
    const revokes = aws.calls.filter((c) => c.op === 'revoke').length;
    return {
      preloadMs,
      ended,
      elapsedMs: lastEnd - ready,
      expiredAudited: audit[0].n as number,
      // node CPU of this process (the broker, plus the bench's polling) from ready to the last expiry seen.
      cpuMs: (cpu.user + cpu.system - startCpu.user - startCpu.system) / 1000,
      pgCpuMs,
      counts: Object.fromEntries(statementCounts),
      startStatements,
      revokes,
      verify: await verifyLog(broker.url!),
    };
  } finally {
    countingStatements = false;
    await broker.close();
  }
}

/** Phase 4 with `count` broker processes (bench/catchup-broker.child.ts) catching up together. */
async function catchUpProcesses(dbUrl: string, tokensFile: string, pool: Pool, dbName: string, count: number) {
  const aws = new LocalCloudProvider('aws', targetKinds);
  return catchUpReplicas({
    dbUrl,
    dbName,
    pool,
    replicas: count,
    env: (i) => replicaEnv(dbUrl, tokensFile, `catchup-${count}-${i}`),
    preload: async () => {
      // Not due while the brokers start; catchUpReplicas makes them due at one instant.
      const createdAt = new Date();
      const { grants, preloadMs } = await preloadActive(dbUrl, aws, createdAt, CATCHUP, () => new Date(createdAt.getTime() + 7_200_000));
      return { ids: grants.map((g) => g.id), preloadMs };
    },
    chained,
    verify: verifyLog,
  });
}

/** The environment of a broker process on the bench database, with the bench's settings (replica id `id`). */
function replicaEnv(dbUrl: string, tokensFile: string, id: string): Record<string, string> {
  const dir = dirname(tokensFile);
  return {
    JIT_ROLE: 'all',
    DATABASE_URL: dbUrl,
    JIT_TOKENS_FILE: tokensFile,
    JIT_AUDIT_SIGNING_KEY: ensureAuditSigningKey(dir).keyFile,
    JIT_AUDIT_CHECKPOINT_FILE: join(dir, `audit-checkpoints-${id}.jsonl`),
    JIT_MIN_DURATION: 'PT1S',
    JIT_REPLICA_ID: id,
    JIT_POLICY_FILE: join(__dirname, '..', 'test', 'fixtures', 'allow-all.policy.yaml'),
    JIT_RATE_LIMIT_WRITES: '9999999/PT1M',
  };
}

/** Broker processes (`test/setup/local-broker.child.ts`: in-memory clouds) on the bench database, with the bench's settings. */
async function spawnReplicas(dbUrl: string, tokensFile: string, count: number): Promise<BrokerProcess[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) => spawnBroker(join(__dirname, '..', 'test', 'setup', 'local-broker.child.ts'), replicaEnv(dbUrl, tokensFile, `bench-${i}`))),
  );
}

/** POST /v1/grants spread over `count` broker processes, the load generator in this process's worker thread. */
async function replicaThroughput(dbUrl: string, tokensFile: string, count: number, pool: Pool, dbName: string) {
  const replicas = await spawnReplicas(dbUrl, tokensFile, count);
  try {
    const brokersCpu = () => replicas.reduce((sum, b) => sum + processCpuMs(b.child.pid!), 0);
    const [node0, pg0] = [brokersCpu(), await backendCpu(pool, dbName)];
    const stopSampling = sampleWaits(pool, dbName);
    const r = await runLoadGenerator(...replicas.map((b) => b.url));
    const waits = await stopSampling();
    // Per request sent, warm-up included, as phase 1's broker CPU.
    const perGrant = (cpuMs: number) => (cpuMs / (GRANTS + WARMUP)).toFixed(2);
    const cpu = `brokers ${perGrant(brokersCpu() - node0)}, PostgreSQL ${perGrant(backendCpuDelta(pg0, await backendCpu(pool, dbName)))}`;
    return { ...r, latencies: r.latencies.sort(), waits, cpu, verify: await verifyLog(replicas[0].url) };
  } finally {
    await Promise.all(replicas.map((b) => b.stop()));
  }
}

async function revocationLag(dbUrl: string, tokensFile: string, pool: Pool) {
  const providers = CLOUDS.map((c) => new LocalCloudProvider(c, targetKinds));
  const aws = providers.find((p) => p.cloud === 'aws')!;

  const createdAt = new Date();
  // expiresAt: evenly spread over WINDOW_S, starting LEAD_MS after an estimated preload time.
  const estimatedPreloadMs = 1000 + EXPIRING * 0.6;
  const firstExpiry = createdAt.getTime() + estimatedPreloadMs + LEAD_MS;
  const { grants, preloadMs } = await preloadActive(dbUrl, aws, createdAt, EXPIRING, (i) => new Date(firstExpiry + Math.floor((i * WINDOW_S * 1000) / EXPIRING)));

  const tStart = Date.now();
  const broker: RunningBroker = await startBroker({ config: brokerConfig(dbUrl, tokensFile), providers, logLevels: ['error'] });
  const brokerReadyAt = Date.now();
  try {
    const ids = grants.map((g) => g.id);
    const deadline = firstExpiry + WINDOW_S * 1000 + 120_000;
    let ended = 0;
    while (Date.now() < deadline) {
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM grants WHERE id = ANY($1::uuid[]) AND state NOT IN ('active','revoking')`,
        [ids],
      );
      ended = rows[0].n;
      if (ended >= EXPIRING) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const allEndedSeenAt = Date.now();

    const expiresAt = new Map(grants.map((g) => [g.id, g.expiresAt.getTime()]));
    const revokeAt = new Map<string, number>();
    for (const c of aws.calls) if (c.op === 'revoke' && expiresAt.has(c.grantId) && !revokeAt.has(c.grantId)) revokeAt.set(c.grantId, c.at.getTime());
    const lags = sortNum([...revokeAt].map(([id, at]) => at - expiresAt.get(id)!));
    const early = lags.filter((x) => x < 0).length;

    const { rows: states } = await pool.query(
      `SELECT state, count(*)::int AS n, max(ended_at) AS last_end FROM grants WHERE id = ANY($1::uuid[]) GROUP BY state`,
      [ids],
    );
    // A state change answers before its events are chained (docs/audit.md).
    await chained(broker.url!);
    const { rows: audit } = await pool.query(
      `SELECT count(DISTINCT grant_id)::int AS n FROM audit_events WHERE type = 'grant.expired' AND grant_id = ANY($1::uuid[])`,
      [ids],
    );
    const lastEnd = Math.max(...states.map((s) => (s.last_end ? new Date(s.last_end).getTime() : 0)));
    const verify = await verifyLog(broker.url!);
    const lagMetric = await broker.metrics.revocationLag.get();
    return {
      preloadMs,
      brokerStartMs: brokerReadyAt - tStart,
      startedBeforeFirstExpiry: brokerReadyAt < firstExpiry,
      firstExpiry,
      lastExpiry: firstExpiry + Math.floor(((EXPIRING - 1) * WINDOW_S * 1000) / EXPIRING),
      ended,
      allEndedSeenAt,
      lastEnd,
      lags,
      early,
      revoked: revokeAt.size,
      states: Object.fromEntries(states.map((s) => [s.state, s.n])),
      expiredAudited: audit[0].n as number,
      verify,
      metricCount: lagMetric.values.find((v) => v.metricName === 'jit_revocation_lag_seconds_count')?.value ?? 0,
    };
  } finally {
    await broker.close();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  const name = `jit_bench_${randomBytes(5).toString('hex')}`;
  const dbUrl = new URL(SERVER_URL);
  dbUrl.pathname = `/${name}`;
  const admin = new Client({ connectionString: SERVER_URL });
  await admin.connect();
  const pgVersion = (await admin.query('SHOW server_version')).rows[0].server_version as string;
  const pgSettings: Record<string, string> = {};
  for (const s of ['synchronous_commit', 'fsync', 'shared_buffers', 'max_connections']) {
    pgSettings[s] = (await admin.query(`SHOW ${s}`)).rows[0][s];
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();

  const dir = mkdtempSync(join(os.tmpdir(), 'jit-bench-'));
  const tokensFile = writeTokensFile(dir);
  const m = machine();
  const cfg = brokerConfig(dbUrl.toString(), tokensFile);

  console.log('JIT broker benchmark');
  console.log('machine');
  for (const [k, v] of Object.entries(m)) line(k, v);
  line('postgresql', `${pgVersion} (${Object.entries(pgSettings).map(([k, v]) => `${k}=${v}`).join(', ')})`);
  line('load average (1/5/15 min) at start', os.loadavg().map((x) => x.toFixed(2)).join(' / '));
  line('database', `${dbUrl.host}/${name} (created for this run, dropped at the end)`);
  console.log('configuration');
  line('BENCH_GRANTS / BENCH_WARMUP', `${GRANTS} / ${WARMUP}`);
  line('BENCH_CONCURRENCY', String(CONCURRENCY));
  line('BENCH_EXPIRING over BENCH_WINDOW_S', `${EXPIRING} over ${WINDOW_S} s`);
  line('BENCH_CATCHUP / BENCH_REPLICAS', `${CATCHUP} / ${REPLICAS}`);
  line('BENCH_LOADGEN / BENCH_CLIENT', `${LOADGEN} / ${CLIENT}`);
  line('BENCH_PHASES', [...PHASES].sort((a, b) => a - b).join(','));
  line('BENCH_ANALYZE', !benchAnalyze() ? '0 (no ANALYZE after the preloads)' : '1 (ANALYZE after each preload, as autovacuum would)');
  line('broker', `role=${cfg.role}, db pool=10, sweep interval=${cfg.sweepIntervalMs} ms, sweep concurrency=${cfg.sweepConcurrency}, lease=${cfg.leaseMs} ms`);
  line('clouds', 'local in-memory (aws, azure, gcp); every grant a distinct principal, aws.iam-policy');

  const pool = new Pool({ connectionString: dbUrl.toString(), max: 10, application_name: BENCH_APPLICATION });
  try {
    // Migrate once, before anything is timed.
    await (await openDatabase(dbUrl.toString(), '')).close();

    let okAll = true;
    let apiRate: number | null = null;
    if (PHASES.has(1)) {
      console.log(`\n1. POST /v1/grants through HTTP (${GRANTS} grants after ${WARMUP} warm-up, ${CONCURRENCY} keep-alive connections; load generator: ${LOADGEN === 'worker' ? 'worker thread' : 'own process'}, ${CLIENT})`);
      const api = await apiThroughput(dbUrl.toString(), tokensFile, pool, name);
      apiRate = GRANTS / api.elapsed;
      line('grants/s', rate(GRANTS, api.elapsed));
      line('latency p50 / p99 / max', `${ms(pct(api.latencies, 50))} / ${ms(pct(api.latencies, 99))} / ${ms(pct(api.latencies, 100))}`);
      if (LOADGEN === 'worker') {
        line('node CPU (broker + load generator)', `${api.cpuPercent.toFixed(0)}% of one core, ${api.cpuMsPerGrant.toFixed(2)} ms per grant (warm-up included)`);
      } else {
        line('node CPU, broker (this process)', `${api.cpuPercent.toFixed(0)}% of one core, ${api.cpuMsPerGrant.toFixed(2)} ms per grant (warm-up included)`);
        line('load generator (own process)', `${((api.cpuMs ?? 0) / GRANTS).toFixed(2)} ms of CPU per grant`);
      }
      line('db sessions by wait (mean)', api.waits);
      line('responses', Object.entries(api.statuses).map(([s, n]) => `${n}× ${s}`).join(', '));
    }

    if (PHASES.has(2)) {
      console.log(`\n2. physical floor: 1 grant row + 1 audit row per transaction, ${CONCURRENCY} concurrent, pool of 10`);
      const bare = await floor(pool, false);
      line('bare INSERTs, tx/s', `${rate(bare.total, bare.elapsed)}  (p50 ${ms(pct(bare.latencies, 50))}, p99 ${ms(pct(bare.latencies, 99))})`);
      const stopFloorSampling = sampleWaits(pool, name);
      const chained = await floor(pool, true);
      const floorWaits = await stopFloorSampling();
      line('+ chain head lock, tx/s', `${rate(chained.total, chained.elapsed)}  (p50 ${ms(pct(chained.latencies, 50))}, p99 ${ms(pct(chained.latencies, 99))})`);
      line('  db sessions by wait (mean)', floorWaits);
      const serial = await floor(pool, false, 1, Math.min(500, GRANTS), 'serial');
      line('bare INSERTs, 1 connection, tx/s', `${rate(serial.total, serial.elapsed)}  (p50 ${ms(pct(serial.latencies, 50))}: one commit round trip)`);
      if (apiRate !== null) line('API grants/s ÷ bare floor', `${(apiRate / (bare.total / bare.elapsed)).toFixed(2)}`);
    }

    if (PHASES.has(3)) {
      console.log(`\n3. revocation lag: ${EXPIRING} active grants expiring over ${WINDOW_S} s, broker role=all with its sweeper`);
      const lag = await revocationLag(dbUrl.toString(), tokensFile, pool);
      line('preload (SQL + AuditLog.record)', `${(lag.preloadMs / 1000).toFixed(1)} s; broker started in ${lag.brokerStartMs} ms, ${lag.startedBeforeFirstExpiry ? 'before' : 'AFTER'} the first expiry`);
      line('revoke calls', `${lag.revoked} of ${EXPIRING}${lag.early ? ` (${lag.early} BEFORE expiresAt)` : ''}`);
      line('lag p50 / p99 / max', `${ms(pct(lag.lags, 50))} / ${ms(pct(lag.lags, 99))} / ${ms(pct(lag.lags, 100))}`);
      line('last expiresAt → last grant ended', `${((lag.lastEnd - lag.lastExpiry) / 1000).toFixed(2)} s`);
      line('first expiresAt → all ended', `${((lag.lastEnd - lag.firstExpiry) / 1000).toFixed(1)} s (window ${WINDOW_S} s)`);
      line('final states', Object.entries(lag.states).map(([s, n]) => `${s}=${n}`).join(', '));
      line('grant.expired audit events', `${lag.expiredAudited} of ${EXPIRING}`);
      line('jit_revocation_lag_seconds count', String(lag.metricCount));
      line('GET /v1/audit/verify', `ok=${lag.verify.ok}, checked=${lag.verify.checked}${lag.verify.firstBroken ? `, first broken ${JSON.stringify(lag.verify.firstBroken)}` : ''}`);
      okAll &&= lag.states.expired === EXPIRING && lag.expiredAudited === EXPIRING && lag.verify.ok && lag.revoked === EXPIRING && lag.early === 0;
    }

    if (PHASES.has(4)) {
      console.log(`\n4. catch-up: ${CATCHUP} active grants already expired when a broker (role=all) starts`);
      const cu = await catchUp(dbUrl.toString(), tokensFile, pool, name);
      line('preload (SQL + AuditLog.record)', `${(cu.preloadMs / 1000).toFixed(1)} s`);
      line('expiries/s', `${rate(cu.ended, cu.elapsedMs)}  (${cu.ended} of ${CATCHUP} expired in ${(cu.elapsedMs / 1000).toFixed(2)} s from broker ready)`);
      line('node CPU ms per expiry', `${(cu.cpuMs / CATCHUP).toFixed(3)} (broker in this process, with the bench's polling)`);
      line('PostgreSQL CPU ms per expiry', `${(cu.pgCpuMs / CATCHUP).toFixed(3)} (the broker's backends)`);
      line('statements per expiry', formatCounts(cu.counts, CATCHUP));
      line('revoke calls', `${cu.revokes} for ${CATCHUP} grants`);
      line('grant.expired audit events', `${cu.expiredAudited} of ${CATCHUP}`);
      line('GET /v1/audit/verify', `ok=${cu.verify.ok}, checked=${cu.verify.checked}`);
      okAll &&= cu.ended === CATCHUP && cu.expiredAudited === CATCHUP && cu.verify.ok;
      for (let n = 1; n <= REPLICAS; n++) {
        const rp = await catchUpProcesses(dbUrl.toString(), tokensFile, pool, name, n);
        console.log(`   ${n} broker process${n > 1 ? 'es' : ''} (role=all, own processes), ${CATCHUP} grants due at one instant`);
        line('  expiries/s', `${rate(rp.ended, rp.elapsedMs)}  (${rp.ended} of ${CATCHUP} expired in ${(rp.elapsedMs / 1000).toFixed(2)} s from their expiresAt)`);
        line('  node CPU ms per expiry', `${(rp.cpuMs / CATCHUP).toFixed(3)} (all processes)`);
        line('  PostgreSQL CPU ms per expiry', (rp.pgCpuMs / CATCHUP).toFixed(3));
        line('  statements per expiry', formatCounts(rp.counts, CATCHUP));
        line('  revoke calls by process', `${rp.perReplica.join(' + ')} = ${rp.revokes}; grants revoked by two processes: ${rp.doubled}`);
        line('  grant.expired events', `${rp.expiredEvents} for ${rp.expiredAudited} of ${CATCHUP} grants; verify ok=${rp.verify.ok}`);
        okAll &&= rp.ended === CATCHUP && rp.expiredAudited === CATCHUP && rp.expiredEvents === CATCHUP && rp.doubled === 0 && rp.verify.ok;
      }
    }

    if (PHASES.has(5)) {
      console.log(`\n5. POST /v1/grants against broker processes on this database (${GRANTS} grants after ${WARMUP} warm-up, ${CONCURRENCY} connections spread over them)`);
      for (let n = 1; n <= REPLICAS; n++) {
        const rep = await replicaThroughput(dbUrl.toString(), tokensFile, n, pool, name);
        line(`${n} replica${n > 1 ? 's' : ''}: grants/s`, `${rate(GRANTS, rep.elapsed)}  (p50 ${ms(pct(rep.latencies, 50))}, p99 ${ms(pct(rep.latencies, 99))}; ${Object.entries(rep.statuses).map(([st, k]) => `${k}× ${st}`).join(', ')}; verify ok=${rep.verify.ok})`);
        line('  CPU ms per grant (with warm-up)', rep.cpu);
        line('  db sessions by wait (mean)', rep.waits);
        okAll &&= rep.verify.ok && rep.statuses['201'] === GRANTS;
      }
    }

    console.log('');
    line('load average (1/5/15 min) at end', os.loadavg().map((x) => x.toFixed(2)).join(' / '));
    console.log(`\nchecks ${okAll ? 'passed' : 'FAILED'}; total run ${((performance.now() - started) / 1000).toFixed(0)} s`);
    if (!okAll) process.exitCode = 1;
  } finally {
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
    const c = new Client({ connectionString: SERVER_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
