import { setTimeout as sleep } from 'node:timers/promises';
import {
  GrantContext, GrantSpec, GrantSubject, OwnedArtifact, OwnedListingPart, Principal, ProviderError, ProvisionOutcome, ProvisionStatus, Target,
} from '@jit/domain';
import { errorCode } from './aws-error.classifier';
import { OU_ID, PERMISSION_SET_ARN, PERMISSION_SET_MAX_ACCOUNTS } from './aws-kinds';
import { IdentityCenterClients, IdentityCenterSdk } from './identity-center.clients';
import { CallRunner } from './inline-policy.client';
import {
  CanonicalPermissionSetTarget, PermissionSetTarget, brokerAssignmentsOf, checkSessionDuration, coveredByOthers, isCanonical, orphanedAssignments, principalKey, residualNotice,
  settleAll,
} from './permission-set.plan';

export const PERMISSION_SET_KIND = 'aws.permission-set';

/** Identity Center's default quota of permission sets provisioned to one account (adjustable by AWS Support). */
export const DEFAULT_PERMISSION_SETS_PER_ACCOUNT = 50;
/** How long one assignment's creation or deletion is followed before it counts as failed in that account. */
export const DEFAULT_ASSIGNMENT_WAIT_MS = 20_000;
/** Assignments created or deleted at once: Identity Center's write APIs throttle at a few requests per second. */
const ASSIGNMENT_CONCURRENCY = 8;
/** Status polls: 250 ms doubling to 2 s. */
const POLL_FIRST_MS = 250;
const POLL_MAX_MS = 2_000;
/** Names, sets and accounts are read again after this long (a renamed set, a moved account). */
const CACHE_TTL_MS = 60_000;

export interface PermissionSetSettings {
  instanceArn?: string;
  /** The longest `SessionDuration` accepted; unset: the grant's duration, at least one hour. */
  maxSessionSeconds?: number;
  permissionSetsPerAccount?: number;
  assignmentWaitMs?: number;
}

interface Instance {
  instanceArn: string;
  identityStoreId: string;
}

interface SetInfo {
  arn: string;
  name: string;
  sessionDuration?: string;
}

interface ResolvedPrincipal {
  type: 'USER' | 'GROUP';
  id: string;
}

type AccountOutcome = 'created' | 'kept' | 'deleted' | 'absent';

class Cached<T> {
  private readonly entries = new Map<string, { at: number; value: T }>();
  constructor(private readonly now: () => number) {}
  get(key: string): T | undefined {
    const e = this.entries.get(key);
    return e && this.now() - e.at < CACHE_TTL_MS ? e.value : undefined;
  }
  set(key: string, value: T): T {
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(key, { at: this.now(), value });
    return value;
  }
}

/**
 * `aws.permission-set`: an Identity Center user or group gets an EXISTING permission set in one or
 * many accounts through account assignments, which the sweeper deletes (Identity Center has no
 * expiry). Assignments are asynchronous: each create and delete is followed through its status
 * call with a bounded wait, and reported per account. Overlapping grants (same principal and set)
 * share one assignment per account, deleted only when no other live grant covers that account.
 * docs/providers/aws.md, "Identity Center".
 */
export class PermissionSetAssignments {
  private readonly clients: IdentityCenterClients;
  private instanceRead?: Promise<Instance>;
  private readonly sets = new Cached<SetInfo>(() => this.now().getTime());
  private readonly principals = new Cached<ResolvedPrincipal>(() => this.now().getTime());
  private readonly orgAccounts = new Cached<Map<string, string>>(() => this.now().getTime());
  /** An account's or OU's parent OU ('' for the root). */
  private readonly parents = new Cached<string>(() => this.now().getTime());
  /**
   * For a grant whose `grant()` failed in this process: the accounts it created assignments in
   * (none if it was refused before any), so the cleanup revoke that follows deletes exactly those
   * and never an assignment the principal held before.
   */
  private readonly failedGrants = new Map<string, Set<string>>();

  constructor(
    clients: IdentityCenterClients,
    private readonly settings: PermissionSetSettings,
    private readonly run: CallRunner,
    private readonly now: () => Date,
    private readonly signal: () => AbortSignal | undefined,
  ) {
    this.clients = clients;
  }

  artifactName(grantId: string): string {
    return `jit-assignment-${grantId}`;
  }

  /** Principal and permission set, not the accounts: per-account overlap is worked out from `context.overlapping`. */
  overlapKey(principal: Principal, target: Target): string {
    const t = target as PermissionSetTarget;
    return `${PERMISSION_SET_KIND}|${principal.type}|${principal.id.toLowerCase()}|${t.permissionSet.toLowerCase()}`;
  }

  /**
   * The target under the names the rules and the deny-list judge: the permission set by ARN and
   * name (resolved in the instance), and the accounts listed (an organizational unit's ACTIVE
   * accounts, its child OUs' included, read from Organizations), each checked to be an active
   * account of the organization. 400 naming the field for what does not resolve.
   */
  async canonicalTarget(given: Target): Promise<Target> {
    const t = given as PermissionSetTarget;
    if (t.accounts !== undefined && t.organizationalUnit !== undefined) {
      throw new ProviderError('invalid', 'name the accounts or an organizational unit, not both', { field: 'target.organizationalUnit' });
    }
    const set = await this.permissionSet(t.permissionSet);
    const accounts = t.organizationalUnit !== undefined ? await this.accountsOfOu(t.organizationalUnit) : await this.checkAccounts(t.accounts ?? []);
    const ancestors = await this.unitsAbove(accounts);
    const canonical: CanonicalPermissionSetTarget = {
      kind: PERMISSION_SET_KIND,
      permissionSet: set.arn,
      permissionSetName: set.name,
      accounts: [...accounts].sort(),
      ...(t.organizationalUnit !== undefined ? { organizationalUnit: t.organizationalUnit } : {}),
      ...(ancestors.length ? { accountOrganizationalUnits: ancestors } : {}),
    };
    return canonical;
  }

  /** Resolves the principal in the Identity Store (a user by userName or emails.value, a group by displayName): 400 on `principal.id` otherwise. */
  async verifyPrincipal(principal: Principal): Promise<void> {
    await this.principal(principal);
  }

  /** What needs no call: the kind's own shape, and the set's session duration once the set has been read. */
  validate(spec: GrantSpec): void {
    const t = spec.target as PermissionSetTarget;
    if (spec.principal.type !== 'user' && spec.principal.type !== 'group') {
      throw new ProviderError('invalid', 'Identity Center assigns permission sets to users and groups', { field: 'principal.type' });
    }
    if (!(spec.expiresAt.getTime() > spec.startsAt.getTime())) throw new ProviderError('invalid', 'expiresAt must be after startsAt', { field: 'expiresAt' });
    if ((t.accounts?.length ?? 0) > PERMISSION_SET_MAX_ACCOUNTS) throw tooManyAccounts(t.accounts!.length, 'target.accounts');
    const set = this.sets.get(t.permissionSet);
    if (set) checkSessionDuration(set.name, set.sessionDuration, grantSeconds(spec), this.settings.maxSessionSeconds);
  }

  async grant(spec: GrantSpec, context: GrantContext): Promise<ProvisionOutcome> {
    this.validate(spec);
    const target = await this.canonical(spec.target);
    const { sdk, instance, set, principal } = await this.resolveAll(spec.principal, target);
    const sessionSeconds = checkSessionDuration(set.name, set.sessionDuration, grantSeconds(spec), this.settings.maxSessionSeconds);
    const covered = coveredByOthers(context.overlapping, spec.grantId);
    const mine = this.failedGrants.get(spec.grantId);

    // Read every account first: nothing is created if one of them refuses.
    const present = await this.presentIn(sdk, instance, set.arn, principal, target.accounts);
    const standing = target.accounts.filter((a) => present.has(a) && !covered.has(a) && !mine?.has(a));
    if (standing.length) {
      this.failedGrants.set(spec.grantId, new Set(mine));
      throw new ProviderError(
        'limit',
        `${spec.principal.id} already holds ${set.name} in ${listOf(standing)} outside this broker (no live grant covers it there): ` +
          'the broker does not take over an assignment it did not make, since removing it at expiry would remove standing access. ' +
          'Leave those accounts out of the request, or remove the standing assignment first',
        { field: 'target.accounts', code: 'StandingAssignment' },
      );
    }
    const toCreate = target.accounts.filter((a) => !present.has(a));
    await this.checkQuota(sdk, instance, set, toCreate);

    const created = new Set(mine);
    /** Creations accepted but not seen to settle (their request ids): followed to the end before the rollback deletes them. */
    const unsettled = new Map<string, string>();
    this.failedGrants.set(spec.grantId, created);
    const results = await settleAll(toCreate, ASSIGNMENT_CONCURRENCY, async (account) => {
      // Counted as made once Identity Center accepted it (or may have: an answer cut off), since a creation cut off while followed may still complete.
      const accepted = (requestId?: string) => {
        created.add(account);
        if (requestId) unsettled.set(account, requestId);
      };
      await this.createIn(sdk, instance, set.arn, principal, account, accepted).then(() => unsettled.delete(account)).catch((e: unknown) => {
        // FAILED is final: nothing was made there.
        if (e instanceof ProviderError && e.options.code === 'AssignmentFailed') {
          created.delete(account);
          unsettled.delete(account);
        }
        throw e;
      });
    });
    const failed = toCreate.map((a, i) => [a, results[i]] as const).filter(([, r]) => r.status === 'rejected');
    if (failed.length) throw await this.rollBack(spec, sdk, instance, set, principal, created, unsettled, covered, failed);
    this.failedGrants.delete(spec.grantId);
    const outcome: Record<string, AccountOutcome> = Object.fromEntries(target.accounts.map((a) => [a, present.has(a) ? 'kept' : 'created']));
    return {
      status: 'active',
      providerRef: {
        instanceArn: instance.instanceArn,
        permissionSetArn: set.arn,
        permissionSetName: set.name,
        principalType: principal.type,
        principalId: principal.id,
        accounts: outcome,
        sessionDurationSeconds: sessionSeconds,
      },
      notice: residualNotice(set.name, sessionSeconds, spec.expiresAt),
    };
  }

  /**
   * Deletes the assignments the grant provably holds (its stored providerRef's 'created' and
   * 'kept' accounts; after a failed `grant()` in this process, the accounts it created) where no
   * other live grant covers them, for the principal the ref names (a user or group renamed since
   * is still found by its id). A grant with neither (never provisioned, or provisioning cut off on
   * another replica) deletes nothing: an assignment the broker cannot prove it made may be
   * standing access. Absent is done. Throws with every account's outcome when one fails; a
   * repeat deletes what is left.
   */
  async revoke(spec: GrantSpec, context: GrantContext): Promise<void> {
    const target = await this.canonical(spec.target);
    const covered = coveredByOthers(context.overlapping, spec.grantId);
    const ref = brokerAssignmentsOf(spec.providerRef);
    const onlyThese = ref ? undefined : this.failedGrants.get(spec.grantId);
    const mine = ref ? new Set(ref.accounts) : (onlyThese ?? new Set<string>());
    const accounts = target.accounts.filter((a) => !covered.has(a) && mine.has(a));
    if (!accounts.length) return this.forget(spec.grantId);
    const sdk = await this.clients.get();
    const instance = await this.instance(sdk);
    const principal: ResolvedPrincipal | undefined = ref
      ? { type: ref.principalType, id: ref.principalId }
      : await this.principal(spec.principal).catch((e: unknown) => {
          // A deleted user or group: Identity Center removes its assignments with it.
          if (e instanceof ProviderError && e.options.code === 'UnknownPrincipal') return undefined;
          throw e;
        });
    if (!principal) return this.forget(spec.grantId);
    // Identity Center accepts the deletion of an assignment that does not exist and fails it asynchronously: look first.
    // A permission set deleted meanwhile took its assignments with it.
    const present = await this.presentIn(sdk, instance, target.permissionSet, principal, accounts).catch((e: unknown) =>
      isNotFound(e) ? new Set<string>() : Promise.reject(e),
    );
    for (const a of accounts) if (!present.has(a)) onlyThese?.delete(a);
    const gone = accounts.filter((a) => !present.has(a));
    accounts.splice(0, accounts.length, ...accounts.filter((a) => present.has(a)));
    const results = await settleAll(accounts, ASSIGNMENT_CONCURRENCY, async (account) => {
      const outcome = await this.deleteIn(sdk, instance, target.permissionSet, principal, account);
      onlyThese?.delete(account);
      return outcome;
    });
    const failed = accounts.map((a, i) => [a, results[i]] as const).filter(([, r]) => r.status === 'rejected');
    if (failed.length) {
      const done = [...gone, ...accounts.filter((_, i) => results[i].status === 'fulfilled')];
      throw new ProviderError(
        'transient',
        `removing ${target.permissionSetName ?? target.permissionSet} from ${spec.principal.id} failed in ${failed.length} of ${accounts.length} accounts ` +
          `(${failed.map(([a, r]) => `${a}: ${reasonOf(r)}`).join('; ')}); removed or absent in ${done.length ? listOf(done) : 'none'}: retried`,
        { code: 'AssignmentDeletion', retryAfterMs: 1_000 },
      );
    }
    this.forget(spec.grantId);
  }

  /** Active when every account holds the assignment, absent when none does, failed (naming them) in between. */
  async status(spec: GrantSpec): Promise<ProvisionStatus> {
    const target = await this.canonical(spec.target);
    const { sdk, instance, set, principal } = await this.resolveAll(spec.principal, target);
    const present = await this.presentIn(sdk, instance, set.arn, principal, target.accounts);
    if (present.size === target.accounts.length) {
      return { status: 'active', providerRef: { instanceArn: instance.instanceArn, permissionSetArn: set.arn, principalId: principal.id, accounts: target.accounts } };
    }
    if (present.size === 0) return { status: 'absent' };
    const missing = target.accounts.filter((a) => !present.has(a));
    return { status: 'failed', reason: `assigned in ${listOf([...present])}, missing in ${listOf(missing)}` };
  }

  /**
   * One part per permission set of the scope: the assignments the ended grants in scope provably
   * made (their providerRefs' 'created' and 'kept' accounts, for the principal ids recorded
   * there), listed with ListAccountAssignments, as orphans (no grant id) where no live grant of
   * the same principal covers the account. The live grants' principals are resolved to their ids,
   * so grouping follows Identity Center's ids, not how a name was spelled. A grant never
   * provisioned, and an account no grant made, are never listed.
   */
  listingParts(subjects: readonly GrantSubject[]): OwnedListingPart[] {
    const groups = new Map<string, GrantSubject[]>();
    for (const s of subjects) {
      if (s.target.kind !== PERMISSION_SET_KIND) continue;
      const t = s.target as PermissionSetTarget;
      if (!PERMISSION_SET_ARN.test(t.permissionSet) || !t.accounts) continue;
      groups.set(t.permissionSet, [...(groups.get(t.permissionSet) ?? []), s]);
    }
    return [...groups.entries()].map(([setArn, group]) => ({
      name: setArn,
      list: () => this.orphansOf(setArn, group),
    }));
  }

  async removeOrphan(artifact: OwnedArtifact): Promise<void> {
    const { accountId, permissionSetArn, principalType, principalId } = artifact.locator;
    if (
      typeof accountId !== 'string' || !/^\d{12}$/.test(accountId) || typeof permissionSetArn !== 'string' || !PERMISSION_SET_ARN.test(permissionSetArn) ||
      (principalType !== 'USER' && principalType !== 'GROUP') || typeof principalId !== 'string'
    ) {
      throw new ProviderError('invalid', 'not an assignment listed by the AWS adapter', { field: 'locator' });
    }
    const sdk = await this.clients.get();
    await this.deleteIn(sdk, await this.instance(sdk), permissionSetArn, { type: principalType, id: principalId }, accountId);
  }

  private async *orphansOf(setArn: string, group: GrantSubject[]): AsyncIterable<OwnedArtifact> {
    // Only the live subjects need their current id (what they cover); one that no longer resolves covers nothing by name.
    const currentKeys = await Promise.all(
      group.map((s) =>
        s.live === false
          ? Promise.resolve(undefined)
          : this.principal(s.principal).then(
              (p) => principalKey({ principalType: p.type, principalId: p.id }),
              (e: unknown) => (e instanceof ProviderError && e.options.code === 'UnknownPrincipal' ? undefined : Promise.reject(e)),
            ),
      ),
    );
    const orphans = orphanedAssignments(group, currentKeys);
    if (!orphans.size) return;
    const sdk = await this.clients.get();
    const instance = await this.instance(sdk);
    for (const [key, accounts] of orphans) {
      const [type, id] = key.split('|') as ['USER' | 'GROUP', string];
      const principal: ResolvedPrincipal = { type, id };
      const present = await this.presentIn(sdk, instance, setArn, principal, accounts).catch((e: unknown) =>
        isNotFound(e) ? new Set<string>() : Promise.reject(e),
      );
      for (const account of accounts.filter((a) => present.has(a))) {
        yield {
          grantId: null,
          artifactName: `${type}:${id}@${account}:${setArn}`,
          locator: { accountId: account, permissionSetArn: setArn, principalType: type, principalId: id },
          description: `account assignment of ${setArn} to ${type} ${id} in ${account}, made by an ended grant and covered by no live grant`,
        };
      }
    }
  }

  private forget(grantId: string): void {
    this.failedGrants.delete(grantId);
  }

  /**
   * Deletes what this attempt created in the other accounts and returns the error to throw: every
   * account's outcome, and exactly what is still held if a deletion failed too (the lifecycle's
   * cleanup revoke then retries those, and only those).
   */
  private async rollBack(
    spec: GrantSpec,
    sdk: IdentityCenterSdk,
    instance: Instance,
    set: SetInfo,
    principal: ResolvedPrincipal,
    created: Set<string>,
    unsettled: Map<string, string>,
    covered: Set<string>,
    failed: (readonly [string, PromiseSettledResult<void>])[],
  ): Promise<ProviderError> {
    const undo = [...created].filter((a) => !covered.has(a));
    const results = await settleAll(undo, ASSIGNMENT_CONCURRENCY, async (account) => {
      // A creation still IN_PROGRESS is followed to its end first: a deletion before it lands finds
      // nothing, and the creation completes afterwards (a leak). Still unsettled: kept as held.
      const requestId = unsettled.get(account);
      if (requestId) {
        try {
          await this.followCreation(sdk, instance, { Status: 'IN_PROGRESS', RequestId: requestId }, account);
        } catch (e) {
          if (!(e instanceof ProviderError && e.options.code === 'AssignmentFailed')) throw e;
          created.delete(account);
          return;
        }
      }
      await this.deleteIn(sdk, instance, set.arn, principal, account);
      created.delete(account);
    });
    const held = undo.filter((_, i) => results[i].status === 'rejected');
    const what =
      `assigning ${set.name} to ${spec.principal.id} failed in ${failed.length} account${failed.length > 1 ? 's' : ''} ` +
      `(${failed.map(([a, r]) => `${a}: ${reasonOf(r)}`).join('; ')})`;
    const left = held.length
      ? `; the assignments made in ${listOf(held)} could not be removed yet and are still held (the cleanup retries them)`
      : undo.length
        ? `; the assignments made in ${listOf(undo)} were removed again, so nothing is left`
        : '; nothing was left behind';
    const firstError = failed[0][1].status === 'rejected' ? (failed[0][1].reason as unknown) : undefined;
    const kind = firstError instanceof ProviderError && firstError.kind !== 'transient' ? firstError.kind : 'transient';
    return new ProviderError(kind === 'invalid' ? 'terminal' : kind, what + left, { code: 'AssignmentCreation', field: 'target.accounts', cause: firstError });
  }

  private async canonical(target: Target): Promise<CanonicalPermissionSetTarget> {
    const t = target as PermissionSetTarget;
    return isCanonical(t) ? t : ((await this.canonicalTarget(t)) as CanonicalPermissionSetTarget);
  }

  private async resolveAll(given: Principal, target: CanonicalPermissionSetTarget) {
    const sdk = await this.clients.get();
    const instance = await this.instance(sdk);
    const [set, principal] = await Promise.all([this.describeSet(sdk, instance, target.permissionSet), this.principal(given)]);
    return { sdk, instance, set, principal };
  }

  /** The configured instance (`JIT_AWS_SSO_INSTANCE_ARN`) or the only one ListInstances answers, with its identity store; read once. */
  private instance(sdk: IdentityCenterSdk): Promise<Instance> {
    this.instanceRead ??= this.readInstance(sdk).catch((e: unknown) => {
      this.instanceRead = undefined;
      throw e;
    });
    return this.instanceRead;
  }

  private async readInstance(sdk: IdentityCenterSdk): Promise<Instance> {
    const found: Instance[] = [];
    let token: string | undefined;
    do {
      const page = await this.run('ListInstances', (abortSignal) => sdk.sso.send(new sdk.ssoAdmin.ListInstancesCommand({ NextToken: token }), { abortSignal }));
      for (const i of page.Instances ?? []) if (i.InstanceArn && i.IdentityStoreId) found.push({ instanceArn: i.InstanceArn, identityStoreId: i.IdentityStoreId });
      token = page.NextToken;
    } while (token);
    const wanted = this.settings.instanceArn;
    if (wanted) {
      const one = found.find((i) => i.instanceArn === wanted);
      if (!one) throw new ProviderError('terminal', `the Identity Center instance ${wanted} (JIT_AWS_SSO_INSTANCE_ARN) is not among those ListInstances answers`, { code: 'UnknownInstance' });
      return one;
    }
    if (found.length !== 1) {
      throw new ProviderError(
        'terminal',
        `ListInstances answers ${found.length} Identity Center instances: set JIT_AWS_SSO_INSTANCE_ARN to the one the broker assigns in`,
        { code: 'UnknownInstance' },
      );
    }
    return found[0];
  }

  /** A set by name or ARN, in the instance: 400 on `target.permissionSet` when it is not there. */
  private async permissionSet(nameOrArn: string): Promise<SetInfo> {
    const sdk = await this.clients.get();
    const instance = await this.instance(sdk);
    if (PERMISSION_SET_ARN.test(nameOrArn)) return this.describeSet(sdk, instance, nameOrArn);
    const cached = this.sets.get(`name:${nameOrArn}`);
    if (cached) return cached;
    // Identity Center looks sets up by ARN only: list them and describe each until the name matches (cached for a minute).
    let token: string | undefined;
    do {
      const page = await this.run('ListPermissionSets', (abortSignal) =>
        sdk.sso.send(new sdk.ssoAdmin.ListPermissionSetsCommand({ InstanceArn: instance.instanceArn, NextToken: token, MaxResults: 100 }), { abortSignal }),
      );
      const described = await settleAll(page.PermissionSets ?? [], ASSIGNMENT_CONCURRENCY, (arn) => this.describeSet(sdk, instance, arn));
      for (const r of described) {
        if (r.status === 'rejected') throw r.reason;
        if (r.value.name === nameOrArn) return r.value;
      }
      token = page.NextToken;
    } while (token);
    throw new ProviderError('invalid', `Identity Center instance ${instance.instanceArn} has no permission set named ${nameOrArn}`, {
      field: 'target.permissionSet',
      code: 'UnknownPermissionSet',
    });
  }

  private async describeSet(sdk: IdentityCenterSdk, instance: Instance, arn: string): Promise<SetInfo> {
    const cached = this.sets.get(arn);
    if (cached) return cached;
    const out = await this.run('DescribePermissionSet', (abortSignal) =>
      sdk.sso.send(new sdk.ssoAdmin.DescribePermissionSetCommand({ InstanceArn: instance.instanceArn, PermissionSetArn: arn }), { abortSignal }),
    ).catch((e: unknown) => {
      if (isNotFound(e) || errorCode(errorOf(e)) === 'Validation') {
        throw new ProviderError('invalid', `${arn} is not a permission set of Identity Center instance ${instance.instanceArn}`, {
          field: 'target.permissionSet',
          code: 'UnknownPermissionSet',
          cause: e,
        });
      }
      throw e;
    });
    const ps = out.PermissionSet;
    if (!ps?.Name || !ps.PermissionSetArn) throw new ProviderError('terminal', 'DescribePermissionSet answered without a permission set');
    const info: SetInfo = { arn: ps.PermissionSetArn, name: ps.Name, sessionDuration: ps.SessionDuration };
    this.sets.set(`name:${info.name}`, info);
    return this.sets.set(arn, info);
  }

  /**
   * A user by UserName (or by email, when the email is that user's UserName too: the broker judges
   * and records a user under one name, so a deny entry cannot be passed by a second one), a group
   * by DisplayName. 400 on `principal.id`.
   */
  private async principal(given: Principal): Promise<ResolvedPrincipal> {
    const sdk = await this.clients.get();
    const { identityStoreId } = await this.instance(sdk);
    const key = `${identityStoreId}|${given.type}|${given.id}`;
    const cached = this.principals.get(key);
    if (cached) return cached;
    const lookUp = async (path: string, value: string, user: boolean): Promise<string | undefined> => {
      const command = { IdentityStoreId: identityStoreId, AlternateIdentifier: { UniqueAttribute: { AttributePath: path, AttributeValue: value } } };
      try {
        const out = user
          ? await this.run('GetUserId', (abortSignal) => sdk.ids.send(new sdk.identityStore.GetUserIdCommand(command), { abortSignal }))
          : await this.run('GetGroupId', (abortSignal) => sdk.ids.send(new sdk.identityStore.GetGroupIdCommand(command), { abortSignal }));
        return 'UserId' in out ? out.UserId : out.GroupId;
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
    };
    let resolved: ResolvedPrincipal | undefined;
    if (given.type === 'group') {
      const id = await lookUp('displayName', given.id, false);
      if (id) resolved = { type: 'GROUP', id };
    } else if (given.type === 'user') {
      let id = await lookUp('userName', given.id, true);
      if (!id && given.id.includes('@')) {
        id = await lookUp('emails.value', given.id, true);
        if (id) {
          const user = await this.run('DescribeUser', (abortSignal) =>
            sdk.ids.send(new sdk.identityStore.DescribeUserCommand({ IdentityStoreId: identityStoreId, UserId: id }), { abortSignal }),
          );
          if (user.UserName !== given.id) {
            throw new ProviderError('invalid', `${given.id} is the email of the Identity Store user ${user.UserName}: request it by its user name`, {
              field: 'principal.id',
              code: 'NotTheUserName',
            });
          }
        }
      }
      if (id) resolved = { type: 'USER', id };
    }
    if (!resolved) {
      throw new ProviderError(
        'invalid',
        given.type === 'group'
          ? `the Identity Store ${identityStoreId} has no group whose DisplayName is ${given.id}`
          : given.type === 'user'
            ? `the Identity Store ${identityStoreId} has no user whose UserName (or email) is ${given.id}`
            : 'Identity Center assigns permission sets to users and groups',
        { field: given.type === 'workload' ? 'principal.type' : 'principal.id', code: 'UnknownPrincipal' },
      );
    }
    return this.principals.set(key, resolved);
  }

  /** The organization's accounts by id with their status, read with ListAccounts (cached for a minute). */
  private async organizationAccounts(): Promise<Map<string, string>> {
    const cached = this.orgAccounts.get('all');
    if (cached) return cached;
    const sdk = await this.clients.get();
    const accounts = new Map<string, string>();
    let token: string | undefined;
    do {
      const page = await this.run('ListAccounts', (abortSignal) => sdk.org.send(new sdk.organizations.ListAccountsCommand({ NextToken: token }), { abortSignal }));
      for (const a of page.Accounts ?? []) if (a.Id) accounts.set(a.Id, a.Status ?? 'ACTIVE');
      token = page.NextToken;
    } while (token);
    return this.orgAccounts.set('all', accounts);
  }

  private async checkAccounts(accounts: readonly string[]): Promise<string[]> {
    const known = await this.organizationAccounts();
    accounts.forEach((a, i) => {
      const status = known.get(a);
      if (status === undefined) throw new ProviderError('invalid', `${a} is not an account of the organization`, { field: `target.accounts[${i}]`, code: 'UnknownAccount' });
      if (status !== 'ACTIVE') throw new ProviderError('invalid', `account ${a} is ${status}`, { field: `target.accounts[${i}]`, code: 'InactiveAccount' });
    });
    return [...accounts];
  }

  /**
   * Every OU above the accounts, up to the root (ListParents, each child asked once per call and
   * answers kept for a minute): what lets a deny entry on an OU stop a request that lists one of
   * its accounts.
   */
  private async unitsAbove(accounts: readonly string[]): Promise<string[]> {
    const sdk = await this.clients.get();
    const parentOf = async (child: string): Promise<string | undefined> => {
      const cached = this.parents.get(child);
      if (cached !== undefined) return cached || undefined;
      // Every page until one names the parent: a page may be empty and still carry a NextToken.
      let token: string | undefined;
      let parent: { Id?: string; Type?: string } | undefined;
      do {
        const page = await this.run('ListParents', (abortSignal) =>
          sdk.org.send(new sdk.organizations.ListParentsCommand({ ChildId: child, NextToken: token }), { abortSignal }),
        );
        parent = page.Parents?.find((p) => p.Id);
        token = page.NextToken;
      } while (!parent && token);
      // No parent named at all: refuse rather than take the child for a top-level one (a deny entry on an OU above it would be missed).
      if (!parent?.Id) throw new ProviderError('transient', `Organizations named no parent of ${child} (ListParents)`, { code: 'NoParent', retryAfterMs: 1_000 });
      if (parent.Type === 'ROOT') return this.parents.set(child, '') || undefined;
      if (parent.Type !== 'ORGANIZATIONAL_UNIT') throw new ProviderError('terminal', `Organizations named a parent of ${child} of type ${String(parent.Type)}`, { code: 'NoParent' });
      return this.parents.set(child, parent.Id);
    };
    const units = new Set<string>();
    const chains = await settleAll(accounts, ASSIGNMENT_CONCURRENCY, async (account) => {
      for (let p = await parentOf(account); p && !units.has(p); p = await parentOf(p)) units.add(p);
    });
    for (const c of chains) if (c.status === 'rejected') throw c.reason;
    return [...units].sort();
  }

  /** The ACTIVE accounts of an OU and of the OUs below it. */
  private async accountsOfOu(ou: string): Promise<string[]> {
    const sdk = await this.clients.get();
    const accounts: string[] = [];
    const queue = [ou];
    while (queue.length) {
      const parent = queue.shift()!;
      let token: string | undefined;
      do {
        const page = await this.run('ListAccountsForParent', (abortSignal) =>
          sdk.org.send(new sdk.organizations.ListAccountsForParentCommand({ ParentId: parent, NextToken: token }), { abortSignal }),
        ).catch((e: unknown) => Promise.reject(parent === ou && isOuMissing(e) ? unknownOu(ou, e) : e));
        for (const a of page.Accounts ?? []) if (a.Id && (a.Status ?? 'ACTIVE') === 'ACTIVE') accounts.push(a.Id);
        token = page.NextToken;
      } while (token);
      if (accounts.length > PERMISSION_SET_MAX_ACCOUNTS) throw tooManyAccounts(accounts.length, 'target.organizationalUnit', ou);
      token = undefined;
      do {
        const page = await this.run('ListOrganizationalUnitsForParent', (abortSignal) =>
          sdk.org.send(new sdk.organizations.ListOrganizationalUnitsForParentCommand({ ParentId: parent, NextToken: token }), { abortSignal }),
        );
        for (const child of page.OrganizationalUnits ?? []) if (child.Id && OU_ID.test(child.Id)) queue.push(child.Id);
        token = page.NextToken;
      } while (token);
    }
    if (!accounts.length) throw new ProviderError('invalid', `organizational unit ${ou} has no active accounts`, { field: 'target.organizationalUnit', code: 'EmptyOrganizationalUnit' });
    return accounts;
  }

  /** The accounts (of `accounts`) where the principal holds the set now (ListAccountAssignments, paged). */
  private async presentIn(sdk: IdentityCenterSdk, instance: Instance, setArn: string, principal: ResolvedPrincipal, accounts: readonly string[]): Promise<Set<string>> {
    const results = await settleAll(accounts, ASSIGNMENT_CONCURRENCY, async (account) => {
      let token: string | undefined;
      do {
        const page = await this.run('ListAccountAssignments', (abortSignal) =>
          sdk.sso.send(
            new sdk.ssoAdmin.ListAccountAssignmentsCommand({ InstanceArn: instance.instanceArn, AccountId: account, PermissionSetArn: setArn, NextToken: token, MaxResults: 100 }),
            { abortSignal },
          ),
        );
        if ((page.AccountAssignments ?? []).some((x) => x.PrincipalType === principal.type && x.PrincipalId === principal.id)) return true;
        token = page.NextToken;
      } while (token);
      return false;
    });
    const present = new Set<string>();
    results.forEach((r, i) => {
      if (r.status === 'rejected') throw r.reason;
      if (r.value) present.add(accounts[i]);
    });
    return present;
  }

  /**
   * Identity Center's quota of permission sets provisioned per account (default 50): an account
   * where the set is not provisioned yet and the quota is reached is refused before any
   * assignment is made (422 naming the limit and the accounts).
   */
  private async checkQuota(sdk: IdentityCenterSdk, instance: Instance, set: SetInfo, accounts: readonly string[]): Promise<void> {
    const quota = this.settings.permissionSetsPerAccount ?? DEFAULT_PERMISSION_SETS_PER_ACCOUNT;
    const results = await settleAll(accounts, ASSIGNMENT_CONCURRENCY, async (account) => {
      const provisioned = new Set<string>();
      let token: string | undefined;
      do {
        const page = await this.run('ListPermissionSetsProvisionedToAccount', (abortSignal) =>
          sdk.sso.send(
            new sdk.ssoAdmin.ListPermissionSetsProvisionedToAccountCommand({ InstanceArn: instance.instanceArn, AccountId: account, NextToken: token, MaxResults: 100 }),
            { abortSignal },
          ),
        );
        for (const arn of page.PermissionSets ?? []) provisioned.add(arn);
        token = page.NextToken;
      } while (token);
      return !provisioned.has(set.arn) && provisioned.size >= quota;
    });
    const full = accounts.filter((_, i) => {
      const r = results[i];
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    if (full.length) {
      throw new ProviderError(
        'limit',
        `${listOf(full)} already ${full.length > 1 ? 'have' : 'has'} ${quota} permission sets provisioned, Identity Center's quota per account ` +
          `(JIT_AWS_SSO_PERMISSION_SETS_PER_ACCOUNT), and ${set.name} is not one of them: nothing was assigned`,
        { field: 'target.accounts', code: 'PermissionSetsPerAccount' },
      );
    }
  }

  private async createIn(
    sdk: IdentityCenterSdk,
    instance: Instance,
    setArn: string,
    principal: ResolvedPrincipal,
    account: string,
    accepted: (requestId?: string) => void,
  ): Promise<void> {
    const input = { InstanceArn: instance.instanceArn, TargetId: account, TargetType: 'AWS_ACCOUNT' as const, PermissionSetArn: setArn, PrincipalType: principal.type, PrincipalId: principal.id };
    let out;
    try {
      out = await this.run('CreateAccountAssignment', (abortSignal) => sdk.sso.send(new sdk.ssoAdmin.CreateAccountAssignmentCommand(input), { abortSignal }));
    } catch (e) {
      // No answer from Identity Center (cut off by the abort, the connection lost): the creation may have been made.
      if (!answeredByAws(e)) accepted();
      throw e;
    }
    accepted(out.AccountAssignmentCreationStatus?.Status === 'IN_PROGRESS' ? out.AccountAssignmentCreationStatus.RequestId : undefined);
    await this.followCreation(sdk, instance, out.AccountAssignmentCreationStatus, account);
  }

  private followCreation(sdk: IdentityCenterSdk, instance: Instance, first: { Status?: string; RequestId?: string; FailureReason?: string } | undefined, account: string) {
    return this.follow(first, account, 'creation', (id, abortSignal) =>
      this.run('DescribeAccountAssignmentCreationStatus', (s) =>
        sdk.sso.send(new sdk.ssoAdmin.DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: instance.instanceArn, AccountAssignmentCreationRequestId: id }), {
          abortSignal: AbortSignal.any([s, abortSignal]),
        }),
      ).then((o) => o.AccountAssignmentCreationStatus),
    );
  }

  private async deleteIn(sdk: IdentityCenterSdk, instance: Instance, setArn: string, principal: ResolvedPrincipal, account: string): Promise<'deleted' | 'absent'> {
    const input = { InstanceArn: instance.instanceArn, TargetId: account, TargetType: 'AWS_ACCOUNT' as const, PermissionSetArn: setArn, PrincipalType: principal.type, PrincipalId: principal.id };
    let out;
    try {
      out = await this.run('DeleteAccountAssignment', (abortSignal) => sdk.sso.send(new sdk.ssoAdmin.DeleteAccountAssignmentCommand(input), { abortSignal }));
    } catch (e) {
      if (isNotFound(e)) return 'absent';
      throw e;
    }
    try {
      await this.followDeletion(sdk, instance, out.AccountAssignmentDeletionStatus, account);
    } catch (e) {
      // A FAILED deletion: gone meanwhile (another replica, an administrator) only if a fresh listing says so;
      // AWS documents no FailureReason wording to rely on.
      if (e instanceof ProviderError && e.options.code === 'AssignmentFailed') {
        const present = await this.presentIn(sdk, instance, setArn, principal, [account]);
        if (!present.has(account)) return 'absent';
      }
      throw e;
    }
    return 'deleted';
  }

  private followDeletion(sdk: IdentityCenterSdk, instance: Instance, first: { Status?: string; RequestId?: string; FailureReason?: string } | undefined, account: string) {
    return this.follow(first, account, 'deletion', (id, abortSignal) =>
      this.run('DescribeAccountAssignmentDeletionStatus', (s) =>
        sdk.sso.send(new sdk.ssoAdmin.DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn: instance.instanceArn, AccountAssignmentDeletionRequestId: id }), {
          abortSignal: AbortSignal.any([s, abortSignal]),
        }),
      ).then((o) => o.AccountAssignmentDeletionStatus),
    );
  }

  /**
   * Polls an asynchronous assignment operation until it SUCCEEDED (returns) or FAILED (throws its
   * FailureReason), for at most `assignmentWaitMs` (and never past the caller's deadline).
   */
  private async follow(
    first: { Status?: string; RequestId?: string; FailureReason?: string } | undefined,
    account: string,
    what: 'creation' | 'deletion',
    describe: (requestId: string, signal: AbortSignal) => Promise<{ Status?: string; RequestId?: string; FailureReason?: string } | undefined>,
  ): Promise<void> {
    const wait = this.settings.assignmentWaitMs ?? DEFAULT_ASSIGNMENT_WAIT_MS;
    const deadline = AbortSignal.timeout(wait);
    const signal = this.signal() ? AbortSignal.any([deadline, this.signal()!]) : deadline;
    let status = first;
    let delay = POLL_FIRST_MS;
    while (status?.Status === 'IN_PROGRESS') {
      const requestId = status.RequestId;
      if (!requestId) throw new ProviderError('terminal', `the assignment ${what} in ${account} answered without a RequestId`);
      try {
        await sleep(delay, undefined, { signal });
        status = await describe(requestId, signal);
      } catch (e) {
        if (deadline.aborted && !this.signal()?.aborted) {
          throw new ProviderError('transient', `the assignment ${what} in ${account} was still IN_PROGRESS after ${wait} ms (request ${requestId})`, {
            code: 'AssignmentPending',
          });
        }
        throw e;
      }
      delay = Math.min(POLL_MAX_MS, delay * 2);
    }
    if (status?.Status === 'SUCCEEDED') return;
    if (status?.Status === 'FAILED') {
      throw new ProviderError('terminal', `the assignment ${what} in ${account} FAILED: ${status.FailureReason ?? 'no reason given'}`, { code: 'AssignmentFailed' });
    }
    throw new ProviderError('terminal', `the assignment ${what} in ${account} answered status ${String(status?.Status)}`);
  }
}

function grantSeconds(spec: GrantSpec): number {
  return Math.ceil((spec.expiresAt.getTime() - spec.startsAt.getTime()) / 1000);
}

function tooManyAccounts(n: number, field: string, ou?: string): ProviderError {
  return new ProviderError(
    'limit',
    `${ou ? `organizational unit ${ou} holds more than` : 'this request names'} ${n} accounts; one aws.permission-set grant covers at most ${PERMISSION_SET_MAX_ACCOUNTS} ` +
      '(each is an asynchronous assignment that must settle within one provider call): split the request',
    { field, code: 'AccountsPerGrant' },
  );
}

function listOf(accounts: readonly string[]): string {
  return accounts.length === 1 ? `account ${accounts[0]}` : `accounts ${accounts.join(', ')}`;
}

function reasonOf(r: PromiseSettledResult<unknown>): string {
  return r.status === 'rejected' ? (r.reason instanceof Error ? r.reason.message : String(r.reason)) : 'ok';
}

function errorOf(e: unknown): unknown {
  return e instanceof ProviderError ? (e.options.cause ?? e) : e;
}

function isNotFound(e: unknown): boolean {
  const code = e instanceof ProviderError ? e.options.code : errorCode(e);
  return code === 'ResourceNotFound' || code === 'ResourceNotFoundException';
}

/** Whether Identity Center answered the call with an error (so it was refused, not made), rather than the answer being lost. */
function answeredByAws(e: unknown): boolean {
  const cause = errorOf(e) as { $metadata?: { httpStatusCode?: number } } | undefined;
  // A 5xx says nothing about whether the write landed.
  const status = cause?.$metadata?.httpStatusCode;
  if (typeof status === 'number') return status < 500;
  return e instanceof ProviderError && (e.kind === 'invalid' || e.kind === 'limit');
}

function isOuMissing(e: unknown): boolean {
  const code = e instanceof ProviderError ? e.options.code : errorCode(e);
  return code === 'ParentNotFound' || code === 'OrganizationalUnitNotFound';
}

function unknownOu(ou: string, cause: unknown): ProviderError {
  return new ProviderError('invalid', `${ou} is not an organizational unit of the organization`, { field: 'target.organizationalUnit', code: 'UnknownOrganizationalUnit', cause });
}

