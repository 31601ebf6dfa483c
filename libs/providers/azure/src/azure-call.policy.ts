import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderError } from '@jit/domain';
import { SignalScope, backoffMs } from '@jit/resilience';
import { AzureHttpError } from './azure-http.error';
import { AzureRetryOptions } from './azure-provider.options';

/** Longest pause between two "principal not found" retries. */
const MAX_REPLICATION_PAUSE_MS = 10_000;

/**
 * Runs one cloud call with bounded retries: 429 and 5xx (honouring Retry-After) up to
 * `maxAttempts`, and, for calls that name a principal, "principal not found" until
 * `replicationWaitMs` has passed. Everything else is left to the caller.
 */
export class AzureCallPolicy {
  constructor(
    readonly retry: AzureRetryOptions,
    /** The caller's signal (see AzureHttpClient): once aborted, no call or wait is started. */
    private readonly scope: SignalScope = new SignalScope(),
    /** The broker's clock, for judging grants' times (survivors, keepers, retry times); not for measuring waits. */
    readonly now: () => Date = () => new Date(),
  ) {}

  /** The caller's signal, for waits outside `run` (PIM polling). */
  get signal(): AbortSignal | undefined {
    return this.scope.current;
  }

  async run<T>(what: string, call: () => Promise<T>, options: { namesPrincipal?: boolean } = {}): Promise<T> {
    // The replication budget counts the pauses taken, so it holds whatever the clock says.
    let replicationWaited = 0;
    let replicationPause = Math.max(1, this.retry.baseDelayMs);
    const signal = this.scope.current;
    for (let attempt = 1; ; ) {
      signal?.throwIfAborted();
      try {
        return await call();
      } catch (e) {
        if (!(e instanceof AzureHttpError) || signal?.aborted) throw e;
        if (e.retryable) {
          const wait = e.retryAfterMs ?? this.backoff(attempt);
          if (attempt >= this.retry.maxAttempts || wait > this.retry.maxRetryAfterMs) throw toProviderError(e, `${what} (after ${attempt} attempts)`);
          attempt++;
          await sleep(wait, undefined, { signal });
          continue;
        }
        if (options.namesPrincipal && e.principalNotFound && replicationWaited + replicationPause <= this.retry.replicationWaitMs) {
          await sleep(replicationPause, undefined, { signal });
          replicationWaited += replicationPause;
          replicationPause = Math.min(replicationPause * 2, MAX_REPLICATION_PAUSE_MS);
          continue;
        }
        throw e;
      }
    }
  }

  /** Exponential with equal jitter: base * 2^(attempt-1) * [0.5, 1], at most `maxRetryAfterMs`. */
  backoff(attempt: number): number {
    return backoffMs(attempt, { baseMs: this.retry.baseDelayMs, capMs: this.retry.maxRetryAfterMs, jitter: 'equal' });
  }
}

/** Turns a Graph or ARM failure into the port's error, with a message an operator can act on. */
export function toProviderError(e: unknown, what: string): ProviderError {
  if (e instanceof ProviderError) return e;
  if (!(e instanceof AzureHttpError)) return new ProviderError('transient', `${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  const detail = `${e.api === 'graph' ? 'Graph' : 'ARM'} ${e.status || 'network'} ${e.code}: ${e.message}`;
  const opts = { code: e.code, cause: e };
  if (e.retryable) return new ProviderError('transient', `${what}: ${detail}`, { ...opts, retryAfterMs: e.retryAfterMs });
  if (e.status === 401) return new ProviderError('terminal', `${what}: the broker could not authenticate (${detail})`, opts);
  if (e.status === 403) {
    return new ProviderError('terminal', `${what}: the broker's identity lacks the permission or directory role this needs (${detail})`, opts);
  }
  if (e.code === 'ActiveDurationTooShort') {
    return new ProviderError('invalid', `${what}: PIM assignments last at least five minutes (PT5M) and the time left is shorter: ${e.message}`, { ...opts, field: 'duration' });
  }
  if (/PolicyValidationFailed/i.test(e.code)) {
    if (/Expiration/i.test(e.message)) {
      return new ProviderError('limit', `${what}: the duration exceeds the role's PIM maximum (rule Expiration_Admin_Assignment): ${e.message}`, { ...opts, field: 'duration' });
    }
    return new ProviderError('terminal', `${what}: the role's PIM policy rejected the request: ${e.message}`, opts);
  }
  if (e.principalNotFound) {
    return new ProviderError('invalid', `${what}: the principal does not exist in the directory (replication wait exhausted): ${e.message}`, { ...opts, field: 'principal.id' });
  }
  if (/RoleDefinition/i.test(e.code)) return new ProviderError('invalid', `${what}: ${detail}`, { ...opts, field: 'target.roleDefinitionId' });
  if (/Scope|SubscriptionNotFound|ManagementGroup/i.test(e.code)) return new ProviderError('invalid', `${what}: ${detail}`, { ...opts, field: 'target.scope' });
  if (/UnmatchedPrincipalType|PrincipalType/i.test(e.code)) return new ProviderError('invalid', `${what}: ${detail}`, { ...opts, field: 'principal.type' });
  return new ProviderError('terminal', `${what}: ${detail}`, opts);
}
