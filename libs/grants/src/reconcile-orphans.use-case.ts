import { AuditLog } from '@jit/audit';
import { CloudName, GrantRepository, LIVE_STATES, OwnedArtifact, GRANT_ID_PATTERN } from '@jit/domain';
import { CloudProviderRegistry } from './cloud-provider.registry';
import { describeError } from './provider-failure';

export interface ReconcileReport {
  found: number;
  removed: number;
  failed: number;
  errors: string[];
}

/**
 * Compares what each cloud holds under the broker's naming convention with the database:
 * an artifact whose grant is missing or has ended is an orphan, reported and removed.
 * A grant row is written before its cloud call, so an artifact being created right now
 * always has a live row and is left alone.
 */
export class ReconcileOrphansUseCase {
  constructor(
    private readonly store: GrantRepository,
    private readonly audit: AuditLog,
    private readonly registry: CloudProviderRegistry,
  ) {}

  async execute(): Promise<ReconcileReport> {
    const report: ReconcileReport = { found: 0, removed: 0, failed: 0, errors: [] };
    for (const provider of this.registry.all()) {
      for await (const artifact of provider.listOwned()) {
        const grantId = artifact.grantId && GRANT_ID_PATTERN.test(artifact.grantId) ? artifact.grantId.toLowerCase() : null;
        const grant = grantId ? await this.store.findById(grantId) : null;
        if (grant && LIVE_STATES.includes(grant.state)) continue;
        report.found++;
        const about = this.event(provider.cloud, grantId, artifact, grant ? `grant is ${grant.state}` : 'no such grant');
        await this.audit.record([{ ...about, type: 'reconcile.orphan_found' }]);
        try {
          await provider.removeOrphan(artifact);
          await this.audit.record([{ ...about, type: 'reconcile.orphan_removed' }]);
          report.removed++;
        } catch (e) {
          // Reported by the found event; removal is retried on the next run.
          report.failed++;
          report.errors.push(`${provider.cloud} ${artifact.artifactName}: ${describeError(e)}`);
        }
      }
    }
    return report;
  }

  private event(cloud: CloudName, grantId: string | null, a: OwnedArtifact, why: string) {
    return {
      grantId,
      cloud,
      principal: null,
      actor: 'broker',
      data: { artifactName: a.artifactName, description: a.description, locator: a.locator, why },
    };
  }
}
