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
 * The longest accepted: `JIT_AWS_SSO_MAX_SESSION_DURATION` when set, else the grant's own duration
 * (at least one hour, Identity Center's shortest), so what remains after expiry is never longer
 * than the grant itself. Throws the 422 naming the limit.
 */
export function checkSessionDuration(setName: string, sessionDuration: string | undefined, grantSeconds: number, configuredMax?: number): number {
  const session = isoDurationSeconds(sessionDuration) ?? SSO_MIN_SESSION_SECONDS;
  const allowed = configuredMax ?? Math.max(SSO_MIN_SESSION_SECONDS, grantSeconds);
  if (session > allowed) {
    throw new ProviderError(
      'limit',
      `permission set ${setName} has a SessionDuration of ${sessionDuration} (${fmt(session)} s): a sign-in session started before the assignment ` +
        `is removed stays usable that long after it, and this broker accepts at most ${fmt(allowed)} s ` +
        (configuredMax === undefined ? "(the grant's duration, at least one hour)" : '(JIT_AWS_SSO_MAX_SESSION_DURATION)') +
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

/**
 * Whether an assignment listed in `account` is an orphan, for reconciliation: a grant in scope
 * covered the account and none that covers it is live. A subject whose liveness the store does not
 * say counts as live (never removed on a guess); an account no grant in scope covers is not the
 * broker's to judge.
 */
export function isOrphanedAccount(subjects: readonly ScopedSubject[], account: string): boolean {
  let covered = false;
  for (const s of subjects) {
    if (!((s.target as PermissionSetTarget).accounts ?? []).includes(account)) continue;
    if (s.live !== false) return false;
    covered = true;
  }
  return covered;
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
