import { ProviderError } from '@jit/domain';
import { withRetry as retrying } from '@jit/resilience';
import { AwsRetryOptions } from './aws-provider.options';
import { toProviderError } from './aws-error.classifier';

/**
 * Runs one cloud call, retrying transient failures (throttling, 429, 5xx, timeouts) up to
 * `maxAttempts` with full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff
 * and Jitter": spreads replicas that failed together), then throws the last as a transient
 * `ProviderError` with a retry hint. Anything else is thrown at once, classified. `signal`
 * (the caller's deadline) stops the retries: no call starts once it is aborted.
 */
export async function withRetry<T>(operation: string, call: () => Promise<T>, options: AwsRetryOptions, signal?: AbortSignal): Promise<T> {
  return retrying(
    {
      maxAttempts: options.maxAttempts,
      backoff: { baseMs: options.baseDelayMs, capMs: options.maxDelayMs, jitter: 'full' },
      retryable: (e) => toProviderError(e, operation).retryable,
    },
    () => call(),
    {
      signal,
      onGiveUp: ({ error, attempts, nextDelayMs }) => {
        const last = toProviderError(error, operation);
        if (!last.retryable) return last;
        return new ProviderError('transient', `${last.message} (gave up after ${attempts} attempts)`, {
          ...last.options,
          retryAfterMs: Math.max(nextDelayMs, options.baseDelayMs),
        });
      },
    },
  );
}
