import { CloudAccessProvider, Grant, GrantRepository, GrantState, SystemClock } from '@jit/domain';
import { CloudProviderRegistry } from './cloud-provider.registry';
import { GrantLifecycle } from './grant-lifecycle';
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
});
