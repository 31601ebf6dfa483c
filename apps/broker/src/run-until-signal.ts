import { Logger } from '@nestjs/common';
import { RunningBroker } from './start-broker';

/**
 * Of the shutdown deadline, the part kept for handing claims back when close() is still busy
 * (one UPDATE; a database that does not answer gets no more than this).
 */
const HAND_BACK_RESERVE_MS = 2_000;

/**
 * Stops cleanly on SIGINT/SIGTERM, within JIT_SHUTDOWN_DEADLINE: close() stops listening at
 * once, cancels the cloud calls in flight, drains the schedulers and hands this replica's claims
 * back (RunningBroker.close). If that is not done shortly before the deadline, the claims are
 * handed back anyway, and at the deadline the process exits (status 1) whatever is still
 * pending. SIGHUP re-reads the access rules (an invalid file is logged; the rules in force stay).
 */
export function runUntilSignal(broker: RunningBroker, cleanup: () => Promise<void> = async () => {}): void {
  const logger = new Logger('Broker');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const deadlineMs = broker.shutdownDeadlineMs;
    const startedAt = Date.now();
    logger.log(`${signal}: stopping (deadline ${deadlineMs} ms)`);
    const reserve = Math.min(HAND_BACK_RESERVE_MS, deadlineMs / 2);
    const handBack = setTimeout(() => {
      logger.warn(`still stopping after ${Date.now() - startedAt} ms: handing back this replica's claims`);
      broker.handBackClaims().catch((e: unknown) => logger.error(`claims not handed back: ${e instanceof Error ? e.message : String(e)}`));
    }, deadlineMs - reserve);
    setTimeout(() => {
      logger.error(`shutdown deadline of ${deadlineMs} ms passed: exiting with work still pending`);
      process.exit(1);
    }, deadlineMs);
    broker
      .close()
      .then(cleanup)
      .then(() => {
        clearTimeout(handBack);
        logger.log(`stopped in ${Date.now() - startedAt} ms`);
        process.exit(0);
      })
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
