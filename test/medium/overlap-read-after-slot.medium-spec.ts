import { randomUUID } from 'node:crypto';
import { Grant, GrantContext, GrantSpec, GrantState, SystemClock } from '@jit/domain';
import { CallGate, CloudProviderRegistry } from '@jit/grants';
import { LocalCloudProvider } from '@jit/provider-local';
import { grantRow, targetKinds } from '@jit/testing';
import { openTestDatabase } from '../setup/test-database';
import { postgresStores } from '../setup/postgres-stores';
import { wireGrantUseCases } from '../setup/wire-grant-use-cases';

const SETTINGS = { leaseMs: 60_000, providerTimeoutMs: 10_000, revokeMaxAttempts: 3, revokeFailedRetryMs: 60_000 };

/** The local cloud, keeping the overlapping grants each revoke was told about. */
class OverlapRecordingCloud extends LocalCloudProvider {
  readonly revokedWith = new Map<string, string[]>();
  override async revoke(spec: GrantSpec, context: GrantContext & { early: boolean }, signal?: AbortSignal): Promise<void> {
    this.revokedWith.set(spec.grantId, context.overlapping.map((o) => o.grantId));
    return super.revoke(spec, context, signal);
  }
}

/**
 * Design §4 (overlapping grants must not cut each other off) with the sweeper's slots: an expiry
 * may wait at its cloud's gate (up to a quarter of the lease in a catch-up) while a newer grant of
 * the same principal, permission and scope is provisioned and reuses the access. The revoke must
 * be told of that grant, so the overlap read comes after the slot, not before the wait.
 */
describe('the overlap read of a revoke that waited for a slot', () => {
  type Db = Awaited<ReturnType<typeof openTestDatabase>>;
  let db: Db;

  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it('should pass the revoke a live overlapping grant stored while the expiry waited at the gate', async () => {
    const aws = new OverlapRecordingCloud('aws', targetKinds);
    const stores = postgresStores(db.dataSource, new SystemClock(), 'sweeper');
    const use = wireGrantUseCases(stores, new CloudProviderRegistry([aws]), new SystemClock(), SETTINGS);
    const principal = { type: 'workload' as const, id: `arn:aws:iam::123456789012:role/r-${randomUUID().slice(0, 8)}` };
    const target = { kind: 'aws.iam-policy' as const, actions: ['s3:GetObject'], resources: ['*'] };
    const row = (state: GrantState, expiresAt: Date): Grant => grantRow(aws, { id: randomUUID(), state, expiresAt, durationSeconds: 3600, target, principal });

    // Grant A has expired and is claimed by the sweeper; nothing else of its key is live yet.
    const a = row('active', new Date(Date.now() - 1_000));
    await stores.insert(a, null, [], new Date(Date.now() + SETTINGS.leaseMs));
    const b = row('active', new Date(Date.now() + 3_600_000));
    expect(b.overlapKey).toBe(a.overlapKey);

    // A's slot is given only once grant B (same key) is stored live, as when B is provisioned during A's wait.
    let left = 0;
    const gate: CallGate = {
      enter: async () => {
        await stores.insert(b, null, [], null);
      },
      leave: () => void left++,
    };
    const ended = await use.processDue.execute(a, gate);

    expect(ended).toMatchObject({ id: a.id, state: 'expired' });
    expect(aws.revokedWith.get(a.id)).toEqual([b.id]);
    expect(left).toBe(1);
  });
});
