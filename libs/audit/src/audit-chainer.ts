import { AuditChainStore, LinkStagedEvents } from '@jit/domain';

const ignore = () => undefined;

/**
 * Chains staged events in rounds, one at a time in this process (and, through the store's head
 * lock, one at a time across replicas). Callers that just committed events ask `settle()` and are
 * answered when a round that began after their commit has ended: many commits share one round,
 * which is what takes the chain off the path of every state change.
 */
export class AuditChainer {
  /** The round running now, if any. */
  private current: Promise<void> | null = null;
  /** The round that starts when `current` ends, shared by everyone who asked meanwhile. */
  private queued: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

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

  private begin(): Promise<void> {
    const round: Promise<void> = this.round().finally(() => {
      if (this.current === round) this.current = null;
    });
    this.current = round;
    return round;
  }

  private async round(): Promise<void> {
    while ((await this.store.chainStaged(this.link, this.batch)) === this.batch) {
      /* more were staged than one transaction takes */
    }
  }
}
