import { ProviderError } from '@jit/domain';
import { backoffDelay, withRetry } from './aws-retry.policy';

const options = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 250 };
const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
const denied = Object.assign(new Error('no'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });

describe('backoffDelay', () => {
  it('should stay within the exponential ceiling and the cap', () => {
    expect(backoffDelay(1, options, () => 0.999)).toBeLessThan(100);
    expect(backoffDelay(2, options, () => 0.999)).toBeLessThan(200);
    expect(backoffDelay(5, options, () => 0.999)).toBeLessThan(250);
    expect(backoffDelay(3, options, () => 0)).toBe(0);
  });
});

describe('withRetry', () => {
  it('should retry throttling and return the eventual result', async () => {
    const results = [throttled, throttled, 'ok'];
    const slept: number[] = [];
    const out = await withRetry('Op', async () => {
      const next = results.shift();
      if (next instanceof Error) throw next;
      return next;
    }, options, async (ms) => void slept.push(ms));
    expect(out).toBe('ok');
    expect(slept).toHaveLength(2);
  });

  it('should give up after maxAttempts with a transient error', async () => {
    let calls = 0;
    const error = await withRetry('Op', async () => { calls++; throw throttled; }, options, async () => undefined).catch((e) => e);
    expect(calls).toBe(3);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.kind).toBe('transient');
  });

  it('should not retry AccessDenied', async () => {
    let calls = 0;
    const error = await withRetry('Op', async () => { calls++; throw denied; }, options, async () => undefined).catch((e) => e);
    expect(calls).toBe(1);
    expect(error.kind).toBe('terminal');
  });
});
