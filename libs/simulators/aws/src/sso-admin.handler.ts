import {
  AccountAssignment, IdcOperation, IdentityCenterStore, OperationKind, PermissionSet, PrincipalType, idcError,
} from './identity-center.store';
import { epochSeconds, page } from './json-protocol.codec';

/** What a handler sees of the call: the validated input and who made it. */
export interface JsonCall {
  operation: string;
  accountId: string;
  callerArn: string;
}

/** An awsJson1_1 operation: the request body (already checked against the model) in, the response body out. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonHandler = (input: any, call: JsonCall) => Record<string, unknown>;

/** The default page size where the API reference gives none: the model's `MaxResults` maximum (100). */
const DEFAULT_PAGE = 100;
const invalidToken = () => idcError.validation('The NextToken provided is invalid.');

function permissionSetBody(ps: PermissionSet): Record<string, unknown> {
  return {
    Name: ps.name,
    PermissionSetArn: ps.arn,
    Description: ps.description,
    CreatedDate: epochSeconds(ps.createdDate),
    SessionDuration: ps.sessionDuration,
    RelayState: ps.relayState,
  };
}

function assignmentStatus(op: IdcOperation): Record<string, unknown> {
  return {
    Status: op.status,
    RequestId: op.requestId,
    FailureReason: op.failureReason,
    TargetId: op.accountId,
    TargetType: 'AWS_ACCOUNT',
    PermissionSetArn: op.permissionSetArn,
    PrincipalType: op.principalType,
    PrincipalId: op.principalId,
    CreatedDate: epochSeconds(op.createdDate),
  };
}

function provisioningStatus(op: IdcOperation): Record<string, unknown> {
  return {
    Status: op.status,
    RequestId: op.requestId,
    AccountId: op.accountId,
    PermissionSetArn: op.permissionSetArn,
    FailureReason: op.failureReason,
    CreatedDate: epochSeconds(op.createdDate),
  };
}

function operationMetadata(op: IdcOperation): Record<string, unknown> {
  return { Status: op.status, RequestId: op.requestId, CreatedDate: epochSeconds(op.createdDate) };
}

/**
 * The sso-admin (IAM Identity Center admin) operations, `SWBExternalService.*`. Every call must come
 * from the instance's account (the organization's management account) or a delegated administrator;
 * assignment and provisioning requests are asynchronous (`IdentityCenterStore.timing`).
 */
export function ssoAdminHandlers(store: IdentityCenterStore): Record<string, JsonHandler> {
  const authorize = (call: JsonCall, resource: string) => {
    if (call.accountId !== store.ownerAccountId && !store.organization.delegatedAdministrators.has(call.accountId)) {
      throw idcError.accessDenied(`User: ${call.callerArn} is not authorized to perform: sso:${call.operation} on resource: ${resource}`);
    }
  };
  // A delegated administrator may not manage access to the management account itself.
  const denyDelegatedOnManagement = (call: JsonCall, accountId: string) => {
    if (call.accountId !== store.ownerAccountId && accountId === store.ownerAccountId) {
      throw idcError.accessDenied(`User: ${call.callerArn} is not authorized to perform: sso:${call.operation} on the management account ${accountId} as a delegated administrator`);
    }
  };
  const ps = (input: { InstanceArn: string; PermissionSetArn: string }, call: JsonCall) => {
    authorize(call, input.InstanceArn);
    store.settle();
    return store.permissionSet(input.InstanceArn, input.PermissionSetArn);
  };
  const instance = (input: { InstanceArn: string }, call: JsonCall) => {
    authorize(call, input.InstanceArn);
    store.settle();
    store.requireInstance(input.InstanceArn);
  };
  const tagsOf = (list: { Key: string; Value: string }[] | undefined) => {
    const tags = (list ?? []).map((t) => [t.Key, t.Value] as [string, string]);
    const reserved = tags.find(([k]) => k.toLowerCase().startsWith('aws:'));
    if (reserved) throw idcError.validation(`Tag keys beginning with aws: are reserved (${reserved[0]}).`);
    return tags;
  };
  const describe = (kind: OperationKind, requestId: string) => {
    const op = store.poll(requestId, kind);
    if (!op) throw idcError.notFound(`Request ${requestId} does not exist.`);
    return op;
  };
  const listStatus = (kind: OperationKind, input: { Filter?: { Status?: string }; NextToken?: string; MaxResults?: number }, operation: string) => {
    store.settle();
    const ops = [...store.operations.values()].filter((op) => op.kind === kind && (!input.Filter?.Status || op.status === input.Filter.Status));
    return page(ops, input, operation, input.Filter?.Status ?? '', DEFAULT_PAGE, invalidToken);
  };
  const checkAssignmentInput = (
    input: { TargetId: string; PrincipalType: PrincipalType; PrincipalId: string; PermissionSetArn: string; InstanceArn: string },
    call: JsonCall,
  ): { set: PermissionSet; a: AccountAssignment } => ({
    set: ps(input, call),
    a: { accountId: input.TargetId, permissionSetArn: input.PermissionSetArn, principalType: input.PrincipalType, principalId: input.PrincipalId },
  });

  return {
    ListInstances: (input, call) => {
      authorize(call, '*');
      const { items, nextToken } = page([store], input, 'ListInstances', '', DEFAULT_PAGE, invalidToken);
      return { Instances: items.map((s) => ({ InstanceArn: s.instanceArn, IdentityStoreId: s.identityStoreId })), NextToken: nextToken };
    },

    CreatePermissionSet: (input, call) => {
      instance(input, call);
      const created = store.createPermissionSet({
        name: input.Name,
        description: input.Description,
        sessionDuration: input.SessionDuration,
        relayState: input.RelayState,
        tags: tagsOf(input.Tags),
      });
      return { PermissionSet: permissionSetBody(created) };
    },

    DescribePermissionSet: (input, call) => ({ PermissionSet: permissionSetBody(ps(input, call)) }),

    UpdatePermissionSet: (input, call) => {
      const set = ps(input, call);
      if (input.SessionDuration !== undefined) store.checkSessionDuration(input.SessionDuration);
      if (input.Description !== undefined) set.description = input.Description;
      if (input.SessionDuration !== undefined) set.sessionDuration = input.SessionDuration;
      if (input.RelayState !== undefined) set.relayState = input.RelayState;
      set.version += 1;
      return {};
    },

    ListPermissionSets: (input, call) => {
      instance(input, call);
      const { items, nextToken } = page([...store.permissionSets.keys()], input, 'ListPermissionSets', '', DEFAULT_PAGE, invalidToken);
      return { PermissionSets: items, NextToken: nextToken };
    },

    DeletePermissionSet: (input, call) => {
      store.deletePermissionSet(ps(input, call));
      return {};
    },

    PutInlinePolicyToPermissionSet: (input, call) => {
      store.putInlinePolicy(ps(input, call), input.InlinePolicy);
      return {};
    },

    GetInlinePolicyForPermissionSet: (input, call) => ({ InlinePolicy: ps(input, call).inlinePolicy ?? '' }),

    DeleteInlinePolicyFromPermissionSet: (input, call) => {
      const set = ps(input, call);
      if (set.inlinePolicy !== undefined) {
        set.inlinePolicy = undefined;
        set.version += 1;
      }
      return {};
    },

    AttachManagedPolicyToPermissionSet: (input, call) => {
      const set = ps(input, call);
      const arn: string = input.ManagedPolicyArn;
      if (set.managedPolicies.some((m) => m.arn === arn)) throw idcError.conflict(`Managed policy ${arn} is already attached to PermissionSet ${set.arn}.`);
      if (set.managedPolicies.length >= store.quotas.managedPoliciesPerPermissionSet) {
        throw idcError.quota(`The maximum number of managed policies (${store.quotas.managedPoliciesPerPermissionSet}) attached to PermissionSet ${set.arn} has been reached.`);
      }
      set.managedPolicies.push({ name: arn.slice(arn.lastIndexOf('/') + 1), arn });
      set.version += 1;
      return {};
    },

    DetachManagedPolicyFromPermissionSet: (input, call) => {
      const set = ps(input, call);
      const at = set.managedPolicies.findIndex((m) => m.arn === input.ManagedPolicyArn);
      if (at < 0) throw idcError.notFound(`Managed policy ${input.ManagedPolicyArn} is not attached to PermissionSet ${set.arn}.`);
      set.managedPolicies.splice(at, 1);
      set.version += 1;
      return {};
    },

    ListManagedPoliciesInPermissionSet: (input, call) => {
      const set = ps(input, call);
      const { items, nextToken } = page(set.managedPolicies, input, 'ListManagedPoliciesInPermissionSet', set.arn, DEFAULT_PAGE, invalidToken);
      return { AttachedManagedPolicies: items.map((m) => ({ Name: m.name, Arn: m.arn })), NextToken: nextToken };
    },

    ProvisionPermissionSet: (input, call) => {
      const set = ps(input, call);
      if (input.TargetType === 'AWS_ACCOUNT' && input.TargetId === undefined) throw idcError.validation('TargetId is required when TargetType is AWS_ACCOUNT.');
      if (input.TargetType === 'ALL_PROVISIONED_ACCOUNTS' && input.TargetId !== undefined) {
        throw idcError.validation('TargetId must not be set when TargetType is ALL_PROVISIONED_ACCOUNTS.');
      }
      if (store.inFlight((op) => op.kind === 'provision' && op.permissionSetArn === set.arn)) {
        throw idcError.conflict(`A provisioning request for PermissionSet ${set.arn} is already in progress.`);
      }
      const op = store.startOperation({ kind: 'provision', permissionSetArn: set.arn, accountId: input.TargetId });
      return { PermissionSetProvisioningStatus: provisioningStatus(op) };
    },

    DescribePermissionSetProvisioningStatus: (input, call) => {
      instance(input, call);
      return { PermissionSetProvisioningStatus: provisioningStatus(describe('provision', input.ProvisionPermissionSetRequestId)) };
    },

    ListPermissionSetProvisioningStatus: (input, call) => {
      instance(input, call);
      const { items, nextToken } = listStatus('provision', input, 'ListPermissionSetProvisioningStatus');
      return { PermissionSetsProvisioningStatus: items.map(operationMetadata), NextToken: nextToken };
    },

    CreateAccountAssignment: (input, call) => {
      const { set, a } = checkAssignmentInput(input, call);
      denyDelegatedOnManagement(call, a.accountId);
      const pending = store.inFlight((op) => op.kind === 'create-assignment' && op.accountId === a.accountId && op.permissionSetArn === set.arn);
      if (
        !store.provisioning(set.arn, a.accountId) &&
        !pending &&
        store.permissionSetsProvisionedTo(a.accountId).length >= store.quotas.permissionSetsProvisionedPerAccount
      ) {
        throw idcError.quota(
          `The maximum number of permission sets (${store.quotas.permissionSetsProvisionedPerAccount}) provisioned to account ${a.accountId} has been reached.`,
        );
      }
      const op = store.startOperation({ kind: 'create-assignment', ...a });
      return { AccountAssignmentCreationStatus: assignmentStatus(op) };
    },

    DescribeAccountAssignmentCreationStatus: (input, call) => {
      instance(input, call);
      return { AccountAssignmentCreationStatus: assignmentStatus(describe('create-assignment', input.AccountAssignmentCreationRequestId)) };
    },

    ListAccountAssignmentCreationStatus: (input, call) => {
      instance(input, call);
      const { items, nextToken } = listStatus('create-assignment', input, 'ListAccountAssignmentCreationStatus');
      return { AccountAssignmentsCreationStatus: items.map(operationMetadata), NextToken: nextToken };
    },

    DeleteAccountAssignment: (input, call) => {
      const { a } = checkAssignmentInput(input, call);
      denyDelegatedOnManagement(call, a.accountId);
      const op = store.startOperation({ kind: 'delete-assignment', ...a });
      return { AccountAssignmentDeletionStatus: assignmentStatus(op) };
    },

    DescribeAccountAssignmentDeletionStatus: (input, call) => {
      instance(input, call);
      return { AccountAssignmentDeletionStatus: assignmentStatus(describe('delete-assignment', input.AccountAssignmentDeletionRequestId)) };
    },

    ListAccountAssignmentDeletionStatus: (input, call) => {
      instance(input, call);
      const { items, nextToken } = listStatus('delete-assignment', input, 'ListAccountAssignmentDeletionStatus');
      return { AccountAssignmentsDeletionStatus: items.map(operationMetadata), NextToken: nextToken };
    },

    ListAccountAssignments: (input, call) => {
      const set = ps(input, call);
      const all = store.assignmentsOf(set.arn, input.AccountId);
      const { items, nextToken } = page(all, input, 'ListAccountAssignments', `${set.arn} ${input.AccountId}`, DEFAULT_PAGE, invalidToken);
      return {
        AccountAssignments: items.map((a) => ({ AccountId: a.accountId, PermissionSetArn: a.permissionSetArn, PrincipalType: a.principalType, PrincipalId: a.principalId })),
        NextToken: nextToken,
      };
    },

    ListAccountsForProvisionedPermissionSet: (input, call) => {
      const set = ps(input, call);
      const accounts = store
        .accountsProvisionedWith(set.arn)
        .filter((accountId) => matchesProvisioningStatus(store.provisioning(set.arn, accountId)!.version === set.version, input.ProvisioningStatus));
      const { items, nextToken } = page(accounts, input, 'ListAccountsForProvisionedPermissionSet', `${set.arn} ${input.ProvisioningStatus ?? ''}`, DEFAULT_PAGE, invalidToken);
      return { AccountIds: items, NextToken: nextToken };
    },

    ListPermissionSetsProvisionedToAccount: (input, call) => {
      instance(input, call);
      const arns = store
        .permissionSetsProvisionedTo(input.AccountId)
        .filter((p) => matchesProvisioningStatus(p.version === store.permissionSets.get(p.permissionSetArn)?.version, input.ProvisioningStatus))
        .map((p) => p.permissionSetArn);
      const { items, nextToken } = page(arns, input, 'ListPermissionSetsProvisionedToAccount', `${input.AccountId} ${input.ProvisioningStatus ?? ''}`, DEFAULT_PAGE, invalidToken);
      return { PermissionSets: items, NextToken: nextToken };
    },

    TagResource: (input, call) => {
      const set = ps({ InstanceArn: input.InstanceArn, PermissionSetArn: input.ResourceArn }, call);
      const next = new Map(set.tags);
      for (const [k, v] of tagsOf(input.Tags)) next.set(k, v);
      if (next.size > 50) throw idcError.quota(`A resource can have at most 50 tags; PermissionSet ${set.arn} would have ${next.size}.`);
      set.tags = next;
      return {};
    },

    UntagResource: (input, call) => {
      const set = ps({ InstanceArn: input.InstanceArn, PermissionSetArn: input.ResourceArn }, call);
      for (const k of input.TagKeys as string[]) set.tags.delete(k);
      return {};
    },

    ListTagsForResource: (input, call) => {
      const set = ps({ InstanceArn: input.InstanceArn, PermissionSetArn: input.ResourceArn }, call);
      // The model's ListTagsForResource takes no MaxResults; the service pages by 50.
      const { items, nextToken } = page([...set.tags], { NextToken: input.NextToken }, 'ListTagsForResource', set.arn, 50, invalidToken);
      return { Tags: items.map(([Key, Value]) => ({ Key, Value })), NextToken: nextToken };
    },
  };
}

function matchesProvisioningStatus(latest: boolean, filter: string | undefined): boolean {
  if (filter === 'LATEST_PERMISSION_SET_PROVISIONED') return latest;
  if (filter === 'LATEST_PERMISSION_SET_NOT_PROVISIONED') return !latest;
  return true;
}

