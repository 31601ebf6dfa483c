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
  provisioning: ['active', 'failed', 'provisioning'],
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
  /** Distinct approvals needed; 0 when none are. */
  required: number;
  /** Approvers must belong to one of these groups. */
  groups: string[];
  /** SHA-256 of the rules file that decided. */
  policyVersion: string;
}

export interface Approval {
  approver: string;
  decision: 'approved' | 'denied';
  comment?: string;
  at: string;
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
}
