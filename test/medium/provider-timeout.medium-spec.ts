import { randomUUID } from 'node:crypto';
import { Grant, Principal, ProviderError, SystemClock, Target } from '@jit/domain';
import { CloudProviderRegistry } from '@jit/grants';
import { LocalCloudProvider } from '@jit/provider-local';
import { grantRow, targetKinds } from '@jit/testing';
import { openTestDatabase } from '../setup/test-database';
import { postgresStores } from '../setup/postgres-stores';
import { wireGrantUseCases } from '../setup/wire-grant-use-cases';

/**
 * JIT_PROVIDER_TIMEOUT cancels the cloud call it bounds: the adapter sees its signal aborted and
 * stops (the in-memory cloud records the call as aborted and makes no change), instead of the
 * call running on unobserved behind a lost Promise.race.
 */
describe('the provider timeout cancels the call', () => {
  type Db = Awaited<ReturnType<typeof openTestDatabase>>;
  let db: Db;

  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  function provisioning(provider: LocalCloudProvider): Grant {
    const id = randomUUID();
    const target: Target = { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['*'] };
    const principal = { type: 'workload' as const, id: `arn:aws:iam::123456789012:role/r-${id.slice(0, 8)}` };
    return grantRow(provider, { id, state: 'provisioning', expiresAt: new Date(Date.now() + 3_600_000), durationSeconds: 3600, target, principal });
  }

  it('should abort a grant call that outlives the timeout, leave nothing in the cloud, and fail the grant as transient', async () => {
    const aws = new LocalCloudProvider('aws', targetKinds);
    const registry = new CloudProviderRegistry([aws]);
    const stores = postgresStores(db.dataSource, new SystemClock(), 'r1');
    const settings = { leaseMs: 30_000, providerTimeoutMs: 200, revokeMaxAttempts: 3, revokeFailedRetryMs: 60_000 };
    const g = provisioning(aws);
    await stores.insert(g, null, [], new Date(Date.now() + settings.leaseMs));
    aws.inject({ latencyMs: 60_000 });
    const { lifecycle } = wireGrantUseCases(stores, registry, new SystemClock(), settings);

    const result = await lifecycle.provision(g, { recovered: false, attempts: 1 });

    expect('error' in result && result.error.kind).toBe('transient');
    expect('error' in result && result.error.message).toMatch(/timed out after 200 ms/);
    // Both the grant and the cleanup revoke that followed it were cancelled at the deadline.
    expect(aws.aborted.filter((c) => c.grantId === g.id).map((c) => c.op)).toEqual(['grant', 'revoke']);
    expect(aws.size).toBe(0);
    aws.inject({ latencyMs: 0 });
  });

  it("should cancel the lookups before the rules (principal type, canonical name) at the timeout too", async () => {
    const seen: AbortSignal[] = [];
    class SlowDirectory extends LocalCloudProvider {
      override verifyPrincipal(_principal: Principal, _target: Target, signal?: AbortSignal): Promise<void> {
        if (signal) seen.push(signal);
        return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));
      }
    }
    const azure = new SlowDirectory('azure');
    const settings = { leaseMs: 30_000, providerTimeoutMs: 150, revokeMaxAttempts: 3, revokeFailedRetryMs: 60_000 };
    const { lifecycle } = wireGrantUseCases(postgresStores(db.dataSource, new SystemClock(), 'r1'), new CloudProviderRegistry([azure]), new SystemClock(), settings);
    const target: Target = { kind: 'azure.app-role', resourceServicePrincipalId: randomUUID(), appRoleId: randomUUID() };

    const error = await lifecycle.lookup(azure, { type: 'workload', id: randomUUID() }, target).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).message).toMatch(/azure lookup timed out after 150 ms/);
    expect(seen).toHaveLength(1);
    expect(seen[0].aborted).toBe(true);
  });
});
