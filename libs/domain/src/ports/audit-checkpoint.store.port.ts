import { AuditCheckpoint } from '../audit-event';

/** Signed checkpoints of the audit chain, kept beside it (the sinks keep copies outside the database). */
export abstract class AuditCheckpointStore {
  /** Records a checkpoint; false when one for that `seq` exists already (another replica won). */
  abstract add(checkpoint: AuditCheckpoint): Promise<boolean>;

  /** The checkpoint with the highest `seq`, if any. */
  abstract latest(): Promise<AuditCheckpoint | null>;

  /** Checkpoints with `seq` above `afterSeq`, in `seq` order. */
  abstract list(afterSeq: number, limit: number): Promise<AuditCheckpoint[]>;

  /** Checkpoints not yet delivered to `sink`, oldest first. */
  abstract unpublished(sink: string, limit: number): Promise<AuditCheckpoint[]>;

  /** Notes that `sink` has the checkpoint `seq`; idempotent. */
  abstract markPublished(seq: number, sink: string, at: Date): Promise<void>;
}
