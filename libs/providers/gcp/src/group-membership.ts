import {
  GrantContext,
  GrantSpec,
  GrantSubject,
  OwnedArtifact,
  OwnedListingPart,
  Principal,
  ProviderError,
  ProvisionOutcome,
  ProvisionStatus,
  ReconcileScope,
  Target,
} from '@jit/domain';
import { withRetry } from '@jit/resilience';
import { CloudIdentityGateway, Membership } from './cloud-identity.gateway';
import { GCP_GROUP_EMAIL, GCP_GROUP_MEMBER, GcpGroupTarget } from './gcp-kinds';
import { RetrySettings } from './gcp-provider.options';
import { toProviderError } from './policy-write.coalescer';
import { GatewayError } from './resource-manager.gateway';

export const GROUP_MEMBERSHIP_KIND = 'gcp.group-membership';

/** What a group-membership grant carries: group access reaches further than one role, and it ends only as Cloud Identity applies it. */
export const GROUP_MEMBERSHIP_NOTICE =
  'Access comes from membership of a Google group, with an expiry Cloud Identity enforces. Revoking removes the ' +
  'membership or brings its expiry forward; IAM and Workspace apply a membership change within minutes, and OAuth ' +
  'access tokens already minted with the access stay valid until they expire (up to 1 hour, or 12 hours where the organization allows it).';

/** Cloud Identity keeps expiry times to the second; the broker compares them at that precision. */
function toSecond(date: Date | number): number {
  return Math.floor(new Date(date).getTime() / 1000);
}

/** The `MEMBER` role's expiry, null for a membership without one (permanent), undefined for one without the MEMBER role. */
export function memberExpiry(membership: Membership): Date | null | undefined {
  const role = membership.roles?.find((r) => r.name === 'MEMBER');
  if (!role) return undefined;
  const at = role.expiryDetail?.expireTime;
  return at ? new Date(at) : null;
}

/** `user:a@x` → `a@x`: Cloud Identity addresses members by email alone. */
export function memberEmail(member: string): string {
  return member.slice(member.indexOf(':') + 1).toLowerCase();
}

/** The `Membership.type` Cloud Identity gives a member named with this prefix. */
const MEMBER_TYPES: Record<string, string> = { user: 'USER', serviceAccount: 'SERVICE_ACCOUNT', group: 'GROUP' };

/** The `Membership.type` the principal's prefix claims (`user:` → `USER`). */
export function expectedMemberType(member: string): string | undefined {
  return MEMBER_TYPES[member.slice(0, member.indexOf(':'))];
}

/** A membership whose type Cloud Identity reports and which is not what the principal's prefix says. */
function typeMismatch(membership: Membership, member: string): boolean {
  return !!membership.type && membership.type !== expectedMemberType(member);
}

/** The roles besides `MEMBER` (OWNER, MANAGER) a membership holds: such a membership is never the broker's to change. */
export function otherRoles(membership: Membership): string[] {
  return (membership.roles ?? []).map((r) => r.name ?? '').filter((n) => n !== 'MEMBER');
}

/**
 * The expiry a membership had before the broker extended it (`priorExpireTime` in a grant's
 * providerRef), the latest the given grants recorded: a revoke brings it back instead of removing the membership.
 */
export function priorExpiry(specs: readonly GrantSpec[]): Date | undefined {
  const times = specs
    .map((s) => s.providerRef?.priorExpireTime)
    .filter((v): v is string => typeof v === 'string')
    .map((v) => new Date(v).getTime())
    .filter((t) => !Number.isNaN(t));
  return times.length > 0 ? new Date(Math.max(...times)) : undefined;
}

/** How long after the last grant ended a membership change may still be the broker's own (clock skew, the write after the call). */
const UPDATE_SLACK_MS = 60_000;

interface MembershipLocator {
  group: string;
  member: string;
  membership: string;
  expireTime: string;
}

/**
 * `gcp.group-membership`: the principal becomes a member of a Google group with an expiry that
 * Cloud Identity enforces (`MembershipRole.expiryDetail.expireTime`). One membership per member
 * and group serves every overlapping grant, its expiry the latest of theirs (design.md section 4).
 *
 * Which memberships are the broker's (memberships have no labels): one whose `MEMBER` expiry is,
 * to the second, the `expiresAt` of one of the broker's grants of that member and group. A
 * membership without expiry (a permanent member) or with OWNER/MANAGER is never the broker's: it
 * is left as it is, and the grant says so; one whose expiry is later than every grant's covers
 * them and is left too; one with an earlier expiry is extended and its expiry recorded
 * (`providerRef.priorExpireTime`), brought back when the last grant ends instead of deleting it.
 * Reconciliation reads the database's grants (the scope's subjects) for the groups to list, and
 * calls a membership with an expiry an orphan only when no live grant of the broker covers that
 * member and group and its expiry is not later than the last of their grants (docs/providers/gcp.md).
 */
export class GroupMemberships {
  /** One change at a time per member and group in this process; replicas converge through `overlapping`. */
  private readonly busy = new Map<string, Promise<unknown>>();

  constructor(
    private readonly gateway: CloudIdentityGateway,
    private readonly retry: RetrySettings,
    private readonly now: () => Date,
  ) {}

  artifactName(grantId: string): string {
    return `jit-broker grant ${grantId}`;
  }

  overlapKey(principal: Principal, target: Target): string {
    return `${GROUP_MEMBERSHIP_KIND}|${(target as GcpGroupTarget).group.toLowerCase()}|${memberEmail(principal.id)}`;
  }

  /**
   * Google group emails are case-insensitive: rules and the deny-list see one spelling. The group
   * is looked up first (groups.lookup), so a group the broker cannot see is a 400 naming
   * `target.group` before anything is stored, as a project number the broker cannot read is.
   */
  async canonicalTarget(target: Target, signal?: AbortSignal): Promise<Target> {
    const t = target as GcpGroupTarget;
    const group = t.group.toLowerCase();
    await this.groupName(group, signal);
    return { ...t, group };
  }

  /**
   * Cloud Identity addresses a member by email alone and ignores the `user:`/`serviceAccount:`
   * prefix, so `user:<a group's email>` would pass a `principalTypes: [user]` rule and add a whole
   * group. Before the rules are asked: a member email that resolves to a group (groups.lookup)
   * must be named `group:`, a 400 naming `principal.id` otherwise. grant() checks the created
   * membership's `type` too (a group the broker cannot look up).
   */
  async verifyPrincipal(principal: Principal, signal?: AbortSignal): Promise<void> {
    if (!GCP_GROUP_MEMBER.test(principal.id) || expectedMemberType(principal.id) === 'GROUP') return;
    const email = memberEmail(principal.id);
    const group = await this.call((s) => this.gateway.groupName(email, s), signal).catch((e: unknown) => {
      if (denied(e)) return null;
      throw e;
    });
    if (group) {
      throw new ProviderError('invalid', `${email} is a Google group: name it group:${email} (Cloud Identity would add the whole group, whatever the prefix)`, {
        field: 'principal.id',
        code: 'gcp.member-is-group',
      });
    }
  }

  validate(spec: GrantSpec): void {
    const { group } = this.target(spec);
    const invalid = (field: string, message: string, code: string) => new ProviderError('invalid', message, { field, code });
    if (group.length > 254 || !GCP_GROUP_EMAIL.test(group)) throw invalid('target.group', "must be a Google group's email address", 'gcp.group');
    if (!GCP_GROUP_MEMBER.test(spec.principal.id)) {
      throw invalid('principal.id', 'must be user:<email>, serviceAccount:<email> or group:<email>', 'gcp.group-member');
    }
    if (memberEmail(spec.principal.id) === group.toLowerCase()) {
      throw new ProviderError('limit', 'a Google group cannot be a member of itself', { field: 'principal.id', code: 'gcp.group-member-is-group' });
    }
    if (spec.expiresAt.getTime() <= spec.startsAt.getTime()) throw invalid('expiresAt', 'must be after startsAt', 'gcp.expiresAt');
  }

  async grant(spec: GrantSpec, context: GrantContext, signal?: AbortSignal): Promise<ProvisionOutcome> {
    this.validate(spec);
    const { group } = this.target(spec);
    const member = memberEmail(spec.principal.id);
    return this.serial(this.overlapKey(spec.principal, spec.target), async () => {
      const groupName = await this.groupName(group, signal);
      const live = this.liveExpiries(spec, context.overlapping, true);
      const wanted = new Date(Math.max(...live.map((d) => d.getTime())));
      const ref = (membership: string, expireTime: Date | null, extra: Record<string, unknown> = {}) => ({
        group,
        member: spec.principal.id,
        membership,
        expireTime: expireTime?.toISOString() ?? null,
        ...extra,
      });
      for (let round = 0; round < 3; round++) {
        const name = await this.call((s) => this.gateway.membershipName(groupName, member, s), signal);
        if (!name) {
          try {
            const created = await this.call((s) => this.gateway.createMembership(groupName, member, wanted, s), signal, this.expiryRefused(group));
            const name = created?.name ?? (await this.nameAfterCreate(groupName, member, signal));
            const made = created?.type ? created : await this.call((s) => this.gateway.membership(name, s), signal);
            if (made && typeMismatch(made, spec.principal.id)) {
              // Cloud Identity went by the email: undo what it added, and fail.
              await this.call((s) => this.gateway.deleteMembership(name, s), signal);
              throw this.wrongType(spec.principal.id, made);
            }
            return { status: 'active', providerRef: ref(name, wanted), notice: GROUP_MEMBERSHIP_NOTICE };
          } catch (e) {
            // Another writer (a replica with an overlapping grant) added the member first: read it again.
            if (e instanceof ProviderError && e.options.code === 'HTTP_409') continue;
            throw e;
          }
        }
        const membership = await this.call((s) => this.gateway.membership(name, s), signal);
        if (!membership) continue;
        if (typeMismatch(membership, spec.principal.id)) throw this.wrongType(spec.principal.id, membership);
        const extra = otherRoles(membership);
        if (extra.length > 0) {
          return {
            status: 'active',
            providerRef: ref(name, memberExpiry(membership) ?? null, { preExisting: 'roles', roles: extra }),
            notice: `${spec.principal.id} already holds ${extra.join(' and ')} in ${group}: the broker does not change a membership with roles beyond MEMBER, so it left it as it was, and revoking or expiring this grant does not remove it. ${GROUP_MEMBERSHIP_NOTICE}`,
          };
        }
        const current = memberExpiry(membership);
        if (current === null || current === undefined) {
          return {
            status: 'active',
            providerRef: ref(name, null, { preExisting: 'permanent' }),
            notice: `${spec.principal.id} was already a permanent member of ${group}: the broker left that membership as it was, and revoking or expiring this grant does not remove it. ${GROUP_MEMBERSHIP_NOTICE}`,
          };
        }
        const ours = live.some((d) => toSecond(d) === toSecond(current));
        // The expiry the membership had before the broker first extended it, carried from grant to grant.
        const inherited = priorExpiry(context.overlapping);
        const prior = ours ? inherited : current;
        const priorRef = prior ? { priorExpireTime: prior.toISOString() } : {};
        if (toSecond(current) >= toSecond(wanted)) {
          return {
            status: 'active',
            providerRef: ref(name, current, ours ? priorRef : { preExisting: 'later-expiry' }),
            notice: ours
              ? GROUP_MEMBERSHIP_NOTICE
              : `${spec.principal.id} was already a member of ${group} until ${current.toISOString()}, later than this grant: the broker left that membership as it was. ${GROUP_MEMBERSHIP_NOTICE}`,
          };
        }
        await this.call((s) => this.gateway.setExpiry(name, wanted, s), signal, this.expiryRefused(group));
        return {
          status: 'active',
          providerRef: ref(name, wanted, priorRef),
          notice: ours
            ? GROUP_MEMBERSHIP_NOTICE
            : `${spec.principal.id} was already a member of ${group} until ${current.toISOString()}: the broker extended that membership, and brings its expiry back to ${current.toISOString()} when this grant ends instead of removing it. ${GROUP_MEMBERSHIP_NOTICE}`,
        };
      }
      throw new ProviderError('transient', `the membership of ${member} in ${group} kept changing under another writer`, { code: 'gcp.membership-race' });
    });
  }

  /**
   * Brings the membership's expiry back to the latest remaining grant's, or removes it when none
   * remains. A membership the broker did not set (no expiry, or one later than every grant's) stays.
   */
  async revoke(spec: GrantSpec, context: GrantContext & { early: boolean }, signal?: AbortSignal): Promise<void> {
    const { group } = this.target(spec);
    const member = memberEmail(spec.principal.id);
    await this.serial(this.overlapKey(spec.principal, spec.target), async () => {
      // A group that is gone (404) took its memberships with it; a 403 is not "gone" (lost rights).
      const groupName = await this.groupForCleanup(group, signal);
      if (!groupName) return;
      const name = await this.call((s) => this.gateway.membershipName(groupName, member, s), signal);
      if (!name) return;
      const membership = await this.call((s) => this.gateway.membership(name, s), signal);
      // Another kind of member under this email (a group for `user:`) was never this grant's.
      if (!membership || typeMismatch(membership, spec.principal.id) || otherRoles(membership).length > 0) return;
      const current = memberExpiry(membership);
      if (!current) return;
      const mine = [spec.expiresAt, ...context.overlapping.filter((o) => o.grantId !== spec.grantId).map((o) => o.expiresAt)];
      if (!mine.some((d) => toSecond(d) === toSecond(current))) return;
      // A membership the broker extended goes back to the expiry it had, while that is still ahead.
      const prior = priorExpiry([spec, ...context.overlapping]);
      const remaining = this.liveExpiries(spec, context.overlapping, false);
      if (prior && prior.getTime() > this.now().getTime()) remaining.push(prior);
      if (remaining.length === 0) {
        await this.call((s) => this.gateway.deleteMembership(name, s), signal);
        return;
      }
      const wanted = new Date(Math.max(...remaining.map((d) => d.getTime())));
      if (toSecond(wanted) !== toSecond(current)) await this.call((s) => this.gateway.setExpiry(name, wanted, s), signal, this.expiryRefused(group));
    });
  }

  async status(spec: GrantSpec, signal?: AbortSignal): Promise<ProvisionStatus> {
    const { group } = this.target(spec);
    // A group that is gone (or hidden from the broker) holds no membership.
    const groupName = await this.call((s) => this.gateway.groupName(group, s), signal).catch((e: unknown) => {
      if (denied(e)) return null;
      throw e;
    });
    if (!groupName) return { status: 'absent' };
    const name = await this.call((s) => this.gateway.membershipName(groupName, memberEmail(spec.principal.id), s), signal);
    const membership = name && (await this.call((s) => this.gateway.membership(name, s), signal));
    if (!name || !membership) return { status: 'absent' };
    const current = memberExpiry(membership);
    if (current === undefined) return { status: 'absent' };
    // A membership that ends before the grant does not hold what the grant describes: grant() extends it.
    if (current !== null && toSecond(current) < toSecond(spec.expiresAt)) return { status: 'absent' };
    return { status: 'active', providerRef: { group, member: spec.principal.id, membership: name, expireTime: current?.toISOString() ?? null } };
  }

  /** One part per group named by a recent `gcp.group-membership` grant (the database's grants are the truth). */
  async listingParts(scope: ReconcileScope): Promise<OwnedListingPart[]> {
    const byGroup = new Map<string, GrantSubject[]>();
    for (const subject of await scope.subjects()) {
      if (subject.target.kind !== GROUP_MEMBERSHIP_KIND || typeof (subject.target as { group?: unknown }).group !== 'string') continue;
      const group = (subject.target as GcpGroupTarget).group.toLowerCase();
      byGroup.set(group, [...(byGroup.get(group) ?? []), subject]);
    }
    return [...byGroup].map(([group, subjects]) => ({ name: `group ${group}`, list: (signal?: AbortSignal) => this.ownedIn(group, subjects, signal) }));
  }

  private async *ownedIn(group: string, subjects: GrantSubject[], signal?: AbortSignal): AsyncIterable<OwnedArtifact> {
    const groupName = await this.groupForCleanup(group, signal);
    if (!groupName) return;
    const bySubject = new Map<string, GrantSubject[]>();
    for (const s of subjects) {
      const key = memberEmail(s.principal.id);
      bySubject.set(key, [...(bySubject.get(key) ?? []), s]);
    }
    const pages = this.gateway.memberships(groupName, signal, (call) => this.call(() => call(), signal));
    for await (const membership of pages) {
      const email = membership.preferredMemberKey?.id?.toLowerCase();
      const own = email ? bySubject.get(email) : undefined;
      const expiry = memberExpiry(membership);
      if (!own || !expiry || !membership.name || otherRoles(membership).length > 0) continue;
      // A live grant covers it; an expiry later than the broker's last grant is someone else's,
      // and so is a membership changed after the last grant ended (an admin re-added the member).
      if (own.some((s) => s.live !== false)) continue;
      const last = own.map((s) => s.lastExpiresAt?.getTime()).filter((t): t is number => t !== undefined);
      if (last.length > 0 && toSecond(expiry) > toSecond(Math.max(...last))) continue;
      const ended = own.map((s) => (s.lastEndedAt ?? s.lastExpiresAt)?.getTime()).filter((t): t is number => t !== undefined);
      const updated = membership.updateTime ? new Date(membership.updateTime).getTime() : NaN;
      if (ended.length > 0 && updated > Math.max(...ended) + UPDATE_SLACK_MS) continue;
      const locator: MembershipLocator = { group, member: own[0].principal.id, membership: membership.name, expireTime: expiry.toISOString() };
      yield {
        grantId: null,
        artifactName: `${email} in ${group}`,
        locator: { ...locator },
        description: `membership of ${email} in ${group} until ${expiry.toISOString()}, which no live grant covers`,
      };
    }
  }

  /** Deletes the orphan membership, unless it changed since it was listed (a new grant extended it). */
  async removeOrphan(artifact: OwnedArtifact, signal?: AbortSignal): Promise<void> {
    const { membership, expireTime } = artifact.locator as Partial<MembershipLocator>;
    if (!membership || !expireTime) throw new ProviderError('invalid', 'not a Cloud Identity membership locator', { field: 'locator' });
    const now = await this.call((s) => this.gateway.membership(membership, s), signal);
    const current = now && otherRoles(now).length === 0 ? memberExpiry(now) : undefined;
    if (!current || toSecond(current) !== toSecond(new Date(expireTime))) return;
    await this.call((s) => this.gateway.deleteMembership(membership, s), signal);
  }

  async healthCheck(): Promise<void> {
    await this.call(() => this.gateway.checkCredentials());
  }

  /** The expiries of the grants still live after this change: `overlapping` not yet ended, and this grant's when it is being granted. */
  private liveExpiries(spec: GrantSpec, overlapping: GrantSpec[], including: boolean): Date[] {
    const now = this.now().getTime();
    const others = overlapping.filter((o) => o.grantId !== spec.grantId && o.expiresAt.getTime() > now).map((o) => o.expiresAt);
    return including ? [spec.expiresAt, ...others] : others;
  }

  /**
   * The group's name for a revoke or a reconciliation: null when Cloud Identity says it is gone
   * (404); a 403 is an error (terminal, so the revoke ends `revoke_failed`), never "nothing to
   * remove": the broker may have lost its Manager rights and the membership may still be there.
   */
  private async groupForCleanup(group: string, signal?: AbortSignal): Promise<string | null> {
    try {
      return await this.call((s) => this.gateway.groupName(group, s), signal);
    } catch (e) {
      if (!denied(e)) throw e;
      throw new ProviderError(
        'terminal',
        `Cloud Identity refused to look up ${group} (403 PERMISSION_DENIED): the broker may have lost its Manager rights on the group, or the group was deleted, ` +
          'so whether the membership is still there is unknown. Restore the rights (or confirm the group is gone) and retry',
        { field: 'target.group', code: 'gcp.group-access-denied', cause: e },
      );
    }
  }

  private async groupName(group: string, signal?: AbortSignal): Promise<string> {
    const name = await this.call((s) => this.gateway.groupName(group, s), signal).catch((e: unknown) => {
      if (denied(e)) return null;
      throw e;
    });
    if (!name) {
      throw new ProviderError('invalid', `${group} is not a Google group the broker can see (groups.lookup); check the address and that the broker manages the group`, {
        field: 'target.group',
        code: 'gcp.unknown-group',
      });
    }
    return name;
  }

  private wrongType(member: string, membership: Membership): ProviderError {
    return new ProviderError('invalid', `Cloud Identity holds ${memberEmail(member)} as a ${membership.type} member, not what ${member} names`, {
      field: 'principal.id',
      code: 'gcp.member-type-mismatch',
    });
  }

  /** The name of a membership whose create operation was not done yet: read back by lookup. */
  private async nameAfterCreate(groupName: string, member: string, signal?: AbortSignal): Promise<string> {
    const name = await this.call((s) => this.gateway.membershipName(groupName, member, s), signal);
    if (!name) throw new ProviderError('transient', `the membership of ${member} in ${groupName} is not visible yet`, { code: 'gcp.membership-pending' });
    return name;
  }

  /**
   * Cloud Identity refuses an expiry where the customer's edition has no membership expiration
   * (Google Workspace Enterprise Standard/Plus, Enterprise for Education and Cloud Identity
   * Premium have it): a clear, non-retried error instead of a retried precondition.
   */
  private expiryRefused(group: string): (e: GatewayError) => ProviderError | undefined {
    return (e) =>
      e.code === 'FAILED_PRECONDITION'
        ? new ProviderError(
            'terminal',
            `Cloud Identity refused an expiring membership in ${group} (${e.message.replace(/\.$/, '')}). Membership expiration needs Google Workspace Enterprise Standard or Plus, ` +
              'Enterprise for Education or Cloud Identity Premium; without it the broker cannot grant gcp.group-membership',
            { field: 'target.group', code: 'gcp.membership-expiry-unsupported', cause: e },
          )
        : undefined;
  }

  /** One Cloud Identity call with the adapter's bounded, jittered retries on throttling and 5xx. */
  private call<T>(fn: (signal?: AbortSignal) => Promise<T>, signal?: AbortSignal, special?: (e: GatewayError) => ProviderError | undefined): Promise<T> {
    return withRetry(
      {
        maxAttempts: this.retry.attempts,
        backoff: { baseMs: this.retry.baseDelayMs, capMs: this.retry.maxDelayMs, jitter: 'full' },
        retryable: (e) => e instanceof GatewayError && e.kind === 'transient',
      },
      (s) => fn(s),
      {
        signal,
        onGiveUp: ({ error, attempts }) => (error instanceof GatewayError && special?.(error)) || toCloudIdentityError(error, attempts),
      },
    );
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.busy.get(key) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.busy.set(key, settled);
    void settled.then(() => this.busy.get(key) === settled && this.busy.delete(key));
    return run;
  }

  private target(spec: GrantSpec): GcpGroupTarget {
    if (spec.target.kind !== GROUP_MEMBERSHIP_KIND) throw new ProviderError('invalid', `not a ${GROUP_MEMBERSHIP_KIND} target`, { field: 'target.kind' });
    return spec.target as GcpGroupTarget;
  }
}

/** Cloud Identity's 403 (`PERMISSION_DENIED`), as the adapter's retry loop reports it. */
function denied(e: unknown): boolean {
  return e instanceof ProviderError && (e.options.code === 'PERMISSION_DENIED' || e.options.code === 'HTTP_403');
}

/** The port's error for a Cloud Identity failure (the Resource Manager wording names the other API). */
function toCloudIdentityError(error: unknown, attempts: number): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof GatewayError && error.kind === 'conflict') {
    return new ProviderError('transient', `Cloud Identity ${error.code}: ${error.message}`, { code: error.code, cause: error });
  }
  const e = toProviderError(error, attempts);
  return new ProviderError(e.kind, e.message.replace('Resource Manager', 'Cloud Identity').replace('GCP refused the policy', 'Cloud Identity refused the call'), e.options);
}
