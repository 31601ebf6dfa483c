import { getEventListeners } from 'node:events';
import { TaskCancelledError } from 'cockatiel';
import { isAbortError, withRetry, withTimeout } from './resilience.policy';

class Flaky extends Error {
  constructor(readonly retryAfterMs?: number) {
    super('flaky');
  }
}

const settings = {
  maxAttempts: 3,
  backoff: { baseMs: 1, capMs: 2, jitter: 'full' as const },
  retryable: (e: unknown) => e instanceof Flaky,
  retryAfterMs: (e: unknown) => (e instanceof Flaky ? e.retryAfterMs : undefined),
  maxRetryAfterMs: 1_000,
};

describe(withRetry.name, () => {
  it('should retry retryable failures and return the eventual result', async () => {
    const seen: number[] = [];
    const out = await withRetry(settings, async (_signal, attempt) => {
      seen.push(attempt);
      if (attempt < 3) throw new Flaky();
      return 'ok';
    });
    expect(out).toBe('ok');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('should stop after maxAttempts calls and hand the last failure to onGiveUp', async () => {
    let calls = 0;
    const error = await withRetry(
      settings,
      async () => {
        calls++;
        throw new Flaky();
      },
      { onGiveUp: ({ attempts }) => new Error(`gave up after ${attempts}`) },
    ).catch((e: Error) => e);
    expect(calls).toBe(3);
    expect(error.message).toBe('gave up after 3');
  });

  it('should not retry what is not retryable, nor a Retry-After past the cap', async () => {
    let calls = 0;
    const fatal = async () => {
      calls++;
      throw new Error('denied');
    };
    await expect(withRetry(settings, fatal)).rejects.toThrow('denied');
    expect(calls).toBe(1);
    calls = 0;
    await expect(
      withRetry(settings, async () => {
        calls++;
        throw new Flaky(60_000);
      }),
    ).rejects.toBeInstanceOf(Flaky);
    expect(calls).toBe(1);
  });

  it('should take the Retry-After a failure asks for when that is longer than the backoff', async () => {
    const next = (asked: number | undefined) =>
      withRetry({ ...settings, maxAttempts: 1, random: () => 0.999 }, async () => Promise.reject(new Flaky(asked)), {
        onGiveUp: ({ nextDelayMs }) => nextDelayMs,
      }).catch((delay: number) => delay);
    expect(await next(700)).toBe(700);
    expect(await next(undefined)).toBe(0);
    expect(await next(0)).toBe(0);
  });

  it('should not retry when fits refuses the wait (a lease would not cover the retry)', async () => {
    let calls = 0;
    const waits: number[] = [];
    const flaky = async () => {
      calls++;
      throw new Flaky(500);
    };
    await expect(withRetry(settings, flaky, { fits: (ms) => (waits.push(ms), false) })).rejects.toBeInstanceOf(Flaky);
    expect(calls).toBe(1);
    expect(waits).toEqual([500]);
  });

  it('should start no call once its signal is aborted', async () => {
    const stop = new AbortController();
    let calls = 0;
    const running = withRetry({ ...settings, backoff: { baseMs: 50, capMs: 50, jitter: 'equal' } }, async () => {
      calls++;
      stop.abort();
      throw new Flaky();
    }, { signal: stop.signal });
    await expect(running).rejects.toBeInstanceOf(Flaky);
    expect(calls).toBe(1);
  });
});

describe(withTimeout.name, () => {
  it('should abort the signal it gave the call when the time is up, and reject with onTimeout', async () => {
    let seen: AbortSignal | undefined;
    const never = (signal: AbortSignal) => {
      seen = signal;
      return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    };
    await expect(withTimeout(10, never, () => new Error('timed out'))).rejects.toThrow('timed out');
    expect(seen?.aborted).toBe(true);
  });

  it('should pass through a result in time, and abort the signal once the call settled', async () => {
    let seen: AbortSignal | undefined;
    await expect(withTimeout(1_000, async (signal) => ((seen = signal), 'ok'), () => new Error('timed out'))).resolves.toBe('ok');
    expect(seen?.aborted).toBe(true);
  });

  it('should abort the call when the parent signal is aborted', async () => {
    const parent = new AbortController();
    const running = withTimeout(60_000, (signal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('cancelled')))), () => new Error('timed out'), parent.signal);
    parent.abort();
    await expect(running).rejects.not.toThrow('timed out');
  });

  it('should abort with a TimeoutError at the deadline and an AbortError once settled, both read as aborts', async () => {
    const reasons: unknown[] = [];
    await withTimeout(10, (signal) => new Promise<never>(() => signal.addEventListener('abort', () => reasons.push(signal.reason))), () => new Error('timed out')).catch(() => undefined);
    await withTimeout(1_000, async (signal) => (signal.addEventListener('abort', () => reasons.push(signal.reason)), 'ok'), () => new Error('timed out'));
    expect(reasons.map((r) => (r as Error).name)).toEqual(['TimeoutError', 'AbortError']);
    expect(reasons.every(isAbortError)).toBe(true);
  });

  it("should pass the call's own failure through", async () => {
    const failure = new Error('refused');
    await expect(withTimeout(1_000, async () => Promise.reject(failure), () => new Error('timed out'))).rejects.toBe(failure);
    await expect(withTimeout(1_000, () => { throw failure; }, () => new Error('timed out'))).rejects.toBe(failure);
  });

  it('should not start the call when the parent is already aborted, and reject as cancelled', async () => {
    const parent = new AbortController();
    parent.abort();
    let called = false;
    const out = withTimeout(1_000, async () => ((called = true), 'ok'), () => new Error('timed out'), parent.signal);
    await expect(out).rejects.toBeInstanceOf(TaskCancelledError);
    expect(called).toBe(false);
  });

  it('should put one listener on a long-lived parent whatever the calls in flight, and cancel them all with it', async () => {
    const parent = new AbortController();
    for (let i = 0; i < 5; i++) await withTimeout(1_000, async () => i, () => new Error('timed out'), parent.signal);
    await withTimeout(10, () => new Promise<never>(() => undefined), () => new Error('timed out'), parent.signal).catch(() => undefined);
    const aborted: boolean[] = [];
    const running = Array.from({ length: 20 }, () =>
      withTimeout(60_000, (signal) => new Promise<never>(() => signal.addEventListener('abort', () => aborted.push(true))), () => new Error('timed out'), parent.signal),
    );
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    parent.abort();
    for (const r of running) await expect(r).rejects.toBeInstanceOf(TaskCancelledError);
    expect(aborted).toHaveLength(20);
  });
});
