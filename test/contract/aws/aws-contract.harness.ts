import { randomUUID } from 'node:crypto';
import { GrantSpec, Target } from '@jit/domain';
import { awsTarget } from '@jit/provider-aws';
import { AwsSimulator } from '@jit/sim-aws';
import { ContractHarness } from '@jit/testing';
import { awsTestProvider } from './aws-test-provider';

export type PolicyKind = 'aws.iam-policy' | 'aws.assume-role';

/**
 * A `ContractHarness` for one identity-policy kind: a fresh simulator, a target role, and the
 * real adapter pointed at it. Each test (and each `variant` within it) gets its own principal
 * role: the shared suite leaves some grants active, and `holds` evaluates the principal's whole
 * policy as IAM would, so a leftover grant with the same permission must not be on the same role.
 */
export async function awsContractHarness(kind: PolicyKind): Promise<ContractHarness & { sim: AwsSimulator }> {
  const sim = await AwsSimulator.start({ port: 0 });
  const targetRole = sim.createRole('contract-target');
  const principals = new Map<string, string>();
  const principalFor = (variant: number): string => {
    const key = `${expect.getState().currentTestName}#${variant}`;
    if (!principals.has(key)) principals.set(key, sim.createRole(`contract-principal-${principals.size}`));
    return principals.get(key)!;
  };
  const options = { reconcilePrincipals: [] };
  const provider = awsTestProvider(sim, options);
  const target = (): Target =>
    kind === 'aws.iam-policy'
      ? { kind, actions: ['s3:GetObject', 's3:PutObject'], resources: ['arn:aws:s3:::contract-bucket/*'] }
      : { kind, roleArn: targetRole };

  return {
    sim,
    provider,
    cloudSideExpiry: true,
    spec({ grantId = randomUUID(), expiresAt = new Date(Date.now() + 3_600_000), variant = 0 } = {}): GrantSpec {
      const t = target();
      return {
        grantId,
        principal: { type: 'workload', id: principalFor(variant) },
        target: t,
        startsAt: new Date(),
        expiresAt,
        requestedBy: 'contract-test',
        justification: 'contract',
        artifactName: provider.artifactName(grantId, t),
      };
    },
    async holds(spec, at) {
      const t = awsTarget(spec.target);
      if (t.kind === 'aws.assume-role') return sim.isAllowed(spec.principal.id, 'sts:AssumeRole', t.roleArn, at);
      if (t.kind !== 'aws.iam-policy') throw new Error(`unexpected ${t.kind}`);
      return t.actions.every((a) => t.resources.every((r) => sim.isAllowed(spec.principal.id, a, r.replace('*', 'key.txt'), at)));
    },
    // Every aws:CurrentTime cutoff in the principal's stored inline policies (one principal per case).
    async cloudDeadlines(spec) {
      const statements = Object.values(sim.inlinePolicies(spec.principal.id)).flatMap((text) => {
        const doc = JSON.parse(text.trimStart().startsWith('{') ? text : decodeURIComponent(text)) as { Statement: unknown };
        return (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) as { Effect: string; Condition?: { DateLessThan?: Record<string, string> } }[];
      });
      return statements.filter((s) => s.Effect === 'Allow' && s.Condition?.DateLessThan?.['aws:CurrentTime']).map((s) => new Date(s.Condition!.DateLessThan!['aws:CurrentTime']));
    },
    throttleNext: (count) => sim.inject({ throttle: count }),
    failNext: (count) => sim.inject({ serverError: count }),
    restartedProvider: () => awsTestProvider(sim, options),
    close: () => sim.close(),
  };
}
