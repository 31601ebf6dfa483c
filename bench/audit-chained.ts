import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Resolves once the broker at `url` has chained every audit event committed so far, so a bench
 * can count `audit_events` directly: a state change answers before its events are chained
 * (docs/audit.md). GET /v1/audit waits for a chaining round, but at most
 * AUDIT_READ_CHAIN_WAIT_MS, and says in `X-Audit-Staged` how many committed events it could not
 * show yet; it is asked again until that is 0 (a large catch-up's last rounds can take longer).
 */
export async function auditChained(url: string, auditorToken: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/v1/audit?limit=1`, { headers: { authorization: `Bearer ${auditorToken}` } });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`GET /v1/audit answered ${res.status}`);
    const staged = Number(res.headers.get('x-audit-staged') ?? '0');
    if (staged === 0) return;
    if (Date.now() > deadline) throw new Error(`${staged} audit events still staged after ${timeoutMs} ms: is any replica chaining?`);
    // A round that failed answers at once: do not spin on it.
    await sleep(200);
  }
}
