import {
  Clock, CloudAccessProvider, Grant, GrantAggregate, GrantSpec, GrantRepository, Principal, ProviderError, ProvisionOutcome, Target, grantSpec, revocationLagSeconds,
  revokeRequestPending,
} from '@jit/domain';
import { backoffMs, withRetry, withTimeout } from '@jit/resilience';
import { REQUEST_BACKOFF, REVOKE_BACKOFF } from './retry-schedules';
import { CloudProviderRegistry } from './cloud-provider.registry';
import { GrantTransitions } from './grant-transitions';
import { LifecycleHooks } from './lifecycle-hooks';
import { describeError, toProviderError } from './provider-failure';
import { DomainError } from '@jit/domain';

export interface LifecycleSettings {
  leaseMs: number;
  providerTimeoutMs: number;
  revokeMaxAttempts: number;
  revokeFailedRetryMs: number;
}

/** Attempts of a grant call inside the requester's HTTP request before the grant fails. */
export const REQUEST_GRANT_ATTEMPTS = 3;
/** The lease was taken a moment before the first attempt; keep this much of it unused. */
const LEASE_SAFETY_MS = 1_000;
/** How soon a grant that the cloud left pending (PIM) is looked at again. */
const PENDING_RECHECK_MS = 5_000;
/**
 * Longest wait a cloud may ask for before a revocation is retried. Covers PIM's five-minute
 * removal window (a revoke refused inside it is retried at assignment time + 5 min, not six
 * times a minute until the attempts run out); a longer Retry-After is not trusted.
 */
const REVOKE_RETRY_AFTER_CAP_MS = 10 * 60_000;

/**
 * A bound on concurrent cloud calls that the caller holds (the sweeper's per-cloud slots): the
 * call waits in `enter` for a slot, and `leave` frees it as soon as the cloud has answered, before
 * the outcome is written. `enter` may reject (the caller gave the work back): nothing is called or recorded.
 */
export interface CallGate {
  enter(): Promise<void>;
  leave(): void;
}

export type ProvisionResult =
  | { grant: Grant; outcome: ProvisionOutcome }
  | { grant: Grant; error: ProviderError };

/**
 * Whether a live grant still covers its overlap key, so that another grant's change must keep its
 * access: `provisioning` or `active`, with no revoke recorded and no failed provisioning awaiting
 * cleanup. A grant being ended (`revoking`, `revoke_failed`, a revoke requested, a cleanup) covers
 * nothing: counting it would let its own failed revoke keep a shared membership or schedule alive.
 */
export function coversOverlap(g: Grant): boolean {
  if (g.state !== 'provisioning' && g.state !== 'active') return false;
  return !g.revokeRequest && g.endReason == null;
}

/**
 * The cloud calls every path shares (request, approval, revoke, sweeper), each with a timeout
 * and outcome metrics, followed by the change the grant's behaviour makes of the answer.
 */
export class GrantLifecycle {
  constructor(
    private readonly transitions: GrantTransitions,
    private readonly store: GrantRepository,
    private readonly registry: CloudProviderRegistry,
    private readonly clock: Clock,
    private readonly settings: LifecycleSettings,
    private readonly hooks: LifecycleHooks,
    /**
     * Aborted when the broker stops: every cloud call in flight is cancelled and nothing is
     * recorded of it (no failure, no retry scheduled); the row keeps its lease until the broker
     * hands its claims back, and another replica carries the work on.
     */
    private readonly stopping: AbortSignal = new AbortController().signal,
  ) {}

  /** Calls the cloud for a provisioning grant and records the result. */
  async provision(g: Grant, options: { recovered: boolean; attempts: number }): Promise<ProvisionResult> {
    const provider = this.registry.get(g.cloud);
    const spec = grantSpec(g);
    const overlapping = await this.overlapping(g);
    let outcome: ProvisionOutcome;
    try {
      outcome = await this.withRetries(options.attempts, () => this.call(provider, 'grant', (signal) => provider.grant(spec, { overlapping }, signal)));
    } catch (e) {
      this.throwIfStopping();
      const error = toProviderError(e);
      return { grant: await this.failProvisioning(g, describeError(error)), error };
    }
    const now = this.clock.now();
    const answer = { providerRef: outcome.providerRef, notice: outcome.notice, recovered: options.recovered };
    const settled =
      outcome.status === 'pending'
        ? await this.transitions.apply(GrantAggregate.awaitCloud(g, answer), new Date(now.getTime() + PENDING_RECHECK_MS))
        : await this.transitions.apply(GrantAggregate.activate(g, { ...answer, now }));
    // The row as stored carries a revoke recorded while the cloud call ran: carried out at once,
    // and credentials of a session being revoked are not handed out.
    if (settled && revokeRequestPending(settled)) {
      return { grant: await this.carryOutRevoke(settled), outcome: { ...outcome, credentials: undefined } };
    }
    if (settled) return { grant: settled, outcome };
    // Another writer got there first (a lease lapsed): report the grant as it is now.
    return { grant: outcome.status === 'pending' ? g : ((await this.store.findById(g.id)) ?? g), outcome };
  }

  /**
   * Starts and carries out the revoke recorded while the grant was provisioning: as soon as the
   * cloud holds the access (from `active`), or when a grant a crashed replica left provisioning
   * is recovered (from `provisioning`: the revoke removes whatever the cloud may hold). Ends
   * `revoked` like any early revoke, or is retried as one.
   */
  async carryOutRevoke(g: Grant, gate?: CallGate): Promise<Grant> {
    const retryAt = new Date(this.clock.now().getTime() + this.settings.leaseMs);
    const revoking = await this.transitions.apply(GrantAggregate.carryOutRevoke(g, { retryAt }), retryAt);
    if (!revoking) return (await this.store.findById(g.id)) ?? g;
    return this.endAccess(revoking, 'revoked', gate);
  }

  /**
   * Makes sure nothing is left in the cloud, then marks the grant `failed`. If the cleanup
   * itself fails, the row stays `provisioning` with `endReason: failed` and a lease, so the
   * sweeper retries the cleanup rather than the grant.
   */
  async failProvisioning(g: Grant, reason: string): Promise<Grant> {
    const provider = this.registry.get(g.cloud);
    const now = this.clock.now();
    try {
      // The grants still covering this key: the cleanup must not remove access they share (design §4).
      const overlapping = await this.overlapping(g);
      await this.call(provider, 'revoke', (signal) => provider.revoke(grantSpec(g), { overlapping, early: true }, signal));
    } catch (e) {
      this.throwIfStopping();
      const retryAt = new Date(now.getTime() + backoffMs(g.attempts + 1, REVOKE_BACKOFF));
      const kept = await this.transitions.apply(GrantAggregate.keepForCleanup(g, { reason, cleanupError: describeError(e) }), retryAt);
      return kept ?? g;
    }
    return this.transitions.applyOrReload(GrantAggregate.fail(g, { reason, now }));
  }

  /**
   * Ends a grant's access in the cloud and records `expired` or `revoked`; on failure, schedules
   * a retry (jittered backoff) or, after `revokeMaxAttempts` or a terminal error, `revoke_failed`.
   * With `gate`, the overlap read and the cloud call wait for and hold one of the caller's slots
   * (the write after them does not), so the sweeper's slots turn over at the cloud's pace while
   * the outcomes go through the group commit. The overlaps are read once the slot is held, not
   * before the wait for it: a grant of the same key provisioned meanwhile may reuse this grant's
   * access, and a revoke told of no overlap would remove it (design §4). The grants a tick admits
   * still read their overlaps in one query (the repository coalesces the reads of a tick).
   */
  async endAccess(g: Grant, reason: 'expired' | 'revoked', gate?: CallGate): Promise<Grant> {
    const provider = this.registry.get(g.cloud);
    await gate?.enter();
    let overlapping: GrantSpec[];
    try {
      overlapping = await this.overlapping(g);
    } catch (e) {
      gate?.leave();
      throw e;
    }
    const revokeIssuedAt = this.clock.now();
    if (reason === 'expired' && g.state === 'active') this.hooks.revocationLag(g, revocationLagSeconds(g, revokeIssuedAt));
    try {
      await this.call(provider, 'revoke', (signal) => provider.revoke(grantSpec(g), { overlapping, early: reason === 'revoked' }, signal));
    } catch (e) {
      gate?.leave();
      this.throwIfStopping();
      return this.scheduleRetry(g, reason, toProviderError(e));
    }
    gate?.leave();
    return this.transitions.applyOrReload(GrantAggregate.end(g, reason, { revokeIssuedAt, endedAt: this.clock.now() }));
  }

  /**
   * The cloud's lookups before the rules are asked (the target's canonical name, the principal's
   * type), bounded by the provider timeout like every other call and cancelled at it.
   */
  async lookup(provider: CloudAccessProvider, principal: Principal, target: Target): Promise<Target> {
    return this.bounded(provider, 'lookup', async (signal) => {
      const [canonical] = await Promise.all([provider.canonicalTarget(target, signal), provider.verifyPrincipal(principal, target, signal)]);
      return canonical;
    });
  }

  private async scheduleRetry(g: Grant, reason: 'expired' | 'revoked', error: ProviderError): Promise<Grant> {
    const attempt = g.attempts + 1;
    const giveUp = !error.retryable || attempt >= this.settings.revokeMaxAttempts;
    const delay = giveUp
      ? this.settings.revokeFailedRetryMs
      : Math.max(backoffMs(attempt, REVOKE_BACKOFF), Math.min(error.options.retryAfterMs ?? 0, REVOKE_RETRY_AFTER_CAP_MS));
    const nextAttemptAt = new Date(this.clock.now().getTime() + delay);
    return this.transitions.applyOrReload(GrantAggregate.failRevoke(g, { reason, error: describeError(error), giveUp, nextAttemptAt }));
  }

  /**
   * The grants still covering `g`'s overlap key, read before each cloud call: the live ones not
   * being ended (`GrantContext.overlapping`; see `coversOverlap`). A failed read is
   * reported like a failed write (`writeFailed`): the row is held by this replica's lease (the
   * request's or the sweeper's claim), and a read lost to a database outage must hand it back
   * when the database answers, not leave it waiting for the lease to lapse.
   */
  private async overlapping(g: Grant) {
    try {
      return (await this.store.liveWithOverlapKey(g.overlapKey, g.id)).filter(coversOverlap).map(grantSpec);
    } catch (e) {
      this.hooks.writeFailed(g, e);
      throw e;
    }
  }

  /**
   * One provider call, counted by outcome and bounded by the provider timeout, which cancels it:
   * the signal the adapter passes to its SDK is aborted at the deadline, so the request and the
   * adapter's own retries stop instead of running on behind a lost race.
   */
  private async call<T>(provider: CloudAccessProvider, operation: 'grant' | 'revoke', fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      const result = await this.bounded(provider, operation, fn);
      this.hooks.providerCall(provider.cloud, operation, 'ok');
      return result;
    } catch (e) {
      if (!this.stopping.aborted) this.hooks.providerCall(provider.cloud, operation, toProviderError(e).retryable ? 'transient' : 'terminal');
      throw e;
    }
  }

  /**
   * `fn` under a signal aborted at the provider timeout, which rejects with a transient error
   * then, or when the broker stops, which rejects with the stopping error.
   */
  private async bounded<T>(provider: CloudAccessProvider, operation: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ms = this.settings.providerTimeoutMs;
    try {
      return await withTimeout(ms, fn, () => new ProviderError('transient', `${provider.cloud} ${operation} timed out after ${ms} ms`), this.stopping);
    } catch (e) {
      this.throwIfStopping();
      throw e;
    }
  }

  /** Once the broker is stopping, a failed call is its cancellation: nothing is recorded, the caller is told to retry (503). */
  private throwIfStopping(): void {
    if (this.stopping.aborted) {
      throw new DomainError('provider_unavailable', 'the broker is stopping: its cloud call was cancelled and the grant is handed to another replica; retry shortly');
    }
  }

  /**
   * Retries a grant call while the row's lease (taken just before) still covers another whole
   * attempt: past the lease a sweeper may claim the row and recover it, and two writers must
   * never work on one grant at once.
   */
  private async withRetries<T>(attempts: number, fn: () => Promise<T>): Promise<T> {
    const leaseEnds = this.clock.now().getTime() + this.settings.leaseMs - LEASE_SAFETY_MS;
    return withRetry(
      {
        maxAttempts: attempts,
        backoff: REQUEST_BACKOFF,
        retryable: (e) => !this.stopping.aborted && toProviderError(e).retryable,
        retryAfterMs: (e) => Math.min(REQUEST_BACKOFF.capMs, toProviderError(e).options.retryAfterMs ?? 0),
      },
      () => fn(),
      {
        signal: this.stopping,
        fits: (wait) => this.clock.now().getTime() + wait + this.settings.providerTimeoutMs <= leaseEnds,
        onGiveUp: ({ error }) => toProviderError(error),
      },
    );
  }
}
