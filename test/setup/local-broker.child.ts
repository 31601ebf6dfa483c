import { loadBrokerConfig } from '@jit/config';
import { CLOUDS } from '@jit/domain';
import { LocalCloudProvider } from '@jit/provider-local';
import { runUntilSignal } from '../../apps/broker/src/run-until-signal';
import { startBroker } from '../../apps/broker/src/start-broker';
import { targetKinds } from '../../apps/broker/src/target-kinds';

/**
 * The sandbox's composition (local in-memory clouds) on whatever database the environment names:
 * unlike `npm run sandbox`, it keeps DATABASE_URL, so the crash tests can run the real broker
 * process against PostgreSQL too. Run with `node -r @swc-node/register`.
 */
async function main(): Promise<void> {
  const config = loadBrokerConfig(process.env);
  const broker = await startBroker({ config, providers: CLOUDS.map((c) => new LocalCloudProvider(c, targetKinds)), logLevels: ['warn', 'error'] });
  process.stdout.write(`listening on ${broker.url} database=${broker.database.description}\n`);
  runUntilSignal(broker);
}

main().catch((e: unknown) => {
  process.stderr.write(`local broker: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
