import { z } from 'zod';
import { ApprovalStep } from '@jit/domain';

/** One approval step as the API shows it: every step must be met, by distinct approvers. */
export const approvalStepResponse = z
  .object({
    approvalsRequired: z.number().int().min(1),
    approverGroups: z.array(z.string()),
  })
  .meta({ id: 'ApprovalStep', description: 'One approval step: approvalsRequired distinct approvers from any of approverGroups' });

export function stepResponse(s: ApprovalStep): z.infer<typeof approvalStepResponse> {
  return { approvalsRequired: s.required, approverGroups: s.groups };
}
