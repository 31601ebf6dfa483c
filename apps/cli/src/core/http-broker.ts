import { BrokerApi, BrokerError, Query } from './broker-api';
import type { GrantView } from './grant';
import type { TokenSource } from './token-source';

const PROBLEM_PREFIX = 'urn:jit-broker:problem:';

/** The BrokerApi over HTTP with a bearer token from `token`. */
export function httpBroker(baseUrl: string, token: TokenSource, fetchImpl: typeof fetch = fetch): BrokerApi {
  async function call(method: string, path: string, opts: { query?: Query; body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
    const url = new URL(`${baseUrl}${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      for (const one of v === undefined ? [] : Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(one));
    }
    const headers: Record<string, string> = { Authorization: `Bearer ${await token.getToken()}`, Accept: 'application/json', ...opts.headers };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await fetchImpl(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new BrokerError(0, 'unreachable', 'the broker did not answer', `${method} ${url.origin}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
    }
    if (res.ok) return res;
    throw await problemOf(res);
  }
  const json = async <T>(res: Promise<Response>): Promise<T> => (await (await res).json()) as T;

  return {
    requestGrant: (body, idempotencyKey) =>
      json(call('POST', '/v1/grants', { body, headers: idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {} })),
    getGrant: (id) => json(call('GET', `/v1/grants/${encodeURIComponent(id)}`)),
    listGrants: (query) => json(call('GET', '/v1/grants', { query })),
    approve: (id, comment) => json(call('POST', `/v1/grants/${encodeURIComponent(id)}/approve`, { body: comment ? { comment } : {} })),
    deny: (id, comment) => json(call('POST', `/v1/grants/${encodeURIComponent(id)}/deny`, { body: { comment } })),
    revoke: (id, reason) => json<GrantView>(call('POST', `/v1/grants/${encodeURIComponent(id)}/revoke`, { body: reason ? { reason } : {} })),
    auditPage: (query) => json(call('GET', '/v1/audit', { query: { ...query, format: 'json' } })),
    async auditExport(query, format) {
      const res = await call('GET', '/v1/audit', { query: { ...query, format } });
      if (!res.body) throw new BrokerError(res.status, 'empty', 'the export had no body', '');
      return res.body;
    },
    auditVerify: (query) => json(call('GET', '/v1/audit/verify', { query })),
  };
}

async function problemOf(res: Response): Promise<BrokerError> {
  const text = await res.text().catch(() => '');
  let p: Record<string, unknown> = {};
  try {
    p = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not a problem document (a proxy's HTML page): the status says what there is to say.
  }
  const type = typeof p.type === 'string' ? p.type : '';
  const errors = Array.isArray(p.errors) ? (p.errors as { field: string; message: string }[]) : [];
  return new BrokerError(
    res.status,
    type.startsWith(PROBLEM_PREFIX) ? type.slice(PROBLEM_PREFIX.length) : `http_${res.status}`,
    typeof p.title === 'string' ? p.title : res.statusText,
    typeof p.detail === 'string' ? p.detail : text.slice(0, 200),
    errors,
    p,
  );
}
