import 'reflect-metadata';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { CLOUDS, CloudAccessProvider, GrantSubject, Principal, TERMINAL_STATES, Target } from '@jit/domain';
import { seededRandom } from '@jit/sim-kit';
import { ensureAuditSigningKey, sha256Hex } from '../apps/broker/src';
import { SANDBOX } from '../apps/sandbox/src/sandbox-clouds';
import { CHAOS_AWS_ROLES, ChaosSimulators, chaosProviders, startChaosSimulators } from './chaos-clouds';
import { auditChained } from './audit-chained';
import { freePort } from '../test/setup/free-port';

/**
 * `npm run chaos -- --ops 1000 --seconds 180 --fault-rate 0.3`: two broker replicas (child
 * processes, the production composition) on a database of their own, the three simulators with
 * rate-based faults, a load of requests and revokes, SIGKILLs of a replica at random moments
 * (restarted at once), and, when the machine has PostgreSQL's server binaries, a stop and start
 * of the database (a private cluster in a temporary folder, so nobody else's database stops).
 * Bounded by --ops and --seconds. At the end the faults are lifted, the run waits for every
 * grant to settle (--settle-seconds), and prints: grants not ended, artifacts left in the clouds,
 * orphans, lost requests and revokes, 5xx answers, revocation-lag percentiles and `verify`.
 */

const ROOT = join(__dirname, '..');
const TOKEN = { requester: 'chaos-requester-token-0000000000', auditor: 'chaos-auditor-token-000000000000', admin: 'chaos-admin-token-00000000000000' };

interface Options {
  ops: number;
  seconds: number;
  faultRate: number;
  seed: number;
  replicas: number;
  kills: number;
  settleSeconds: number;
  db: 'auto' | 'private' | 'shared';
  outageSeconds: number;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { ops: 1000, seconds: 180, faultRate: 0.3, seed: 1, replicas: 2, kills: -1, settleSeconds: 180, db: 'auto', outageSeconds: 10 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    const num = Number(value);
    const need = (ok: boolean) => {
      if (!ok) throw new Error(`${flag}: bad value ${JSON.stringify(value)}`);
    };
    switch (flag) {
      case '--ops': need(Number.isInteger(num) && num > 0); o.ops = num; break;
      case '--seconds': need(num > 0); o.seconds = num; break;
      case '--fault-rate': need(num >= 0 && num <= 1); o.faultRate = num; break;
      case '--seed': need(Number.isInteger(num)); o.seed = num; break;
      case '--replicas': need(Number.isInteger(num) && num >= 1); o.replicas = num; break;
      case '--kills': need(Number.isInteger(num) && num >= 0); o.kills = num; break;
      case '--settle-seconds': need(num > 0); o.settleSeconds = num; break;
      case '--outage-seconds': need(num >= 0); o.outageSeconds = num; break;
      case '--db': need(['auto', 'private', 'shared'].includes(value)); o.db = value as Options['db']; break;
      default: throw new Error(`unknown flag ${flag} (--ops --seconds --fault-rate --seed --replicas --kills --settle-seconds --outage-seconds --db auto|private|shared)`);
    }
  }
  if (o.kills < 0) o.kills = Math.max(2, Math.round(o.seconds / 30));
  return o;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// ---------------------------------------------------------------- database

interface ChaosDatabase {
  url: string;
  description: string;
  /** Stops and starts the server; null when the run shares a server it must not stop. */
  outage: ((seconds: number) => Promise<void>) | null;
  drop(): Promise<void>;
}

function postgresBin(): string | null {
  const dirs = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').map((v) => `/usr/lib/postgresql/${v}/bin`) : [];
  return dirs.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl'))) ?? null;
}

/** The server binaries refuse to run as root: run them as `postgres` when this process is root. */
function asServerUser(bin: string, args: string[]): void {
  const root = process.getuid?.() === 0;
  if (root) execFileSync('runuser', ['-u', 'postgres', '--', bin, ...args], { stdio: 'pipe' });
  else execFileSync(bin, args, { stdio: 'pipe' });
}

async function openChaosDatabase(mode: Options['db']): Promise<ChaosDatabase> {
  const name = `jit_chaos_${process.pid}_${Date.now().toString(36)}`;
  const bin = postgresBin();
  if (mode === 'private' && !bin) throw new Error('--db private: no initdb/pg_ctl under /usr/lib/postgresql/*/bin');
  if (mode !== 'shared' && bin) {
    const dir = mkdtempSync(join(tmpdir(), 'jit-chaos-pg-'));
    chmodSync(dir, 0o777);
    const data = join(dir, 'data');
    const port = await freePort();
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres', dir]);
    asServerUser(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    const pgctl = (...args: string[]) => asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-l', join(dir, 'server.log'), ...args]);
    const start = () => pgctl('-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, 'start');
    start();
    const admin = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    return {
      url: `postgres://postgres@127.0.0.1:${port}/${name}`,
      description: `private PostgreSQL cluster (${bin}) on 127.0.0.1:${port}, database ${name}`,
      outage: async (seconds) => {
        pgctl('-w', '-m', 'fast', 'stop');
        await sleep(seconds * 1000);
        start();
      },
      drop: async () => {
        try {
          pgctl('-w', '-m', 'immediate', 'stop');
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  }
  const admin = new Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    description: `shared PostgreSQL on 127.0.0.1:5432, database ${name} (no stop/start phase: ${bin ? '--db shared' : 'no initdb/pg_ctl on this machine'})`,
    outage: null,
    drop: async () => {
      const c = new Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

// ---------------------------------------------------------------- replicas

class Replica {
  child: ChildProcess | null = null;
  generation = 0;
  up = false;
  private log = '';

  constructor(
    readonly index: number,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.generation++;
    const child = spawn(process.execPath, ['--experimental-vm-modules', '-r', '@swc-node/register', join(__dirname, 'chaos-broker.child.ts')], {
      cwd: ROOT,
      env: { ...process.env, ...this.env, PORT: String(this.port), JIT_REPLICA_ID: `chaos-${this.index}-${this.generation}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-4000)));
    child.stderr.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-4000)));
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`replica ${this.index} exited during boot:\n${this.log}`);
      try {
        if ((await fetch(`${this.url}/health`)).status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`replica ${this.index} did not answer /health in 90 s:\n${this.log}`);
      await sleep(100);
    }
    this.up = true;
  }

  async kill9(): Promise<void> {
    const child = this.child;
    this.up = false;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.up = false;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- load

interface RequestRecord {
  key: string;
  cloud: string;
  body: Record<string, unknown>;
  /** The grant id of the first 2xx answer. */
  id: string | null;
  statuses: number[];
}

interface RevokeRecord {
  id: string;
  status: number | null;
  /** The grant's state in a 2xx answer. */
  answered: string | null;
  /** Its endReason then: a grant already `revoking` because it expired is not revoked by the request. */
  answeredEndReason: string | null;
}

class Tally {
  readonly byStatus = new Map<string, number>();
  /** What each 500 answered (method, path, body), for the report. */
  readonly internal: string[] = [];
  count(what: string): void {
    this.byStatus.set(what, (this.byStatus.get(what) ?? 0) + 1);
  }
  get fiveHundreds(): number {
    return [...this.byStatus].filter(([k]) => /^5\d\d$/.test(k)).reduce((n, [, v]) => n + v, 0);
  }
  toString(): string {
    return [...this.byStatus].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}:${v}`).join(' ');
  }
}

function grantBody(n: number, random: () => number): { cloud: string; body: Record<string, unknown> } {
  const duration = `PT${5 + Math.floor(random() * 16)}S`;
  const justification = `chaos ${n}`;
  switch (CLOUDS[n % CLOUDS.length]) {
    case 'aws':
      return {
        cloud: 'aws',
        body: {
          cloud: 'aws',
          principal: { type: 'workload', id: CHAOS_AWS_ROLES[n % CHAOS_AWS_ROLES.length] },
          target: { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: [`arn:aws:s3:::chaos-${n % 7}/*`] },
          duration,
          justification,
        },
      };
    case 'gcp':
      return {
        cloud: 'gcp',
        body: {
          cloud: 'gcp',
          principal: { type: 'workload', id: `serviceAccount:chaos-${n % 5}@${SANDBOX.gcp.project}.iam.gserviceaccount.com` },
          target: { kind: 'gcp.iam-binding', resource: `projects/${SANDBOX.gcp.project}`, role: 'roles/storage.objectViewer' },
          duration,
          justification,
        },
      };
    default:
      return {
        cloud: 'azure',
        body: {
          cloud: 'azure',
          principal: { type: 'workload', id: SANDBOX.azure.workload },
          target: { kind: 'azure.app-role', resourceServicePrincipalId: SANDBOX.azure.resourceApi, appRoleId: SANDBOX.azure.appRole },
          duration,
          justification,
        },
      };
  }
}

const POLICY = `version: 1
rules:
  - name: chaos
    requesters:
      - subjects: ["*"]
    targets:
      - { kind: aws.iam-policy, actions: ["*"], resources: ["*"] }
      - { kind: gcp.iam-binding, roles: ["*"], resources: ["*"] }
      - { kind: azure.app-role, resourceServicePrincipalIds: ["*"], appRoleIds: ["*"] }
    maxDuration: PT1H
    approval: auto
`;

function faultsFor(rate: number, seed: number) {
  // Half the failures throttled, half server errors: P(fail) = t + (1 - t) * s = rate.
  const throttle = rate / 2;
  const serverError = throttle >= 1 ? 0 : throttle / (1 - throttle);
  return { rate: { throttle, serverError, seed } };
}

function setFaults(sims: ChaosSimulators, rate: number, seed: number): void {
  sims.aws.inject(faultsFor(rate, seed));
  sims.gcp.inject(faultsFor(rate, seed + 1));
  sims.azure.inject(faultsFor(rate, seed + 2));
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const random = seededRandom(o.seed);
  const dir = mkdtempSync(join(tmpdir(), 'jit-chaos-'));
  const startedAt = Date.now();
  process.stdout.write(`chaos: ops=${o.ops} seconds=${o.seconds} fault-rate=${o.faultRate} seed=${o.seed} replicas=${o.replicas} kills=${o.kills}\n`);

  const db = await openChaosDatabase(o.db);
  process.stdout.write(`database: ${db.description}\n`);
  const sims = await startChaosSimulators();
  const replicas: Replica[] = [];
  try {
    const endpointsFile = join(dir, 'endpoints.json');
    writeFileSync(endpointsFile, JSON.stringify(sims.endpoints));
    writeFileSync(join(dir, 'rules.yaml'), POLICY);
    writeFileSync(
      join(dir, 'tokens.json'),
      JSON.stringify({
        tokens: [
          { subject: 'chaos', roles: ['requester'], sha256: sha256Hex(TOKEN.requester) },
          { subject: 'chaos-auditor', roles: ['auditor'], sha256: sha256Hex(TOKEN.auditor) },
        ],
      }),
    );
    const signing = ensureAuditSigningKey(dir);
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      CHAOS_ENDPOINTS_FILE: endpointsFile,
      JIT_DATA_DIR: dir,
      JIT_TOKENS_FILE: join(dir, 'tokens.json'),
      JIT_ADMIN_TOKEN: TOKEN.admin,
      JIT_POLICY_FILE: join(dir, 'rules.yaml'),
      JIT_AUDIT_SIGNING_KEY: signing.keyFile,
      JIT_MIN_DURATION: 'PT5S',
      JIT_SWEEP_INTERVAL: 'PT1S',
      JIT_LEASE: 'PT15S',
      JIT_PROVIDER_TIMEOUT: 'PT5S',
      JIT_REVOKE_FAILED_RETRY: 'PT10S',
      JIT_RECONCILE_INTERVAL: 'PT30S',
      JIT_RATE_LIMIT_WRITES: '9999999/PT1M',
      JIT_RATE_LIMIT_DRY_RUNS: '9999999/PT1M',
    };
    for (let i = 0; i < o.replicas; i++) {
      const r = new Replica(i, await freePort(), { ...env, JIT_AUDIT_CHECKPOINT_FILE: join(dir, `checkpoints-${i}.jsonl`) });
      replicas.push(r);
    }
    // One after the other: two replicas migrating an empty database at once collide (migrations take no lock).
    for (const r of replicas) await r.start();
    process.stdout.write(`replicas up: ${replicas.map((r) => r.url).join(' ')} (${((Date.now() - startedAt) / 1000).toFixed(1)} s)\n`);
    setFaults(sims, o.faultRate, o.seed);

    const tally = new Tally();
    const requests: RequestRecord[] = [];
    const revokes: RevokeRecord[] = [];
    const pick = () => {
      const up = replicas.filter((r) => r.up);
      const pool = up.length ? up : replicas;
      return pool[Math.floor(random() * pool.length)];
    };
    const call = async (method: string, path: string, token: string, body?: unknown, headers: Record<string, string> = {}) => {
      const replica = pick();
      try {
        const res = await fetch(`${replica.url}${path}`, {
          method,
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(120_000),
        });
        tally.count(String(res.status));
        const text = await res.text();
        if (res.status === 500) tally.internal.push(`${method} ${path.replace(/[0-9a-f-]{36}/, ':id')}: ${text.slice(0, 200)}`);
        return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
      } catch (e) {
        const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e instanceof Error ? e.name : 'error');
        tally.count(`network(${cause})`);
        return { status: 0, body: {} };
      }
    };

    const requestGrant = async (n: number) => {
      const { cloud, body } = grantBody(n, random);
      const rec: RequestRecord = { key: randomUUID(), cloud, body, id: null, statuses: [] };
      requests.push(rec);
      // A request that got no answer (or a 5xx) is retried with its Idempotency-Key, as a client would.
      for (let attempt = 0; attempt < 3 && !rec.id; attempt++) {
        if (attempt) await sleep(500 + random() * 1500);
        const res = await call('POST', '/v1/grants', TOKEN.requester, body, { 'Idempotency-Key': rec.key });
        rec.statuses.push(res.status);
        if (res.status >= 200 && res.status < 300) rec.id = String(res.body.id);
        else if (res.status >= 400 && res.status < 500) break;
        else if (res.status === 502 && typeof res.body.grantId === 'string') rec.id = res.body.grantId;
      }
    };
    const revokeGrant = async () => {
      const candidates = requests.filter((r) => r.id && !revokes.some((v) => v.id === r.id));
      if (!candidates.length) return;
      const id = candidates[Math.floor(random() * candidates.length)].id!;
      const rec: RevokeRecord = { id, status: null, answered: null, answeredEndReason: null };
      revokes.push(rec);
      for (let attempt = 0; attempt < 3; attempt++) {
        if (attempt) await sleep(500 + random() * 1500);
        const res = await call('POST', `/v1/grants/${id}/revoke`, TOKEN.requester, { reason: 'chaos' });
        rec.status = res.status;
        if (res.status >= 200 && res.status < 300) {
          rec.answered = String(res.body.state);
          rec.answeredEndReason = typeof res.body.endReason === 'string' ? res.body.endReason : null;
          return;
        }
        if (res.status >= 400 && res.status < 500) return;
      }
    };

    // Chaos events: kills at random moments (each replica restarted after a random pause), and one database outage.
    const runMs = o.seconds * 1000;
    const loadStart = Date.now();
    const events: string[] = [];
    const killTimes = Array.from({ length: o.kills }, () => 0.05 * runMs + random() * 0.85 * runMs).sort((a, b) => a - b);
    const chaos = (async () => {
      const outageAt = db.outage ? 0.45 * runMs : Infinity;
      let outageDone = !db.outage || o.outageSeconds === 0;
      for (const at of killTimes) {
        if (!outageDone && at > outageAt) {
          await sleep(Math.max(0, loadStart + outageAt - Date.now()));
          events.push(`${((Date.now() - loadStart) / 1000).toFixed(1)} s: database stopped for ${o.outageSeconds} s`);
          await db.outage!(o.outageSeconds);
          events.push(`${((Date.now() - loadStart) / 1000).toFixed(1)} s: database started`);
          outageDone = true;
        }
        await sleep(Math.max(0, loadStart + at - Date.now()));
        if (Date.now() - loadStart > runMs) break;
        const victim = replicas[Math.floor(random() * replicas.length)];
        await victim.kill9();
        events.push(`${((Date.now() - loadStart) / 1000).toFixed(1)} s: SIGKILL replica ${victim.index}`);
        await sleep(500 + random() * 2500);
        await victim.start().catch((e: unknown) => events.push(`restart of replica ${victim.index} failed: ${String(e).slice(0, 300)}`));
        events.push(`${((Date.now() - loadStart) / 1000).toFixed(1)} s: replica ${victim.index} back`);
      }
      if (!outageDone) {
        await sleep(Math.max(0, loadStart + outageAt - Date.now()));
        events.push(`${((Date.now() - loadStart) / 1000).toFixed(1)} s: database stopped for ${o.outageSeconds} s`);
        await db.outage!(o.outageSeconds);
        events.push(`${((Date.now() - loadStart) / 1000).toFixed(1)} s: database started`);
      }
    })();

    // The load: ops spread over the run, at most 16 in flight; about one in four a revoke.
    const inFlight = new Set<Promise<void>>();
    let sent = 0;
    for (; sent < o.ops && Date.now() - loadStart < runMs; sent++) {
      const due = loadStart + (sent * runMs) / o.ops;
      await sleep(Math.max(0, due - Date.now()));
      while (inFlight.size >= 16) await Promise.race(inFlight);
      const op = random() < 0.25 ? revokeGrant() : requestGrant(sent);
      const p: Promise<void> = op.finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    await chaos;
    const loadSeconds = (Date.now() - loadStart) / 1000;
    process.stdout.write(`load: ${sent} ops in ${loadSeconds.toFixed(1)} s (${requests.length} requests, ${revokes.length} revokes)\n`);
    for (const e of events) process.stdout.write(`  ${e}\n`);

    // Settle: the clouds recover, every replica is up, every grant must end.
    setFaults(sims, 0, o.seed);
    for (const r of replicas) if (!r.up) await r.start();
    // Requests never answered are replayed once with their key and body, as a client would: 200 is
    // a replay (the broker had stored it), 201/202 a first store (it had not, which is no loss).
    let replayedFound = 0;
    for (const rec of requests.filter((r) => !r.id)) {
      const res = await call('POST', '/v1/grants', TOKEN.requester, rec.body, { 'Idempotency-Key': rec.key });
      if (res.status === 200) replayedFound++;
    }
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    const settleStart = Date.now();
    const open = async () =>
      (await pg.query<{ state: string; n: string }>(`SELECT state, count(*) AS n FROM grants WHERE NOT (state = ANY($1)) GROUP BY state`, [TERMINAL_STATES])).rows;
    let left = await open();
    while (left.length && Date.now() - settleStart < o.settleSeconds * 1000) {
      await sleep(1000);
      left = await open();
    }
    const settleSeconds = (Date.now() - settleStart) / 1000;

    // What the database holds now.
    const grants = new Map(
      (await pg.query<{ id: string; state: string; end_reason: string | null }>(`SELECT id, state, end_reason FROM grants`)).rows.map((r) => [r.id, r]),
    );
    const stuck = (
      await pg.query<{ id: string; state: string; last_error: string | null }>(
        `SELECT id, state, last_error FROM grants WHERE NOT (state = ANY($1)) ORDER BY created_at LIMIT 5`,
        [TERMINAL_STATES],
      )
    ).rows;
    const lostRequests = requests.filter((r) => r.id && !grants.has(r.id));
    const lostRevokes = revokes.filter((v) => {
      // Accepted: recorded while provisioning, or revoking/revoked for this request (not an expiry already under way).
      const accepted = v.answered === 'provisioning' || (['revoking', 'revoked'].includes(v.answered ?? '') && v.answeredEndReason === 'revoked');
      if (!accepted) return false;
      const g = grants.get(v.id);
      return !g || !(g.state === 'revoked' || (v.answered === 'provisioning' && g.state === 'failed'));
    });
    const byState = new Map<string, number>();
    for (const g of grants.values()) byState.set(g.state, (byState.get(g.state) ?? 0) + 1);
    // A state change answers before its events are chained (docs/audit.md): wait for the last round before counting them.
    await auditChained(replicas[0].url, TOKEN.auditor);
    const lags = (
      await pg.query<{ lag: string }>(`SELECT data->>'lagSeconds' AS lag FROM audit_events WHERE type = 'grant.expired' AND data->>'lagSeconds' IS NOT NULL`)
    ).rows
      .map((r) => Number(r.lag))
      .sort((a, b) => a - b);
    const subjects: GrantSubject[] = (
      await pg.query<{ cloud: string; principal_type: string; principal_id: string; target: Target }>(
        `SELECT DISTINCT cloud, principal_type, principal_id, target FROM grants`,
      )
    ).rows.map((r) => ({ principal: { type: r.principal_type, id: r.principal_id } as Principal, target: r.target }));
    await pg.end();

    // What the clouds hold now, through the adapters' own listings (faults lifted).
    const providers: CloudAccessProvider[] = chaosProviders(sims.endpoints);
    let artifactsLeft = 0;
    let orphans = 0;
    let live = 0;
    const listErrors: string[] = [];
    for (const provider of providers) {
      const scope = { subjects: async () => subjects.filter((s) => s.target.kind.startsWith(`${provider.cloud}.`)) };
      try {
        for await (const a of provider.listOwned(undefined, scope)) {
          const g = a.grantId ? grants.get(a.grantId) : undefined;
          if (!g) orphans++;
          else if (TERMINAL_STATES.includes(g.state as (typeof TERMINAL_STATES)[number])) artifactsLeft++;
          else live++;
        }
      } catch (e) {
        listErrors.push(`${provider.cloud}: ${e instanceof Error ? e.message : String(e)}`);
      }
      await (provider as { close?: () => Promise<void> }).close?.();
    }

    let verifyRes = { status: 0, body: {} as Record<string, unknown> };
    for (let attempt = 0; attempt < 5 && verifyRes.status !== 200; attempt++) {
      if (attempt) await sleep(2_000);
      verifyRes = await call('GET', '/v1/audit/verify?full=true', TOKEN.auditor);
    }
    const verify = verifyRes.body as { ok?: boolean; checked?: number; brokenCount?: number };
    const verifyNote = verifyRes.status === 200 ? '' : ` ${JSON.stringify(verifyRes.body).slice(0, 200)}`;

    const fmt = (x: number | null) => (x === null ? 'n/a' : x.toFixed(2));
    const lines = [
      '',
      `--- chaos result (fault rate ${o.faultRate}, ${o.kills} kills, ${db.outage ? `database stopped ${o.outageSeconds} s` : 'no database stop'}) ---`,
      `grants stored: ${grants.size}; by state: ${[...byState].map(([k, v]) => `${k}=${v}`).join(' ')}`,
      `non-terminal grants after ${settleSeconds.toFixed(1)} s settle: ${left.reduce((n, r) => n + Number(r.n), 0)}${left.length ? ` (${left.map((r) => `${r.state}=${r.n}`).join(' ')})` : ''}`,
      ...stuck.map((g) => `  ${g.id} ${g.state}: ${(g.last_error ?? '').slice(0, 160)}`),
      `artifacts left (grant ended, artifact still in the cloud): ${artifactsLeft}; still live: ${live}${listErrors.length ? `; listing errors: ${listErrors.join('; ')}` : ''}`,
      `orphans (artifact with no grant): ${orphans}`,
      `lost requests (acknowledged, not stored): ${lostRequests.length} of ${requests.filter((r) => r.id).length} acknowledged; unanswered after 3 tries: ${requests.filter((r) => !r.id).length} (${replayedFound} of them found stored when replayed with their key)`,
      `lost revokes (accepted, grant not revoked): ${lostRevokes.length} of ${revokes.filter((v) => v.answered).length} answered 2xx`,
      ...lostRevokes.slice(0, 5).map((v) => `  ${v.id} answered ${v.status} ${v.answered}, now ${grants.get(v.id)?.state ?? 'absent'} (${grants.get(v.id)?.end_reason ?? '-'})`),
      `HTTP answers: ${tally.toString()}; 5xx: ${tally.fiveHundreds} (500: ${tally.byStatus.get('500') ?? 0})`,
      ...tally.internal.slice(0, 5).map((x) => `  500 ${x}`),
      `revocation lag (grant.expired, s): n=${lags.length} p50=${fmt(percentile(lags, 50))} p95=${fmt(percentile(lags, 95))} p99=${fmt(percentile(lags, 99))} max=${fmt(percentile(lags, 100))}`,
      `verify: ok=${verify.ok} checked=${verify.checked} broken=${verify.brokenCount ?? 'n/a'} (full walk, HTTP ${verifyRes.status})${verifyNote}`,
      `wall time: ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
      '',
    ];
    process.stdout.write(lines.join('\n'));
    if (lostRequests.length || lostRevokes.length || artifactsLeft || orphans || left.length || !verify.ok || (tally.byStatus.get('500') ?? 0) > 0) process.exitCode = 1;
  } finally {
    await Promise.all(replicas.map((r) => r.stop().catch(() => undefined)));
    await sims.close().catch(() => undefined);
    await db.drop().catch((e: unknown) => process.stderr.write(`dropping the chaos database: ${String(e)}\n`));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`chaos: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(2);
});
