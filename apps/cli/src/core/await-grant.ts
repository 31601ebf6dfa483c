import { setTimeout as sleep } from 'node:timers/promises';
import type { BrokerApi } from './broker-api';
import { ENDED_STATES, GrantView, approvalsOf } from './grant';

/** What happens while a grant is awaited, for a caller to show (the CLI prints it on stderr; the MCP server sends it as progress). */
export type GrantProgress =
  | { type: 'state'; grant: GrantView; previous: GrantView['state'] | null; waitedMs: number }
  | { type: 'approvals'; grant: GrantView; received: number; required: number; waitedMs: number }
  | { type: 'waiting'; grant: GrantView; waitedMs: number };

export type AwaitOutcome =
  /** The grant is active: the access is in place. */
  | { outcome: 'active'; grant: GrantView }
  /** An approver denied it, its approval timed out, or it was withdrawn (`endReason` says which). */
  | { outcome: 'denied'; grant: GrantView }
  /** It ended without being active now: `failed`, or already `expired`/`revoked`/`revoking`. */
  | { outcome: 'ended'; grant: GrantView }
  /** `timeoutMs` passed first; the grant is as it was last read. */
  | { outcome: 'timeout'; grant: GrantView }
  /** `signal` aborted the wait. */
  | { outcome: 'aborted'; grant: GrantView };

export interface AwaitOptions {
  /** Give up after this long (undefined: wait as long as the broker keeps the request open). */
  timeoutMs?: number;
  /** How often the grant is read again. Default 1 s. */
  pollMs?: number;
  signal?: AbortSignal;
  onProgress?: (p: GrantProgress) => void;
}

/** Default pause between two reads of a grant that is not settled yet. */
export const DEFAULT_POLL_MS = 1000;

/**
 * Reads `grant` again until it is active, ended, `timeoutMs` passes or `signal` aborts,
 * reporting each state change and each new approval. The broker has no push channel for a
 * requester, so this polls GET /v1/grants/{id}; errors of the broker are thrown (BrokerError).
 */
export async function awaitGrant(broker: BrokerApi, grant: GrantView, opts: AwaitOptions = {}): Promise<AwaitOutcome> {
  const started = Date.now();
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  let current = grant;
  let previous: GrantView | null = null;
  for (;;) {
    const waitedMs = Date.now() - started;
    if (!previous || previous.state !== current.state) {
      opts.onProgress?.({ type: 'state', grant: current, previous: previous?.state ?? null, waitedMs });
    }
    const now = approvalsOf(current);
    if (now.required > 0 && (!previous || approvalsOf(previous).received !== now.received)) {
      opts.onProgress?.({ type: 'approvals', grant: current, received: now.received, required: now.required, waitedMs });
    }
    const settled = outcomeOf(current);
    if (settled) return settled;
    if (opts.signal?.aborted) return { outcome: 'aborted', grant: current };
    if (opts.timeoutMs !== undefined && waitedMs >= opts.timeoutMs) return { outcome: 'timeout', grant: current };
    opts.onProgress?.({ type: 'waiting', grant: current, waitedMs });
    const pause = opts.timeoutMs === undefined ? pollMs : Math.max(0, Math.min(pollMs, opts.timeoutMs - waitedMs));
    try {
      await sleep(pause, undefined, { signal: opts.signal });
    } catch {
      return { outcome: 'aborted', grant: current };
    }
    previous = current;
    current = await broker.getGrant(current.id);
  }
}

function outcomeOf(g: GrantView): AwaitOutcome | null {
  if (g.state === 'active') return { outcome: 'active', grant: g };
  if (g.state === 'denied') return { outcome: 'denied', grant: g };
  if (ENDED_STATES.includes(g.state) || g.state === 'revoking' || g.state === 'revoke_failed') return { outcome: 'ended', grant: g };
  return null;
}
