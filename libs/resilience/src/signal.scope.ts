import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Carries the caller's `AbortSignal` from an adapter's public method down to its SDK calls
 * without adding a parameter to every helper on the way: `run(signal, fn)` at the top, `current`
 * (or `callSignal(ms)`) where the request is sent. One scope per adapter instance.
 */
export class SignalScope {
  private readonly storage = new AsyncLocalStorage<AbortSignal>();

  run<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    return signal ? this.storage.run(signal, fn) : fn();
  }

  /** Each step of `iterable` under `signal` (for an adapter's `listOwned`). */
  async *iterate<T>(signal: AbortSignal | undefined, make: () => AsyncIterable<T>): AsyncIterable<T> {
    const iterator = make()[Symbol.asyncIterator]();
    for (;;) {
      const step = await this.run(signal, () => iterator.next());
      if (step.done) return;
      yield step.value;
    }
  }

  /** The signal of the innermost `run`, if any. */
  get current(): AbortSignal | undefined {
    return this.storage.getStore();
  }

  /** The signal for one request: aborted after `timeoutMs` or with the caller's signal, whichever is first. */
  callSignal(timeoutMs: number): AbortSignal {
    const own = AbortSignal.timeout(timeoutMs);
    const caller = this.current;
    return caller ? AbortSignal.any([caller, own]) : own;
  }
}
