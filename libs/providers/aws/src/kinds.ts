/**
 * `@jit/provider-aws/kinds`: the lib's second entry, for what the broker reads of every cloud
 * whether `JIT_PROVIDERS` names it or not: the kinds' descriptors (aws-kinds.ts) and the
 * `JIT_AWS_*` variables' schema. It loads no SDK (nothing here imports one at run time), so a
 * broker that does not serve AWS never loads the AWS SDK; the adapter is in the barrel
 * (`@jit/provider-aws`), which the broker's cloud-providers factory imports only when AWS is
 * configured (docs/architecture.md, "Target kinds").
 */
export * from './aws-kinds';
export { AWS_ENV, AWS_ENV_ALIASES, AWS_ENV_SCHEMA } from './aws-provider.options';
