import { setTimeout as sleep } from 'node:timers/promises';
import { AwaitOptions, AwaitOutcome, awaitGrant } from './await-grant';
import { BrokerApi, BrokerError } from './broker-api';
import type { GrantView } from './grant';
import type { GrantRequestBody } from './request-body';

export interface RequestAccessResult {
  /** How the wait ended (`created` when not waiting and the broker's answer was all). */
  outcome: AwaitOutcome['outcome'] | 'created';
  grant: GrantView;
  /** `aws.sts-credentials`: from the creating response, the only time the broker hands them out. */
  credentials?: Record<string, string>;
}

/**
 * POST /v1/grants, then (with `wait`) awaitGrant until the grant is active, denied, ended, the
 * timeout passes or the signal aborts. A request the rules refuse throws the BrokerError
 * (`policy_denied`). The credentials are kept out of the returned grant.
 */
export async function requestAccess(
  broker: BrokerApi,
  body: GrantRequestBody,
  opts: AwaitOptions & { wait: boolean; idempotencyKey?: string },
): Promise<RequestAccessResult> {
  const { credentials, ...created } = await broker.requestGrant(body, opts.idempotencyKey);
  if (!opts.wait) return { outcome: 'created', grant: created, credentials };
  const result = await awaitGrant(broker, created, opts);
  return { ...result, credentials };
}

/** Pauses before the second, third... revoke attempt: short, since a CI runner kills the job seconds after cancelling it. */
const REVOKE_RETRY_PAUSES_MS = [200, 500, 1000, 2000];

/**
 * POST /v1/grants/{id}/revoke, retried quickly when the broker did not answer, answered 429
 * or 503 (a replica stopping, the database away); any other refusal is thrown at once.
 * A pending request is withdrawn, an ended grant is left as it is (the broker answers 200).
 */
export async function revokeGrant(broker: BrokerApi, id: string, reason?: string): Promise<GrantView> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await broker.revoke(id, reason);
    } catch (e) {
      const retryable = e instanceof BrokerError && (e.status === 0 || e.status === 429 || e.status === 503);
      if (!retryable || attempt >= REVOKE_RETRY_PAUSES_MS.length) throw e;
      await sleep(REVOKE_RETRY_PAUSES_MS[attempt]);
    }
  }
}
