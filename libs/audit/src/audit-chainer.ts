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
 * (`settle()`) without waiting for it; readers that must see them chained await `settle()`, which
 * is answered when a round that began after the call has ended. Many commits share one round:
 * while one runs, every request meanwhile is served by the single round queued after it.
 */
export class AuditChainer {
  /** The round running now, if any. */
  private current: Promise<void> | null = null;
  /** The round that starts when `current` ends, shared by everyone who asked meanwhile. */
  private queued: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly counts: ChainingStats = { rounds: 0, emptyRounds: 0, events: 0 };

  constructor(
    private readonly store: AuditChainStore,
    private readonly link: LinkStagedEvents,
    /** Events per chaining transaction; a round repeats until it takes fewer. */
    private readonly batch = 2000,
  ) {}

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
    void this.settle().catch(onError);
    this.timer = setInterval(() => void this.settle().catch(onError), intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and chains what is staged, so a clean stop leaves nothing behind. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.settle();
  }

  stats(): ChainingStats {
    return { ...this.counts };
  }

  private begin(): Promise<void> {
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
