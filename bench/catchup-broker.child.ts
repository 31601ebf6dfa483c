import { Client } from 'pg';
import { loadBrokerConfig } from '@jit/config';
import { CLOUDS } from '@jit/domain';
import { LocalCloudProvider } from '@jit/provider-local';
import { startBroker } from '../apps/broker/src/start-broker';
import { targetKinds } from '../apps/broker/src/target-kinds';

/**
 * A broker of `npm run bench` phase 4's multi-process catch-up (bench/catchup.ts), as its own
 * process with in-memory clouds. Between the parent's `mark` and `report` messages it counts
 * the process's CPU time and every statement node-postgres sends (by its first word), and it
 * reports the grants its clouds were asked to revoke, so the parent can check that no two
 * replicas did the same grant's work. Bench-only: the count wraps `pg.Client.prototype.query`
 * in this process alone.
 */

const counts = new Map<string, number>();
type Query = (this: Client, ...args: unknown[]) => unknown;
const original = Client.prototype.query as unknown as Query;
(Client.prototype as unknown as { query: Query }).query = function (this: Client, ...args: unknown[]) {
  const first = args[0];
  const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '');
  const verb = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? '?';
  counts.set(verb, (counts.get(verb) ?? 0) + 1);
  return original.apply(this, args);
};

async function main(): Promise<void> {
  const config = loadBrokerConfig(process.env);
  const providers = CLOUDS.map((c) => new LocalCloudProvider(c, targetKinds));
  const broker = await startBroker({ config, providers, logLevels: ['error'] });
  let cpu0 = process.cpuUsage();
  process.on('message', (m: { op: string }) => {
    void (async () => {
      if (m.op === 'mark') {
        counts.clear();
        for (const p of providers) p.calls.length = 0;
        cpu0 = process.cpuUsage();
        process.send!({ op: 'marked' });
      } else if (m.op === 'report') {
        const cpu = process.cpuUsage(cpu0);
        const revoked = providers.flatMap((p) => p.calls.filter((c) => c.op === 'revoke').map((c) => c.grantId));
        process.send!({ op: 'report', cpuMs: (cpu.user + cpu.system) / 1000, counts: Object.fromEntries(counts), revoked });
      } else if (m.op === 'exit') {
        await broker.close();
        process.exit(0);
      }
    })().catch((e: unknown) => {
      process.stderr.write(`catch-up broker: ${String(e)}\n`);
      process.exit(1);
    });
  });
  process.send!({ op: 'ready', url: broker.url });
}

main().catch((e: unknown) => {
  process.stderr.write(`catch-up broker: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
