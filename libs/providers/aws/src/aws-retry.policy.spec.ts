import { ProviderError } from '@jit/domain';
import { withRetry } from './aws-retry.policy';

const options = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 250 };
const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
const denied = Object.assign(new Error('no'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });

describe('withRetry', () => {
  it('should retry throttling and return the eventual result', async () => {
    const results = [throttled, throttled, 'ok'];
    const out = await withRetry('Op', async () => {
      const next = results.shift();
      if (next instanceof Error) throw next;
      return next;
    }, options);
    expect(out).toBe('ok');
    expect(results).toHaveLength(0);
  });

  it('should give up after maxAttempts with a transient error', async () => {
    let calls = 0;
    const error = await withRetry('Op', async () => { calls++; throw throttled; }, options).catch((e) => e);
    expect(calls).toBe(3);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.kind).toBe('transient');
    expect(error.message).toMatch(/gave up after 3 attempts/);
    expect(error.options.retryAfterMs).toBeGreaterThanOrEqual(100);
  });

  it('should not retry AccessDenied', async () => {
    let calls = 0;
    const error = await withRetry('Op', async () => { calls++; throw denied; }, options).catch((e) => e);
    expect(calls).toBe(1);
    expect(error.kind).toBe('terminal');
  });
});
