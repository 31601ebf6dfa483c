// First, before Nest, TypeORM and pg are loaded: the OpenTelemetry SDK when tracing is on.
import { stopTracing } from './tracing';
import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig } from '@jit/config';
import { SystemClock } from '@jit/domain';
import { startLogging } from './broker-logging';
import { PROVIDER_ENVS, createCloudProviders } from './cloud-providers.factory';
import { runUntilSignal } from './run-until-signal';
import { startBroker } from './start-broker';

/** `npm start`: the broker with real cloud adapters, configured from the environment. */
async function main(): Promise<void> {
  const { broker: config, providers, warnings } = loadConfig(process.env, PROVIDER_ENVS);
  const logging = startLogging(config, process.env);
  const logger = new Logger('Broker');
  // Node's warnings (an SDK's deprecation notice) as log lines too, not as raw text among the JSON.
  process.removeAllListeners('warning');
  process.on('warning', (w) => logging.root.warn({ context: 'Node', warning: w.name }, w.message));
  for (const warning of warnings) logger.warn(warning);
  if (config.providers.length === 0) {
    throw new ConfigError('JIT_PROVIDERS is empty: name the clouds to serve (aws, azure, gcp), or use `npm run sandbox`');
  }
  const clock = new SystemClock();
  const broker = await startBroker({ config, clock, providers: await createCloudProviders(config.providers, providers, clock, config.maxDurationSeconds), logging });
  logger.log(
    `role=${config.role} clouds=${config.providers.join(',')} database=${broker.database.description}` +
      (broker.url ? ` listening on ${config.host}:${new URL(broker.url).port}` : '') +
      (config.observability.tracing ? ' tracing=otlp' : ''),
  );
  runUntilSignal(broker, stopTracing);
}

main().catch((e: unknown) => {
  process.stderr.write(`jit-broker: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
