import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { processCpuMs } from './catchup';
import { positiveInt } from './env';
import { openScratchDatabase } from './scratch-database';
import { freePort } from '../test/setup/free-port';

/**
 * `npm run bench:startup [-- --runs N --idle-seconds S --clouds aws --clouds gcp,azure --embedded --dist DIR --from-source]`:
 * how fast the compiled broker (`npm run build`, then `node dist/apps/broker/src/main.js`, as
 * `npm start` runs it) is ready and how much memory it holds idle, for each set of clouds
 * (`--clouds`, repeatable, each a comma-separated JIT_PROVIDERS; by default AWS alone, GCP alone,
 * Azure alone and all three), against issue 13's goal: ready in under 1 s, idle RSS under 150 MB.
 * `--from-source` also starts each set from source with the `@swc-node/register` loader, for comparison.
 *
 * Each run starts a fresh process on a PostgreSQL database of BENCH_DATABASE_URL's server that
 * is migrated beforehand (created for the run, dropped at the end), or with `--embedded` on
 * the embedded database (PGlite) in a folder migrated by a first, unmeasured start. Ready is
 * the first 200 from `/health`, polled every 10 ms from the spawn, with the CPU time (user +
 * system) the process had used by then, which is what the wall time would be on an idle core
 * and depends far less on other load than the wall time does; idle RSS is the kernel's
 * VmRSS of the process `--idle-seconds` after ready. The clouds point at an address where
 * nothing listens: the broker does not call them while idle. The configurations take turns run
 * by run, so a change of the machine's load falls on all of them alike. Medians over `--runs`
 * (default 5), with the spread. NODE_COMPILE_CACHE, when set, is passed on to the brokers
 * (Node 22.1+ keeps their compiled code there between starts).
 */

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string' },
    'idle-seconds': { type: 'string' },
    clouds: { type: 'string', multiple: true },
    embedded: { type: 'boolean', default: false },
    dist: { type: 'string', default: 'dist' },
    'from-source': { type: 'boolean', default: false },
  },
});
const ROOT = join(__dirname, '..');
const RUNS = positiveInt('--runs', opts.runs, 5);
const IDLE_S = positiveInt('--idle-seconds', opts['idle-seconds'], 5);
/** The sets of clouds, each one broker configuration (JIT_PROVIDERS). */
const CLOUD_SETS = (opts.clouds ?? ['aws', 'gcp', 'azure', 'aws,azure,gcp']).map((set) => set.split(',').map((c) => c.trim()).filter(Boolean));
const MAIN_JS = resolve(ROOT, opts.dist, 'apps/broker/src/main.js');
const SERVER_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const NOWHERE = 'http://127.0.0.1:9';
/** Extra node flags for the broker processes, e.g. BENCH_BROKER_NODE_ARGS='--max-semi-space-size=4'. */
const BROKER_NODE_ARGS = (process.env.BENCH_BROKER_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** Each cloud's variables, enough for its adapter to be built; nothing listens at the endpoints. */
const CLOUD_ENV: Record<string, Record<string, string>> = {
  aws: {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIABENCHSTARTUP0000',
    AWS_SECRET_ACCESS_KEY: 'bench-startup-not-a-secret',
    AWS_ENDPOINT_URL: NOWHERE,
  },
  azure: {
    AZURE_TENANT_ID: '00000000-0000-0000-0000-000000000001',
    AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000002',
    AZURE_CLIENT_SECRET: 'bench-startup-not-a-secret',
    AZURE_AUTHORITY_HOST: 'https://127.0.0.1:9',
    JIT_AZURE_GRAPH_ENDPOINT: NOWHERE,
    JIT_AZURE_ARM_ENDPOINT: NOWHERE,
  },
  gcp: { JIT_GCP_RESOURCE_MANAGER_ENDPOINT: NOWHERE, JIT_GCP_STATIC_ACCESS_TOKEN: 'bench-startup' },
};

interface Mode {
  name: string;
  args: string[];
  clouds: string[];
}

interface Sample {
  readyMs: number;
  /** CPU time (user + system) the process had used when it was ready: what the wall time would be on an idle core. */
  readyCpuMs: number;
  idleRssMib: number;
  peakRssMib: number;
}

function memoryMib(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** One start: spawn, poll /health until 200, wait idle, read the RSS, stop. */
async function startOnce(mode: Mode, env: NodeJS.ProcessEnv): Promise<Sample> {
  const port = await freePort();
  let out = '';
  const started = performance.now();
  const child = spawn(process.execPath, mode.args, {
    cwd: ROOT,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    let readyMs: number | undefined;
    let readyCpuMs = 0;
    while (readyMs === undefined) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${mode.name}: the broker exited during boot:\n${out}`);
      const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
      if (res?.status === 200) {
        readyMs = performance.now() - started;
        readyCpuMs = processCpuMs(child.pid!);
      } else await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const { rss, hwm } = memoryMib(child.pid!);
    return { readyMs, readyCpuMs, idleRssMib: rss, peakRssMib: hwm };
  } finally {
    await stop(child);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs: number[], digits = 0) => `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;

/** Issue 13 point 1: ready in under 1 s, idle RSS under 150 MB (143 MiB). */
const GOAL_READY_MS = 1000;
const GOAL_RSS_MIB = 150e6 / 1048576;

async function main(): Promise<void> {
  if (!existsSync(MAIN_JS)) {
    throw new Error(`${MAIN_JS} is missing: run npm run build first (or give --dist)`);
  }
  for (const c of CLOUD_SETS.flat()) if (!CLOUD_ENV[c]) throw new Error(`--clouds: unknown cloud ${JSON.stringify(c)} (aws, azure, gcp)`);
  const modes: Mode[] = CLOUD_SETS.flatMap((clouds) => [
    { name: `compiled, ${clouds.join(' + ')}`, args: [...BROKER_NODE_ARGS, MAIN_JS], clouds },
    ...(opts['from-source']
      ? [{ name: `from source, ${clouds.join(' + ')}`, args: [...BROKER_NODE_ARGS, '-r', '@swc-node/register', 'apps/broker/src/main.ts'], clouds }]
      : []),
  ]);
  const dir = mkdtempSync(join(os.tmpdir(), 'jit-bench-startup-'));
  const tokensFile = join(dir, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify({ tokens: [{ subject: 'bench', roles: ['auditor'], sha256: '0'.repeat(64) }] }), { mode: 0o600 });
  const scratch = opts.embedded ? undefined : await openScratchDatabase(SERVER_URL, 'jit_bench_startup');
  const envOf = (clouds: string[]): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH ?? '',
    NO_COLOR: '1',
    HOST: '127.0.0.1',
    JIT_TOKENS_FILE: tokensFile,
    JIT_AUDIT_UNSIGNED: 'true',
    JIT_PROVIDERS: clouds.join(','),
    JIT_DATA_DIR: join(dir, 'data'),
    ...(process.env.NODE_COMPILE_CACHE ? { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE } : {}),
    ...(scratch ? { DATABASE_URL: scratch.url } : {}),
    ...Object.assign({}, ...clouds.map((c) => CLOUD_ENV[c])),
  });
  try {
    console.log('broker start-up (npm run bench:startup)');
    const line = (label: string, value: string) => console.log(`  ${label.padEnd(38)} ${value}`);
    line('node / cpus', `${process.version} / ${os.cpus().length}`);
    line('load average (1/5/15 min) at start', os.loadavg().map((x) => x.toFixed(2)).join(' / '));
    line('database', scratch ? `PostgreSQL ${new URL(scratch.url).host}, migrated beforehand` : 'embedded (PGlite), migrated beforehand');
    line('clouds', 'endpoints where nothing listens');
    line('runs per configuration, idle wait', `${RUNS}, ${IDLE_S} s`);
    line('broker node flags', BROKER_NODE_ARGS.join(' ') || '(none)');
    line('NODE_COMPILE_CACHE', process.env.NODE_COMPILE_CACHE || '(unset)');
    // Migrates the embedded database once, unmeasured (PostgreSQL's was migrated by openScratchDatabase).
    if (opts.embedded) await startOnce(modes[0], envOf(modes[0].clouds));
    const samples = new Map<Mode, Sample[]>(modes.map((m) => [m, []]));
    for (let i = 0; i < RUNS; i++) for (const mode of modes) samples.get(mode)!.push(await startOnce(mode, envOf(mode.clouds)));
    const mb = (mib: number) => ((mib * 1048576) / 1e6).toFixed(0);
    console.log(`\n| configuration | ready (wall), median | CPU until ready | idle RSS after ${IDLE_S} s | peak RSS | goal (< 1 s, < 150 MB) |`);
    console.log('|---|---|---|---|---|---|');
    for (const mode of modes) {
      const s = samples.get(mode)!;
      const ready = s.map((x) => x.readyMs);
      const readyCpu = s.map((x) => x.readyCpuMs);
      const idle = s.map((x) => x.idleRssMib);
      const peak = s.map((x) => x.peakRssMib);
      const met = [median(ready) < GOAL_READY_MS ? 'ready met' : 'ready missed', median(idle) < GOAL_RSS_MIB ? 'RSS met' : 'RSS missed'].join(', ');
      console.log(
        `| ${mode.name} | ${median(ready).toFixed(0)} ms (${spread(ready)}) | ${median(readyCpu).toFixed(0)} ms (${spread(readyCpu)}) ` +
          `| ${median(idle).toFixed(0)} MiB = ${mb(median(idle))} MB (${spread(idle)} MiB) | ${median(peak).toFixed(0)} MiB | ${met} |`,
      );
    }
    console.log('');
    line('load average (1/5/15 min) at end', os.loadavg().map((x) => x.toFixed(2)).join(' / '));
  } finally {
    await scratch?.drop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
