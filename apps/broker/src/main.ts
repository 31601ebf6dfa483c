import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig } from '@jit/config';
import { SystemClock } from '@jit/domain';
import { PROVIDER_ENVS, createCloudProviders } from './cloud-providers.factory';
import { runUntilSignal } from './run-until-signal';
import { startBroker } from './start-broker';

/** `npm start`: the broker with real cloud adapters, configured from the environment. */
async function main(): Promise<void> {
  const logger = new Logger('Broker');
  const { broker: config, providers, warnings } = loadConfig(process.env, PROVIDER_ENVS);
  for (const warning of warnings) logger.warn(warning);
  if (config.providers.length === 0) {
    throw new ConfigError('JIT_PROVIDERS is empty: name the clouds to serve (aws, azure, gcp), or use `npm run sandbox`');
  }
  const clock = new SystemClock();
  const broker = await startBroker({ config, clock, providers: createCloudProviders(config.providers, providers, clock) });
  logger.log(
    `role=${config.role} clouds=${config.providers.join(',')} database=${broker.database.description}` +
      (broker.url ? ` listening on ${config.host}:${new URL(broker.url).port}` : ''),
  );
  runUntilSignal(broker);
}

main().catch((e: unknown) => {
  process.stderr.write(`jit-broker: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
