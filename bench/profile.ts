import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { AuditLog, AuditTrail } from '@jit/audit';
import { SystemClock } from '@jit/domain';
import { PostgresAuditChainStore, PostgresUnitOfWork } from '@jit/persistence';
import { ensureAuditSigningKey } from '../apps/broker/src/audit/audit-signing-key.file';
import { sha256Hex } from '../apps/broker/src/http/auth/token-registry';
import { intEnv } from './env';
import { analyzeAfterLoad, benchAnalyze, openScratchDatabase } from './scratch-database';

/**
 * `npm run bench:profile`: what one grant and one expiry cost the broker, measured in a broker
 * process of its own (bench/profile-broker.child.ts, in-memory clouds, PostgreSQL at
 * BENCH_DATABASE_URL in a scratch database dropped afterwards), so the load generator and the
 * machine's other work distort it little:
 *   - node CPU ms per operation (the broker process's `process.cpuUsage()`), and the CPU of its
 *     PostgreSQL backends (/proc/<pid>/stat) per operation;
 *   - statements and transactions (BEGIN) the broker sent per operation, by verb;
 *   - the 15 functions with the most self time in V8's CPU profile, and self time by package.
 * Phase 1: PROFILE_GRANTS POST /v1/grants (after PROFILE_WARMUP), PROFILE_CONCURRENCY connections;
 * the load generator (this process; Node's fetch, or PROFILE_CLIENT=http for node:http on a
 * keep-alive agent) prints its own CPU per grant too.
 * Phase 2: PROFILE_CATCHUP active grants made overdue at once; the sweeper ends them
 * (PROFILE_PHASES=1 runs phase 1 alone).
 * PROFILE_LOG_LEVEL=info runs the broker at that JIT_LOG_LEVEL (JSON lines to /dev/null), so the
 * access log's cost is in the figures as in production; by default it logs errors only.
 * PROFILE_KEEP=dir keeps the .cpuprofile files (open them in Chrome DevTools).
 * PROFILE_SETUP_SQL runs on the scratch database before phase 1 (an index dropped, a setting), to
 * weigh a schema change against the same tree without it.
 * After the warm-up and after phase 2's preload the tables are analyzed, as autovacuum would have
 * done in a running deployment; BENCH_ANALYZE=0 skips it (the broker then plans on the statistics
 * of an almost empty database).
 */

const SERVER_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const GRANTS = intEnv('PROFILE_GRANTS', 3000);
const WARMUP = intEnv('PROFILE_WARMUP', 500);
const CONCURRENCY = intEnv('PROFILE_CONCURRENCY', 16);
const CATCHUP = intEnv('PROFILE_CATCHUP', 3000);
const PHASES = process.env.PROFILE_PHASES ?? '1,2';
if (!/^1(,2)?$/.test(PHASES)) throw new Error(`PROFILE_PHASES must be 1 or 1,2, got ${JSON.stringify(PHASES)}`);
const LOG_LEVEL = process.env.PROFILE_LOG_LEVEL;
const CLIENT = process.env.PROFILE_CLIENT ?? 'fetch';
if (CLIENT !== 'fetch' && CLIENT !== 'http') throw new Error(`PROFILE_CLIENT must be fetch or http, got ${JSON.stringify(CLIENT)}`);
const TOP = 15;
benchAnalyze();
const CLK_TCK = 100;

const TOKEN = `prof-req-${randomBytes(12).toString('hex')}`;

const line = (label: string, value: string) => console.log(`  ${label.padEnd(38)} ${value}`);

function requestBody(tag: string) {
  return JSON.stringify({
    cloud: 'aws',
    principal: { type: 'workload', id: `arn:aws:iam::123456789012:role/prof-${tag}` },
    target: { kind: 'aws.iam-policy', actions: ['s3:PutObject'], resources: ['arn:aws:s3:::artifacts/*'] },
    duration: 'PT1H',
    justification: 'release 1.4.2',
    ticket: 'CHG-1234',
  });
}

interface Child {
  proc: ChildProcess;
  url: string;
  request(op: string, extra?: object): Promise<Record<string, unknown>>;
}

async function spawnProfiledBroker(env: Record<string, string>): Promise<Child> {
  const proc = spawn(process.execPath, ['--experimental-vm-modules', '-r', '@swc-node/register', join(__dirname, 'profile-broker.child.ts')], {
    cwd: join(__dirname, '..'),
    env: { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', ...env },
    // With PROFILE_LOG_LEVEL the broker writes its lines as in production, to nowhere.
    stdio: ['ignore', LOG_LEVEL ? 'ignore' : 'inherit', 'inherit', 'ipc'],
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`profiled broker exited (${code})`));
      proc.once('exit', onExit);
      proc.once('message', (m: Record<string, unknown>) => {
        proc.off('exit', onExit);
        resolve(m);
      });
    });
  const ready = await next();
  return {
    proc,
    url: ready.url as string,
    request: (op, extra) => {
      const answer = next();
      proc.send({ op, ...extra });
      return answer;
    },
  };
}

/** One POST /v1/grants with Node's fetch (undici inside, keep-alive): the client `npm run bench` uses. */
async function postWithFetch(url: string, body: string): Promise<number> {
  const res = await fetch(`${url}/v1/grants`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body });
  await res.arrayBuffer();
  return res.status;
}

/** The same with node:http on a keep-alive agent of CONCURRENCY sockets: no WHATWG streams, Headers or Response objects. */
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function postWithHttp(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/v1/grants`, {
      method: 'POST',
      agent,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.once('error', reject);
    req.once('response', (res) => {
      res.on('data', () => undefined);
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', reject);
    });
    req.end(body);
  });
}

async function postGrants(url: string, count: number, tag: string): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  const post = CLIENT === 'http' ? postWithHttp : postWithFetch;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, count) }, async () => {
      for (let i = next++; i < count; i = next++) {
        const status = await post(url, requestBody(`${tag}${i}`));
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  return statuses;
}

/** This script's own sessions, left out of the broker's database CPU (its polling would grow with the wall time). */
const OWN_APPLICATION = 'jit-profile-driver';

/** CPU ms of each of the broker's backends on `db` (utime + stime from /proc), by pid. */
async function backendCpu(pool: Pool, db: string): Promise<Map<number, number>> {
  const { rows } = await pool.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name <> $2`, [db, OWN_APPLICATION]);
  const out = new Map<number, number>();
  for (const { pid } of rows as { pid: number }[]) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      out.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK);
    } catch {
      /* not on this host, or gone */
    }
  }
  return out;
}

function backendCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, ms] of after) sum += ms - (before.get(pid) ?? 0);
  return sum;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Where a profiled function lives: the package under node_modules, the repo's lib or app, node's internals, or V8's pseudo-frames. */
function packageOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) return 'node';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 14).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const repo = /\/(apps|libs|bench|test)\/((?:providers|simulators)\/)?([^/]+)/.exec(url);
  return repo ? `${repo[1]}/${repo[2] ?? ''}${repo[3]}` : url;
}

/**
 * Self time by package and the top functions, as shares of the profile's busy samples and as
 * CPU ms per operation (the share times the process's measured CPU per operation: V8 samples
 * wall time, which a loaded machine stretches, so the samples alone overstate the cost).
 */
function summarise(file: string, ops: number, cpuMsPerOp: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0)));
  const fns = new Map<string, { us: number; pkg: string }>();
  const pkgs = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const pkg = packageOf(url, functionName);
    if (pkg === '(idle)') continue;
    total += us;
    const where = url ? `${url.replace(/^file:\/\//, '').replace(`${join(__dirname, '..')}/`, '').replace(/^.*node_modules\//, '')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`;
    const f = fns.get(key) ?? { us: 0, pkg };
    f.us += us;
    fns.set(key, f);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
  }
  const fmt = (us: number) => `${((us / total) * cpuMsPerOp).toFixed(3)} ms/op  ${((us / total) * 100).toFixed(1).padStart(4)}%`;
  console.log(`  self time by package (${(total / 1000).toFixed(0)} ms of busy samples, ${ops} ops)`);
  for (const [pkg, us] of [...pkgs].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`    ${fmt(us)}  ${pkg}`);
  console.log(`  top ${TOP} functions by self time`);
  for (const [key, f] of [...fns].sort((a, b) => b[1].us - a[1].us).slice(0, TOP)) console.log(`    ${fmt(f.us)}  [${f.pkg}] ${key}`);
}

function report(label: string, ops: number, stopped: Record<string, unknown>, pgCpuMs: number, elapsedMs: number, idleShare: number): void {
  const counts = stopped.counts as Record<string, number>;
  const statements = Object.values(counts).reduce((a, b) => a + b, 0);
  line(`${label}/s (wall, machine shared)`, (ops / (elapsedMs / 1000)).toFixed(0));
  const cpuMs = stopped.cpuMs as number;
  const wallMs = stopped.wallMs as number;
  line(`node CPU ms per ${label}`, `${(cpuMs / ops).toFixed(3)}  (${((cpuMs / wallMs) * 100).toFixed(0)}% of a core)`);
  // The idle broker's timers and polls run meanwhile, more of them the longer a loaded machine takes.
  line(`  net of the idle broker's share`, (Math.max(0, cpuMs - idleShare * wallMs) / ops).toFixed(3));
  line(`PostgreSQL backends' CPU ms per ${label}`, (pgCpuMs / ops).toFixed(3));
  line(`statements per ${label}`, (statements / ops).toFixed(2));
  line(`transactions (BEGIN) per ${label}`, ((counts.BEGIN ?? 0) / ops).toFixed(2));
  line('  by verb, per op', Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([v, n]) => `${v} ${(n / ops).toFixed(2)}`).join(', '));
}

async function main(): Promise<void> {
  const scratch = await openScratchDatabase(SERVER_URL, 'jit_profile');
  const dbName = new URL(scratch.url).pathname.slice(1);
  const dir = mkdtempSync(join(os.tmpdir(), 'jit-profile-'));
  const keep = process.env.PROFILE_KEEP;
  const pool = new Pool({ connectionString: scratch.url, max: 2, application_name: OWN_APPLICATION });
  // An idle session cut by the server must not end the run (pg.Pool throws an unhandled 'error' event otherwise).
  pool.on('error', (e) => console.error(`profile driver's idle session ended: ${e.message}`));
  let child: Child | null = null;
  try {
    const tokensFile = join(dir, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify({ tokens: [{ subject: 'prof-pipeline', roles: ['requester'], sha256: sha256Hex(TOKEN) }] }), { mode: 0o600 });
    child = await spawnProfiledBroker({
      JIT_ROLE: 'all',
      DATABASE_URL: scratch.url,
      JIT_TOKENS_FILE: tokensFile,
      JIT_AUDIT_SIGNING_KEY: ensureAuditSigningKey(dir).keyFile,
      JIT_AUDIT_CHECKPOINT_FILE: join(dir, 'audit-checkpoints.jsonl'),
      JIT_MIN_DURATION: 'PT1S',
      JIT_REPLICA_ID: 'profile',
      JIT_POLICY_FILE: join(__dirname, '..', 'test', 'fixtures', 'allow-all.policy.yaml'),
      JIT_RATE_LIMIT_WRITES: '9999999/PT1M',
      JIT_SWEEP_INTERVAL: 'PT1S',
      ...(LOG_LEVEL ? { JIT_LOG_LEVEL: LOG_LEVEL, JIT_LOG_FORMAT: 'json', PROFILE_LOG_LEVEL: LOG_LEVEL } : {}),
    });
    console.log('JIT broker profile (broker in its own process, in-memory clouds)');
    line('load average (1/5/15 min) at start', os.loadavg().map((x) => x.toFixed(2)).join(' / '));
    line('database', `${dbName} (dropped at the end)`);
    line('broker log level', LOG_LEVEL ? `${LOG_LEVEL} (JSON lines to /dev/null)` : 'error (PROFILE_LOG_LEVEL=info for the access log)');

    // What the idle broker spends (timers, the chainer's and sweeper's polls), to tell from the work.
    await child.request('start');
    await new Promise((r) => setTimeout(r, 5_000));
    const idle = await child.request('stop', { file: join(dir, 'idle.cpuprofile') });
    const idleShare = (idle.cpuMs as number) / (idle.wallMs as number);
    line('idle broker', `${(idleShare * 100).toFixed(1)}% of a core, ${Object.values(idle.counts as Record<string, number>).reduce((a, b) => a + b, 0)} statements in ${((idle.wallMs as number) / 1000).toFixed(1)} s`);

    // PROFILE_SETUP_SQL: statements run on the scratch database before phase 1, to weigh a schema
    // change (an index dropped, a setting) against the same tree without it.
    if (process.env.PROFILE_SETUP_SQL) {
      await pool.query(process.env.PROFILE_SETUP_SQL);
      line('setup SQL', process.env.PROFILE_SETUP_SQL);
    }

    console.log(`\n1. POST /v1/grants: ${GRANTS} after ${WARMUP} warm-up, ${CONCURRENCY} connections`);
    await postGrants(child.url, WARMUP, 'w');
    if (await analyzeAfterLoad(pool)) line('after the warm-up', 'ANALYZE (BENCH_ANALYZE=0 skips it)');
    let pg0 = await backendCpu(pool, dbName);
    await child.request('start');
    let t0 = performance.now();
    const loadCpu0 = process.cpuUsage();
    const statuses = await postGrants(child.url, GRANTS, 'm');
    const loadCpu = process.cpuUsage(loadCpu0);
    let elapsed = performance.now() - t0;
    const apiFile = join(keep ?? dir, 'api.cpuprofile');
    let stopped = await child.request('stop', { file: apiFile });
    let pgCpu = backendCpuDelta(pg0, await backendCpu(pool, dbName));
    line('responses', Object.entries(statuses).map(([s, n]) => `${n}× ${s}`).join(', '));
    report('grant', GRANTS, stopped, pgCpu, elapsed, idleShare);
    line('load generator CPU ms per grant', `${((loadCpu.user + loadCpu.system) / 1000 / GRANTS).toFixed(3)}  (${CLIENT === 'http' ? 'node:http, keep-alive agent' : 'fetch'}, this process)`);
    summarise(apiFile, GRANTS, (stopped.cpuMs as number) / GRANTS);
    if (!PHASES.includes('2')) return;

    console.log(`\n2. catch-up: ${CATCHUP} active grants made overdue at once, ended by the sweeper (interval 1 s)`);
    const ids = await preloadActive(scratch, CATCHUP);
    if (await analyzeAfterLoad(pool)) line('after the preload', 'ANALYZE (BENCH_ANALYZE=0 skips it)');
    pg0 = await backendCpu(pool, dbName);
    await child.request('start');
    t0 = performance.now();
    const overdueAt = new Date();
    await pool.query(`UPDATE grants SET expires_at = now() - interval '1 second' WHERE id = ANY($1::uuid[])`, [ids]);
    // Only these grants expire in this phase (phase 1's last an hour): a cheap count, every 250 ms.
    for (;;) {
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM grants WHERE state = 'expired'`);
      if (rows[0].n >= CATCHUP || performance.now() - t0 > 600_000) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    elapsed = performance.now() - t0;
    const cuFile = join(keep ?? dir, 'catchup.cpuprofile');
    stopped = await child.request('stop', { file: cuFile });
    pgCpu = backendCpuDelta(pg0, await backendCpu(pool, dbName));
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n, min(ended_at) AS first, max(ended_at) AS last FROM grants WHERE id = ANY($1::uuid[]) AND state = 'expired'`,
      [ids],
    );
    const span = new Date(rows[0].last).getTime() - new Date(rows[0].first).getTime();
    line('expired', `${rows[0].n} of ${CATCHUP}; first ended ${new Date(rows[0].first).getTime() - overdueAt.getTime()} ms after they fell due`);
    line('expiries/s, first to last ended', (rows[0].n / (span / 1000)).toFixed(0));
    report('expiry', CATCHUP, stopped, pgCpu, elapsed, idleShare);
    summarise(cuFile, CATCHUP, (stopped.cpuMs as number) / CATCHUP);
    line('\nload average (1/5/15 min) at end', os.loadavg().map((x) => x.toFixed(2)).join(' / '));
  } finally {
    if (child) await child.request('exit').catch(() => undefined);
    await pool.end();
    await scratch.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `count` active grants expiring in an hour, with their four audit events each chained by the broker's own audit log. */
async function preloadActive(scratch: Awaited<ReturnType<typeof openScratchDatabase>>, count: number): Promise<string[]> {
  const clock = new SystemClock();
  const ds = scratch.db.dataSource;
  const auditLog = new AuditLog(new PostgresUnitOfWork(ds, clock, 'profile-preload'), new PostgresAuditChainStore(ds), clock);
  const ids: string[] = [];
  const now = new Date();
  const expiresAt = new Date(now.getTime() + 3_600_000);
  for (let b = 0; b < count; b += 500) {
    const batch = Array.from({ length: Math.min(500, count - b) }, (_, i) => {
      const id = randomUUID();
      ids.push(id);
      const n = b + i;
      return {
        id, state: 'active' as const, cloud: 'aws' as const, kind: 'aws.iam-policy',
        principal: { type: 'workload' as const, id: `arn:aws:iam::123456789012:role/prof-c${n}` },
        target: { kind: 'aws.iam-policy', actions: ['s3:PutObject'], resources: ['arn:aws:s3:::artifacts/*'] },
        requestedBy: 'prof-pipeline', justification: 'release 1.4.2', ticket: 'CHG-1234', durationSeconds: 3600,
        createdAt: now, startsAt: now, expiresAt, endedAt: null, endReason: null,
        approvals: [{ approver: 'policy', decision: 'approved' as const, at: now.toISOString() }],
        artifactName: `jit-${id}`, overlapKey: `aws:prof-c${n}`, providerRef: { local: 'aws', artifact: `jit-${id}` },
        lastError: null, attempts: 0, nextAttemptAt: null, decision: null, approvalDeadline: null, revokeRequest: null,
      };
    });
    await ds.query(
      `INSERT INTO grants (id, state, cloud, kind, principal_type, principal_id, target, requested_by, justification, ticket,
         duration_seconds, created_at, starts_at, expires_at, approvals, artifact_name, overlap_key, provider_ref, attempts, updated_at)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::text[], $9::text[],
         $10::text[], $11::int[], $12::timestamptz[], $13::timestamptz[], $14::timestamptz[], $15::jsonb[], $16::text[], $17::text[],
         $18::jsonb[], $19::int[], $12::timestamptz[])`,
      [
        batch.map((g) => g.id), batch.map((g) => g.state), batch.map((g) => g.cloud), batch.map((g) => g.kind),
        batch.map((g) => g.principal.type), batch.map((g) => g.principal.id), batch.map((g) => JSON.stringify(g.target)),
        batch.map((g) => g.requestedBy), batch.map((g) => g.justification), batch.map((g) => g.ticket),
        batch.map((g) => g.durationSeconds), batch.map((g) => g.createdAt), batch.map((g) => g.startsAt),
        batch.map((g) => g.expiresAt), batch.map((g) => JSON.stringify(g.approvals)), batch.map((g) => g.artifactName),
        batch.map((g) => g.overlapKey), batch.map((g) => JSON.stringify(g.providerRef)), batch.map((g) => g.attempts),
      ],
    );
    await auditLog.record(
      batch.flatMap((g) => [
        AuditTrail.requested(g, null),
        AuditTrail.approved(g, 'policy', null, true),
        AuditTrail.provisioned(g, g.providerRef, false),
        AuditTrail.activated(g, now),
      ]),
    );
  }
  return ids;
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
