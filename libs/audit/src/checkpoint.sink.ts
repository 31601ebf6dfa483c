import { AuditCheckpoint } from '@jit/domain';

/**
 * Somewhere outside the database that keeps a copy of each signed checkpoint, so that deleting
 * or rewriting checkpoint rows along with the events is seen. Pluggable: a file, a webhook, or
 * anything that can append.
 */
export interface CheckpointSink {
  /** Stable name, used to remember what was delivered (`file:<path>`, `webhook:<origin>`); no secret in it. */
  readonly name: string;
  /** Delivers one checkpoint; throws when it was not taken. A checkpoint may be delivered twice. */
  publish(checkpoint: AuditCheckpoint): Promise<void>;
  /** The checkpoints this sink holds, where it can be read back; verify checks the chain against them too. */
  readBack?(): Promise<{ checkpoints: AuditCheckpoint[]; unreadable: number }>;
}
