import { JitApiError, createJitClient } from '@jit/client';
import { BrokerApi, BrokerError } from './broker-api';
import type { TokenSource } from './token-source';

/**
 * The BrokerApi on @jit/client (typed from docs/openapi.json), with the bearer token from
 * `token`, asked before each request (so a CI OIDC token is minted again when it nears its
 * expiry). Problems become BrokerError; a broker that does not answer at all (refused, reset,
 * DNS) is a BrokerError with status 0 and code `unreachable`.
 */
export function httpBroker(baseUrl: string, token: TokenSource, fetchImpl: typeof fetch = fetch): BrokerApi {
  const client = createJitClient({
    baseUrl,
    getToken: () => token.getToken(),
    headers: { 'User-Agent': 'jit-cli' },
    async fetch(request) {
      try {
        return await fetchImpl(request);
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        throw new BrokerError(0, 'unreachable', 'The broker did not answer', `${request.method} ${new URL(request.url).origin}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
      }
    },
  });
  /** Every call's failure as a BrokerError. */
  const call = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof JitApiError) throw new BrokerError(e.status, e.code, e.title, e.detail, e.errors, e.problem);
      throw e;
    }
  };
  return {
    requestGrant: (body, idempotencyKey) => call(async () => (await client.requestGrant(body as never, { idempotencyKey })).grant),
    getGrant: (id) => call(() => client.getGrant(id)),
    listGrants: (query) => call(() => client.listGrants(query as never)),
    approve: (id, comment) => call(() => client.approveGrant(id, comment ? { comment } : {})),
    deny: (id, comment) => call(() => client.denyGrant(id, { comment })),
    revoke: (id, reason) => call(async () => (await client.revokeGrant(id, reason ? { reason } : {})).grant),
    auditPage: (query) => call(() => client.listAuditEvents(query as never)),
    auditExport: (query, format) => call(() => client.exportAuditEvents(format, query as never)),
    auditVerify: (query) => call(() => client.verifyAuditChain(query as never)),
    reviews: {
      campaigns: (query) => call(() => client.listReviewCampaigns(query as never)),
      start: (definition) => call(() => client.startReviewCampaign(definition)),
      items: (id, query) => call(() => client.listReviewItems(id, query as never)),
      decide: (id, body) => call(() => client.decideReviewItem(id, body)),
      decideMany: (id, body) => call(() => client.decideReviewItems(id, body)),
      report: (id, format) => call(() => client.getReviewReport(id, format)),
      rulesPatch: (id) => call(() => client.getReviewRulesPatchDetails(id)),
    },
    discovery: {
      scan: () => call(() => client.startDiscoveryScan()),
      getScan: (id) => call(() => client.getDiscoveryScan(id)),
      findings: (query) => call(() => client.listDiscoveryFindings(query as never)),
      findingsExport: (query, format) => call(() => client.exportDiscoveryFindings(format, query as never)),
      finding: (id) => call(() => client.getDiscoveryFinding(id)),
      summary: () => call(() => client.getDiscoverySummary()),
      requestRemoval: (id, justification) => call(() => client.requestStandingRemoval(id, justification)),
      approveRemoval: (id, comment) => call(() => client.approveStandingRemoval(id, comment)),
      denyRemoval: (id, comment) => call(() => client.denyStandingRemoval(id, comment)),
      restoreRemoval: (id, justification) => call(() => client.restoreStandingRemoval(id, justification)),
    },
  };
}
