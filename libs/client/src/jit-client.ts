import createClient, { type Client, type Middleware } from 'openapi-fetch';
import { JitApiError } from './jit-api-error';
import type { components, operations, paths } from './openapi.generated';

type Schemas = components['schemas'];
export type Grant = Schemas['Grant'];
export type GrantPage = Schemas['GrantPage'];
/** The body of a grant request, for the target kinds the broker that wrote docs/openapi.json serves. */
export type GrantRequest = NonNullable<operations['requestGrant']['requestBody']>['content']['application/json'];
export type AuditEvent = Schemas['AuditEvent'];
export type AuditPage = Schemas['AuditPage'];
export type AuditVerification = Schemas['AuditVerification'];
export type AuditCheckpointPage = Schemas['AuditCheckpointPage'];
export type AccessRules = Schemas['AccessRules'];
export type PolicyEvaluation = Schemas['PolicyEvaluation'];
export type GrantStats = Schemas['GrantStats'];
export type GrantState = Grant['state'];
export type ReviewCampaign = Schemas['ReviewCampaign'];
export type ReviewCampaignPage = Schemas['ReviewCampaignPage'];
export type ReviewItem = Schemas['ReviewItem'];
export type ReviewItemPage = Schemas['ReviewItemPage'];
export type ReviewBulkDecision = Schemas['ReviewBulkDecision'];
export type ReviewDecisionBody = NonNullable<operations['decideReviewItem']['requestBody']>['content']['application/json'];
export type DiscoveryScan = Schemas['DiscoveryScan'];
export type DiscoveryFinding = Schemas['DiscoveryFinding'];
export type DiscoveryFindingPage = Schemas['DiscoveryFindingPage'];
export type DiscoveryFindingDetail = Schemas['DiscoveryFindingDetail'];
export type DiscoverySummary = Schemas['DiscoverySummary'];
export type StandingRemoval = Schemas['StandingRemoval'];

type Query<O extends keyof operations> = NonNullable<NonNullable<operations[O]['parameters']['query']>>;
export type ListGrantsQuery = Query<'listGrants'>;
export type AuditQuery = Omit<Query<'listAuditEvents'>, 'format'>;
export type VerifyQuery = Query<'verifyAuditChain'>;
export type CheckpointsQuery = Query<'listAuditCheckpoints'>;
export type GrantStatsQuery = Query<'getGrantStats'>;
export type ReviewCampaignsQuery = Query<'listReviewCampaigns'>;
export type ReviewItemsQuery = Query<'listReviewItems'>;
export type DiscoveryFindingsQuery = Omit<Query<'listDiscoveryFindings'>, 'format'>;

/** The rules patch and its headers (`X-Rules-Version`, `X-Review-Applied`, `X-Review-Skipped`). */
export interface ReviewRulesPatchDetails {
  patch: string;
  rulesVersion: string | null;
  applied: number | null;
  skipped: { itemId: string; reason: string }[];
}

export interface JitClientOptions {
  /** The broker's URL, e.g. `https://jit.example.com` (its API is under /v1). */
  baseUrl: string;
  /** A static token; or `getToken`, asked before each request (an OIDC ID token that expires). */
  token?: string;
  getToken?: () => string | Promise<string>;
  /**
   * Instead of a token, a browser's cookie session (the console): no Authorization header, the
   * cookie sent with `credentials: 'same-origin'`, and `csrfToken()` as `X-CSRF-Token` on every
   * request that is not GET, HEAD or OPTIONS, as the broker requires of a cookie-authenticated one.
   */
  session?: { csrfToken: () => string | Promise<string> };
  /** Another fetch (a proxy agent, a test's); globalThis.fetch by default. */
  fetch?: (request: Request) => Promise<Response>;
  /** Sent on every request, e.g. a User-Agent naming the tool. */
  headers?: Record<string, string>;
}

export interface RequestOptions {
  /** Same key and body: the same grant (200) instead of a second one; another body: 409. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** The broker's answer to a grant request: 201 active, 202 pending_approval or provisioning, 200 an Idempotency-Key replay. */
export interface GrantRequestResult {
  grant: Grant;
  status: 200 | 201 | 202;
}

/**
 * The broker's API, typed from its OpenAPI document (docs/openapi.json). Every method throws
 * `JitApiError` for an error response; `api` is the underlying openapi-fetch client for any
 * operation, with the same token and errors.
 */
export interface JitClient {
  api: Client<paths>;
  requestGrant(body: GrantRequest, options?: RequestOptions): Promise<GrantRequestResult>;
  getGrant(id: string, options?: { signal?: AbortSignal }): Promise<Grant>;
  listGrants(query?: ListGrantsQuery, options?: { signal?: AbortSignal }): Promise<GrantPage>;
  /** Every grant matching `query`, page after page. */
  allGrants(query?: Omit<ListGrantsQuery, 'cursor'>): AsyncIterable<Grant>;
  revokeGrant(id: string, body?: { reason?: string; force?: boolean }): Promise<{ grant: Grant; status: 200 | 202 }>;
  approveGrant(id: string, body?: { comment?: string }): Promise<Grant>;
  denyGrant(id: string, body: { comment: string }): Promise<Grant>;
  /** The decision a grant request would get now; nothing is stored. */
  evaluateGrantRequest(body: GrantRequest): Promise<PolicyEvaluation>;
  listAuditEvents(query?: AuditQuery): Promise<AuditPage>;
  /** The whole filtered log as `jsonl` (one AuditEvent a line) or `csv`, streamed. */
  exportAuditEvents(format: 'jsonl' | 'csv', query?: Omit<AuditQuery, 'limit' | 'cursor'>): Promise<ReadableStream<Uint8Array>>;
  verifyAuditChain(query?: VerifyQuery): Promise<AuditVerification>;
  listAuditCheckpoints(query?: CheckpointsQuery): Promise<AuditCheckpointPage>;
  getAccessRules(): Promise<AccessRules>;
  /** Aggregates for charts over from..to (auditors and admins). */
  getGrantStats(query?: GrantStatsQuery, options?: { signal?: AbortSignal }): Promise<GrantStats>;
  /** Access reviews (docs/reviews.md): campaigns, newest first. */
  listReviewCampaigns(query?: ReviewCampaignsQuery): Promise<ReviewCampaignPage>;
  getReviewCampaign(id: string): Promise<ReviewCampaign>;
  /** Starts a campaign now from a definition (admin). */
  startReviewCampaign(definition: string): Promise<ReviewCampaign>;
  /** A campaign's items: all for admins and auditors, a reviewer's own otherwise. */
  listReviewItems(campaignId: string, query?: ReviewItemsQuery): Promise<ReviewItemPage>;
  getReviewItem(id: string): Promise<ReviewItem>;
  decideReviewItem(id: string, body: ReviewDecisionBody): Promise<ReviewItem>;
  /** One decision on many items of a campaign; each is decided or refused on its own. */
  decideReviewItems(campaignId: string, body: ReviewDecisionBody & { itemIds: string[] }): Promise<ReviewBulkDecision>;
  /** The campaign report as `csv` or printable `html`, as text. */
  getReviewReport(campaignId: string, format: 'csv' | 'html'): Promise<string>;
  /** The rules-file patch (unified diff) the campaign's eligibility decisions call for. */
  getReviewRulesPatch(campaignId: string): Promise<string>;
  /** The same patch with what its headers say: the rules version it applies to, how many items it carries, and those it skipped with the reason. */
  getReviewRulesPatchDetails(campaignId: string): Promise<ReviewRulesPatchDetails>;
  /** Discovery (docs/discovery.md): starts a scan (admins, auditors), or answers the running one. */
  startDiscoveryScan(): Promise<DiscoveryScan>;
  getDiscoveryScan(id: string): Promise<DiscoveryScan>;
  listDiscoveryFindings(query?: DiscoveryFindingsQuery): Promise<DiscoveryFindingPage>;
  /** Every matching finding as `jsonl` (one DiscoveryFinding a line) or `csv`, streamed. */
  exportDiscoveryFindings(format: 'jsonl' | 'csv', query?: Omit<DiscoveryFindingsQuery, 'limit' | 'cursor'>): Promise<ReadableStream<Uint8Array>>;
  /** A finding with its proposed rules-file entry, history and removals. */
  getDiscoveryFinding(id: string): Promise<DiscoveryFindingDetail>;
  getDiscoverySummary(): Promise<DiscoverySummary>;
  /** Asks to remove a finding's standing assignment (admin); it waits for another admin's approval. */
  requestStandingRemoval(findingId: string, justification: string): Promise<StandingRemoval>;
  getStandingRemoval(id: string): Promise<StandingRemoval>;
  approveStandingRemoval(id: string, comment?: string): Promise<StandingRemoval>;
  denyStandingRemoval(id: string, comment: string): Promise<StandingRemoval>;
  restoreStandingRemoval(id: string, justification?: string): Promise<StandingRemoval>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function createJitClient(options: JitClientOptions): JitClient {
  const { token, getToken, session } = options;
  if ([token, getToken, session].filter((a) => a !== undefined).length !== 1) throw new Error('createJitClient: give exactly one of token, getToken and session');
  const api = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    ...(session && { credentials: 'same-origin' as const }),
    ...(options.fetch && { fetch: options.fetch }),
    headers: options.headers,
    // `anchor` is repeated (anchor=a&anchor=b), as the broker reads it.
    querySerializer: { array: { style: 'form', explode: true } },
  });
  const auth: Middleware = {
    async onRequest({ request }) {
      if (!session) request.headers.set('Authorization', `Bearer ${token ?? (await getToken!())}`);
      else if (!SAFE_METHODS.has(request.method)) request.headers.set('X-CSRF-Token', await session.csrfToken());
      return request;
    },
    async onResponse({ response }) {
      if (!response.ok) throw await JitApiError.fromResponse(response);
      return undefined;
    },
  };
  api.use(auth);

  /** Errors were thrown by the middleware: what is left is the data (present on every 2xx with a body). */
  const data = <T>(result: { data?: T; response: Response }): T => {
    if (result.data === undefined) throw new JitApiError(result.response.status, { type: 'about:blank', title: 'Empty response', status: result.response.status, detail: 'the broker sent no body' });
    return result.data;
  };

  const client: JitClient = {
    api,
    async requestGrant(body, { idempotencyKey, signal } = {}) {
      const result = await api.POST('/v1/grants', {
        body,
        params: { header: idempotencyKey === undefined ? {} : { 'Idempotency-Key': idempotencyKey } },
        signal,
      });
      return { grant: data(result), status: result.response.status as 200 | 201 | 202 };
    },
    async getGrant(id, { signal } = {}) {
      return data(await api.GET('/v1/grants/{id}', { params: { path: { id } }, signal }));
    },
    async listGrants(query = {}, { signal } = {}) {
      return data(await api.GET('/v1/grants', { params: { query }, signal }));
    },
    async *allGrants(query = {}) {
      let cursor: string | undefined;
      do {
        const page = await client.listGrants({ ...query, ...(cursor === undefined ? {} : { cursor }) });
        yield* page.items;
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
    },
    async revokeGrant(id, body = {}) {
      const result = await api.POST('/v1/grants/{id}/revoke', { params: { path: { id } }, body });
      return { grant: data(result), status: result.response.status as 200 | 202 };
    },
    async approveGrant(id, body = {}) {
      return data(await api.POST('/v1/grants/{id}/approve', { params: { path: { id } }, body }));
    },
    async denyGrant(id, body) {
      return data(await api.POST('/v1/grants/{id}/deny', { params: { path: { id } }, body }));
    },
    async evaluateGrantRequest(body) {
      return data(await api.POST('/v1/policy/evaluate', { body }));
    },
    async listAuditEvents(query = {}) {
      const page = data(await api.GET('/v1/audit', { params: { query: { ...query, format: 'json' } } }));
      // format=json is always the JSON page; the document also lists the jsonl and csv exports' text.
      if (typeof page === 'string') throw new Error('GET /v1/audit with format=json answered with text');
      return page;
    },
    async exportAuditEvents(format, query = {}) {
      const result = await api.GET('/v1/audit', { params: { query: { ...query, format } }, parseAs: 'stream' });
      if (!result.data) throw new JitApiError(result.response.status, { type: 'about:blank', title: 'Empty response', status: result.response.status, detail: 'the broker sent no body' });
      return result.data as ReadableStream<Uint8Array>;
    },
    async verifyAuditChain(query = {}) {
      return data(await api.GET('/v1/audit/verify', { params: { query } }));
    },
    async listAuditCheckpoints(query = {}) {
      return data(await api.GET('/v1/audit/checkpoints', { params: { query } }));
    },
    async getAccessRules() {
      return data(await api.GET('/v1/policy'));
    },
    async getGrantStats(query = {}, { signal } = {}) {
      return data(await api.GET('/v1/stats', { params: { query }, signal }));
    },
    async listReviewCampaigns(query = {}) {
      return data(await api.GET('/v1/reviews/campaigns', { params: { query } }));
    },
    async getReviewCampaign(id) {
      return data(await api.GET('/v1/reviews/campaigns/{id}', { params: { path: { id } } }));
    },
    async startReviewCampaign(definition) {
      return data(await api.POST('/v1/reviews/campaigns/{definition}/start', { params: { path: { definition } } }));
    },
    async listReviewItems(campaignId, query = {}) {
      return data(await api.GET('/v1/reviews/campaigns/{id}/items', { params: { path: { id: campaignId }, query } }));
    },
    async getReviewItem(id) {
      return data(await api.GET('/v1/reviews/items/{id}', { params: { path: { id } } }));
    },
    async decideReviewItem(id, body) {
      return data(await api.POST('/v1/reviews/items/{id}/decision', { params: { path: { id } }, body }));
    },
    async decideReviewItems(campaignId, body) {
      return data(await api.POST('/v1/reviews/campaigns/{id}/decisions', { params: { path: { id: campaignId } }, body }));
    },
    async getReviewReport(campaignId, format) {
      return data(await api.GET('/v1/reviews/campaigns/{id}/report', { params: { path: { id: campaignId }, query: { format } }, parseAs: 'text' }));
    },
    async getReviewRulesPatch(campaignId) {
      const result = await api.GET('/v1/reviews/campaigns/{id}/rules-patch', { params: { path: { id: campaignId } }, parseAs: 'text' });
      // An empty patch (nothing to change) is an empty 200 body, not a missing one.
      if (result.response.ok) return (result.data) ?? '';
      return data(result);
    },
    async getReviewRulesPatchDetails(campaignId) {
      const result = await api.GET('/v1/reviews/campaigns/{id}/rules-patch', { params: { path: { id: campaignId } }, parseAs: 'text' });
      if (!result.response.ok) return { patch: data(result), rulesVersion: null, applied: null, skipped: [] };
      const h = result.response.headers;
      let skipped: ReviewRulesPatchDetails['skipped'] = [];
      try {
        const parsed: unknown = JSON.parse(h.get('X-Review-Skipped') ?? '[]');
        if (Array.isArray(parsed)) skipped = parsed.filter((s): s is { itemId: string; reason: string } => typeof s?.itemId === 'string' && typeof s?.reason === 'string');
      } catch {
        // The header is cut at 4,000 characters: a cut list is not parsed.
        skipped = [{ itemId: '(list cut)', reason: h.get('X-Review-Skipped') ?? '' }];
      }
      const applied = h.get('X-Review-Applied');
      return { patch: result.data ?? '', rulesVersion: h.get('X-Rules-Version'), applied: applied === null ? null : Number(applied), skipped };
    },
    async startDiscoveryScan() {
      return data(await api.POST('/v1/discovery/scans'));
    },
    async getDiscoveryScan(id) {
      return data(await api.GET('/v1/discovery/scans/{id}', { params: { path: { id } } }));
    },
    async listDiscoveryFindings(query = {}) {
      const page = data(await api.GET('/v1/discovery/findings', { params: { query: { ...query, format: 'json' } } }));
      if (typeof page === 'string') throw new Error('GET /v1/discovery/findings with format=json answered with text');
      return page;
    },
    async exportDiscoveryFindings(format, query = {}) {
      const result = await api.GET('/v1/discovery/findings', { params: { query: { ...query, format } }, parseAs: 'stream' });
      if (!result.response.ok || !result.data) return data(result) as never;
      return result.data as ReadableStream<Uint8Array>;
    },
    async getDiscoveryFinding(id) {
      return data(await api.GET('/v1/discovery/findings/{id}', { params: { path: { id } } }));
    },
    async getDiscoverySummary() {
      return data(await api.GET('/v1/discovery/summary'));
    },
    async requestStandingRemoval(findingId, justification) {
      return data(await api.POST('/v1/discovery/findings/{id}/removal', { params: { path: { id: findingId } }, body: { justification } }));
    },
    async getStandingRemoval(id) {
      return data(await api.GET('/v1/discovery/removals/{id}', { params: { path: { id } } }));
    },
    async approveStandingRemoval(id, comment) {
      return data(await api.POST('/v1/discovery/removals/{id}/approve', { params: { path: { id } }, body: comment ? { comment } : {} }));
    },
    async denyStandingRemoval(id, comment) {
      return data(await api.POST('/v1/discovery/removals/{id}/deny', { params: { path: { id } }, body: { comment } }));
    },
    async restoreStandingRemoval(id, justification) {
      return data(await api.POST('/v1/discovery/removals/{id}/restore', { params: { path: { id } }, body: justification ? { justification } : {} }));
    },
  };
  return client;
}
