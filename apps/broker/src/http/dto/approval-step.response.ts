import { ApprovalStep } from '@jit/domain';

/** One approval step as the API shows it: every step must be met, by distinct approvers. */
export function stepResponse(s: ApprovalStep): { approvalsRequired: number; approverGroups: string[] } {
  return { approvalsRequired: s.required, approverGroups: s.groups };
}
