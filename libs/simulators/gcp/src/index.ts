/**
 * The GCP Resource Manager simulator: v3 getIamPolicy/setIamPolicy on projects, folders and
 * organizations with IAM's limits and condition evaluation, as the discovery documents
 * define them; for discovery, v3 projects/folders/organizations.search and Recommender v1's
 * IAM policy insights (resource-search.ts, policy-insights.ts). For tests and the sandbox only; imports nothing in the repo but the
 * simulator kit (@jit/sim-kit: server, faults, request log)
 * (docs/architecture.md).
 */
export { GcpSimulator } from './gcp.simulator';
export type { SimulatorStats, TrafficEntry } from './gcp.simulator';
export type { FaultPlan } from './fault.injector';
export type { AuditConfig, AuditLogConfig, Binding, Expr, PolicySeed } from './iam-policy.types';
export { MAX_BINDINGS_PER_ROLE_AND_MEMBER, MAX_GROUPS_AND_DOMAINS, MAX_PRINCIPALS } from './iam-policy.rules';
export type { ResourceMetaSeed } from './resource-search';
export type { PolicyInsightSeed } from './policy-insights';
export { CloudIdentityStore } from './cloud-identity.store';
export type { GroupSeed, MembershipType, RoleName, StoredMembership } from './cloud-identity.store';
