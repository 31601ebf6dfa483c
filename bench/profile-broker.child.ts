import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { Client } from 'pg';
import { loadBrokerConfig } from '@jit/config';
import { CLOUDS } from '@jit/domain';
import { LocalCloudProvider } from '@jit/provider-local';
import { startBroker } from '../apps/broker/src/start-broker';
import { targetKinds } from '../apps/broker/src/target-kinds';

/**
 * The broker of `npm run bench:profile` (bench/profile.ts), as its own process with in-memory
 * clouds: between the parent's `start` and `stop` messages it records V8's CPU profile, the
 * process's CPU time and every statement node-postgres sends (by its first word: BEGIN, COMMIT,
 * INSERT, WITH, ...), so the parent can divide them by the grants or expiries done meanwhile.
 * Bench-only: the statement count wraps `pg.Client.prototype.query` in this process alone.
 */

const counts = new Map<string, number>();
let counting = false;
type Query = (this: Client, ...args: unknown[]) => unknown;
const original = Client.prototype.query as unknown as Query;
(Client.prototype as unknown as { query: Query }).query = function (this: Client, ...args: unknown[]) {
  if (counting) {
    const first = args[0];
    const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '');
    const verb = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? '?';
    counts.set(verb, (counts.get(verb) ?? 0) + 1);
  }
  return original.apply(this, args);
};

const session = new Session();
const post = <T>(method: string, params?: object) =>
  new Promise<T>((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r as T))));

async function main(): Promise<void> {
  const config = loadBrokerConfig(process.env);
  // PROFILE_LOG_LEVEL: the configured JIT_LOG_LEVEL (the access log written as in production); else errors only.
  const logLevels = process.env.PROFILE_LOG_LEVEL ? undefined : (['error'] as const);
  const broker = await startBroker({ config, providers: CLOUDS.map((c) => new LocalCloudProvider(c, targetKinds)), logLevels: logLevels && [...logLevels] });
  session.connect();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: Number(process.env.PROFILE_SAMPLING_US ?? 500) });
  let cpu0 = process.cpuUsage();
  let t0 = 0;
  process.on('message', (m: { op: string; file?: string }) => {
    void (async () => {
      if (m.op === 'start') {
        counts.clear();
        counting = true;
        cpu0 = process.cpuUsage();
        t0 = performance.now();
        await post('Profiler.start');
        process.send!({ op: 'started' });
      } else if (m.op === 'stop') {
        const { profile } = await post<{ profile: unknown }>('Profiler.stop');
        counting = false;
        const cpu = process.cpuUsage(cpu0);
        writeFileSync(m.file!, JSON.stringify(profile));
        process.send!({ op: 'stopped', cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - t0, counts: Object.fromEntries(counts) });
      } else if (m.op === 'exit') {
        await broker.close();
        process.exit(0);
      }
    })().catch((e: unknown) => {
      process.stderr.write(`profile broker: ${String(e)}\n`);
      process.exit(1);
    });
  });
  process.send!({ op: 'ready', url: broker.url });
}

main().catch((e: unknown) => {
  process.stderr.write(`profile broker: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
