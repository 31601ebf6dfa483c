import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { loadBrokerConfig } from '@jit/config';
import { runUntilSignal, startBroker } from '../apps/broker/src';
import { ChaosEndpoints, chaosProviders } from './chaos-clouds';

/**
 * One broker replica of `npm run chaos`: the production composition (startBroker) on the run's
 * database (DATABASE_URL), with the real adapters against the simulators the chaos process
 * runs (endpoints in CHAOS_ENDPOINTS_FILE). Killed with SIGKILL at random moments.
 */
async function main(): Promise<void> {
  const endpoints = JSON.parse(readFileSync(process.env.CHAOS_ENDPOINTS_FILE!, 'utf8')) as ChaosEndpoints;
  const config = loadBrokerConfig(process.env);
  const broker = await startBroker({ config, providers: chaosProviders(endpoints), logLevels: ['error'] });
  process.stdout.write(`listening on ${broker.url}\n`);
  runUntilSignal(broker);
}

main().catch((e: unknown) => {
  process.stderr.write(`chaos broker: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
