import { CloudName, Principal, TargetKind } from './cloud';
import { DomainError } from './grant.exception';
import { Target } from './target';

/** Grant ids are UUIDs; adapters parse them back out of cloud-side names. */
export const GRANT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const GRANT_STATES = [
  'pending_approval',
  'provisioning',
  'active',
  'revoking',
  'expired',
  'revoked',
  'denied',
  'failed',
  'revoke_failed',
] as const;
export type GrantState = (typeof GRANT_STATES)[number];

export type EndReason = 'expired' | 'revoked' | 'denied' | 'failed' | 'timeout' | 'withdrawn';

const TRANSITIONS: Record<GrantState, readonly GrantState[]> = {
  pending_approval: ['pending_approval', 'provisioning', 'denied'],
  // `revoking`: a revoke requested while provisioning, carried out by whoever finishes it (GrantAggregate.carryOutRevoke).
  provisioning: ['active', 'failed', 'provisioning', 'revoking'],
  active: ['revoking', 'expired', 'revoked', 'revoke_failed'],
  revoking: ['expired', 'revoked', 'revoke_failed', 'revoking'],
  revoke_failed: ['expired', 'revoked', 'revoke_failed'],
  expired: [],
  revoked: [],
  denied: [],
  failed: [],
};

export const TERMINAL_STATES: readonly GrantState[] = ['expired', 'revoked', 'denied', 'failed'];
/** States in which the cloud may hold the grant's access. */
export const LIVE_STATES: readonly GrantState[] = ['provisioning', 'active', 'revoking', 'revoke_failed'];

export function canTransition(from: GrantState, to: GrantState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: GrantState, to: GrantState): void {
  if (!canTransition(from, to)) {
    throw new DomainError('invalid_state', `a grant in state ${from} cannot become ${to}`, [
      { field: 'state', message: `is ${from}` },
    ]);
  }
}

/** How the access rules decided a request, fixed when it was made: a later reload does not change it. */
export interface GrantDecision {
  /** The rule that allowed the request (`break-glass` for break-glass accounts). */
  rule: string;
  mode: 'auto' | 'approvals' | 'break_glass';
  /** Distinct approvals needed, all steps together; 0 when none are. */
  required: number;
  /** Approvers must belong to one of these groups (every step's). */
  groups: string[];
  /**
   * Approvals needed per group set, all of which must be met by distinct approvers (one from
   * SRE *and* one from Security). Absent on grants decided before steps existed: one step of
   * `required` from `groups`.
   */
  steps?: ApprovalStep[];
  /** SHA-256 of the rules file that decided. */
  policyVersion: string;
}

export interface ApprovalStep {
  required: number;
  groups: string[];
}

export interface Approval {
  approver: string;
  decision: 'approved' | 'denied';
  comment?: string;
  at: string;
  /** The approver's groups among the rule's when they approved: which steps the approval can fill. */
  groups?: string[];
}

export function approvalSteps(d: Pick<GrantDecision, 'required' | 'groups' | 'steps'>): ApprovalStep[] {
  return d.steps?.length ? d.steps : [{ required: d.required, groups: d.groups }];
}

/**
 * How many of the steps' approvals these approvers fill, each approver counting once and for one
 * step their groups allow: a maximum bipartite matching (Kuhn's augmenting paths) between
 * approvers and step seats, so someone in two groups never fills two steps, and the order in
 * which people approve never matters.
 */
export function approvalsFilled(steps: readonly ApprovalStep[], approvers: readonly { groups: readonly string[] }[]): number {
  return matchApprovals(steps, approvers).reduce((n, filled) => n + filled, 0);
}

/** The approvals each step holds under one maximum matching (see approvalsFilled). */
export function matchApprovals(steps: readonly ApprovalStep[], approvers: readonly { groups: readonly string[] }[]): number[] {
  const seatStep = steps.flatMap((s, i) => Array.from({ length: s.required }, () => i));
  const seats = seatStep.map((i) => steps[i].groups);
  const seatHolder: (number | undefined)[] = new Array(seats.length).fill(undefined);
  const fits = (a: number, seat: number) => approvers[a].groups.some((g) => seats[seat].includes(g));
  const assign = (a: number, tried: boolean[]): boolean => {
    for (let seat = 0; seat < seats.length; seat++) {
      if (tried[seat] || !fits(a, seat)) continue;
      tried[seat] = true;
      const holder = seatHolder[seat];
      if (holder === undefined || assign(holder, tried)) {
        seatHolder[seat] = a;
        return true;
      }
    }
    return false;
  };
  for (let a = 0; a < approvers.length; a++) assign(a, new Array(seats.length).fill(false));
  const perStep = steps.map(() => 0);
  seatHolder.forEach((holder, seat) => {
    if (holder !== undefined) perStep[seatStep[seat]]++;
  });
  return perStep;
}

/**
 * What one more approval, by someone in `actorGroups`, does for a pending request: the approvals
 * filled before and after (each approver fills one step their groups allow), the approver's groups
 * among the rule's, and what is still missing, for messages.
 */
export function approvalProgress(grant: Grant, actorGroups: ReadonlySet<string>): { before: number; after: number; groups: string[]; missing: string } {
  const decision = grant.decision!;
  const steps = approvalSteps(decision);
  // An approval without groups predates steps and counts for its single step; on a grant with
  // steps it can only come from a replica that does not know them, and fills none.
  const prior = grant.approvals.filter((a) => a.decision === 'approved').map((a) => ({ groups: a.groups ?? (decision.steps ? [] : decision.groups) }));
  const groups = decision.groups.filter((g) => actorGroups.has(g));
  const perStep = matchApprovals(steps, prior);
  const before = perStep.reduce((n, f) => n + f, 0);
  const after = approvalsFilled(steps, [...prior, { groups }]);
  const missing = steps
    .map((s, i) => (perStep[i] < s.required ? `${s.required - perStep[i]} from ${s.groups.join(' or ')}` : null))
    .filter(Boolean)
    .join(', ');
  return { before, after, groups, missing: missing || 'none' };
}

/**
 * A revoke asked for while the grant was provisioning: recorded at once (answered 202) and
 * carried out as soon as provisioning settles, by whichever replica settles it.
 */
export interface RevokeRequest {
  at: Date;
  by: string;
  reason: string | null;
}

/** The broker's record of one grant. */
export interface Grant {
  id: string;
  state: GrantState;
  cloud: CloudName;
  kind: TargetKind;
  principal: Principal;
  target: Target;
  requestedBy: string;
  justification: string | null;
  ticket: string | null;
  durationSeconds: number;
  createdAt: Date;
  startsAt: Date | null;
  expiresAt: Date;
  endedAt: Date | null;
  endReason: EndReason | null;
  approvals: Approval[];
  /** Null for grants made before access rules existed. */
  decision: GrantDecision | null;
  /** A pending request is denied (reason `timeout`) if not approved by then. */
  approvalDeadline: Date | null;
  /** Deterministic cloud-side name, fixed before the first cloud call. */
  artifactName: string;
  /** Grants with the same key grant the same permission to the same principal on the same scope. */
  overlapKey: string;
  providerRef: Record<string, unknown> | null;
  lastError: string | null;
  attempts: number;
  nextAttemptAt: Date | null;
  /** A revoke requested while provisioning, not carried out yet (or carried out, kept for the record); absent or null when none. */
  revokeRequest?: RevokeRequest | null;
}
