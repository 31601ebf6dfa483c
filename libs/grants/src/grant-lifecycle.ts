import { AuditTrail } from '@jit/audit';
import {
  AuditEventInput,
  Clock,
  CloudAccessProvider,
  DomainError,
  Grant,
  GrantPatch,
  GrantSpec,
  GrantState,
  GrantStore,
  ProviderError,
  ProvisionOutcome,
  assertTransition,
} from '@jit/domain';
import { backoffMs } from './backoff';
import { CloudProviderRegistry } from './cloud-provider.registry';
import { LifecycleHooks } from './lifecycle-hooks';

export interface LifecycleSettings {
  leaseMs: number;
  providerTimeoutMs: number;
  revokeMaxAttempts: number;
  revokeFailedRetryMs: number;
}

/** Attempts of a grant call inside the requester's HTTP request before the grant fails. */
const REQUEST_GRANT_ATTEMPTS = 3;
/** Longest wait between those attempts, even if the cloud's Retry-After asks for more. */
const REQUEST_RETRY_CAP_MS = 2_000;
/** The lease was taken a moment before the first attempt; keep this much of it unused. */
const LEASE_SAFETY_MS = 1_000;
/** How soon a grant that the cloud left pending (PIM) is looked at again. */
const PENDING_RECHECK_MS = 5_000;
/** lastError is kept short: it is shown to requesters and stored on every retry. */
const MAX_ERROR_LENGTH = 500;
/**
 * Longest wait a cloud may ask for before a revocation is retried. Covers PIM's five-minute
 * removal window (a revoke refused inside it is retried at assignment time + 5 min, not six
 * times a minute until the attempts run out); a longer Retry-After is not trusted.
 */
const REVOKE_RETRY_AFTER_CAP_MS = 10 * 60_000;

export function describeError(e: unknown): string {
  const text = e instanceof ProviderError ? `${e.options.code ? e.options.code + ': ' : ''}${e.message}` : e instanceof Error ? e.message : String(e);
  return text.slice(0, MAX_ERROR_LENGTH);
}

export function toProviderError(e: unknown): ProviderError {
  if (e instanceof ProviderError) return e;
  return new ProviderError('transient', `unexpected provider failure: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/** A provider's notice (what a revoke cannot undo, where only the sweeper enforces) travels with the cloud reference. */
function withNotice(outcome: ProvisionOutcome): Record<string, unknown> {
  return outcome.notice ? { ...outcome.providerRef, notice: outcome.notice } : outcome.providerRef;
}

export type ProvisionResult =
  | { grant: Grant; outcome: ProvisionOutcome }
  | { grant: Grant; error: ProviderError };

/**
 * The steps every path shares (request, revoke, sweeper): provider calls with a timeout and
 * outcome metrics, and the state changes that follow them, each with its audit event.
 */
export class GrantLifecycle {
  constructor(
    readonly store: GrantStore,
    readonly registry: CloudProviderRegistry,
    readonly clock: Clock,
    readonly settings: LifecycleSettings,
    readonly hooks: LifecycleHooks,
  ) {}

  spec(g: Grant): GrantSpec {
    return {
      grantId: g.id,
      principal: g.principal,
      target: g.target,
      // Before activation the window starts when provisioning did: at the request, or at the final approval.
      startsAt: g.startsAt ?? new Date(g.expiresAt.getTime() - g.durationSeconds * 1000),
      expiresAt: g.expiresAt,
      requestedBy: g.requestedBy,
      justification: g.justification,
      artifactName: g.artifactName,
    };
  }

  async transition(
    g: Grant,
    to: GrantState,
    patch: GrantPatch,
    events: (g: Grant) => AuditEventInput[],
    expect?: { approvalCount: number },
  ): Promise<Grant | null> {
    assertTransition(g.state, to);
    const next = await this.store.transition(g.id, g.state, to, patch, events, expect);
    if (next && next.state !== g.state) this.hooks.transitioned(to);
    const due = next && nextWorkAt(next, patch.leaseUntil ?? null);
    if (next && due) this.hooks.workDue(next, due);
    return next;
  }

  /** Calls the cloud for a provisioning grant and records the result. */
  async provision(g: Grant, options: { recovered: boolean; attempts: number }): Promise<ProvisionResult> {
    const provider = this.registry.get(g.cloud);
    const spec = this.spec(g);
    const overlapping = (await this.store.liveWithOverlapKey(g.overlapKey, g.id)).map((o) => this.spec(o));
    let outcome: ProvisionOutcome;
    try {
      outcome = await this.withRetries(options.attempts, () => this.call(provider, 'grant', () => provider.grant(spec, { overlapping })));
    } catch (e) {
      const error = toProviderError(e);
      return { grant: await this.failProvisioning(g, provider, describeError(error)), error };
    }
    const now = this.clock.now();
    if (outcome.status === 'pending') {
      const pending = await this.transition(g, 'provisioning', {
        providerRef: withNotice(outcome),
        leaseUntil: new Date(now.getTime() + PENDING_RECHECK_MS),
      }, (x) => (g.providerRef ? [] : [AuditTrail.provisioned(x, outcome.providerRef, options.recovered)]));
      return { grant: pending ?? g, outcome };
    }
    const active = await this.transition(
      g,
      'active',
      { providerRef: withNotice(outcome), startsAt: now, lastError: null, leaseUntil: null },
      (x) => [...(g.providerRef ? [] : [AuditTrail.provisioned(x, outcome.providerRef, options.recovered)]), AuditTrail.activated(x, now)],
    );
    if (!active) return { grant: (await this.store.findById(g.id)) ?? g, outcome };
    return { grant: active, outcome };
  }

  /**
   * Makes sure nothing is left in the cloud, then marks the grant `failed`. If the cleanup
   * itself fails, the row stays `provisioning` with `endReason: failed` and a lease, so the
   * sweeper retries the cleanup rather than the grant.
   */
  async failProvisioning(g: Grant, provider: CloudAccessProvider, reason: string): Promise<Grant> {
    const now = this.clock.now();
    try {
      await this.call(provider, 'revoke', () => provider.revoke(this.spec(g), { overlapping: [], early: true }));
    } catch (e) {
      const retryAt = new Date(now.getTime() + backoffMs(g.attempts + 1));
      const kept = await this.transition(g, 'provisioning', {
        endReason: 'failed',
        lastError: `${reason}; cleanup pending: ${describeError(e)}`.slice(0, MAX_ERROR_LENGTH),
        attempts: g.attempts + 1,
        leaseUntil: retryAt,
      }, () => []);
      return kept ?? g;
    }
    const failed = await this.transition(
      g,
      'failed',
      { lastError: reason, endedAt: now, endReason: 'failed', leaseUntil: null },
      (x) => [AuditTrail.failed(x, reason)],
    );
    return failed ?? (await this.store.findById(g.id)) ?? g;
  }

  /**
   * Ends a grant's access in the cloud and records `expired` or `revoked`; on failure, schedules
   * a retry (jittered backoff) or, after `revokeMaxAttempts` or a terminal error, `revoke_failed`.
   */
  async endAccess(g: Grant, reason: 'expired' | 'revoked'): Promise<Grant> {
    const provider = this.registry.get(g.cloud);
    const now = this.clock.now();
    const lagSeconds = (now.getTime() - g.expiresAt.getTime()) / 1000;
    if (reason === 'expired' && g.state === 'active') this.hooks.revocationLag(g, lagSeconds);
    const overlapping = (await this.store.liveWithOverlapKey(g.overlapKey, g.id)).map((o) => this.spec(o));
    try {
      await this.call(provider, 'revoke', () => provider.revoke(this.spec(g), { overlapping, early: reason === 'revoked' }));
    } catch (e) {
      return this.scheduleRetry(g, reason, toProviderError(e));
    }
    const endedAt = this.clock.now();
    const ended = await this.transition(
      g,
      reason,
      { endedAt, endReason: reason, leaseUntil: null, nextAttemptAt: null },
      (x) => [
        AuditTrail.ended(x, reason, {
          revokeIssuedAt: now.toISOString(),
          lagSeconds: reason === 'expired' ? lagSeconds : null,
          attempts: g.attempts + 1,
          ...(g.state === 'revoke_failed' ? { afterRevokeFailed: true } : {}),
        }),
      ],
    );
    return ended ?? (await this.store.findById(g.id)) ?? g;
  }

  private async scheduleRetry(g: Grant, reason: 'expired' | 'revoked', error: ProviderError): Promise<Grant> {
    const attempt = g.attempts + 1;
    const now = this.clock.now();
    const message = describeError(error);
    const giveUp = !error.retryable || attempt >= this.settings.revokeMaxAttempts;
    const delay = giveUp
      ? this.settings.revokeFailedRetryMs
      : Math.max(backoffMs(attempt), Math.min(error.options.retryAfterMs ?? 0, REVOKE_RETRY_AFTER_CAP_MS));
    const nextAttemptAt = new Date(now.getTime() + delay);
    const to: GrantState = giveUp ? 'revoke_failed' : 'revoking';
    const firstFailure = g.state !== 'revoke_failed' && giveUp;
    const next = await this.transition(
      g,
      to,
      { attempts: attempt, nextAttemptAt, lastError: message, endReason: reason, leaseUntil: null },
      (x) => [firstFailure ? AuditTrail.revokeFailed(x, attempt, message, nextAttemptAt) : AuditTrail.revokeRetried(x, attempt, message, nextAttemptAt)],
    );
    return next ?? (await this.store.findById(g.id)) ?? g;
  }

  /** One provider call: bounded by the provider timeout, counted by outcome. */
  async call<T>(provider: CloudAccessProvider, operation: 'grant' | 'revoke', fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ProviderError('transient', `${provider.cloud} ${operation} timed out after ${this.settings.providerTimeoutMs} ms`)),
        this.settings.providerTimeoutMs,
      );
    });
    try {
      const result = await Promise.race([fn(), timeout]);
      this.hooks.providerCall(provider.cloud, operation, 'ok');
      return result;
    } catch (e) {
      this.hooks.providerCall(provider.cloud, operation, toProviderError(e).retryable ? 'transient' : 'terminal');
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Retries a grant call while the row's lease (taken just before) still covers another whole
   * attempt: past the lease a sweeper may claim the row and recover it, and two writers must
   * never work on one grant at once.
   */
  private async withRetries<T>(attempts: number, fn: () => Promise<T>): Promise<T> {
    const leaseEnds = this.clock.now().getTime() + this.settings.leaseMs - LEASE_SAFETY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        const error = toProviderError(e);
        if (!error.retryable || attempt >= attempts) throw error;
        const wait = Math.min(REQUEST_RETRY_CAP_MS, Math.max(backoffMs(attempt, Math.random, 200), error.options.retryAfterMs ?? 0));
        if (this.clock.now().getTime() + wait + this.settings.providerTimeoutMs > leaseEnds) throw error;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }
}

export { REQUEST_GRANT_ATTEMPTS };

/**
 * When the sweeper next has work on a grant just written with `leaseUntil`: its expiry, its
 * revocation retry, its approval deadline, or (provisioning) its retry or recheck; a lease holds
 * the row back until it lapses. Null when nothing is due (ended grants).
 */
export function nextWorkAt(g: Grant, leaseUntil: Date | null): Date | null {
  let due: Date | null;
  switch (g.state) {
    case 'active':
      due = g.expiresAt;
      break;
    case 'revoking':
    case 'revoke_failed':
      due = g.nextAttemptAt;
      break;
    case 'pending_approval':
      due = g.approvalDeadline;
      break;
    case 'provisioning':
      due = leaseUntil;
      break;
    default:
      due = null;
  }
  if (!due) return null;
  return leaseUntil && leaseUntil > due ? leaseUntil : due;
}

export function providerErrorToDomain(error: ProviderError, grant: Grant): DomainError {
  const extra = { grantId: grant.id, state: grant.state };
  switch (error.kind) {
    case 'limit':
      return new DomainError('limit_exceeded', error.message, [{ field: error.options.field ?? 'target', message: error.message }], extra);
    case 'invalid':
      return new DomainError('validation', error.message, [{ field: error.options.field ?? 'target', message: error.message }], extra);
    case 'terminal':
      return new DomainError('provider_rejected', `the cloud refused the grant: ${describeError(error)}`, [], extra);
    case 'transient':
      return new DomainError('provider_unavailable', `the cloud did not answer in time: ${describeError(error)}`, [], extra);
  }
}
