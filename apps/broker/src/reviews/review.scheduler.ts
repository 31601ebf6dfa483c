import { Logger } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import { Clock, ReviewStore } from '@jit/domain';
import { ReviewCampaigns } from '@jit/reviews';

/** How often the scheduler looks at the definitions and open campaigns. */
export const REVIEW_TICK_MS = 60_000;
const LEASE = 'review-scheduler';

/**
 * Runs access reviews' schedule (docs/reviews.md): on each tick, the replica holding the
 * database lease starts the campaigns whose cron fired, sends reminders, escalates and closes
 * (applying the defaults). The lease runs for two ticks and is claimed at the start of each, so a
 * replica that dies is replaced within two ticks; a tick that outlives it is still safe, since each
 * firing starts one campaign and each reminder or escalation is sent once (ReviewCampaigns.tick).
 */
export class ReviewScheduler {
  private readonly logger = new Logger(ReviewScheduler.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;
  /** Schedules fire only after this (a definition never started does not start for a firing before the broker ran). */
  private readonly since: Date;

  constructor(
    private readonly reviews: ReviewCampaigns,
    private readonly store: ReviewStore,
    private readonly clock: Clock,
    private readonly owner: string,
    private readonly intervalMs = REVIEW_TICK_MS,
  ) {
    this.since = clock.now();
  }

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
  }

  /** One tick (tests call it); a tick in flight is waited for, not doubled. */
  async runOnce(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.tick()
      .catch((e: unknown) => this.logger.error(`access review tick failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => (this.running = null));
    return this.running;
  }

  private async tick(): Promise<void> {
    const now = this.clock.now();
    if (!(await this.store.claimLease(LEASE, this.owner, new Date(now.getTime() + 2 * this.intervalMs), now))) return;
    const done = await this.reviews.tick(this.since);
    if (done.failed) this.logger.warn(`access reviews: ${done.failed} definitions, campaigns or items failed this tick (jit_review_tick_failures_total)`);
    if (done.started || done.reminded || done.escalated || done.closed || done.reapplied) {
      this.logger.log(`access reviews: ${done.started} started, ${done.reminded} reminded, ${done.escalated} items escalated, ${done.closed} closed, ${done.reapplied} decisions re-applied`);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.store.releaseLease(LEASE, this.owner).catch(() => undefined);
  }
}

/** `jit_review_campaigns_open` and `jit_review_items_overdue`, read from the database at each scrape. */
export function registerReviewMetrics(registry: Registry, reviews: ReviewCampaigns): void {
  let last: Promise<{ open: number; overdue: number }> | null = null;
  // One query per scrape for both gauges.
  const read = () => (last ??= reviews.gauges().finally(() => setTimeout(() => (last = null), 0)));
  let counted = 0;
  new Counter({
    name: 'jit_review_tick_failures_total',
    help: 'Definitions, campaigns or items whose scheduled review work failed (the rest of the tick went on)',
    registers: [registry],
    collect() {
      this.inc(reviews.tickFailures - counted);
      counted = reviews.tickFailures;
    },
  });
  new Gauge({
    name: 'jit_review_campaigns_open',
    help: 'Access review campaigns open now',
    registers: [registry],
    async collect() {
      this.set((await read()).open);
    },
  });
  new Gauge({
    name: 'jit_review_items_overdue',
    help: 'Undecided items of open access review campaigns past their end (escalated, waiting for the default at the close)',
    registers: [registry],
    async collect() {
      this.set((await read()).overdue);
    },
  });
}
