import { createHash } from 'node:crypto';
import { describeProviderContract } from '@jit/testing';
import { CONTRACT_ROLE, startGcpContractEnv } from './gcp-contract.env';

/**
 * GCP access is per principal and role, and the shared suite's first case leaves its grant in
 * place, so a principal reused across cases would still hold the role there. Each case gets its
 * own principal (same within the case, as the overlap case needs); `variant` picks another one.
 */
function memberFor(variant: number | undefined): string {
  const test = createHash('sha256').update(expect.getState().currentTestName ?? '').digest('hex').slice(0, 12);
  return `user:case-${test}${variant ? `-v${variant}` : ''}@example.com`;
}

describeProviderContract('gcp.iam-binding', async () => {
  const env = await startGcpContractEnv(['projects/contract-project']);
  const resource = env.simulator.createProject('contract-project');
  const provider = env.provider();
  return {
    provider,
    spec: (o = {}) => {
      const spec = env.spec(resource, { grantId: o.grantId, expiresAt: o.expiresAt, member: memberFor(o.variant) });
      return { ...spec, artifactName: provider.artifactName(spec.grantId, spec.target) };
    },
    holds: async (spec, at) => env.simulator.holds(resource, spec.principal.id, CONTRACT_ROLE, at),
    throttleNext: (count) => env.simulator.inject({ throttle: count }),
    failNext: (count) => env.simulator.inject({ serverError: count }),
    restartedProvider: () => env.provider(),
    cloudSideExpiry: true,
    // The timestamp in each stored binding condition of the spec's member (one member per case).
    cloudDeadlines: async (spec) =>
      (env.simulator.policy(resource)?.bindings ?? [])
        .filter((b) => b.role === CONTRACT_ROLE && b.members.includes(spec.principal.id) && b.condition)
        .map((b) => new Date(/timestamp\("([^"]+)"\)/.exec(b.condition!.expression)![1])),
    close: () => env.close(),
  };
});
