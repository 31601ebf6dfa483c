/**
 * `@jit/provider-azure/kinds`: the lib's second entry, for what the broker reads of every cloud
 * whether `JIT_PROVIDERS` names it or not: the kinds' descriptors (azure-kinds.ts) and the
 * `JIT_AZURE_*` variables' schema. It loads no SDK (nothing here imports one at run time), so a
 * broker that does not serve Azure never loads the Azure SDK; the adapter is in the barrel
 * (`@jit/provider-azure`), which the broker's cloud-providers factory imports only when Azure is
 * configured (docs/architecture.md, "Target kinds").
 */
export * from './azure-kinds';
export { AZURE_ENV, AZURE_ENV_SCHEMA } from './azure-provider.options';
