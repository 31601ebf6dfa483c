import { randomUUID } from 'node:crypto';
import { CloudAccessProvider, GrantSpec, Target } from '@jit/domain';

/** A grant spec for the AWS adapter; the window defaults to now .. now + 1 h. */
export function awsGrantSpec(
  provider: CloudAccessProvider,
  principalArn: string,
  target: Target,
  window: { startsAt?: Date; expiresAt?: Date; grantId?: string } = {},
): GrantSpec {
  const grantId = window.grantId ?? randomUUID();
  const startsAt = window.startsAt ?? new Date();
  return {
    grantId,
    principal: { type: 'workload', id: principalArn },
    target,
    startsAt,
    expiresAt: window.expiresAt ?? new Date(startsAt.getTime() + 3_600_000),
    requestedBy: 'aws-contract',
    justification: 'aws contract',
    artifactName: provider.artifactName(grantId, target),
  };
}
