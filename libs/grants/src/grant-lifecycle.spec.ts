import { CloudAccessProvider, Grant, GrantRepository, GrantState, SystemClock } from '@jit/domain';
import { CloudProviderRegistry } from './cloud-provider.registry';
import { GrantLifecycle, coversOverlap } from './grant-lifecycle';
import { GrantTransitions } from './grant-transitions';
import { LifecycleHooks } from './lifecycle-hooks';

const now = new Date();
const active: Grant = {
  id: '00000000-0000-4000-8000-000000000003',
  state: 'active',
  cloud: 'gcp',
  kind: 'gcp.iam-binding',
  principal: { type: 'workload', id: 'serviceAccount:ci@p.iam.gserviceaccount.com' },
  target: { kind: 'gcp.iam-binding', resource: 'projects/p', role: 'roles/viewer' },
  requestedBy: 'alice',
  justification: null,
  ticket: null,
  durationSeconds: 60,
  createdAt: now,
  startsAt: now,
  expiresAt: now,
  endedAt: null,
  endReason: null,
  approvals: [],
  decision: null,
  approvalDeadline: null,
  artifactName: 'jit-3',
  overlapKey: 'k',
  providerRef: { id: 'b' },
  lastError: null,
  attempts: 0,
  nextAttemptAt: null,
};

class RecordingHooks extends LifecycleHooks {
  failed: { id: string; error: unknown }[] = [];
  calls: string[] = [];
  revocationLag(): void {}
  providerCall(cloud: string, operation: string): void {
    this.calls.push(`${cloud} ${operation}`);
  }
  transitioned(_to: GrantState): void {}
  workDue(): void {}
  decided(): void {}
  override writeFailed(grant: Grant, error: unknown): void {
    this.failed.push({ id: grant.id, error });
  }
}

describe(GrantLifecycle.name, () => {
  describe('endAccess', () => {
    it('should report a read lost before the cloud call as a failure of the grant\'s work, so its claim is handed back, and call no cloud', async () => {
      const lost = Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
      const store = { liveWithOverlapKey: () => Promise.reject(lost) } as unknown as GrantRepository;
      const hooks = new RecordingHooks();
      const revoked: string[] = [];
      const gcp = { cloud: 'gcp', revoke: (spec: { grantId: string }) => Promise.resolve(void revoked.push(spec.grantId)) } as unknown as CloudAccessProvider;
      const lifecycle = new GrantLifecycle(
        {} as GrantTransitions,
        store,
        new CloudProviderRegistry([gcp]),
        new SystemClock(),
        { leaseMs: 60_000, providerTimeoutMs: 1_000, revokeMaxAttempts: 3, revokeFailedRetryMs: 60_000 },
        hooks,
      );
      await expect(lifecycle.endAccess(active, 'expired')).rejects.toBe(lost);
      expect(hooks.failed).toEqual([{ id: active.id, error: lost }]);
      expect(hooks.calls).toEqual([]);
      expect(revoked).toEqual([]);
    });

    it('should read the overlaps only once it holds its slot, and free the slot when that read is lost', async () => {
      const lost = new Error('Connection terminated unexpectedly');
      const order: string[] = [];
      const store = { liveWithOverlapKey: () => (order.push('read'), Promise.reject(lost)) } as unknown as GrantRepository;
      const gcp = { cloud: 'gcp', revoke: () => Promise.resolve(void order.push('revoke')) } as unknown as CloudAccessProvider;
      const lifecycle = new GrantLifecycle(
        {} as GrantTransitions,
        store,
        new CloudProviderRegistry([gcp]),
        new SystemClock(),
        { leaseMs: 60_000, providerTimeoutMs: 1_000, revokeMaxAttempts: 3, revokeFailedRetryMs: 60_000 },
        new RecordingHooks(),
      );
      const gate = { enter: async () => void order.push('enter'), leave: () => void order.push('leave') };
      await expect(lifecycle.endAccess(active, 'expired', gate)).rejects.toBe(lost);
      expect(order).toEqual(['enter', 'read', 'leave']);
    });
  });
  describe('overlapping', () => {
    const other = (id: string, patch: Partial<Grant>): Grant => ({ ...active, id: `00000000-0000-4000-8000-00000000001${id}`, ...patch });
    const stored = [
      other('1', { state: 'active' }),
      other('2', { state: 'revoking', endReason: 'revoked' }),
      other('3', { state: 'revoke_failed', endReason: 'revoked' }),
      other('4', { state: 'provisioning' }),
      other('5', { state: 'provisioning', endReason: 'failed' }),
      other('6', { state: 'active', revokeRequest: { at: now, by: 'bob', reason: null } }),
    ];
    const covering = [stored[0].id, stored[3].id];

    function setup() {
      const seen: { op: string; overlapping: string[] }[] = [];
      const store = { liveWithOverlapKey: () => Promise.resolve(stored) } as unknown as GrantRepository;
      const record = (op: string) => (_spec: unknown, context: { overlapping: { grantId: string }[] }) =>
        Promise.resolve(void seen.push({ op, overlapping: context.overlapping.map((o) => o.grantId) }));
      const gcp = { cloud: 'gcp', revoke: record('revoke') } as unknown as CloudAccessProvider;
      const transitions = { applyOrReload: (change: { grant?: Grant }) => Promise.resolve(change.grant ?? active), apply: () => Promise.resolve(active) } as unknown as GrantTransitions;
      const lifecycle = new GrantLifecycle(
        transitions,
        store,
        new CloudProviderRegistry([gcp]),
        new SystemClock(),
        { leaseMs: 60_000, providerTimeoutMs: 1_000, revokeMaxAttempts: 3, revokeFailedRetryMs: 60_000 },
        new RecordingHooks(),
      );
      return { lifecycle, seen };
    }

    it('should tell a revoke only of the grants that still cover the key, not of those being ended', async () => {
      const { lifecycle, seen } = setup();
      await lifecycle.endAccess({ ...active, state: 'revoking' }, 'revoked').catch(() => undefined);
      expect(seen).toEqual([{ op: 'revoke', overlapping: covering }]);
    });

    it('should tell the cleanup of a failed provisioning of the grants still covering the key, so it keeps their access', async () => {
      const { lifecycle, seen } = setup();
      await lifecycle.failProvisioning({ ...active, state: 'provisioning' }, 'refused').catch(() => undefined);
      expect(seen).toEqual([{ op: 'revoke', overlapping: covering }]);
    });

    it('should count a grant as covering only while provisioning or active and not being ended', () => {
      expect(stored.map(coversOverlap)).toEqual([true, false, false, true, false, false]);
    });
  });
});
