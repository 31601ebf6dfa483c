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
   * concurrency): past this many the sweeper claims nothing more until writes land.
   */
  maxOutstanding?: number;
  /**
   * Grants of one cloud a claim may take beyond its free slots (default 4 × concurrency), to wait
   * in this replica for a slot: claims in a catch-up are then a few large statements rather than
   * one per slot-load. Only a cloud that is answering claims ahead: one with a free slot, or one
   * whose slots are full but a call of which ended since the last claim (so the next claim lands
   * while its slots are still busy, not after they drained). A cloud whose calls hang answers only
   * as they time out (JIT_PROVIDER_TIMEOUT), and a grant that finds no slot within a quarter of
   * the lease after its claim is handed back for any replica to claim.
   */
  claimAhead?: number;
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
 * delay the others' expiries. A slot covers an expiry's overlap read and cloud call (the gate
 * handed to the work; the read comes after the wait, so a grant of the same key stored meanwhile
 * is seen) but not the write after it, so the reads of the grants a tick admits share one query,
 * the slots turn over at the cloud's pace, and the outcomes join the group commit; `maxOutstanding` bounds the grants claimed and not yet written, `claimAhead`
 * those waiting here for a slot. Work without a gated call (recovery of a provisioning grant, an
 * approval deadline) holds a slot from start to end, as before.
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
  private readonly claimAhead: number;
  /**
   * Clouds a call of which ended since the last claim: answering, so worth claiming ahead for even
   * while every slot is taken (see `claimAhead`).
   */
  private readonly answered = new Set<CloudName>();
  /**
   * Clouds whose last claim took all it asked for (every cloud until its first claim says
   * otherwise): only they share the claim ahead. A cloud with nothing due still gets its free
   * slots in every claim, and once a claim fills them it is behind again.
   */
  private readonly behind = new Set<CloudName>();
  /** Grants of each cloud started and not yet given a slot (waiting at the gate). */
  private readonly pending = new Map<CloudName, number>();
  /** Work waiting at the gate for a slot of its cloud, first come first served. */
  private readonly waiters = new Map<CloudName, { admit(): void; handBack(): void }[]>();
  /** Claims handed back by grants that waited too long for a slot: released together. */
  private handingBack: { ids: string[]; done: Promise<void> } | null = null;

  constructor(
    private readonly queue: WorkQueue,
    private readonly processDue: ProcessDueGrantUseCase,
    private readonly clock: Clock,
    private readonly settings: SweeperSettings,
  ) {
    this.slots = new CloudFairShare(settings.concurrency, settings.clouds?.length ? settings.clouds : CLOUDS);
    this.claimChunk = Math.max(1, Math.floor(settings.concurrency / 8));
    this.maxOutstanding = Math.max(settings.concurrency, settings.maxOutstanding ?? 8 * settings.concurrency);
    this.claimAhead = Math.max(0, settings.claimAhead ?? 4 * settings.concurrency);
    for (const cloud of this.slots.clouds) {
      this.pending.set(cloud, 0);
      this.waiters.set(cloud, []);
      this.behind.add(cloud);
    }
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
    // Work still waiting for a slot stops there: close() releases every lease this replica holds.
    for (const queue of this.waiters.values()) for (const w of queue.splice(0)) w.handBack();
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
    // The leases start with the claim statement: a grant's wait for a slot is measured from here.
    const leaseStarted = performance.now();
    const limits = this.claimLimits();
    const claimed = await this.queue.claimDueByCloud(this.settings.owner, this.settings.leaseMs, limits);
    // Most overdue first: they take the free slots first (the claim's rows come back in no order).
    claimed.sort((a, b) => expiryOf(a) - expiryOf(b));
    for (const g of claimed) this.dispatch(g, leaseStarted);
    // A cloud with no room may have work waiting; one that took all it asked for surely has.
    let full = false;
    let backlog = false;
    for (const [cloud, limit] of limits) {
      const taken = claimed.reduce((n, g) => n + (g.cloud === cloud ? 1 : 0), 0);
      if (limit === 0) backlog = true;
      else if (taken === limit) full = backlog = true;
      if (limit > 0 && taken === limit) this.behind.add(cloud);
      else if (limit > 0) this.behind.delete(cloud);
    }
    this.backlog = backlog;
    // Claimed again as soon as slots free up, so the next wake-up can wait until the backlog ends.
    if (full) return;
    const next = await this.queue.nextDueAt(claimedAt, 2 * this.settings.intervalMs);
    if (next && (this.wakeAt === null || next.getTime() < this.wakeAt)) this.arm(next.getTime());
  }

  /**
   * What to claim of each cloud: its free slots (fair share) and, while it is behind and answering
   * (a free slot, or a call ended since the last claim), up to `claimAhead` more, less what already
   * waits for one; `maxOutstanding` in all.
   */
  private claimLimits(): Map<CloudName, number> {
    const cap = Math.max(0, this.maxOutstanding - this.inFlight.size);
    // First every cloud's free slots (they fit the cap together), then what is left of the cap
    // shared evenly between the answering clouds that are behind: one cloud's claim ahead never
    // takes another's share, and a cloud with nothing due takes none.
    const limits = this.slots.split(cap);
    const rooms = [...limits.values()];
    const ahead = [...limits]
      .filter(([cloud, room]) => this.behind.has(cloud) && (room > 0 || this.answered.has(cloud)))
      .map(([cloud]) => cloud);
    const aheadEach = ahead.length > 0 ? Math.floor((cap - rooms.reduce((a, b) => a + b, 0)) / ahead.length) : 0;
    for (const cloud of ahead) {
      limits.set(cloud, limits.get(cloud)! + Math.max(0, Math.min(aheadEach, this.claimAhead - this.pendingOf(cloud))));
    }
    // The evidence is spent: the next claim ahead of full slots waits for another call to end.
    this.answered.clear();
    return limits;
  }

  private pendingOf(cloud: CloudName): number {
    return this.pending.get(cloud) ?? 0;
  }

  private dispatch(g: Grant, leaseStarted: number): void {
    const cloud = g.cloud;
    this.pending.set(cloud, this.pendingOf(cloud) + 1);
    let state: 'pending' | 'calling' | 'done' = 'pending';
    const gate = {
      enter: () =>
        new Promise<void>((resolve, reject) => {
          if (state !== 'pending') return reject(new Error(`grant ${g.id}: entered the gate twice`));
          const admit = () => {
            clearTimeout(timer);
            state = 'calling';
            this.pending.set(cloud, this.pendingOf(cloud) - 1);
            this.slots.take(cloud);
            resolve();
          };
          const handBack = () => {
            clearTimeout(timer);
            state = 'done';
            this.pending.set(cloud, this.pendingOf(cloud) - 1);
            reject(new HandedBack(g.id));
          };
          const queue = this.waiters.get(cloud)!;
          const waiter = { admit, handBack };
          // A quarter of the lease after the claim without a slot (a cloud whose calls hang), the claim goes
          // back for any replica to take. Measured from the claim, not from here (work such as a
          // recorded revoke's transition comes first), so the wait, the call (JIT_PROVIDER_TIMEOUT, at
          // most half the lease) and the reads around it stay inside the lease: leases are not renewed.
          const timer = setTimeout(() => {
            const i = queue.indexOf(waiter);
            if (i >= 0) queue.splice(i, 1);
            handBack();
          }, Math.max(0, leaseStarted + this.settings.leaseMs / 4 - performance.now()));
          if (this.stopped) handBack();
          else if (queue.length === 0 && this.slots.room(cloud) > 0) admit();
          else queue.push(waiter);
        }),
      leave: () => {
        if (state !== 'calling') return;
        state = 'done';
        this.slots.release(cloud);
        this.answered.add(cloud);
        this.admitWaiters();
        this.claimMore(cloud);
      },
    };
    const work = ProcessDueGrantUseCase.gatesCall(g)
      ? this.processDue.execute(g, gate)
      : gate.enter().then(() => this.processDue.execute(g).finally(() => gate.leave()));
    const job = work
      .catch((e: unknown) => {
        if (e instanceof HandedBack) return this.handBack(g.id);
        this.logger.error(`grant ${g.id}: ${e instanceof Error ? e.message : String(e)}`);
        this.settings.onFailed?.(g.id, e);
      })
      .finally(() => {
        this.inFlight.delete(job);
        // Work that made no gated call (not due after all, or its read failed) never took a slot.
        if (state === 'pending') this.pending.set(cloud, this.pendingOf(cloud) - 1);
        gate.leave();
        this.claimMore(cloud);
      });
    this.inFlight.add(job);
  }

  /**
   * Gives the free slots to waiting work, first come first served within a cloud: first to the
   * clouds below their guaranteed share, then to any with room. So a cloud that borrowed slots
   * while the others had nothing to do gives them back as its calls end, even though, claiming
   * ahead, it always has work waiting.
   */
  private admitWaiters(): void {
    for (const belowShareOnly of [true, false]) {
      for (const [cloud, queue] of this.waiters) {
        while (queue.length > 0 && this.slots.room(cloud) > 0 && (!belowShareOnly || this.slots.belowShare(cloud))) queue.shift()!.admit();
      }
    }
  }

  /** Releases, in one statement per tick, the claims of work that waited too long for a slot. */
  private handBack(id: string): Promise<void> {
    if (!this.handingBack) {
      const batch: { ids: string[]; done: Promise<void> } = { ids: [], done: Promise.resolve() };
      batch.done = new Promise<void>((r) => setImmediate(r)).then(async () => {
        this.handingBack = null;
        // At stop, close() releases every lease of this replica.
        if (this.stopped) return;
        try {
          await this.queue.releaseClaims(batch.ids);
        } catch (e) {
          for (const grantId of batch.ids) this.settings.onFailed?.(grantId, e);
        }
      });
      this.handingBack = batch;
    }
    this.handingBack.ids.push(id);
    return this.handingBack.done;
  }

  /**
   * With a backlog, claims again once `cloud` could take a good part of a claim (or its last work
   * ended) and as many more grants may be outstanding: a cycle per freed slot cost a claim
   * statement per grant in a catch-up. A cloud that is answering claims before its waiting work
   * runs out, so its slots do not stand idle while the next claim is on its way.
   */
  private claimMore(cloud: CloudName): void {
    if (!this.backlog) return;
    const room = this.slots.room(cloud);
    // Full slots claim ahead only for a cloud that is behind: claimLimits gives no other such a share.
    const wanted = room > 0 || (this.answered.has(cloud) && this.behind.has(cloud)) ? room + this.claimAhead - this.pendingOf(cloud) : 0;
    const idle = this.slots.inFlightOf(cloud) === 0 && this.pendingOf(cloud) === 0;
    if (wanted < Math.max(this.claimChunk, this.claimAhead / 2) && !idle) return;
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

const expiryOf = (g: Grant): number => (g.expiresAt instanceof Date ? g.expiresAt.getTime() : 0);

/** Work that found no slot in time, or was still waiting when the sweeper stopped: its claim is given back, nothing was called or recorded. */
class HandedBack extends Error {
  constructor(grantId: string) {
    super(`grant ${grantId}: no slot in time, claim handed back`);
  }
}
