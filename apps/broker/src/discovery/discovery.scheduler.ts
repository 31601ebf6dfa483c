import { Logger } from '@nestjs/common';
import { Clock, DiscoveryStore } from '@jit/domain';
import { DiscoverySchedule, DiscoveryScanner } from '@jit/discovery';

/** How often a replica looks for a scan to run (one asked elsewhere, one left by a dead replica) and for the schedule's next tick. */
export const DISCOVERY_POLL_MS = 15_000;

/**
 * Runs discovery scans in this replica: at once when one is asked (`kick`), at the schedule's
 * ticks (JIT_DISCOVERY_SCHEDULE), and every poll for a running scan no replica holds the lease
 * of (asked on another replica, or left by one that died: it resumes from the stored cursors).
 * The scan's lease keeps it to one replica at a time.
 */
export class DiscoveryScheduler {
  private readonly logger = new Logger(DiscoveryScheduler.name);
  private timer: NodeJS.Timeout | undefined;
  private readonly stopping = new AbortController();
  private nextTick: Date | null;
  private inFlight: Promise<void> | null = null;

  constructor(
    private readonly scanner: DiscoveryScanner,
    private readonly store: DiscoveryStore,
    private readonly clock: Clock,
    private readonly schedule: DiscoverySchedule | null,
    private readonly pollMs = DISCOVERY_POLL_MS,
  ) {
    this.nextTick = schedule?.nextAfter(clock.now()) ?? null;
  }

  start(): void {
    this.timer = setInterval(() => this.kick(), this.pollMs);
    this.kick();
  }

  /** Runs the running scan now, in the background (a scan just asked through the API). */
  kick(): void {
    if (this.stopping.signal.aborted) return;
    this.inFlight ??= this.tick()
      .catch((e: unknown) => {
        if (!this.stopping.signal.aborted) this.logger.error(`discovery scan failed: ${e instanceof Error ? e.message : String(e)}`);
      })
      .finally(() => (this.inFlight = null));
  }

  private async tick(): Promise<void> {
    const now = this.clock.now();
    if (this.schedule && this.nextTick && now >= this.nextTick) {
      const tick = this.nextTick;
      this.nextTick = this.schedule.nextAfter(now);
      // Another replica may have started this tick's scan already: one scan per tick.
      const latest = await this.store.latestScan();
      if (!latest || latest.createdAt < tick) {
        const scan = await this.scanner.create('schedule', 'scheduler');
        if (scan) this.logger.log(`scheduled discovery scan ${scan.id} started`);
      }
    }
    const outcome = await this.scanner.runPending(this.stopping.signal);
    if (outcome.ran && outcome.scan) {
      const failed = outcome.scan.parts.filter((p) => p.state === 'failed').length;
      this.logger.log(`discovery scan ${outcome.scan.id} ${outcome.scan.state}: ${outcome.scan.parts.length} parts${failed ? `, ${failed} failed` : ''}`);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort();
    await this.inFlight;
  }
}
