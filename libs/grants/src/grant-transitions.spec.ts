import { AuditChainStore, AuditEventInput, Grant, GrantAggregate, GrantPatch, GrantRepository, GrantState, SystemClock, Transaction, UnitOfWork } from '@jit/domain';
import { AuditLog } from '@jit/audit';
import { GrantTransitions } from './grant-transitions';
import { LifecycleHooks } from './lifecycle-hooks';

const T = (s: number) => new Date(Date.UTC(2026, 11, 5, 12, 0, s));

const active: Grant = {
  id: '00000000-0000-4000-8000-000000000002',
  state: 'active',
  cloud: 'gcp',
  kind: 'gcp.iam-binding',
  principal: { type: 'workload', id: 'serviceAccount:ci@p.iam.gserviceaccount.com' },
  target: { kind: 'gcp.iam-binding', resource: 'projects/p', role: 'roles/viewer' },
  requestedBy: 'alice',
  justification: null,
  ticket: null,
  durationSeconds: 60,
  createdAt: T(0),
  startsAt: T(0),
  expiresAt: T(60),
  endedAt: null,
  endReason: null,
  approvals: [],
  decision: null,
  approvalDeadline: null,
  artifactName: 'jit-2',
  overlapKey: 'k',
  providerRef: { id: 'b' },
  lastError: null,
  attempts: 0,
  nextAttemptAt: null,
};

/**
 * A unit of work that commits whatever it is asked to, and keeps what it was asked and the events chained with it
 * (`write`, one write with its events, is the port's own, through `run`).
 */
class RecordingStore extends UnitOfWork {
  calls: { from: GrantState; to: GrantState; patch: GrantPatch; events: AuditEventInput[] }[] = [];
  refuse = false;
  async run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    let call: (typeof this.calls)[number] | undefined;
    const tx: Transaction = {
      grants: {
        insert: async (g) => g,
        transition: async (_id, from, to, patch) => {
          if (this.refuse) return null;
          // The row as committed: with a field the caller's copy did not have (another writer's), to show events describe the row.
          call = { from, to, patch, events: [] };
          this.calls.push(call);
          return { ...active, ...patch, state: to, lastError: 'from the row' };
        },
      },
      auditChain: {
        stage: async (events) => {
          call?.events.push(...events.map(({ type, grantId, cloud, principal, actor, data }) => ({ type, grantId, cloud, principal, actor, data })));
        },
      },
      // Chaining is the audit log's own business (audit-log.spec.ts); these calls record what was staged.
      afterCommit: () => undefined,
    };
    return work(tx);
  }
  async findById(): Promise<Grant | null> {
    return { ...active, state: 'expired' };
  }
}

class RecordingHooks extends LifecycleHooks {
  seen: string[] = [];
  revocationLag(): void {}
  providerCall(): void {}
  decided(): void {}
  transitioned(to: GrantState): void {
    this.seen.push(`transitioned ${to}`);
  }
  workDue(_g: Grant, at: Date): void {
    this.seen.push(`due ${at.toISOString()}`);
  }
}

describe(GrantTransitions.name, () => {
  const setup = () => {
    const store = new RecordingStore();
    const hooks = new RecordingHooks();
    const audit = new AuditLog(store, {} as AuditChainStore, new SystemClock());
    return { store, hooks, transitions: new GrantTransitions(store, store as unknown as GrantRepository, audit, hooks) };
  };

  describe('apply', () => {
    it('should write the change guarded on its starting state, holding the row only when asked, with its events rendered from the committed row', async () => {
      const { store, hooks, transitions } = setup();
      const change = GrantAggregate.startRevoke(active, { actor: 'alice', reason: 'done', retryAt: T(30) });
      await transitions.apply(change, T(30));
      expect(store.calls[0]).toMatchObject({ from: 'active', to: 'revoking', patch: { endReason: 'revoked', nextAttemptAt: T(30), leaseUntil: T(30) } });
      expect(store.calls[0].events).toEqual([
        { type: 'grant.revoke_requested', grantId: active.id, cloud: 'gcp', principal: active.principal.id, actor: 'alice', data: { reason: 'done' } },
      ]);
      expect(hooks.seen).toEqual(['transitioned revoking', `due ${T(30).toISOString()}`]);

      await transitions.apply(GrantAggregate.forceClose({ ...active, state: 'revoke_failed' }, { actor: 'admin', reason: null, now: T(40) }));
      expect('leaseUntil' in store.calls[1].patch).toBe(false);
      expect(store.calls[1].events[0].data).toEqual({ forced: true, reason: null, lastError: 'from the row' });
    });

    it('should report no transition when the state stays, and nothing when another writer got there first', async () => {
      const { store, hooks, transitions } = setup();
      await transitions.apply(GrantAggregate.failRevoke({ ...active, state: 'revoking' }, { reason: 'expired', error: 'x', giveUp: false, nextAttemptAt: T(70) }));
      expect(hooks.seen).toEqual([`due ${T(70).toISOString()}`]);
      store.refuse = true;
      expect(await transitions.apply(GrantAggregate.expire(active, { revokeIssuedAt: T(60), endedAt: T(61) }))).toBeNull();
      expect(await transitions.applyOrReload(GrantAggregate.expire(active, { revokeIssuedAt: T(60), endedAt: T(61) }))).toMatchObject({ state: 'expired' });
      expect(hooks.seen).toHaveLength(1);
    });
  });
});
