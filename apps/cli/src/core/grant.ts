import type { GrantState } from '@jit/domain';

/** The fields of the API's grant (GET /v1/grants/{id}) the CLI reads; the rest is printed as it came with --json. */
export interface GrantView {
  id: string;
  state: GrantState;
  cloud: string;
  principal: { type: string; id: string };
  target: { kind: string } & Record<string, unknown>;
  requestedBy: string;
  justification: string | null;
  duration: string;
  createdAt: string;
  startsAt: string | null;
  expiresAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  approvals: { approver: string; decision: 'approved' | 'denied'; comment?: string; at: string }[];
  decision: { rule: string; mode: string; approvalsRequired: number; approverGroups: string[] } | null;
  approvalDeadline?: string | null;
  lastError?: unknown;
  /** `aws.sts-credentials`: only in the response that created the grant, never again. */
  credentials?: Record<string, string>;
}

/** States a grant never leaves. */
export const ENDED_STATES: readonly GrantState[] = ['expired', 'revoked', 'denied', 'failed'];

/** Approvals received so far, of those the rule requires. */
export function approvalsOf(g: GrantView): { received: number; required: number } {
  return { received: g.approvals.filter((a) => a.decision === 'approved').length, required: g.decision?.approvalsRequired ?? 0 };
}
