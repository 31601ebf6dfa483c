import { IBackoff, IBackoffFactory, IRetryBackoffContext, TaskCancelledError, handleWhen, retry } from 'cockatiel';
import { BackoffOptions, backoffMs } from './backoff';

export interface RetrySettings {
  /** Calls in all, the first included (at least 1). */
  maxAttempts: number;
  backoff: BackoffOptions;
  /** Whether a failure is worth another call (throttled, 5xx, the network). */
  retryable(error: unknown): boolean;
  /** The wait the failure asks for (Retry-After), used instead of the backoff when longer. */
  retryAfterMs?(error: unknown): number | undefined;
  /** A failure asking for a longer wait than this is not retried here but thrown (the caller retries later). */
  maxRetryAfterMs?: number;
  random?: () => number;
}

/** What the last failure was and how many calls were made, for the caller to describe or rethrow. */
export interface GaveUp {
  error: unknown;
  attempts: number;
  /** The wait the next retry would have had: a hint for the caller's own, slower retry. */
  nextDelayMs: number;
}

/** A call that takes the signal it must pass on to its I/O, and which attempt this is (1-based). */
export type Attempt<T> = (signal: AbortSignal, attempt: number) => Promise<T>;

/**
 * Retries `fn` on retryable failures with jittered exponential backoff, or the failure's own
 * Retry-After when that is longer (and not past `maxRetryAfterMs`), built on cockatiel's retry
 * policy. `signal` ends it: no call is started once it is aborted. `fits` may refuse a wait (a
 * lease or deadline would not cover the retry). When it gives up, `onGiveUp` maps the last
 * failure (default: rethrown as it is).
 */
export async function withRetry<T>(
  settings: RetrySettings,
  fn: Attempt<T>,
  options: { signal?: AbortSignal; onGiveUp?: (last: GaveUp) => unknown; fits?: (waitMs: number) => boolean } = {},
): Promise<T> {
  const random = settings.random ?? Math.random;
  const asked = (e: unknown) => settings.retryAfterMs?.(e);
  const tooLong = (e: unknown) => settings.maxRetryAfterMs !== undefined && (asked(e) ?? 0) > settings.maxRetryAfterMs;
  let attempts = 0;
  // Drawn once per failure: the same wait decides whether to retry, is slept, and is reported.
  let nextDelayMs = 0;
  const policy = retry(
    handleWhen((e) => {
      nextDelayMs = Math.max(backoffMs(attempts, settings.backoff, random), asked(e) ?? 0);
      return settings.retryable(e) && !tooLong(e) && (options.fits?.(nextDelayMs) ?? true);
    }),
    { maxAttempts: Math.max(0, settings.maxAttempts - 1), backoff: new Fixed(() => nextDelayMs) },
  );
  const signal = options.signal ?? new AbortController().signal;
  try {
    return await policy.execute(async () => {
      signal.throwIfAborted();
      attempts++;
      return fn(signal, attempts);
    }, signal);
  } catch (e) {
    if (signal.aborted || !options.onGiveUp) throw e;
    throw options.onGiveUp({ error: e, attempts, nextDelayMs });
  }
}

/** The wait chosen when the failure was judged. */
class Fixed implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  constructor(private readonly wait: () => number) {}

  next(): IBackoff<IRetryBackoffContext<unknown>> {
    return { duration: this.wait(), next: () => this.next() };
  }
}

/**
 * The reason a call's signal is aborted with once the call has settled. One object made once:
 * `abort()` without a reason makes a DOMException, with its stack, on every call, and every
 * cloud call and lookup of a grant goes through here (bench:profile).
 */
const SETTLED = new DOMException('the call has settled; nothing it started may outlive it', 'AbortError');

/**
 * The calls in flight under each parent signal: one `abort` listener per parent tells them all,
 * so a long-lived parent (the broker's "stopping" signal) does not collect a listener per call
 * (Node warns past 10) and a call costs a Set entry rather than an EventTarget listener.
 */
const inFlight = new WeakMap<AbortSignal, Set<() => void>>();

function onParentAbort(parent: AbortSignal, cancel: () => void): () => boolean {
  let calls = inFlight.get(parent);
  if (!calls) {
    const set = (calls = new Set());
    inFlight.set(parent, set);
    parent.addEventListener('abort', () => {
      for (const c of [...set]) c();
      set.clear();
    }, { once: true });
  }
  calls.add(cancel);
  return () => calls.delete(cancel);
}

/**
 * Runs `fn` with a signal that is aborted after `ms` (or when `parent` is): the call's I/O is
 * cancelled, not left running behind a lost race. Rejects at the deadline with `onTimeout()`
 * even if `fn` ignores the signal, and when `parent` is aborted with a `TaskCancelledError`
 * (or `fn`'s own rejection, if that comes first); aborts the signal when `fn` settles, so
 * nothing it started outlives it.
 *
 * Written here rather than with cockatiel's aggressive timeout policy, which did the same but
 * made an AbortController, a DOMException, a race and four listeners per call, one of them on the
 * parent (about 5 % of
 * the broker's CPU per grant through the API in bench:profile, with in-memory clouds).
 */
export function withTimeout<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>, onTimeout: () => Error, parent?: AbortSignal): Promise<T> {
  const ctrl = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let forget: () => boolean = () => false;
    const settle = (reason: unknown) => {
      settled = true;
      clearTimeout(timer);
      forget();
      ctrl.abort(reason);
    };
    const onParent = () => {
      if (settled) return;
      settle(parent!.reason);
      reject(new TaskCancelledError('the call was cancelled'));
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settle(new DOMException(`timed out after ${ms} ms`, 'TimeoutError'));
      reject(onTimeout());
    }, ms);
    if (parent?.aborted) return onParent();
    if (parent) forget = onParentAbort(parent, onParent);
    let call: Promise<T>;
    try {
      call = fn(ctrl.signal);
    } catch (e) {
      call = Promise.reject(e);
    }
    call.then(
      (value) => {
        if (settled) return;
        settle(SETTLED);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settle(SETTLED);
        reject(error);
      },
    );
  });
}

/** Whether an error is the rejection of an aborted call (DOM AbortError, Node's ABORT_ERR, cockatiel's cancellation). */
export function isAbortError(e: unknown): boolean {
  if (e instanceof TaskCancelledError) return true;
  const err = e as { name?: unknown; code?: unknown } | null;
  return err?.name === 'AbortError' || err?.name === 'TimeoutError' || err?.code === 'ABORT_ERR';
}
