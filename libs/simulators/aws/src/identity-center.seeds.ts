import { RequestLog } from '@jit/sim-kit';
import { RecordedJsonRequest } from './aws-json.endpoint';
import {
  AccountAssignment, AsyncTiming, FailureRule, IdcOperation, IdcQuotas, IdentityCenterStore,
} from './identity-center.store';
import { AccountSeed, OrganizationStore } from './organization.store';

export interface UserSeed {
  userName: string;
  /** A fixed id (`<10 hex>-<uuid>` or a uuid), for a sandbox whose walk-through names it; generated otherwise. */
  userId?: string;
  displayName?: string;
  givenName?: string;
  familyName?: string;
  /** The user's one (primary, work) email, found by `GetUserId` on `emails.value`. */
  email?: string;
  externalId?: { issuer: string; id: string };
}

export interface GroupSeed {
  displayName: string;
  /** A fixed id, as for users. */
  groupId?: string;
  description?: string;
  externalId?: { issuer: string; id: string };
}

export interface PermissionSetSeed {
  name: string;
  /** ISO-8601, PT1H..PT12H; PT1H by default. */
  sessionDuration?: string;
  description?: string;
  /** The inline policy, as text or as a policy object. */
  inlinePolicy?: string | object;
  /** AWS managed policy ARNs (`arn:aws:iam::aws:policy/ReadOnlyAccess`). */
  managedPolicyArns?: string[];
  tags?: Record<string, string>;
}

/** An assignment as a test reads it back, with the permission set's name for readability. */
export interface AssignmentView extends AccountAssignment {
  permissionSetName: string;
}

export interface ProvisioningView {
  accountId: string;
  permissionSetArn: string;
  /** `AWSReservedSSO_<name>_<16 hex>` in the account, under `/aws-reserved/sso.amazonaws.com/`. */
  roleArn: string;
  /** False once the permission set changed after it was provisioned here (until ProvisionPermissionSet). */
  upToDate: boolean;
}

/**
 * Seeding and inspection of the simulated IAM Identity Center instance and its identity store
 * (`sim.identityCenter`): not AWS APIs. Seeds take effect at once; the wire calls
 * (CreateAccountAssignment...) go through the asynchronous requests a client must poll.
 */
export class IdentityCenterSeeds {
  constructor(
    private readonly store: IdentityCenterStore,
    private readonly log: RequestLog<RecordedJsonRequest>,
  ) {}

  /** `arn:aws:sso:::instance/ssoins-<16 hex>`, the one instance, in the organization's management account. */
  get instanceArn(): string {
    return this.store.instanceArn;
  }

  /** `d-<10 hex>`. */
  get identityStoreId(): string {
    return this.store.identityStoreId;
  }

  /**
   * Fixes the instance's and identity store's ids (a sandbox whose printed walk-through names them);
   * only before anything is seeded. `instanceId` is `ssoins-<16 hex>`, `identityStoreId` `d-<10 hex>`.
   */
  useInstance(ids: { instanceId?: string; identityStoreId?: string }): void {
    this.store.reidentify(ids);
  }

  /** Returns the user's id (`<10 hex>-<uuid>`, as the identity store makes them). */
  createUser(seed: UserSeed): string {
    return this.store.addUser(seed).userId;
  }

  /** Returns the group's id. */
  createGroup(seed: GroupSeed): string {
    return this.store.addGroup(seed).groupId;
  }

  /** Renames a group (UpdateGroup's DisplayName, as an administrator or SCIM would); its id stays. */
  renameGroup(groupId: string, displayName: string): void {
    const group = this.store.groups.get(groupId);
    if (!group) throw new Error(`no group ${groupId}`);
    group.displayName = displayName;
  }

  /** Returns the membership id (the same one when the user already is a member). */
  addToGroup(groupId: string, userId: string): string {
    return this.store.addMembership(groupId, userId).membershipId;
  }

  removeFromGroup(groupId: string, userId: string): void {
    this.store.removeMembership(groupId, userId);
  }

  /** A permission set that exists already (quota and name checks apply); returns its ARN. */
  createPermissionSet(seed: PermissionSetSeed): string {
    const ps = this.store.createPermissionSet({
      name: seed.name,
      description: seed.description,
      sessionDuration: seed.sessionDuration,
      tags: Object.entries(seed.tags ?? {}),
    });
    if (seed.inlinePolicy !== undefined) {
      this.store.putInlinePolicy(ps, typeof seed.inlinePolicy === 'string' ? seed.inlinePolicy : JSON.stringify(seed.inlinePolicy));
    }
    for (const arn of seed.managedPolicyArns ?? []) ps.managedPolicies.push({ name: arn.slice(arn.lastIndexOf('/') + 1), arn });
    return ps.arn;
  }

  /** An assignment that exists already: provisions the permission set to the account at once. */
  assign(a: AccountAssignment): void {
    this.store.seedAssignment(a);
  }

  /** Every assignment, in the order they were made. */
  assignments(): AssignmentView[] {
    this.store.settle();
    return this.store.allAssignments().map((a) => ({ ...a, permissionSetName: this.store.permissionSets.get(a.permissionSetArn)?.name ?? '' }));
  }

  /** Where each permission set is provisioned, with the role made there. */
  provisioned(): ProvisioningView[] {
    this.store.settle();
    return [...this.store.permissionSets.values()].flatMap((ps) =>
      this.store.accountsProvisionedWith(ps.arn).map((accountId) => {
        const p = this.store.provisioning(ps.arn, accountId)!;
        return { accountId, permissionSetArn: ps.arn, roleArn: p.roleArn, upToDate: p.version === ps.version };
      }),
    );
  }

  /** A permission set's stored state (name, session duration, inline policy, managed policies, tags), or undefined. */
  permissionSet(arn: string): { name: string; sessionDuration: string; inlinePolicy?: string; managedPolicyArns: string[]; tags: Record<string, string> } | undefined {
    const ps = this.store.permissionSets.get(arn);
    if (!ps) return undefined;
    return {
      name: ps.name,
      sessionDuration: ps.sessionDuration,
      inlinePolicy: ps.inlinePolicy,
      managedPolicyArns: ps.managedPolicies.map((m) => m.arn),
      tags: Object.fromEntries(ps.tags),
    };
  }

  /** The asynchronous requests made so far (creation, deletion, provisioning) with their state. */
  operations(): readonly Readonly<IdcOperation>[] {
    this.store.settle();
    return [...this.store.operations.values()];
  }

  /**
   * When asynchronous requests complete: after `polls` Describe*Status answers of IN_PROGRESS, or
   * `ms` milliseconds, whichever comes first (default `{ polls: 1, ms: 1000 }`: the first poll says
   * IN_PROGRESS, the next SUCCEEDED; `{ polls: 0 }` completes at the first poll).
   * Replaces the whole setting: `{ polls: 3 }` waits for three polls however long it takes.
   */
  setTiming(timing: AsyncTiming): void {
    this.store.timing = { ...timing };
  }

  /** The next matching requests end FAILED with `reason` (replaces the pending rules; `[]` clears them). */
  failNext(rules: FailureRule | FailureRule[]): void {
    this.store.setFailures(Array.isArray(rules) ? rules : [rules]);
  }

  setQuotas(quotas: Partial<IdcQuotas>): void {
    this.store.quotas = { ...this.store.quotas, ...quotas };
  }

  /** The awsJson calls received (sso-admin, identitystore and organizations), oldest first. */
  requests(): readonly RecordedJsonRequest[] {
    return this.log.entries;
  }

  clearRequests(): void {
    this.log.clear();
  }
}

/** Seeding of the simulated organization (`sim.organization`): not AWS APIs. */
export class OrganizationSeeds {
  constructor(private readonly org: OrganizationStore) {}

  /** `o-<10>`. */
  get id(): string {
    return this.org.id;
  }

  /** `r-<4>`. */
  get rootId(): string {
    return this.org.rootId;
  }

  /** The management account (the simulator's default account, 123456789012), also where Identity Center lives. */
  get managementAccountId(): string {
    return this.org.managementAccountId;
  }

  /** Adds a member account (under the root unless `parentId` names an OU); returns its id. */
  createAccount(seed: AccountSeed): string {
    return this.org.addAccount(seed).id;
  }

  /** Adds an OU under the root or another OU; returns its id (`ou-<root>-<8>`, or `id` when given). */
  createOrganizationalUnit(name: string, parentId?: string, id?: string): string {
    return this.org.addUnit(name, parentId, id).id;
  }

  moveAccount(accountId: string, parentId: string): void {
    this.org.moveAccount(accountId, parentId);
  }

  /** Answers the first page of `operation` (`ListParents`) empty with a NextToken, as AWS may; `false` turns it off. */
  emptyFirstPage(operation: 'ListParents', on = true): void {
    if (on) this.org.emptyFirstPages.add(operation);
    else this.org.emptyFirstPages.delete(operation);
  }

  /**
   * Lets a member account call the Organizations, Identity Center and Identity Store read APIs as
   * a delegated administrator (otherwise only the management account may).
   */
  registerDelegatedAdministrator(accountId: string): void {
    if (!this.org.account(accountId)) throw new Error(`account ${accountId} is not in the organization`);
    this.org.delegatedAdministrators.add(accountId);
  }

  deregisterDelegatedAdministrator(accountId: string): void {
    this.org.delegatedAdministrators.delete(accountId);
  }
}

