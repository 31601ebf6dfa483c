/**
 * `@jit/provider-gcp/kinds`: the lib's second entry, for what the broker reads of every cloud
 * whether `JIT_PROVIDERS` names it or not: the kinds' descriptors (gcp-kinds.ts) and the
 * `JIT_GCP_*` variables' schema. It loads no SDK (nothing here imports one at run time), so a
 * broker that does not serve GCP never loads the GCP SDK; the adapter is in the barrel
 * (`@jit/provider-gcp`), which the broker's cloud-providers factory imports only when GCP is
 * configured (docs/architecture.md, "Target kinds").
 */
export * from './gcp-kinds';
export { GCP_ENV, GCP_ENV_ALIASES, GCP_ENV_SCHEMA } from './gcp-provider.options';
