import type { AuditEvent, AuditVerification, DiscoveryFindingDetail, DiscoveryFindingPage, DiscoveryScan, DiscoverySummary, StandingRemoval, ReviewBulkDecision, ReviewCampaign, ReviewCampaignPage, ReviewDecisionBody, ReviewItem, ReviewItemPage } from '@jit/client';
import type { GrantView } from './grant';
import type { GrantRequestBody } from './request-body';

/** A problem+json answer of the broker (RFC 7807), or a transport failure (`status` 0). */
export class BrokerError extends Error {
  constructor(
    readonly status: number,
    /** The problem's stable code (`policy_denied`, `validation_failed`...), from `type` `urn:jit-broker:problem:<code>`. */
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    /** Each refused field, as the broker named it. */
    readonly errors: readonly { field: string; message: string }[] = [],
    readonly problem: Record<string, unknown> = {},
  ) {
    super(detail || title);
    this.name = 'BrokerError';
  }
}

/** Query parameters; an array is sent as the parameter repeated. */
export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

/** One audit event as GET /v1/audit returns it (docs/audit.md). */
export type AuditEventView = AuditEvent;

/** The broker operations the CLI, the MCP server and the GitHub Action use; every failure is a BrokerError. */
export interface BrokerApi {
  requestGrant(body: GrantRequestBody, idempotencyKey?: string): Promise<GrantView>;
  getGrant(id: string): Promise<GrantView>;
  listGrants(query: Query): Promise<{ items: GrantView[]; nextCursor: string | null }>;
  approve(id: string, comment?: string): Promise<GrantView>;
  deny(id: string, comment: string): Promise<GrantView>;
  revoke(id: string, reason?: string): Promise<GrantView>;
  auditPage(query: Query): Promise<{ items: AuditEventView[]; nextCursor: string | null }>;
  /** The export (`format` jsonl or csv) as the broker streams it. */
  auditExport(query: Query, format: 'jsonl' | 'csv'): Promise<ReadableStream<Uint8Array>>;
  auditVerify(query: Query): Promise<AuditVerification>;
  /** Access reviews (docs/reviews.md). */
  reviews: {
    campaigns(query: Query): Promise<ReviewCampaignPage>;
    start(definition: string): Promise<ReviewCampaign>;
    items(campaignId: string, query: Query): Promise<ReviewItemPage>;
    decide(itemId: string, body: ReviewDecisionBody): Promise<ReviewItem>;
    decideMany(campaignId: string, body: ReviewDecisionBody & { itemIds: string[] }): Promise<ReviewBulkDecision>;
    report(campaignId: string, format: 'csv' | 'html'): Promise<string>;
    rulesPatch(campaignId: string): Promise<{ patch: string; rulesVersion: string | null; applied: number | null; skipped: { itemId: string; reason: string }[] }>;
  };
  /** Discovery of standing access (docs/discovery.md). */
  discovery: {
    scan(): Promise<DiscoveryScan>;
    getScan(id: string): Promise<DiscoveryScan>;
    findings(query: Query): Promise<DiscoveryFindingPage>;
    findingsExport(query: Query, format: 'jsonl' | 'csv'): Promise<ReadableStream<Uint8Array>>;
    finding(id: string): Promise<DiscoveryFindingDetail>;
    summary(): Promise<DiscoverySummary>;
    requestRemoval(findingId: string, justification: string): Promise<StandingRemoval>;
    approveRemoval(id: string, comment?: string): Promise<StandingRemoval>;
    denyRemoval(id: string, comment: string): Promise<StandingRemoval>;
    restoreRemoval(id: string, justification?: string): Promise<StandingRemoval>;
  };
}
