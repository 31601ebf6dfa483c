import { Logger } from '@nestjs/common';
import { RunningBroker } from './start-broker';

/**
 * Stops cleanly on SIGINT/SIGTERM: sweeper drains its in-flight calls, then HTTP, then the
 * database. SIGHUP re-reads the access rules (an invalid file is logged; the rules in force stay).
 */
export function runUntilSignal(broker: RunningBroker, cleanup: () => Promise<void> = async () => {}): void {
  const logger = new Logger('Broker');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: stopping`);
    broker
      .close()
      .then(cleanup)
      .then(() => process.exit(0))
      .catch((e: unknown) => {
        logger.error(`shutdown failed: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => {
    broker.policy.reload('signal').catch((e: unknown) => logger.error(`rules reload failed: ${e instanceof Error ? e.message : String(e)}`));
  });
}
