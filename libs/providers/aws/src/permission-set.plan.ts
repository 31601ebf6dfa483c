import { GrantSpec, GrantSubject, ProviderError } from '@jit/domain';
import { AwsTargetOf, PERMISSION_SET_ARN } from './aws-kinds';

/**
 * The parts of `aws.permission-set` that need no cloud call: which accounts other live grants
 * still cover, the session-duration check, and which grant a listed assignment belongs to for
 * reconciliation (docs/providers/aws.md, "Identity Center").
 */

export type PermissionSetTarget = AwsTargetOf<'aws.permission-set'>;

/** A target as `canonicalTarget` leaves it: the set by ARN and name, the accounts listed. */
export type CanonicalPermissionSetTarget = PermissionSetTarget & { permissionSetName: string; accounts: string[] };

export function isCanonical(t: PermissionSetTarget): t is CanonicalPermissionSetTarget {
  return PERMISSION_SET_ARN.test(t.permissionSet) && t.permissionSetName !== undefined && t.accounts !== undefined;
}

/**
 * The accounts the other live grants of the same principal and permission set cover. The overlap
 * key leaves the accounts out on purpose: a grant for accounts A, B and one for B alone must see
 * each other, and B's assignment stays until neither covers it.
 */
export function coveredByOthers(overlapping: readonly GrantSpec[], self: string): Set<string> {
  const covered = new Set<string>();
  for (const o of overlapping) {
    if (o.grantId === self || o.target.kind !== 'aws.permission-set') continue;
    for (const a of (o.target as PermissionSetTarget).accounts ?? []) covered.add(a);
  }
  return covered;
}

const ISO_DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** A permission set's `SessionDuration` (ISO 8601, `PT1H`..`PT12H`) in seconds; undefined if unreadable. */
export function isoDurationSeconds(d: string | undefined): number | undefined {
  const m = d ? ISO_DURATION.exec(d) : null;
  if (!m || d === 'P' || d === 'PT') return undefined;
  const [, days, hours, minutes, seconds] = m;
  return Number(days ?? 0) * 86_400 + Number(hours ?? 0) * 3_600 + Number(minutes ?? 0) * 60 + Math.floor(Number(seconds ?? 0));
}

/** IAM Identity Center's shortest session (SessionDuration PT1H..PT12H). */
export const SSO_MIN_SESSION_SECONDS = 3_600;

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * Sign-in sessions outlive a removed assignment by up to the permission set's `SessionDuration`.
 * The longest accepted: the grant's own duration (at least one hour, Identity Center's shortest),
 * so what remains after expiry is never longer than the grant itself, and no more than
 * `JIT_AWS_SSO_MAX_SESSION_DURATION` when that is set. Throws the 422 naming the limit.
 */
export function checkSessionDuration(setName: string, sessionDuration: string | undefined, grantSeconds: number, configuredMax?: number): number {
  const session = isoDurationSeconds(sessionDuration) ?? SSO_MIN_SESSION_SECONDS;
  // The configured maximum bounds the grant's own limit; it never lets sessions outlive a short grant by more than it lasts.
  const own = Math.max(SSO_MIN_SESSION_SECONDS, grantSeconds);
  const allowed = configuredMax === undefined ? own : Math.min(configuredMax, own);
  if (session > allowed) {
    throw new ProviderError(
      'limit',
      `permission set ${setName} has a SessionDuration of ${sessionDuration} (${fmt(session)} s): a sign-in session started before the assignment ` +
        `is removed stays usable that long after it, and this broker accepts at most ${fmt(allowed)} s ` +
        (configuredMax === undefined || own <= configuredMax ? "(the grant's duration, at least one hour)" : '(JIT_AWS_SSO_MAX_SESSION_DURATION)') +
        '. Request a permission set with a shorter session duration',
      { field: 'target.permissionSet', code: 'SessionDuration' },
    );
  }
  return session;
}

/** The grant's `notice`: what remains possible after the assignment is removed. */
export function residualNotice(setName: string, sessionSeconds: number, expiresAt: Date): string {
  const until = new Date(expiresAt.getTime() + sessionSeconds * 1000).toISOString();
  return (
    `IAM Identity Center cannot end sign-in sessions: a session to ${setName} started before the assignment is removed (at expiry or on revoke) ` +
    `stays usable for up to the permission set's session duration (${fmt(sessionSeconds)} s), so until ${until} at the latest if the grant runs to its end. ` +
    'Revoke early to stop new sign-ins; the assignment is removed by the broker (Identity Center has no expiry of its own).'
  );
}

/** A subject of the reconcile scope; `live` is set by stores that say whether one of its grants is live. */
type ScopedSubject = GrantSubject & { live?: boolean };

/** The assignments a grant's `providerRef` says the broker holds: made by it ('created') or by an overlapping grant it joined ('kept'). */
export interface BrokerAssignments {
  principalType: 'USER' | 'GROUP';
  principalId: string;
  accounts: string[];
}

/**
 * What a stored `providerRef` of this kind proves the broker assigned, or undefined when it proves
 * nothing (no ref: the grant was never provisioned, or another kind's). An account the grant found
 * already assigned under another live grant is 'kept': that assignment is the broker's too (a
 * standing one is refused at grant time, never kept).
 */
export function brokerAssignmentsOf(ref: Record<string, unknown> | null | undefined): BrokerAssignments | undefined {
  if (!ref) return undefined;
  const { principalType, principalId, accounts } = ref;
  if ((principalType !== 'USER' && principalType !== 'GROUP') || typeof principalId !== 'string' || !principalId) return undefined;
  if (!accounts || typeof accounts !== 'object' || Array.isArray(accounts)) return undefined;
  const made = Object.entries(accounts as Record<string, unknown>)
    .filter(([, outcome]) => outcome === 'created' || outcome === 'kept')
    .map(([account]) => account);
  return { principalType, principalId, accounts: made.sort() };
}

/** `USER|id` or `GROUP|id`: a principal as Identity Center knows it. */
export const principalKey = (p: { principalType: string; principalId: string }) => `${p.principalType}|${p.principalId}`;

/**
 * The orphaned assignments of one permission set, for reconciliation, by principal key: those a
 * grant in scope that is no longer live PROVABLY made (its providerRef records the account as
 * 'created' or 'kept'), in accounts no live grant of the same principal covers. `currentKeys[i]`
 * is subject i's principal resolved now (undefined if it does not resolve); a live subject covers
 * its accounts under that key and under every principal its refs name, so neither a name's case
 * nor a rename makes its assignment look orphaned. A subject whose liveness the store does not
 * say counts as live (nothing is removed on a guess). A grant never provisioned (pending, denied,
 * refused because the principal held the set standing) has no ref and makes nothing an orphan.
 */
export function orphanedAssignments(subjects: readonly ScopedSubject[], currentKeys: readonly (string | undefined)[]): Map<string, string[]> {
  const covered = new Set<string>();
  const made = new Map<string, Set<string>>();
  subjects.forEach((s, i) => {
    const refs = (s.providerRefs ?? []).map(brokerAssignmentsOf).filter((r): r is BrokerAssignments => r !== undefined);
    if (s.live !== false) {
      const current = currentKeys[i];
      const keys = new Set([...(current ? [current] : []), ...refs.map(principalKey)]);
      for (const k of keys) for (const a of (s.target as PermissionSetTarget).accounts ?? []) covered.add(`${k}@${a}`);
      return;
    }
    for (const r of refs) {
      const k = principalKey(r);
      const set = made.get(k) ?? new Set<string>();
      for (const a of r.accounts) set.add(a);
      made.set(k, set);
    }
  });
  const orphans = new Map<string, string[]>();
  for (const [k, accounts] of made) {
    const left = [...accounts].filter((a) => !covered.has(`${k}@${a}`)).sort();
    if (left.length) orphans.set(k, left);
  }
  return orphans;
}

/** Runs `work` over `items` with at most `limit` at once; every item is settled. */
export async function settleAll<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await work(items[i]) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
