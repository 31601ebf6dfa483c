import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderError } from '@jit/domain';
import { BackoffOptions, backoffMs, withRetry } from '@jit/resilience';
import { RetrySettings } from './gcp-provider.options';
import { PolicyChange, editPolicy } from './iam-policy.editor';
import { GatewayError, ResourceManagerGateway } from './resource-manager.gateway';

interface Waiter {
  change: PolicyChange;
  resolve: () => void;
  reject: (error: ProviderError) => void;
}

interface Queue {
  waiting: Waiter[];
  busy: boolean;
}

export interface CoalescerStats {
  /** setIamPolicy calls that succeeded. */
  writes: number;
  /** Read-modify-write rounds started (one per batch, retries not counted). */
  rounds: number;
  /** Changes carried by those rounds. */
  changes: number;
}

/** Turns a classified call failure into the port's error, once retries are spent or pointless. */
export function toProviderError(error: unknown, attempts: number): ProviderError {
  if (!(error instanceof GatewayError)) return new ProviderError('transient', `GCP call failed: ${String(error)}`, { cause: error });
  const options = { code: error.code, cause: error };
  switch (error.kind) {
    case 'conflict':
      return new ProviderError('transient', `the policy kept changing under concurrent writers (${attempts} attempts): ${error.message}`, options);
    case 'transient':
      return new ProviderError('transient', `Resource Manager ${error.code} after ${attempts} attempts: ${error.message}`, options);
    case 'invalid':
      return new ProviderError('invalid', `GCP refused the policy: ${error.message}`, options);
    case 'terminal':
      return new ProviderError('terminal', `Resource Manager ${error.code}: ${error.message}`, options);
  }
}

/**
 * Serialises the broker's changes to each resource's policy and coalesces the ones that arrive
 * while a read-modify-write is in flight (or in the same tick) into the next single one: a burst
 * of N grants on a project costs a handful of writes, not N mutually conflicting ones. Each round
 * re-reads on an etag conflict and backs off with jitter; throttling and 5xx are retried a
 * bounded number of times.
 */
export class PolicyWriteCoalescer {
  private readonly queues = new Map<string, Queue>();
  private readonly counters: CoalescerStats = { writes: 0, rounds: 0, changes: 0 };

  constructor(
    private readonly gateway: ResourceManagerGateway,
    private readonly retry: RetrySettings & { conflictAttempts: number },
    private readonly now: () => Date,
  ) {}

  stats(): CoalescerStats {
    return { ...this.counters };
  }

  /**
   * Queues a change for the resource's next round. An aborted `signal` stops the caller's wait
   * (rejecting with its reason), not the round: other callers' changes ride in it, and a change
   * that lands anyway is found by the caller's idempotent retry.
   */
  submit(resource: string, change: PolicyChange, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      const queue = this.queues.get(resource) ?? { waiting: [], busy: false };
      this.queues.set(resource, queue);
      queue.waiting.push({ change, resolve, reject });
      if (!queue.busy) {
        queue.busy = true;
        // setImmediate: let every change submitted in this tick join the first round.
        setImmediate(() => void this.drain(resource, queue));
      }
    });
  }

  /** Reads a policy with the same bounded retries as a write (status, reconciliation). */
  async read<T>(call: (signal?: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(
      {
        maxAttempts: this.retry.attempts,
        backoff: this.backoff,
        retryable: (e) => e instanceof GatewayError && e.kind !== 'terminal' && e.kind !== 'invalid',
      },
      () => call(signal),
      { signal, onGiveUp: ({ error, attempts }) => toProviderError(error, attempts) },
    );
  }

  /** Full jitter: replicas that collided on one policy's etag spread out instead of colliding again. */
  private get backoff(): BackoffOptions {
    return { baseMs: this.retry.baseDelayMs, capMs: this.retry.maxDelayMs, jitter: 'full' };
  }

  private async drain(resource: string, queue: Queue): Promise<void> {
    while (queue.waiting.length > 0) {
      const batch = queue.waiting.splice(0);
      await this.round(resource, batch);
    }
    queue.busy = false;
    this.queues.delete(resource);
  }

  private async round(resource: string, batch: Waiter[]): Promise<void> {
    this.counters.rounds += 1;
    this.counters.changes += batch.length;
    let pending = batch;
    let transientFailures = 0;
    let conflicts = 0;
    for (;;) {
      try {
        const read = await this.gateway.getPolicy(resource);
        const edit = editPolicy(read, pending.map((w) => w.change), this.now());
        edit.refusals.forEach((refusal, i) => refusal && pending[i].reject(refusal));
        pending = pending.filter((_, i) => !edit.refusals[i]);
        if (edit.changed) {
          await this.gateway.setPolicy(resource, edit.policy);
          this.counters.writes += 1;
        }
        pending.forEach((w) => w.resolve());
        return;
      } catch (e) {
        const error = e instanceof GatewayError ? e : new GatewayError('transient', 'UNKNOWN', String(e), e);
        if (error.kind === 'conflict' && ++conflicts < this.retry.conflictAttempts) {
          await sleep(backoffMs(conflicts, this.backoff));
          continue;
        }
        if (error.kind === 'transient' && ++transientFailures < this.retry.attempts) {
          await sleep(backoffMs(transientFailures, this.backoff));
          continue;
        }
        if (error.kind === 'invalid' && pending.length > 1) {
          // GCP refused the combined policy for a reason the pre-checks missed: isolate the
          // culprit so the other grants in the batch still land.
          for (const w of pending) await this.round(resource, [w]);
          return;
        }
        const failure = toProviderError(error, error.kind === 'conflict' ? conflicts : transientFailures);
        pending.forEach((w) => w.reject(failure));
        return;
      }
    }
  }
}
