/**
 * The Azure adapter (`CloudAccessProvider`): Entra directory roles, Azure resource roles
 * and PIM for Groups through PIM with an expiration; ARM role assignments and app-role
 * assignments, which the sweeper removes, for workloads. Also owns its kinds' descriptors
 * (`azureKinds`, azure-kinds.ts) and the zod schema of its
 * `JIT_AZURE_*` variables. Imports domain, config and resilience; may also import
 * observability; no other provider (docs/architecture.md).
 * Kinds and variables are also the SDK-free entry `@jit/provider-azure/kinds` (kinds.ts), which
 * the broker reads for every cloud; this barrel loads the SDK.
 */
export { AzureProvider } from './azure.provider';
export { AZURE_ENV, AZURE_ENV_SCHEMA, azureProviderOptions, DEFAULT_RETRY } from './azure-provider.options';
export type { AzureProviderOptions, AzureRetryOptions } from './azure-provider.options';
export * from './azure-kinds';
/** How the broker names and describes its ARM role assignments (for the sandbox's seed of a broker artifact). */
export { assignmentDescription, nameBasedGuid } from './azure-ids';
