import { CloudName } from '@jit/domain';
import { ReconcileArtifactOutcome, ReconcileHooks, ReconcileStage } from '@jit/grants';
import { BrokerMetrics } from '@jit/observability';

/** Reconciliation's outcomes and failures as `/metrics` counters. */
export class ReconcileMetricsHooks extends ReconcileHooks {
  constructor(private readonly metrics: BrokerMetrics) {
    super();
  }

  artifact(cloud: CloudName, outcome: ReconcileArtifactOutcome): void {
    this.metrics.reconcileArtifacts.inc({ cloud, outcome });
  }

  error(cloud: CloudName, stage: ReconcileStage, outcome: 'retried' | 'gave_up'): void {
    this.metrics.reconcileErrors.inc({ cloud, stage, outcome });
  }
}
