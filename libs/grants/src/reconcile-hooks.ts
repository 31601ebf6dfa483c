import { CloudName } from '@jit/domain';

/**
 * What part of a reconciliation pass failed: reading the scope from the database, listing a part
 * of a cloud, looking up the artifacts' grants or recording the finding, removing an orphan.
 */
export type ReconcileStage = 'scope' | 'list' | 'lookup' | 'remove';

/** What became of one listed artifact: its grant is live, or it was an orphan, removed or not. */
export type ReconcileArtifactOutcome = 'live' | 'removed' | 'remove_failed';

/** What reconciliation reports outward (metrics). */
export abstract class ReconcileHooks {
  abstract artifact(cloud: CloudName, outcome: ReconcileArtifactOutcome): void;
  /** A failure at `stage`: `retried` when another attempt follows, `gave_up` when the pass went on without it. */
  abstract error(cloud: CloudName, stage: ReconcileStage, outcome: 'retried' | 'gave_up'): void;
}

export class NoopReconcileHooks extends ReconcileHooks {
  artifact(): void {}
  error(): void {}
}
