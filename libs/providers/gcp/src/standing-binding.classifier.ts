import { StandingPrincipal } from '@jit/domain';

/**
 * What discovery makes of a member string and of a binding's condition (docs/providers/gcp.md,
 * "Discovery"). Pure functions, so the rules are tested without a cloud.
 */

/** A time-bound binding that ends within this many days is temporary access, not standing privilege. */
export const STANDING_HORIZON_DAYS = 30;

const WORKFORCE_SUBJECT = /^principal:\/\/iam\.googleapis\.com\/locations\/global\/workforcePools\//;
const WORKLOAD_SUBJECT = /^principal:\/\/iam\.googleapis\.com\/projects\/[^/]+\/locations\/global\/workloadIdentityPools\//;

/** The holder of a binding, from its member prefix (`user:`, `serviceAccount:`, `group:`, `domain:`, `principal://`, ...). */
export function memberPrincipal(member: string): StandingPrincipal {
  const deleted = /^deleted:(.*?)(\?uid=\d+)?$/.exec(member);
  if (deleted) {
    const inner = memberPrincipal(deleted[1]);
    return { ...inner, id: member, displayName: `${inner.displayName ?? deleted[1]} (deleted)` };
  }
  const colon = member.indexOf(':');
  const prefix = colon < 0 ? member : member.slice(0, colon);
  const rest = colon < 0 ? member : member.slice(colon + 1);
  switch (prefix) {
    case 'user':
      return { id: member, kind: 'user', human: true, displayName: rest };
    case 'serviceAccount':
      return { id: member, kind: 'service_account', human: false, displayName: rest };
    case 'group':
      return { id: member, kind: 'group', human: null, displayName: rest };
    case 'domain':
      return { id: member, kind: 'group', human: null, displayName: `every account of ${rest}` };
    case 'allUsers':
    case 'allAuthenticatedUsers':
      return { id: member, kind: 'group', human: null, displayName: member === 'allUsers' ? 'anyone on the internet' : 'any Google account' };
    case 'principal':
      if (WORKFORCE_SUBJECT.test(member)) return { id: member, kind: 'user', human: true, displayName: member.slice(member.lastIndexOf('/') + 1) };
      if (WORKLOAD_SUBJECT.test(member)) return { id: member, kind: 'unknown', human: false, displayName: member.slice(member.lastIndexOf('/') + 1) };
      return { id: member, kind: 'unknown', human: null };
    case 'principalSet':
      return { id: member, kind: 'group', human: null };
    default:
      return { id: member, kind: 'unknown', human: null };
  }
}

export type ConditionVerdict =
  /** No condition, or one that does not end the access soon: reported. */
  | { standing: true }
  /** Ended, ends within the horizon, or can never be true: not reported. */
  | { standing: false; why: 'expired' | 'temporary' | 'never-true' };

const TIME_TERM = /^\(?\s*request\.time\s*(<=|<|>=|>)\s*timestamp\(\s*["']([^"']+)["']\s*\)\s*\)?$/;
/** jit-access's eligibility markers: conditions IAM never evaluates to true, so they grant nothing. */
const NEVER_TRUE = /^has\(\{\}\.(jitAccessConstraint|multiPartyApprovalConstraint)\)$/;

/**
 * Whether a conditional binding is standing access. A condition made only of `request.time`
 * bounds joined by `&&` is time-bound: past its end it grants nothing, and an end within
 * `STANDING_HORIZON_DAYS` is temporary access (another JIT tool's, or a hand-made one). Any
 * other condition (resource names, tags, a start without an end, `||`) leaves the access
 * standing whenever it holds, so the binding is reported with its condition.
 */
export function judgeCondition(expression: string | null | undefined, now: Date): ConditionVerdict {
  if (!expression) return { standing: true };
  const text = expression.trim();
  if (NEVER_TRUE.test(text)) return { standing: false, why: 'never-true' };
  if (text.includes('||')) return { standing: true };
  let end: number | null = null;
  for (const term of text.split('&&')) {
    const bound = TIME_TERM.exec(term.trim());
    if (!bound) return { standing: true };
    const at = Date.parse(bound[2]);
    if (Number.isNaN(at)) return { standing: true };
    if (bound[1].startsWith('<')) end = end === null ? at : Math.min(end, at);
  }
  if (end === null) return { standing: true };
  if (end <= now.getTime()) return { standing: false, why: 'expired' };
  if (end <= now.getTime() + STANDING_HORIZON_DAYS * 86_400_000) return { standing: false, why: 'temporary' };
  return { standing: true };
}
