import { Logger } from '@nestjs/common';
import { CLOUDS, Clock, CloudName, Grant, WorkQueue } from '@jit/domain';
import { ProcessDueGrantUseCase } from '@jit/grants';
import { CloudFairShare } from './cloud-fair-share';

export interface SweeperSettings {
  owner: string;
  intervalMs: number;
  leaseMs: number;
  concurrency: number;
  /** The clouds this broker serves (JIT_PROVIDERS), which share the slots fairly; default all. */
  clouds?: readonly CloudName[];
  /** A claim (`grantId` null) or the work on a claimed grant failed with `error` (StrandedClaims hands back what a database outage left). */
  onFailed?: (grantId: string | null, error: unknown) => void;
  /**
   * Claimed grants whose work has not ended, cloud calls and writes together (default 8 ×
   * concurrency): a slot is freed once its cloud call returns, and the write that follows goes
   * through the group commit; past this many the sweeper claims nothing more until writes land.
   */
  maxOutstanding?: number;
}

/**
 * Claims due grants and hands each to ProcessDueGrantUseCase. Polls every `intervalMs` and,
 * between polls, keeps one timer on the next due work (an expiry, a revocation retry, an approval
 * deadline, a lapsing lease), so revocation starts at `expiresAt` and a retry at its scheduled time,
 * not at the next poll. The poll is the safety net.
 * Replicas share the work through row claims (FOR UPDATE SKIP LOCKED plus a lease), so there
 * is no leader; nothing is kept in memory but the next wake-up time.
 * Each claim takes every cloud's due work within that cloud's fair share of `concurrency`
 * (CloudFairShare), in one statement, so a cloud whose calls hang cannot hold every slot and
 * delay the others' expiries. A slot covers a cloud call: it is freed once the call has returned
 * (expiries and revocations), while the outcome's write joins the group commit, so in a catch-up
 * the slots turn over at the cloud's pace, not at the commits'; `maxOutstanding` bounds the
 * grants claimed and not yet written.
 */
export class GrantExpirySweeper {
  private readonly logger = new Logger(GrantExpirySweeper.name);
  private pollTimer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt: number | null = null;
  /** The cycle now running, if any: stop() waits for it so no query outlives the database. */
  private cycling: Promise<void> | null = null;
  private again = false;
  /** The last claim took all it could: more may be due once a slot frees up. */
  private backlog = false;
  private stopped = true;
  /** performance.now() when the last cycle ended, well or not (the start until the first one does): /health's liveness. */
  private cycleEndedAt = performance.now();
  private inFlight = new Set<Promise<unknown>>();
  private readonly slots: CloudFairShare;
  /**
   * Free slots of a cloud that make a backlog worth another claim: an eighth of the concurrency
   * (4 of 32), never more than the reserve each cloud keeps (about a sixth), so a cloud always
   * reaches it as its own calls end.
   */
  private readonly claimChunk: number;
  private readonly maxOutstanding: number;

  constructor(
    private readonly queue: WorkQueue,
    private readonly processDue: ProcessDueGrantUseCase,
    private readonly clock: Clock,
    private readonly settings: SweeperSettings,
  ) {
    this.slots = new CloudFairShare(settings.concurrency, settings.clouds?.length ? settings.clouds : CLOUDS);
    this.claimChunk = Math.max(1, Math.floor(settings.concurrency / 8));
    this.maxOutstanding = Math.max(settings.concurrency, settings.maxOutstanding ?? 8 * settings.concurrency);
  }

  start(): void {
    this.stopped = false;
    this.cycleEndedAt = performance.now();
    this.pollTimer = setInterval(() => this.kick(), this.settings.intervalMs);
    this.kick();
  }

  /** A grant written in this replica has work due at `at`: wake up then if that is before the next wake-up. */
  noteDue(at: Date): void {
    if (this.stopped) return;
    if (at.getTime() - this.clock.now().getTime() > 2 * this.settings.intervalMs) return;
    if (this.wakeAt === null || at.getTime() < this.wakeAt) this.arm(at.getTime());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.wakeTimer);
    await this.cycling;
    // The cycle may have armed a timer on its way out; arm() refuses from now on.
    clearTimeout(this.wakeTimer);
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Milliseconds (monotonic, not the domain clock) since the last claim cycle ended, or since
   * start() before the first one: grows past the poll interval only while a cycle hangs or no
   * timer fires any more, which is what /health reports as a stalled sweeper.
   */
  msSinceCycleEnded(): number {
    return performance.now() - this.cycleEndedAt;
  }

  kick(): void {
    if (this.stopped) return;
    if (this.cycling) {
      this.again = true;
      return;
    }
    this.cycling = this.cycle()
      .catch((e: unknown) => {
        this.logger.error(`sweep cycle failed: ${e instanceof Error ? e.message : String(e)}`);
        this.settings.onFailed?.(null, e);
      })
      .finally(() => {
        this.cycling = null;
        this.cycleEndedAt = performance.now();
        if (this.again) {
          this.again = false;
          setImmediate(() => this.kick());
        }
      });
  }

  private async cycle(): Promise<void> {
    // Work due after this instant is either claimed below or found by nextDueAt: none falls between.
    const claimedAt = this.clock.now();
    const limits = this.slots.split(this.maxOutstanding - this.inFlight.size);
    const claimed = await this.queue.claimDueByCloud(this.settings.owner, this.settings.leaseMs, limits);
    for (const g of claimed) this.dispatch(g);
    // A cloud with no room may have work waiting; one that took all it asked for surely has.
    let full = false;
    let backlog = false;
    for (const [cloud, limit] of limits) {
      const taken = claimed.reduce((n, g) => n + (g.cloud === cloud ? 1 : 0), 0);
      if (limit === 0) backlog = true;
      else if (taken === limit) full = backlog = true;
    }
    this.backlog = backlog;
    // Claimed again as soon as slots free up, so the next wake-up can wait until the backlog ends.
    if (full) return;
    const next = await this.queue.nextDueAt(claimedAt, 2 * this.settings.intervalMs);
    if (next && (this.wakeAt === null || next.getTime() < this.wakeAt)) this.arm(next.getTime());
  }

  private dispatch(g: Grant): void {
    this.slots.take(g.cloud);
    let calling = true;
    const freeSlot = () => {
      if (!calling) return;
      calling = false;
      this.slots.release(g.cloud);
    };
    const job = this.processDue
      .execute(g, () => {
        freeSlot();
        this.claimMore(g.cloud);
      })
      .catch((e: unknown) => {
        this.logger.error(`grant ${g.id}: ${e instanceof Error ? e.message : String(e)}`);
        this.settings.onFailed?.(g.id, e);
      })
      .finally(() => {
        this.inFlight.delete(job);
        freeSlot();
        this.claimMore(g.cloud);
      });
    this.inFlight.add(job);
  }

  /**
   * With a backlog, claims again once a few of `cloud`'s slots are free (or its last call ended)
   * and as many more grants may be outstanding: a cycle per freed slot cost a claim statement per
   * grant in a catch-up.
   */
  private claimMore(cloud: CloudName): void {
    if (!this.backlog) return;
    if (this.slots.room(cloud) < this.claimChunk && this.slots.inFlightOf(cloud) > 0) return;
    if (this.maxOutstanding - this.inFlight.size < this.claimChunk && this.inFlight.size > 0) return;
    this.backlog = false;
    this.kick();
  }

  private arm(at: number): void {
    if (this.stopped) return;
    clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeAt = null;
      this.kick();
    }, Math.max(0, at - this.clock.now().getTime()));
  }
}
