/**
 * @jit/client: the broker's typed HTTP client, for every program that talks to a broker (the
 * jit CLI, the GitHub Action, the MCP server). Owns the types generated from the API document
 * (openapi.generated.ts, written by `npm run openapi` from docs/openapi.json; never edited by
 * hand), `createJitClient` on openapi-fetch, and `JitApiError` for problem responses. Imports
 * nothing in the repo: it speaks only the wire contract.
 */
export { createJitClient } from './jit-client';
export type {
  AccessRules,
  AuditCheckpointPage,
  AuditEvent,
  AuditPage,
  AuditQuery,
  AuditVerification,
  CheckpointsQuery,
  DiscoveryFinding,
  DiscoveryFindingDetail,
  DiscoveryFindingPage,
  DiscoveryFindingsQuery,
  DiscoveryScan,
  DiscoverySummary,
  Grant,
  GrantPage,
  GrantRequest,
  GrantRequestResult,
  GrantState,
  GrantStats,
  GrantStatsQuery,
  JitClient,
  JitClientOptions,
  ListGrantsQuery,
  PolicyEvaluation,
  RequestOptions,
  ReviewBulkDecision,
  ReviewCampaign,
  ReviewCampaignPage,
  ReviewCampaignsQuery,
  ReviewDecisionBody,
  ReviewItem,
  ReviewItemPage,
  ReviewItemsQuery,
  StandingRemoval,
  VerifyQuery,
} from './jit-client';
export { JitApiError } from './jit-api-error';
export type { FieldIssue, Problem } from './jit-api-error';
export type { components, operations, paths } from './openapi.generated';
