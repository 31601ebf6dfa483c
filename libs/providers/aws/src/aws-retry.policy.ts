import { ProviderError } from '@jit/domain';
import { AwsRetryOptions } from './aws-provider.options';
import { toProviderError } from './aws-error.classifier';

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): spreads replicas that failed together. */
export function backoffDelay(attempt: number, options: AwsRetryOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Runs one cloud call, retrying transient failures (throttling, 429, 5xx, timeouts) up to
 * `maxAttempts`, then throws the last as a transient `ProviderError` with a retry hint.
 * Anything else is thrown at once, classified.
 */
export async function withRetry<T>(operation: string, call: () => Promise<T>, options: AwsRetryOptions, sleep: Sleep = realSleep): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      const error = toProviderError(e, operation);
      if (!error.retryable) throw error;
      const delay = backoffDelay(attempt, options);
      if (attempt >= options.maxAttempts) {
        throw new ProviderError('transient', `${error.message} (gave up after ${attempt} attempts)`, {
          ...error.options,
          retryAfterMs: Math.max(delay, options.baseDelayMs),
        });
      }
      await sleep(delay);
    }
  }
}
