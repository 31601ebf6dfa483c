/**
 * What the MCP tools need from the broker: four calls of its grants API, each answering the
 * grant as the API shows it or throwing `BrokerProblem` (the RFC 7807 problem, field issues
 * included). The tools depend on this interface only, so the transport underneath (plain
 * fetch here) can become the typed `@jit/client` without touching them.
 */
export interface GrantView {
  id: string;
  state: string;
  cloud: string;
  principal: { type: string; id: string };
  target: { kind: string; [field: string]: unknown };
  requestedBy: string;
  justification: string | null;
  ticket: string | null;
  duration: string;
  createdAt: string;
  startsAt: string | null;
  expiresAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  approvals: { approver: string; decision: 'approved' | 'denied'; at: string; comment?: string }[];
  decision: {
    rule: string | null;
    mode: string;
    approvalsRequired: number;
    approverGroups: string[];
    approvalSteps?: { approvalsRequired: number; approverGroups: string[] }[];
  } | null;
  approvalDeadline?: string | null;
  lastError?: unknown;
  credentials?: Record<string, string>;
  [field: string]: unknown;
}

export interface FieldIssue {
  field: string;
  message: string;
}

/** A 4xx/5xx answer of the broker, as its problem+json said it. */
export class BrokerProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors: FieldIssue[] = [],
    readonly body: Record<string, unknown> = {},
  ) {
    super(`${status} ${title}: ${detail}`);
    this.name = 'BrokerProblem';
  }
}

export interface GrantsApi {
  request(body: Record<string, unknown>, idempotencyKey?: string): Promise<GrantView>;
  get(id: string): Promise<GrantView>;
  list(filter: { state?: string; cloud?: string; limit?: number }): Promise<{ items: GrantView[]; nextCursor: string | null }>;
  revoke(id: string, reason?: string): Promise<GrantView>;
}

/** A bearer token, or a function that fetches a fresh one (an OIDC token that expires). */
export type TokenSource = string | (() => Promise<string>);

/** The grants API over HTTP (`url` is the broker's base URL, as `JIT_URL`). */
export function httpGrantsApi(url: string, token: TokenSource): GrantsApi {
  const base = url.replace(/\/+$/, '');
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> => {
    const bearer = typeof token === 'string' ? token : await token();
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        accept: 'application/json, application/problem+json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.ok) return parsed;
    const p = (parsed ?? {}) as Record<string, unknown>;
    throw new BrokerProblem(
      res.status,
      typeof p.title === 'string' ? p.title : res.statusText,
      typeof p.detail === 'string' ? p.detail : text.slice(0, 300),
      Array.isArray(p.errors) ? (p.errors as FieldIssue[]) : [],
      p,
    );
  };
  const id = (grantId: string) => encodeURIComponent(grantId);
  return {
    request: async (body, idempotencyKey) =>
      (await call('POST', '/v1/grants', body, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {})) as GrantView,
    get: async (grantId) => (await call('GET', `/v1/grants/${id(grantId)}`)) as GrantView,
    list: async (filter) => {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(filter)) if (v !== undefined) query.set(k, String(v));
      const q = query.toString();
      return (await call('GET', `/v1/grants${q ? `?${q}` : ''}`)) as { items: GrantView[]; nextCursor: string | null };
    },
    revoke: async (grantId, reason) => (await call('POST', `/v1/grants/${id(grantId)}/revoke`, reason ? { reason } : {})) as GrantView,
  };
}
