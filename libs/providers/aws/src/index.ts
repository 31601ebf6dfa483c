/**
 * The AWS adapter (`CloudAccessProvider`): aws.iam-policy and aws.assume-role as statements
 * in a broker-managed inline policy with `DateLessThan aws:CurrentTime`, aws.sts-credentials
 * through AssumeRole, in the accounts the broker serves. Also owns its kinds' descriptors
 * (`awsKinds`, aws-kinds.ts) and the zod schema of its `JIT_AWS_*`
 * variables. Imports domain, config and resilience; may also import observability; no other
 * provider (docs/architecture.md).
 * Kinds and variables are also the SDK-free entry `@jit/provider-aws/kinds` (kinds.ts), which
 * the broker reads for every cloud; this barrel loads the SDK.
 */
export { AwsIamStsProvider } from './aws-iam-sts.provider';
export { AWS_ENV, AWS_ENV_ALIASES, AWS_ENV_SCHEMA, awsProviderOptions, DEFAULT_RETRY } from './aws-provider.options';
export type { AwsProviderOptions, AwsRetryOptions } from './aws-provider.options';
export { BROKER_POLICY_NAME } from './aws-artifact.naming';
export * from './aws-kinds';
