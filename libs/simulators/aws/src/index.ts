/**
 * The AWS IAM/STS simulator: the Query protocol over HTTP as the real services answer it
 * (botocore models), with policy evaluation, accounts and fault injection, so the real
 * adapter runs unchanged. For tests and the sandbox only; imports nothing in the repo but the
 * simulator kit (@jit/sim-kit: server, faults, request log)
 * (docs/architecture.md).
 */
export { AwsSimulator } from './aws.simulator';
export type { EvaluationContext, RecordedRequest } from './aws.simulator';
export type { FaultOptions } from './fault.injector';
export { INLINE_POLICY_BUDGET, DEFAULT_ACCOUNT_ID } from './iam.store';
export type { IamSeeds } from './iam.seeds';
export { TRACKING_PERIOD_DAYS } from './access-advisor.store';
export { evaluate } from './policy.evaluator';
export type { Decision } from './policy.evaluator';
export { parseIdentityPolicy, parseTrustPolicy } from './policy-document.validator';
export type { PolicyDocument } from './policy.types';
