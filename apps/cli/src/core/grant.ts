import type { Grant, GrantState } from '@jit/client';

/** A grant as the API answers it: @jit/client's type, generated from docs/openapi.json. */
export type GrantView = Grant;

/** States a grant never leaves. */
export const ENDED_STATES: readonly GrantState[] = ['expired', 'revoked', 'denied', 'failed'];

/** Approvals received so far, of those the rule requires. */
export function approvalsOf(g: GrantView): { received: number; required: number } {
  return { received: g.approvals.filter((a) => a.decision === 'approved').length, required: g.decision?.approvalsRequired ?? 0 };
}
