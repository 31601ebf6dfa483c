import { Logger } from '@nestjs/common';
import { WorkQueue } from '@jit/domain';
import { isStoreUnavailable } from '@jit/persistence';

/**
 * How often a replica tries to hand back claims stranded by a database outage: each try is one
 * refused connection while the database is down (or one connect timeout while it is
 * unreachable), and the work resumes within this long of the database answering again.
 */
export const STRANDED_RETRY_MS = 1_000;

/**
 * Claims this replica holds on rows whose work failed because the database went away (a
 * transition that could not be stored, a claimed row the sweeper could not process). Without
 * this, such a row waits for its lease to lapse (JIT_LEASE, a minute by default) before any
 * replica retries it: a minute more of access for kinds only the sweeper ends. Instead the
 * replica tries every STRANDED_RETRY_MS to release those claims and, once the database
 * answers, wakes its sweeper (`onHandedBack`), so the work is claimed again at once, here or
 * by another replica.
 */
export class StrandedClaims {
  private readonly logger = new Logger(StrandedClaims.name);
  private readonly ids = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private handing: Promise<void> | null = null;
  private stopped = false;
  private claimLost = false;

  constructor(
    private readonly queue: WorkQueue,
    private readonly onHandedBack: (count: number) => void = () => undefined,
    private readonly retryMs = STRANDED_RETRY_MS,
  ) {}

  /**
   * Work on `grantId` failed with `error` (or, with null, a claim did, whose rows the queue
   * remembers): when the database was away, the claims are handed back as soon as it answers.
   */
  note(grantId: string | null, error: unknown): void {
    if (this.stopped || !isStoreUnavailable(error)) return;
    if (grantId === null) this.claimLost = true;
    else this.ids.add(grantId);
    this.arm();
  }

  /** Grants whose claims wait to be handed back. */
  get pending(): readonly string[] {
    return [...this.ids];
  }

  /** One try now; on failure the next comes after `retryMs`. */
  async handBack(): Promise<void> {
    if (this.handing) return this.handing;
    this.handing = this.tryHandBack().finally(() => (this.handing = null));
    return this.handing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.handing;
  }

  private async tryHandBack(): Promise<void> {
    if (this.ids.size === 0 && !this.claimLost) return;
    const ids = [...this.ids];
    this.claimLost = false;
    try {
      const count = await this.queue.releaseClaims(ids);
      for (const id of ids) this.ids.delete(id);
      this.logger.log(`database answers again: handed back ${count} claims left by work or claims that failed with it`);
      this.onHandedBack(count);
    } catch (e) {
      this.claimLost = true;
      if (!isStoreUnavailable(e)) this.logger.warn(`claims not handed back: ${e instanceof Error ? e.message : String(e)}`);
      this.arm();
    }
  }

  private arm(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.handBack();
    }, this.retryMs);
  }
}
