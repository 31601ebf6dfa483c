import { randomBytes, randomUUID } from 'node:crypto';
import { AwsSimError } from './aws-sim.error';
import { DEFAULT_ACCOUNT_ID, IamStore } from './iam.store';
import { JsonSimError } from './json-protocol.codec';
import { OrganizationStore } from './organization.store';
import { parseIdentityPolicy } from './policy-document.validator';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

export type PrincipalType = 'USER' | 'GROUP';
export type OperationStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';

export interface IdcUser {
  userId: string;
  userName: string;
  displayName?: string;
  givenName?: string;
  familyName?: string;
  email?: string;
  externalId?: { issuer: string; id: string };
}

export interface IdcGroup {
  groupId: string;
  displayName: string;
  description?: string;
  externalId?: { issuer: string; id: string };
}

export interface IdcMembership {
  membershipId: string;
  groupId: string;
  userId: string;
}

export interface PermissionSet {
  arn: string;
  name: string;
  description?: string;
  /** ISO-8601, `PT1H` when created without one. */
  sessionDuration: string;
  relayState?: string;
  createdDate: Date;
  inlinePolicy?: string;
  managedPolicies: { name: string; arn: string }[];
  tags: Map<string, string>;
  /** Bumped on every change; an account is up to date when it was provisioned at this version. */
  version: number;
}

/** A permission set provisioned to an account: the IAM role Identity Center made there. */
export interface Provisioning {
  permissionSetArn: string;
  accountId: string;
  roleName: string;
  roleArn: string;
  version: number;
}

export interface AccountAssignment {
  accountId: string;
  permissionSetArn: string;
  principalType: PrincipalType;
  principalId: string;
}

export type OperationKind = 'create-assignment' | 'delete-assignment' | 'provision';

/** An asynchronous request (assignment creation or deletion, provisioning) and its outcome. */
export interface IdcOperation {
  kind: OperationKind;
  requestId: string;
  status: OperationStatus;
  failureReason?: string;
  createdDate: Date;
  permissionSetArn: string;
  /** The account (absent for provisioning to ALL_PROVISIONED_ACCOUNTS). */
  accountId?: string;
  principalType?: PrincipalType;
  principalId?: string;
  /** Describe calls answered so far while IN_PROGRESS. */
  polls: number;
  /** A failure a test asked for, applied when the operation completes. */
  injectedFailure?: string;
}

/**
 * When an asynchronous request completes: after `polls` Describe*Status calls have answered
 * IN_PROGRESS, or once `ms` milliseconds have passed, whichever comes first (omit one to use only
 * the other; `{ polls: 0 }` completes at the first look).
 */
export interface AsyncTiming {
  polls?: number;
  ms?: number;
}

/** A failure a test asks for: the next `count` (default 1) matching operations end FAILED with `reason`. */
export interface FailureRule {
  kind: OperationKind;
  accountId?: string;
  permissionSetArn?: string;
  principalId?: string;
  count?: number;
  reason?: string;
}

export interface IdcQuotas {
  /** Permission sets per instance (AWS default 2,000). */
  permissionSetsPerInstance: number;
  /** Permission sets provisioned to one account (AWS default 50). */
  permissionSetsProvisionedPerAccount: number;
  /** AWS managed policies attached to one permission set (AWS default 20). */
  managedPoliciesPerPermissionSet: number;
}

/**
 * The published limit on a permission set's inline policy: the API reference documents 32,768
 * characters; the older botocore model the project keeps declares 10,240, which the real service
 * no longer enforces, so the simulator applies this one instead of the model's.
 */
export const INLINE_POLICY_MAX_CHARS = 32_768;
export const DEFAULT_QUOTAS: IdcQuotas = { permissionSetsPerInstance: 2_000, permissionSetsProvisionedPerAccount: 50, managedPoliciesPerPermissionSet: 20 };

/** `PT1H`..`PT12H` as seconds, or undefined for anything else the service refuses. */
export function sessionSeconds(duration: string): number | undefined {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(duration);
  if (!m || (!m[1] && !m[2] && !m[3])) return undefined;
  const seconds = Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  return seconds >= 3600 && seconds <= 43_200 ? seconds : undefined;
}

export const idcError = {
  notFound: (message: string) => new JsonSimError('ResourceNotFoundException', message),
  conflict: (message: string) => new JsonSimError('ConflictException', message),
  quota: (message: string) => new JsonSimError('ServiceQuotaExceededException', message),
  validation: (message: string) => new JsonSimError('ValidationException', message),
  accessDenied: (message: string) => new JsonSimError('AccessDeniedException', message),
};

const SSO_ROLE_PATH = '/aws-reserved/sso.amazonaws.com/';

/**
 * One IAM Identity Center instance (in the organization's management account) with its identity
 * store: users, groups and memberships; permission sets with their inline and managed policies and
 * tags; the accounts each is provisioned to (an `AWSReservedSSO_<name>_<16 hex>` role in the
 * simulator's IAM, carrying the inline policy as `AwsSSOInlinePolicy` and the AWS managed policies
 * attached, so `isAllowed` evaluates them);
 * account assignments; and the asynchronous requests that change them.
 */
export class IdentityCenterStore {
  instanceArn = `arn:aws:sso:::instance/ssoins-${hex(8)}`;
  identityStoreId = `d-${hex(5)}`;
  readonly ownerAccountId: string;
  quotas: IdcQuotas = { ...DEFAULT_QUOTAS };
  timing: AsyncTiming = { polls: 1, ms: 1_000 };
  private failures: FailureRule[] = [];
  readonly users = new Map<string, IdcUser>();
  readonly groups = new Map<string, IdcGroup>();
  readonly memberships = new Map<string, IdcMembership>();
  readonly permissionSets = new Map<string, PermissionSet>();
  /** `${permissionSetArn} ${accountId}` → provisioning. */
  private readonly provisioned = new Map<string, Provisioning>();
  /** `${accountId} ${permissionSetArn} ${principalType} ${principalId}` → assignment, in creation order. */
  private readonly assigned = new Map<string, AccountAssignment>();
  readonly operations = new Map<string, IdcOperation>();

  constructor(
    private readonly iam: IamStore,
    readonly organization: OrganizationStore,
  ) {
    this.ownerAccountId = organization.managementAccountId ?? DEFAULT_ACCOUNT_ID;
  }

  /** Fixed ids for the instance and its identity store, before anything is seeded. */
  reidentify(ids: { instanceId?: string; identityStoreId?: string }): void {
    if (this.users.size || this.groups.size || this.permissionSets.size) throw new Error('fix the instance ids before seeding users, groups or permission sets');
    if (ids.instanceId !== undefined) {
      if (!/^ssoins-[0-9a-f]{16}$/.test(ids.instanceId)) throw new Error(`${ids.instanceId} is not ssoins-<16 hex>`);
      this.instanceArn = `arn:aws:sso:::instance/${ids.instanceId}`;
    }
    if (ids.identityStoreId !== undefined) {
      if (!/^d-[0-9a-f]{10}$/.test(ids.identityStoreId)) throw new Error(`${ids.identityStoreId} is not d-<10 hex>`);
      this.identityStoreId = ids.identityStoreId;
    }
  }

  private get storePrefix(): string {
    return this.identityStoreId.slice(2);
  }

  // ---- identity store -------------------------------------------------------------------------

  addUser(user: Omit<IdcUser, 'userId'> & { userId?: string }): IdcUser {
    if ([...this.users.values()].some((u) => u.userName.toLowerCase() === user.userName.toLowerCase())) {
      throw new Error(`a user named ${user.userName} already exists`);
    }
    if (user.userId !== undefined && this.users.has(user.userId)) throw new Error(`a user with id ${user.userId} already exists`);
    const stored: IdcUser = { ...user, userId: seededId(user.userId) ?? `${this.storePrefix}-${randomUUID()}` };
    this.users.set(stored.userId, stored);
    return stored;
  }

  addGroup(group: Omit<IdcGroup, 'groupId'> & { groupId?: string }): IdcGroup {
    if ([...this.groups.values()].some((g) => g.displayName.toLowerCase() === group.displayName.toLowerCase())) {
      throw new Error(`a group named ${group.displayName} already exists`);
    }
    if (group.groupId !== undefined && this.groups.has(group.groupId)) throw new Error(`a group with id ${group.groupId} already exists`);
    const stored: IdcGroup = { ...group, groupId: seededId(group.groupId) ?? `${this.storePrefix}-${randomUUID()}` };
    this.groups.set(stored.groupId, stored);
    return stored;
  }

  addMembership(groupId: string, userId: string): IdcMembership {
    if (!this.groups.has(groupId)) throw new Error(`no group ${groupId}`);
    if (!this.users.has(userId)) throw new Error(`no user ${userId}`);
    const existing = [...this.memberships.values()].find((m) => m.groupId === groupId && m.userId === userId);
    if (existing) return existing;
    const membership = { membershipId: `${this.storePrefix}-${randomUUID()}`, groupId, userId };
    this.memberships.set(membership.membershipId, membership);
    return membership;
  }

  removeMembership(groupId: string, userId: string): void {
    for (const [id, m] of this.memberships) if (m.groupId === groupId && m.userId === userId) this.memberships.delete(id);
  }

  principalExists(type: PrincipalType, id: string): boolean {
    return type === 'USER' ? this.users.has(id) : this.groups.has(id);
  }

  // ---- permission sets ------------------------------------------------------------------------

  requireInstance(instanceArn: string): void {
    if (instanceArn !== this.instanceArn) throw idcError.notFound(`Instance ${instanceArn} does not exist.`);
  }

  permissionSet(instanceArn: string, arn: string): PermissionSet {
    this.requireInstance(instanceArn);
    const ps = this.permissionSets.get(arn);
    if (!ps) throw idcError.notFound(`PermissionSet ${arn} does not exist.`);
    return ps;
  }

  createPermissionSet(input: { name: string; description?: string; sessionDuration?: string; relayState?: string; tags?: [string, string][] }): PermissionSet {
    if ([...this.permissionSets.values()].some((p) => p.name === input.name)) {
      throw idcError.conflict(`PermissionSet with name ${input.name} already exists.`);
    }
    if (this.permissionSets.size >= this.quotas.permissionSetsPerInstance) {
      throw idcError.quota(`The maximum number of permission sets (${this.quotas.permissionSetsPerInstance}) for instance ${this.instanceArn} has been reached.`);
    }
    const sessionDuration = input.sessionDuration ?? 'PT1H';
    this.checkSessionDuration(sessionDuration);
    const ps: PermissionSet = {
      arn: `arn:aws:sso:::permissionSet/${this.instanceArn.split('/')[1]}/ps-${hex(8)}`,
      name: input.name,
      description: input.description,
      sessionDuration,
      relayState: input.relayState,
      createdDate: new Date(),
      managedPolicies: [],
      tags: new Map(input.tags ?? []),
      version: 1,
    };
    this.permissionSets.set(ps.arn, ps);
    return ps;
  }

  checkSessionDuration(duration: string): void {
    if (sessionSeconds(duration) === undefined) {
      throw idcError.validation(`Invalid SessionDuration ${duration}: the session duration must be between PT1H and PT12H (ISO-8601).`);
    }
  }

  putInlinePolicy(ps: PermissionSet, text: string): void {
    if ([...text].length > INLINE_POLICY_MAX_CHARS) {
      throw idcError.validation(
        `1 validation error detected: Value at 'inlinePolicy' failed to satisfy constraint: Member must have length less than or equal to ${INLINE_POLICY_MAX_CHARS}`,
      );
    }
    try {
      parseIdentityPolicy(text);
    } catch (e) {
      throw idcError.validation(`The inline policy is not a valid IAM policy: ${e instanceof AwsSimError ? e.message : 'malformed'}`);
    }
    ps.inlinePolicy = text;
    ps.version += 1;
  }

  deletePermissionSet(ps: PermissionSet): void {
    const accounts = this.accountsProvisionedWith(ps.arn);
    if (accounts.length || this.assignmentsOf(ps.arn).length) {
      throw idcError.conflict(`PermissionSet ${ps.arn} is provisioned to ${accounts.length} account(s) or still assigned; remove its account assignments first.`);
    }
    if (this.inFlight((op) => op.permissionSetArn === ps.arn)) {
      throw idcError.conflict(`An operation on PermissionSet ${ps.arn} is in progress.`);
    }
    this.permissionSets.delete(ps.arn);
  }

  // ---- provisioning ---------------------------------------------------------------------------

  provisioning(permissionSetArn: string, accountId: string): Provisioning | undefined {
    return this.provisioned.get(`${permissionSetArn} ${accountId}`);
  }

  accountsProvisionedWith(permissionSetArn: string): string[] {
    return [...this.provisioned.values()].filter((p) => p.permissionSetArn === permissionSetArn).map((p) => p.accountId);
  }

  permissionSetsProvisionedTo(accountId: string): Provisioning[] {
    return [...this.provisioned.values()].filter((p) => p.accountId === accountId);
  }

  /** Creates or updates the account's `AWSReservedSSO_…` role to the permission set's current version. */
  provision(ps: PermissionSet, accountId: string): Provisioning {
    let p = this.provisioning(ps.arn, accountId);
    const seconds = sessionSeconds(ps.sessionDuration) ?? 3600;
    if (!p) {
      const roleName = `AWSReservedSSO_${ps.name}_${hex(8)}`;
      const trustPolicy = {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: `arn:aws:iam::${accountId}:saml-provider/AWSSSO_${this.instanceArn.slice(-16)}_DO_NOT_DELETE` },
            Action: ['sts:AssumeRoleWithSAML', 'sts:TagSession'],
            Condition: { StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' } },
          },
        ],
      };
      const role = this.iam.create('role', roleName, { accountId, path: SSO_ROLE_PATH, maxSessionDuration: seconds, trustPolicy });
      p = { permissionSetArn: ps.arn, accountId, roleName, roleArn: role.arn, version: 0 };
      this.provisioned.set(`${ps.arn} ${accountId}`, p);
    }
    const role = this.iam.byArn(p.roleArn);
    if (role) {
      role.maxSessionDuration = seconds;
      role.policies.clear();
      // Not through IamStore.putPolicy: Identity Center writes up to 32,768 characters, beyond a role's own inline budget.
      if (ps.inlinePolicy) role.policies.set('AwsSSOInlinePolicy', ps.inlinePolicy);
      // The AWS managed policies, attached to the role as Identity Center does (IAM evaluates those it knows).
      role.attached.splice(0, role.attached.length, ...ps.managedPolicies.map((m) => m.arn));
    }
    p.version = ps.version;
    return p;
  }

  /** Removes the account's role once no assignment of the permission set is left there. */
  private deprovisionIfUnused(permissionSetArn: string, accountId: string): void {
    const p = this.provisioning(permissionSetArn, accountId);
    if (!p || this.assignmentsOf(permissionSetArn, accountId).length) return;
    this.iam.remove('role', accountId, p.roleName);
    this.provisioned.delete(`${permissionSetArn} ${accountId}`);
  }

  // ---- assignments ----------------------------------------------------------------------------

  assignmentsOf(permissionSetArn?: string, accountId?: string): AccountAssignment[] {
    return [...this.assigned.values()].filter(
      (a) => (permissionSetArn === undefined || a.permissionSetArn === permissionSetArn) && (accountId === undefined || a.accountId === accountId),
    );
  }

  allAssignments(): AccountAssignment[] {
    return [...this.assigned.values()];
  }

  /** Seeds an assignment that exists already (no request, no polling): provisions the set to the account. */
  seedAssignment(a: AccountAssignment): void {
    const ps = this.permissionSets.get(a.permissionSetArn);
    if (!ps) throw new Error(`no permission set ${a.permissionSetArn}`);
    if (!this.organization.account(a.accountId)) throw new Error(`account ${a.accountId} is not in the organization`);
    if (!this.principalExists(a.principalType, a.principalId)) throw new Error(`no ${a.principalType.toLowerCase()} ${a.principalId}`);
    this.provision(ps, a.accountId);
    this.assigned.set(assignmentKey(a), { ...a });
  }

  // ---- asynchronous requests ------------------------------------------------------------------

  setFailures(rules: FailureRule[]): void {
    this.failures = rules.map((r) => ({ ...r, count: r.count ?? 1 }));
  }

  startOperation(op: Omit<IdcOperation, 'requestId' | 'status' | 'createdDate' | 'polls'>): IdcOperation {
    const started: IdcOperation = { ...op, requestId: randomUUID(), status: 'IN_PROGRESS', createdDate: new Date(), polls: 0 };
    const rule = this.failures.find(
      (r) =>
        r.kind === op.kind &&
        (r.count ?? 0) > 0 &&
        (r.accountId === undefined || r.accountId === op.accountId) &&
        (r.permissionSetArn === undefined || r.permissionSetArn === op.permissionSetArn) &&
        (r.principalId === undefined || r.principalId === op.principalId),
    );
    if (rule) {
      rule.count = (rule.count ?? 1) - 1;
      started.injectedFailure = rule.reason ?? 'Request failed due to an internal error. Please retry.';
    }
    this.operations.set(started.requestId, started);
    if (this.timing.polls === 0 && this.timing.ms === undefined) this.complete(started);
    return started;
  }

  inFlight(match: (op: IdcOperation) => boolean): boolean {
    this.settle();
    return [...this.operations.values()].some((op) => op.status === 'IN_PROGRESS' && match(op));
  }

  /** Completes the operations whose time has come (called before every request and inspection). */
  settle(now = Date.now()): void {
    if (this.timing.ms === undefined) return;
    for (const op of this.operations.values()) {
      if (op.status === 'IN_PROGRESS' && now - op.createdDate.getTime() >= this.timing.ms) this.complete(op);
    }
  }

  /** A Describe*Status call: counts the poll, completes the operation when due, and returns it. */
  poll(requestId: string, kind: OperationKind): IdcOperation | undefined {
    this.settle();
    const op = this.operations.get(requestId);
    if (!op || op.kind !== kind) return undefined;
    if (op.status !== 'IN_PROGRESS') return op;
    if (this.timing.polls !== undefined && op.polls >= this.timing.polls) {
      this.complete(op);
      return op;
    }
    op.polls += 1;
    return op;
  }

  private complete(op: IdcOperation): void {
    const reason = op.injectedFailure ?? this.apply(op);
    op.status = reason === undefined ? 'SUCCEEDED' : 'FAILED';
    op.failureReason = reason;
  }

  /** Applies a completed request's effect; returns the failure reason instead when it cannot. */
  private apply(op: IdcOperation): string | undefined {
    const ps = this.permissionSets.get(op.permissionSetArn);
    if (!ps) return `PermissionSet ${op.permissionSetArn} was deleted before the request completed.`;
    if (op.kind === 'provision') {
      const accounts = op.accountId === undefined ? this.accountsProvisionedWith(ps.arn) : [op.accountId];
      for (const accountId of accounts) {
        if (!this.organization.account(accountId)) return `Account ${accountId} is not a member of organization ${this.organization.id}.`;
        if (!this.provisioning(ps.arn, accountId) && this.permissionSetsProvisionedTo(accountId).length >= this.quotas.permissionSetsProvisionedPerAccount) {
          return `The maximum number of permission sets (${this.quotas.permissionSetsProvisionedPerAccount}) provisioned to account ${accountId} has been reached.`;
        }
        this.provision(ps, accountId);
      }
      return undefined;
    }
    const a: AccountAssignment = { accountId: op.accountId!, permissionSetArn: ps.arn, principalType: op.principalType!, principalId: op.principalId! };
    if (op.kind === 'create-assignment') {
      const account = this.organization.account(a.accountId);
      if (!account) return `Account ${a.accountId} is not a member of organization ${this.organization.id}.`;
      if (account.status !== 'ACTIVE') return `Account ${a.accountId} is ${account.status}; permission sets are provisioned to active accounts only.`;
      if (!this.principalExists(a.principalType, a.principalId)) {
        return `Received a 404 status error: ${a.principalType === 'USER' ? 'User' : 'Group'} ${a.principalId} does not exist in identity store ${this.identityStoreId}.`;
      }
      if (!this.provisioning(ps.arn, a.accountId) && this.permissionSetsProvisionedTo(a.accountId).length >= this.quotas.permissionSetsProvisionedPerAccount) {
        return `The maximum number of permission sets (${this.quotas.permissionSetsProvisionedPerAccount}) provisioned to account ${a.accountId} has been reached.`;
      }
      this.provision(ps, a.accountId);
      this.assigned.set(assignmentKey(a), a);
      return undefined;
    }
    if (!this.assigned.delete(assignmentKey(a))) {
      return `Received a 404 status error: the account assignment of ${a.principalType} ${a.principalId} to ${ps.arn} in account ${a.accountId} does not exist.`;
    }
    this.deprovisionIfUnused(ps.arn, a.accountId);
    return undefined;
  }
}

/** A seeded user or group id must be one the identity store could have made (the model's ResourceId pattern). */
function seededId(id: string | undefined): string | undefined {
  if (id !== undefined && !/^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/.test(id)) {
    throw new Error(`${id} is not an identity store id ([<10 hex>-]<uuid>)`);
  }
  return id;
}

function assignmentKey(a: AccountAssignment): string {
  return `${a.accountId} ${a.permissionSetArn} ${a.principalType} ${a.principalId}`;
}
