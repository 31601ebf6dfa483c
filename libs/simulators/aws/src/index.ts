/**
 * The AWS IAM/STS simulator: the Query protocol over HTTP as the real services answer it
 * (botocore models), with policy evaluation, accounts and fault injection, so the real
 * adapter runs unchanged. For tests and the sandbox only; imports nothing in the repo but the
 * simulator kit (@jit/sim-kit: server, faults, request log)
 * (docs/architecture.md).
 *
 * On the same endpoint, by `X-Amz-Target` (awsJson1_1): IAM Identity Center admin (sso-admin),
 * Identity Store and Organizations, validated against the botocore models
 * (json-models.generated.ts, `node scripts/gen-aws-json-models.mjs`). Seeding and inspection:
 *
 * - `sim.organization`: `createAccount({ name, id?, email?, parentId?, status? })` → account id,
 *   `createOrganizationalUnit(name, parentId?)` → `ou-…`, `moveAccount`, `id`, `rootId`,
 *   `managementAccountId` (123456789012, where Identity Center lives and the broker's key is),
 *   `registerDelegatedAdministrator(accountId)` (otherwise other accounts get AccessDeniedException).
 * - `sim.identityCenter`: `instanceArn`, `identityStoreId`;
 *   `createUser({ userName, displayName?, givenName?, familyName?, email?, externalId? })` → user id,
 *   `createGroup({ displayName, description? })` → group id, `addToGroup(groupId, userId)`,
 *   `removeFromGroup`; `createPermissionSet({ name, sessionDuration?, description?, inlinePolicy?,
 *   managedPolicyArns?, tags? })` → ARN; `assign({ accountId, permissionSetArn, principalType,
 *   principalId })` (an existing assignment, provisioned at once); inspection: `assignments()`,
 *   `provisioned()` (the `AWSReservedSSO_<name>_<16 hex>` role per account; IAM evaluates the
 *   permission set's inline policy on it), `permissionSet(arn)`, `operations()`, `requests()` /
 *   `clearRequests()` (every awsJson call with its input, output and error);
 *   behaviour: `setTiming({ polls?, ms? })` (when CreateAccountAssignment, DeleteAccountAssignment
 *   and ProvisionPermissionSet requests complete; default `{ polls: 1, ms: 1000 }`),
 *   `failNext({ kind, accountId?, permissionSetArn?, principalId?, count?, reason? })` (those requests
 *   end FAILED), `setQuotas({ permissionSetsPerInstance, permissionSetsProvisionedPerAccount,
 *   managedPoliciesPerPermissionSet })` (defaults 2,000, 50, 20).
 * - `sim.inject({ throttle, serverError, rate, latencyMs })` applies to these services too
 *   (ThrottlingException / TooManyRequestsException, InternalServerException / ServiceException).
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
export type { RecordedJsonRequest, JsonServiceName } from './aws-json.endpoint';
export type { AssignmentView, GroupSeed, IdentityCenterSeeds, OrganizationSeeds, PermissionSetSeed, ProvisioningView, UserSeed } from './identity-center.seeds';
export { DEFAULT_QUOTAS as IDENTITY_CENTER_DEFAULT_QUOTAS, INLINE_POLICY_MAX_CHARS as PERMISSION_SET_INLINE_POLICY_MAX_CHARS } from './identity-center.store';
export type { AccountAssignment, AsyncTiming, FailureRule, IdcOperation, IdcQuotas, OperationKind, PrincipalType } from './identity-center.store';
export type { AccountSeed, AccountStatus } from './organization.store';
export { JSON_MODELS as AWS_JSON_MODELS } from './json-models.generated';
