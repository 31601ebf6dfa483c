import { Logger } from '@nestjs/common';
import { WorkQueue } from '@jit/domain';
import { ReconcileOrphansUseCase } from '@jit/grants';

/** Runs reconciliation every `intervalMs` on whichever replica claims the job first. */
export class ReconcileScheduler {
  private readonly logger = new Logger(ReconcileScheduler.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | null = null;
  /** Aborted by `stop()`: a pass in flight stops between calls and cancels those under way. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly queue: WorkQueue,
    private readonly reconcile: ReconcileOrphansUseCase,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
  }

  async runOnce(): Promise<void> {
    if (this.running) return;
    const run = (async () => {
      // The lease is the interval itself: one run per interval across all replicas.
      if (!(await this.queue.claimJob('reconcile', this.intervalMs - 1000))) return;
      const report = await this.reconcile.execute(this.stopping.signal);
      if (report.found) this.logger.warn(`reconciliation: ${report.found} orphans, ${report.removed} removed, ${report.failed} failed`);
      for (const e of report.errors) this.logger.error(`orphan not removed: ${e}`);
      for (const u of report.unlisted) this.logger.error(`not reconciled this pass: ${u}`);
    })().catch((e: unknown) => {
      if (!this.stopping.signal.aborted) this.logger.error(`reconciliation failed: ${e instanceof Error ? e.message : String(e)}`);
    });
    this.running = run;
    await run;
    this.running = null;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort();
    await this.running;
  }
}
