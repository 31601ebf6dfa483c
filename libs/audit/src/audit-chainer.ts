import { performance } from 'node:perf_hooks';
import { AuditChainStore, LinkStagedEvents } from '@jit/domain';

const ignore = () => undefined;

/** What a chainer did since its process started. */
export interface ChainingStats {
  /** Chaining transactions that committed events (each one commit round trip). */
  rounds: number;
  /** Chaining transactions that found nothing staged. */
  emptyRounds: number;
  /** Events chained. */
  events: number;
}

/**
 * Chains staged events in rounds, one at a time in this process (and, through the store's head
 * lock, one at a time across replicas). Writers that just committed events ask for a round
 * (`nudge()`) without waiting for it, and their rounds begin at least `spacingMs` apart; readers
 * that must see them chained await `settle()`, which begins a round at once (or joins the one
 * queued) and is answered when a round that began after the call has ended. Many commits share
 * one round: while one runs, every request meanwhile is served by the single round queued after it.
 */
export class AuditChainer {
  /** The round running now, if any. */
  private current: Promise<void> | null = null;
  /** The round that starts when `current` ends, shared by everyone who asked meanwhile. */
  private queued: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** A writer's round, held back until `spacingMs` after the last round began. */
  private nudged: NodeJS.Timeout | null = null;
  /** When the last round began (performance.now()); -Infinity before the first. */
  private lastBegan = -Infinity;
  /** Set by `stop()`: writers still committing (requests cut at the drain deadline) chain at once. */
  private stopping = false;
  private readonly counts: ChainingStats = { rounds: 0, emptyRounds: 0, events: 0 };

  constructor(
    private readonly store: AuditChainStore,
    private readonly link: LinkStagedEvents,
    /** Events per chaining transaction; a round repeats until it takes fewer. */
    private readonly batch = 2000,
    /**
     * Writers' rounds begin at least this many milliseconds apart (`nudge()`), so that under load
     * one round takes the commits of that whole span instead of each round taking the few that
     * committed while the previous one ran. Readers (`settle()`) never wait for it.
     */
    private readonly spacingMs = 0,
  ) {
    if (!Number.isFinite(spacingMs) || spacingMs < 0) throw new Error(`chaining spacing must be a non-negative number of milliseconds, got ${spacingMs}`);
  }

  /**
   * For a writer that just committed events and does not wait for them to be chained: a round
   * begins at once if none began in the last `spacingMs`, else once that much time has passed
   * since the last one began. Whichever round begins first after the call takes the events, so
   * one held back is dropped when a reader's round begins meanwhile. A failed round leaves the
   * events staged for the next round or the timer of `start()`.
   */
  nudge(): void {
    // Once stopping, nothing is held back: a timer could fire after the database has closed.
    if (this.stopping) {
      this.settle().catch(ignore);
      return;
    }
    if (this.queued || this.nudged) return;
    const wait = this.lastBegan + this.spacingMs - performance.now();
    if (wait <= 0) {
      this.settle().catch(ignore);
      return;
    }
    this.nudged = setTimeout(() => {
      this.nudged = null;
      this.settle().catch(ignore);
    }, wait);
    this.nudged.unref();
  }

  /** Resolves once everything staged (and committed) before the call is chained; rejects if that round fails. */
  settle(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.current) return this.begin();
    const running = this.current;
    this.queued = running.then(ignore, ignore).then(() => {
      this.queued = null;
      return this.begin();
    });
    return this.queued;
  }

  /**
   * Chains every `intervalMs` whatever nobody waits for: events staged by a process that died
   * before chaining them (kill -9 between COMMIT and the round), or by a replica that stopped.
   */
  start(intervalMs: number, onError: (e: unknown) => void): void {
    if (this.timer) return;
    this.stopping = false;
    void this.settle().catch(onError);
    this.timer = setInterval(() => void this.settle().catch(onError), intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and chains what is staged, so a clean stop leaves nothing behind. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopping = true;
    await this.settle();
  }

  stats(): ChainingStats {
    return { ...this.counts };
  }

  private begin(): Promise<void> {
    // This round takes every event committed before now, so a nudge still held back is served by it.
    if (this.nudged) clearTimeout(this.nudged);
    this.nudged = null;
    this.lastBegan = performance.now();
    const round: Promise<void> = this.round().finally(() => {
      if (this.current === round) this.current = null;
    });
    this.current = round;
    return round;
  }

  private async round(): Promise<void> {
    for (;;) {
      const n = await this.store.chainStaged(this.link, this.batch);
      if (n === 0) this.counts.emptyRounds++;
      else this.counts.rounds++;
      this.counts.events += n;
      // More were staged than one transaction takes: go on.
      if (n < this.batch) return;
    }
  }
}
