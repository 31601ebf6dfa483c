/**
 * The GCP adapter (`CloudAccessProvider`): conditional IAM bindings on projects, folders and
 * organizations (`request.time < timestamp(...)`), etag read-modify-write coalesced per
 * resource, removed at expiry; discovery's inventory of standing access (`standingInventory()`:
 * Resource Manager search, allow policies, the IAM recommender's policy insights). Also owns its kinds' descriptors (`gcpKinds`, gcp-kinds.ts)
 * and the zod schema of its `JIT_GCP_*` variables. Imports domain,
 * config and resilience; may also import observability; no other provider
 * (docs/architecture.md).
 * Kinds and variables are also the SDK-free entry `@jit/provider-gcp/kinds` (kinds.ts), which
 * the broker reads for every cloud; this barrel loads the SDK.
 */
export { GcpIamBindingProvider, GCP_REVOKE_NOTICE } from './gcp-iam-binding.provider';
export { GcpStandingInventory } from './gcp-standing.inventory';
export { STANDING_HORIZON_DAYS } from './standing-binding.classifier';
export { DEFAULT_RETRY, GCP_ENV, GCP_ENV_ALIASES, GCP_ENV_SCHEMA, gcpProviderOptions } from './gcp-provider.options';
export type { GcpProviderOptions, InventoryPageSizes, RetrySettings } from './gcp-provider.options';
export { staticTokenClient } from './static-token.auth';
export { MAX_BINDINGS_PER_ROLE_AND_MEMBER, MAX_GROUPS_AND_DOMAINS, MAX_PRINCIPALS } from './gcp-policy.limits';
export * from './gcp-kinds';
