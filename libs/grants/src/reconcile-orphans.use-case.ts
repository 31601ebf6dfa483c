import { AuditLog } from '@jit/audit';
import {
  Clock,
  CloudAccessProvider,
  CloudName,
  GRANT_ID_PATTERN,
  Grant,
  GrantRepository,
  GrantSubject,
  LIVE_STATES,
  OwnedArtifact,
  OwnedListingPart,
  ReconcileScope,
  SystemClock,
} from '@jit/domain';
import { BackoffOptions, isAbortError, withRetry } from '@jit/resilience';
import { CloudProviderRegistry } from './cloud-provider.registry';
import { describeError, toProviderError } from './provider-failure';
import { NoopReconcileHooks, ReconcileHooks, ReconcileStage } from './reconcile-hooks';

export interface ReconcileReport {
  found: number;
  removed: number;
  failed: number;
  /** Orphans not removed (cloud, artifact, why); they are found again next pass. */
  errors: string[];
  /** What this pass could not look at (a cloud, a part of one: cloud, part, stage, why); looked at again next pass. */
  unlisted: string[];
}

export interface ReconcileRetry {
  /** Attempts per step (a part's listing, a lookup, a removal), the first included. */
  maxAttempts: number;
  backoff: BackoffOptions;
  /** A failure asking for a longer wait is not retried in this pass. */
  maxRetryAfterMs: number;
}

/**
 * Three attempts, 2 s doubling to 30 s with equal jitter, or the cloud's Retry-After up to a
 * minute: on top of the adapters' own retries of each call, so a throttled part gets a second
 * chance after the burst, and a cloud that stays down costs a pass minutes, not hours.
 */
export const RECONCILE_RETRY: ReconcileRetry = { maxAttempts: 3, backoff: { baseMs: 2_000, capMs: 30_000, jitter: 'equal' }, maxRetryAfterMs: 60_000 };

/** Twice the default reconcile interval (PT10M): a grant that ended just after one pass is still in the next pass's scope. */
export const DEFAULT_RECONCILE_LOOKBACK_MS = 20 * 60_000;

/** Artifacts looked up in one query. */
export const RECONCILE_BATCH = 500;

/** Parts of one cloud that may fail in a row, retries spent, before the rest of that cloud waits for the next pass. */
export const MAX_PARTS_FAILING_IN_A_ROW = 3;

export interface ReconcileOptions {
  clock?: Clock;
  /** How far back ended grants stay in the scope (`GrantRepository.subjectsOf`). */
  lookbackMs?: number;
  hooks?: ReconcileHooks;
  retry?: ReconcileRetry;
  batchSize?: number;
}

/**
 * Compares what each cloud holds under the broker's naming convention with the database:
 * an artifact whose grant is missing or has ended is an orphan, reported and removed.
 * A grant row is written before its cloud call, so an artifact being created right now
 * always has a live row and is left alone.
 *
 * Where to look comes from the database (`ReconcileScope`: the grants not ended or ended within
 * the look-back), so a restarted broker looks where its predecessor wrote. A failure stays where
 * it happened: a part of a cloud's listing (one principal's policy), a lookup or a removal is
 * retried, counted and skipped, and the pass goes on with the next part and the next cloud.
 */
export class ReconcileOrphansUseCase {
  private readonly clock: Clock;
  private readonly lookbackMs: number;
  private readonly hooks: ReconcileHooks;
  private readonly retry: ReconcileRetry;
  private readonly batchSize: number;

  constructor(
    private readonly store: GrantRepository,
    private readonly audit: AuditLog,
    private readonly registry: CloudProviderRegistry,
    options: ReconcileOptions = {},
  ) {
    this.clock = options.clock ?? new SystemClock();
    this.lookbackMs = options.lookbackMs ?? DEFAULT_RECONCILE_LOOKBACK_MS;
    this.hooks = options.hooks ?? new NoopReconcileHooks();
    this.retry = options.retry ?? RECONCILE_RETRY;
    this.batchSize = options.batchSize ?? RECONCILE_BATCH;
  }

  /** One pass over every cloud; `signal` (a shutdown) stops it between calls and cancels those in flight. */
  async execute(signal?: AbortSignal): Promise<ReconcileReport> {
    const report: ReconcileReport = { found: 0, removed: 0, failed: 0, errors: [], unlisted: [] };
    for (const provider of this.registry.all()) {
      signal?.throwIfAborted();
      await this.reconcileCloud(provider, report, signal);
    }
    return report;
  }

  private async reconcileCloud(provider: CloudAccessProvider, report: ReconcileReport, signal?: AbortSignal): Promise<void> {
    const cloud = provider.cloud;
    let parts: OwnedListingPart[];
    try {
      const scope = this.scopeOf(cloud);
      parts = await this.step(cloud, 'scope', () => provider.listingParts(scope), signal);
    } catch (e) {
      this.skip(report, cloud, 'scope', cloud, e, signal);
      return;
    }
    let batch: OwnedArtifact[] = [];
    let failing = 0;
    for (const [i, part] of parts.entries()) {
      if (failing >= MAX_PARTS_FAILING_IN_A_ROW) {
        report.unlisted.push(`${cloud}: ${parts.length - i} more parts not listed after ${failing} failed in a row`);
        break;
      }
      try {
        batch.push(...(await this.step(cloud, 'list', (s) => collect(part.list(s)), signal)));
        failing = 0;
      } catch (e) {
        this.skip(report, cloud, 'list', part.name, e, signal);
        failing++;
        continue;
      }
      if (batch.length >= this.batchSize) {
        await this.settle(provider, batch, report, signal);
        batch = [];
      }
    }
    if (batch.length) await this.settle(provider, batch, report, signal);
  }

  /** Looks up the grants of a batch of listed artifacts in one query, then keeps or removes each. */
  private async settle(provider: CloudAccessProvider, artifacts: OwnedArtifact[], report: ReconcileReport, signal?: AbortSignal): Promise<void> {
    const cloud = provider.cloud;
    const ids = [...new Set(artifacts.map(grantIdOf).filter((id): id is string => id !== null))];
    let grants: Map<string, Grant>;
    try {
      const found = await this.step(cloud, 'lookup', () => this.store.findByIds(ids), signal);
      grants = new Map(found.map((g) => [g.id, g]));
    } catch (e) {
      this.skip(report, cloud, 'lookup', `${artifacts.length} artifacts`, e, signal);
      return;
    }
    for (const artifact of artifacts) {
      const grantId = grantIdOf(artifact);
      const grant = grantId ? grants.get(grantId) : undefined;
      if (grant && LIVE_STATES.includes(grant.state)) {
        this.hooks.artifact(cloud, 'live');
        continue;
      }
      try {
        await this.removeOrphan(provider, artifact, grantId, grant, report, signal);
      } catch (e) {
        // Recording the finding failed (the database): the orphan is found again next pass.
        this.skip(report, cloud, 'lookup', artifact.artifactName, e, signal);
      }
    }
  }

  private async removeOrphan(
    provider: CloudAccessProvider,
    artifact: OwnedArtifact,
    grantId: string | null,
    grant: Grant | undefined,
    report: ReconcileReport,
    signal?: AbortSignal,
  ): Promise<void> {
    const cloud = provider.cloud;
    report.found++;
    const about = this.event(cloud, grantId, artifact, grant ? `grant is ${grant.state}` : 'no such grant');
    await this.audit.record([{ ...about, type: 'reconcile.orphan_found' }]);
    try {
      await this.step(cloud, 'remove', (s) => provider.removeOrphan(artifact, s), signal);
    } catch (e) {
      if (signal?.aborted) throw e;
      // Reported by the found event; removal is retried on the next run.
      this.hooks.error(cloud, 'remove', 'gave_up');
      this.hooks.artifact(cloud, 'remove_failed');
      report.failed++;
      report.errors.push(`${cloud} ${artifact.artifactName}: ${describeError(e)}`);
      return;
    }
    await this.audit.record([{ ...about, type: 'reconcile.orphan_removed' }]);
    this.hooks.artifact(cloud, 'removed');
    report.removed++;
  }

  /**
   * The scope a cloud's adapter asks for: read from the database once per pass, when first
   * asked (adapters that list without it never pay for it), again after a failed read.
   */
  private scopeOf(cloud: CloudName): ReconcileScope {
    const since = new Date(this.clock.now().getTime() - this.lookbackMs);
    let loaded: Promise<GrantSubject[]> | undefined;
    return {
      subjects: () => {
        if (!loaded) {
          const reading = this.store.subjectsOf(cloud, since);
          loaded = reading;
          void reading.catch(() => {
            if (loaded === reading) loaded = undefined;
          });
        }
        return loaded;
      },
    };
  }

  /** One step with retries (transient failures, the cloud's Retry-After honoured), each failed attempt counted. */
  private step<T>(cloud: CloudName, stage: ReconcileStage, fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const { maxAttempts, backoff, maxRetryAfterMs } = this.retry;
    const retryAfterMs = (e: unknown) => toProviderError(e).options.retryAfterMs;
    const retryable = (e: unknown) => !isAbortError(e) && toProviderError(e).retryable;
    return withRetry({ maxAttempts, backoff, retryable, retryAfterMs, maxRetryAfterMs }, async (s, attempt) => {
      try {
        return await fn(s);
      } catch (e) {
        if (attempt < maxAttempts && retryable(e) && (retryAfterMs(e) ?? 0) <= maxRetryAfterMs && !s.aborted) this.hooks.error(cloud, stage, 'retried');
        throw e;
      }
    }, { signal });
  }

  /** A step that failed for good: counted and reported, and the pass goes on (unless it was cancelled). */
  private skip(report: ReconcileReport, cloud: CloudName, stage: ReconcileStage, what: string, e: unknown, signal?: AbortSignal): void {
    if (signal?.aborted) throw e;
    this.hooks.error(cloud, stage, 'gave_up');
    report.unlisted.push(`${cloud} ${what} (${stage}): ${describeError(e)}`);
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

/** The grant id an artifact's name carries, normalised, if it is one. */
function grantIdOf(artifact: OwnedArtifact): string | null {
  return artifact.grantId && GRANT_ID_PATTERN.test(artifact.grantId) ? artifact.grantId.toLowerCase() : null;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
