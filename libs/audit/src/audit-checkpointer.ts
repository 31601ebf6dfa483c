import { AuditCheckpoint, AuditCheckpointStore } from '@jit/domain';
import { CheckpointSigner } from './audit-checkpoint';
import { CheckpointSink } from './checkpoint.sink';

export interface CheckpointCadence {
  /** Sign once this many events have been appended since the last checkpoint. */
  everyEvents: number;
  /** Sign at most this long after the first event not yet covered by a checkpoint. */
  maxDelayMs: number;
}

export type CheckpointOutcome = 'signed' | 'published' | 'publish_failed';

/** Checkpoints delivered to one sink per round; the rest wait for the next round. */
const PUBLISH_BATCH = 100;

/**
 * Signs the audit chain's head every N events or T seconds and hands each checkpoint to every
 * sink. Replicas race on the checkpoint's `seq`; the store keeps one, and every replica publishes
 * what a sink has not yet taken (at least once: a sink may see a checkpoint twice).
 */
export class AuditCheckpointer {
  /** When the first event not covered by a checkpoint was seen (this process's view). */
  private uncoveredSince: number | null = null;

  constructor(
    private readonly store: AuditCheckpointStore,
    private readonly head: () => Promise<{ seq: number; hash: string }>,
    private readonly signer: CheckpointSigner,
    private readonly sinks: readonly CheckpointSink[],
    private readonly cadence: CheckpointCadence,
    private readonly now: () => Date,
    private readonly onOutcome: (outcome: CheckpointOutcome, sink: string | null, error?: unknown) => void = () => {},
  ) {}

  /** Signs the head if it is due (or `force`, at shutdown), then publishes what is pending. */
  async tick(force = false): Promise<AuditCheckpoint | null> {
    const made = await this.checkpointIfDue(force);
    await this.publishPending();
    return made;
  }

  async checkpointIfDue(force = false): Promise<AuditCheckpoint | null> {
    const head = await this.head();
    const last = await this.store.latest();
    const covered = last?.seq ?? 0;
    if (head.seq <= covered) {
      this.uncoveredSince = null;
      return null;
    }
    const now = this.now();
    this.uncoveredSince ??= now.getTime();
    const due = force || head.seq - covered >= this.cadence.everyEvents || now.getTime() - this.uncoveredSince >= this.cadence.maxDelayMs;
    if (!due) return null;
    const checkpoint = this.signer.sign(head.seq, head.hash, now);
    this.uncoveredSince = null;
    if (!(await this.store.add(checkpoint))) return null;
    this.onOutcome('signed', null);
    return checkpoint;
  }

  async publishPending(): Promise<void> {
    for (const sink of this.sinks) {
      for (const checkpoint of await this.store.unpublished(sink.name, PUBLISH_BATCH)) {
        try {
          await sink.publish(checkpoint);
        } catch (e) {
          // Kept pending; the next tick tries again, in order.
          this.onOutcome('publish_failed', sink.name, e);
          break;
        }
        await this.store.markPublished(checkpoint.seq, sink.name, this.now());
        this.onOutcome('published', sink.name);
      }
    }
  }
}
