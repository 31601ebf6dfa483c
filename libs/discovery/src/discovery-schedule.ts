import { Cron } from 'croner';

/**
 * When the next scheduled scan is due (JIT_DISCOVERY_SCHEDULE, UTC). A bad expression stops the
 * start with the variable named.
 */
export class DiscoverySchedule {
  private readonly cron: Cron;

  constructor(readonly expression: string) {
    try {
      this.cron = new Cron(expression, { timezone: 'UTC', paused: true });
    } catch (e) {
      throw new Error(`JIT_DISCOVERY_SCHEDULE: ${e instanceof Error ? e.message : String(e)} (a cron expression: 5 fields, or 6 with seconds, UTC)`);
    }
  }

  /** The first run strictly after `after`, or null when the expression has none left. */
  nextAfter(after: Date): Date | null {
    return this.cron.nextRun(after);
  }
}
