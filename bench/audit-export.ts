import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Client } from 'pg';
import { loadBrokerConfig } from '@jit/config';
import { CLOUDS } from '@jit/domain';
import { openDatabase } from '@jit/persistence';
import { LocalCloudProvider } from '@jit/provider-local';
import { sha256Hex } from '../apps/broker/src/http/auth/token-registry';
import { startBroker } from '../apps/broker/src/start-broker';
import { intEnv, positiveInt } from './env';
import { freePort } from '../test/setup/free-port';

/**
 * `npm run bench:export [-- --events N]`: memory and time of the audit export over HTTP.
 * Seeds N audit events (default 1,000,000) into a fresh PostgreSQL database on BENCH_DATABASE_URL
 * (dropped afterwards), starts the broker as a child process for each format (jsonl, csv), reads
 * `GET /v1/audit?format=...` to the end and prints the time, the bytes and the broker's peak RSS
 * (the kernel's VmHWM, read from /proc), before and after the export. `--slow-client` also reads
 * one export at a throttled rate, so a reader slower than the database shows whether the broker
 * buffers what the client has not taken yet. `--compiled [--dist DIR]` measures the compiled broker
 * instead (`npm run build`, then `node dist/apps/broker/src/main.js` as `npm start` runs it, role
 * `api`, GCP configured at an endpoint where nothing listens), not this file from source.
 */

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

const SERVER_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const EVENTS = flag('--events') !== undefined ? positiveInt('--events', flag('--events'), 1_000_000) : intEnv('BENCH_EXPORT_EVENTS', 1_000_000);
/** Bytes per second the slow client reads, with --slow-client. */
const SLOW_RATE = positiveInt('--slow-rate', flag('--slow-rate'), 2_000_000);
const SLOW_SECONDS = positiveInt('--slow-seconds', flag('--slow-seconds'), 20);
/** Extra node flags for the broker process, e.g. BENCH_BROKER_NODE_ARGS='--max-old-space-size=128'. */
const BROKER_NODE_ARGS = (process.env.BENCH_BROKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** `--compiled [--dist DIR]`: the compiled broker's main.js (under dist/ by default); undefined for the source run. */
const COMPILED_MAIN = args.includes('--compiled') ? join(__dirname, '..', flag('--dist') ?? 'dist', 'apps/broker/src/main.js') : undefined;
const TOKEN = `bench-aud-${randomBytes(12).toString('hex')}`;
const line = (label: string, value: string) => console.log(`  ${label.padEnd(36)} ${value}`);
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

// ---------------------------------------------------------------------------------------------
// the broker child: `bench/audit-export.ts --broker <database url> <tokens file>`

async function runBrokerChild(databaseUrl: string, tokensFile: string): Promise<void> {
  const config = loadBrokerConfig({
    JIT_ROLE: 'api',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    JIT_TOKENS_FILE: tokensFile,
    JIT_AUDIT_UNSIGNED: 'true',
    JIT_REPLICA_ID: 'bench-export',
  });
  const broker = await startBroker({ config, providers: CLOUDS.map((c) => new LocalCloudProvider(c)), logLevels: ['error'] });
  process.stdout.write(`READY ${broker.url}\n`);
  process.on('SIGTERM', () => {
    void broker.close().then(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------------------
// the parent

/** Events shaped like the broker's: a grant's requested/approved/activated/expired with a target and a reason. */
async function seed(client: Client, total: number): Promise<void> {
  const batch = 100_000;
  for (let from = 1; from <= total; from += batch) {
    const to = Math.min(total, from + batch - 1);
    await client.query(
      `INSERT INTO audit_events (seq, id, occurred_at, type, grant_id, cloud, principal, actor, data, prev_hash, hash)
       SELECT g, gen_random_uuid(), timestamptz '2026-01-01' + g * interval '1 second',
              (ARRAY['grant.requested','grant.approved','grant.activated','grant.expired'])[1 + g % 4],
              gen_random_uuid(), (ARRAY['aws','azure','gcp'])[1 + g % 3], 'user:dev' || (g % 5000) || '@example.com',
              'ci:repo:acme/infra:ref:refs/heads/main',
              jsonb_build_object('target', jsonb_build_object('kind', 'aws.iam-policy', 'accountId', '123456789012',
                                   'policyArn', 'arn:aws:iam::aws:policy/ReadOnlyAccess'),
                                 'duration', 'PT1H', 'reason', 'incident INC-' || g || ': read the production logs',
                                 'expiresAt', to_char(timestamptz '2026-01-01' + g * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
              md5((g - 1)::text) || md5((g - 1)::text), md5(g::text) || md5(g::text)
       FROM generate_series($1::bigint, $2::bigint) AS g`,
      [from, to],
    );
  }
  await client.query(`UPDATE audit_chain_head SET seq = $1::bigint, hash = md5($2) || md5($2) WHERE id = 1`, [total, String(total)]);
  await client.query('ANALYZE audit_events');
}

function memoryOf(pid: number): { rssKib: number; hwmKib: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKib: kib('VmRSS'), hwmKib: kib('VmHWM') };
}

/** The compiled broker as `npm start` runs it, ready at its first 200 from /health. */
async function startCompiledChild(main: string, databaseUrl: string, tokensFile: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...BROKER_NODE_ARGS, main], {
    cwd: join(__dirname, '..'),
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '',
      NO_COLOR: '1',
      JIT_ROLE: 'api',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      JIT_TOKENS_FILE: tokensFile,
      JIT_AUDIT_UNSIGNED: 'true',
      JIT_REPLICA_ID: 'bench-export',
      JIT_PROVIDERS: 'gcp',
      JIT_GCP_RESOURCE_MANAGER_ENDPOINT: 'http://127.0.0.1:9',
      JIT_GCP_STATIC_ACCESS_TOKEN: 'bench-export',
    },
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`compiled broker exited with ${child.exitCode} before it was ready`);
    const res = await fetch(`${url}/health`).catch(() => undefined);
    if (res?.status === 200) return { child, url };
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startChild(databaseUrl: string, tokensFile: string): Promise<{ child: ChildProcess; url: string }> {
  if (COMPILED_MAIN) return startCompiledChild(COMPILED_MAIN, databaseUrl, tokensFile);
  const child = spawn(
    process.execPath,
    [...BROKER_NODE_ARGS, '--experimental-vm-modules', '-r', '@swc-node/register', __filename, '--broker', databaseUrl, tokensFile],
    { cwd: join(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`broker exited with ${code} before it was ready`)));
    lines.on('line', (text) => {
      if (text.startsWith('READY ')) resolve(text.slice(6));
    });
  });
  return { child, url };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Reads the export to the end (or `rate` bytes a second for `seconds`, then stops), counting bytes and lines. */
async function readExport(url: string, format: string, throttle?: { rate: number; seconds: number }) {
  const started = performance.now();
  const res = await fetch(`${url}/v1/audit?format=${format}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  if (res.status !== 200) throw new Error(`export answered ${res.status}: ${await res.text()}`);
  const reader = res.body!.getReader();
  let bytes = 0;
  let lines = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    for (let i = value.indexOf(10); i >= 0; i = value.indexOf(10, i + 1)) lines += 1;
    if (throttle) {
      const elapsed = (performance.now() - started) / 1000;
      if (elapsed >= throttle.seconds) {
        await reader.cancel();
        break;
      }
      const ahead = bytes / throttle.rate - elapsed;
      if (ahead > 0) await new Promise((resolve) => setTimeout(resolve, ahead * 1000));
    }
  }
  return { ms: performance.now() - started, bytes, lines };
}

async function measure(databaseUrl: string, tokensFile: string, format: string, throttle?: { rate: number; seconds: number }) {
  const { child, url } = await startChild(databaseUrl, tokensFile);
  try {
    const before = memoryOf(child.pid!);
    let sampledMaxKib = before.rssKib;
    const sampler = setInterval(() => {
      sampledMaxKib = Math.max(sampledMaxKib, memoryOf(child.pid!).rssKib);
    }, 100);
    const result = await readExport(url, format, throttle);
    clearInterval(sampler);
    const after = memoryOf(child.pid!);
    return { ...result, before, after, sampledMaxKib };
  } finally {
    await stopChild(child);
  }
}

async function main(): Promise<void> {
  if (COMPILED_MAIN && !existsSync(COMPILED_MAIN)) throw new Error(`${COMPILED_MAIN} is missing: run npm run build first`);
  const server = new URL(SERVER_URL);
  const name = `jit_bench_export_${randomBytes(4).toString('hex')}`;
  const dbUrl = new URL(server);
  dbUrl.pathname = `/${name}`;
  const dir = mkdtempSync(join(os.tmpdir(), 'jit-bench-export-'));
  const tokensFile = join(dir, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify({ tokens: [{ subject: 'bench-auditor', roles: ['auditor'], sha256: sha256Hex(TOKEN) }] }), { mode: 0o600 });

  // The maintenance database: tests make template databases from others and end their sessions.
  const adminUrl = new URL(server);
  adminUrl.pathname = '/postgres';
  const admin = new Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    console.log('audit export over HTTP (npm run bench:export)');
    line('node / cpus', `${process.version} / ${os.cpus().length}`);
    line('load average (1/5/15 min) at start', os.loadavg().map((x) => x.toFixed(2)).join(' / '));
    line('database', `${dbUrl.host}/${name} (created for this run, dropped at the end)`);
    line('broker node flags', BROKER_NODE_ARGS.join(' ') || '(none)');
    line('broker', COMPILED_MAIN ? `compiled: node ${COMPILED_MAIN}` : 'from source (@swc-node/register), local clouds');
    await (await openDatabase(dbUrl.toString(), '')).close();
    const client = new Client({ connectionString: dbUrl.toString() });
    client.on('error', () => undefined);
    await client.connect();
    const seedStart = performance.now();
    await seed(client, EVENTS);
    const [{ size }] = (await client.query(`SELECT pg_size_pretty(pg_total_relation_size('audit_events')) AS size`)).rows;
    await client.end();
    line('events seeded', `${EVENTS.toLocaleString('en-US')} in ${((performance.now() - seedStart) / 1000).toFixed(1)} s (table with indexes ${size})`);

    for (const format of ['jsonl', 'csv']) {
      const r = await measure(dbUrl.toString(), tokensFile, format);
      console.log(`\n${format}`);
      line('time', `${(r.ms / 1000).toFixed(1)} s (${((r.bytes / 1048576) / (r.ms / 1000)).toFixed(0)} MiB/s)`);
      line('read', `${(r.bytes / 1048576).toFixed(0)} MiB, ${r.lines.toLocaleString('en-US')} lines`);
      line('broker RSS before / after', `${mib(r.before.rssKib)} / ${mib(r.after.rssKib)}`);
      line('broker peak RSS (VmHWM) before / after', `${mib(r.before.hwmKib)} / ${mib(r.after.hwmKib)}`);
      line('broker RSS max sampled every 100 ms', mib(r.sampledMaxKib));
      const expected = format === 'csv' ? EVENTS + 1 : EVENTS;
      if (r.lines < expected) throw new Error(`${format}: read ${r.lines} lines, expected at least ${expected}`);
    }
    if (args.includes('--slow-client')) {
      const r = await measure(dbUrl.toString(), tokensFile, 'jsonl', { rate: SLOW_RATE, seconds: SLOW_SECONDS });
      console.log(`\njsonl, slow client (${(SLOW_RATE / 1e6).toFixed(1)} MB/s for ${SLOW_SECONDS} s, then it disconnects)`);
      line('read', `${(r.bytes / 1048576).toFixed(0)} MiB, ${r.lines.toLocaleString('en-US')} lines`);
      line('broker RSS before / after', `${mib(r.before.rssKib)} / ${mib(r.after.rssKib)}`);
      line('broker peak RSS (VmHWM) before / after', `${mib(r.before.hwmKib)} / ${mib(r.after.hwmKib)}`);
    }
    line('load average (1/5/15 min) at end', os.loadavg().map((x) => x.toFixed(2)).join(' / '));
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (args[0] === '--broker') {
  runBrokerChild(args[1], args[2]).catch((e: unknown) => {
    process.stderr.write(`bench broker: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
} else {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
