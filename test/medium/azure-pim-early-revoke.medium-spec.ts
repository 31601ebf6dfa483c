import { setTimeout as sleep } from 'node:timers/promises';
import { Grant, SystemClock } from '@jit/domain';
import { CloudProviderRegistry } from '@jit/grants';
import { LocalCloudProvider } from '@jit/provider-local';
import { targetKinds } from '@jit/testing';
import { AzureSimulator } from '@jit/sim-azure';
import { MECHANISMS, holdsQuery, specFactory } from '../contract/azure/azure-harness.factory';
import { providerFor, startSeededSimulator } from '../contract/azure/azure-world.fixture';
import { openTestDatabase } from '../setup/test-database';
import { wireGrantUseCases } from '../setup/wire-grant-use-cases';
import { auditChained, postgresStores } from '../setup/postgres-stores';

/** The simulator's removal window, short enough to wait out; the adapter still assumes PIM's five minutes. */
const SHORT_WINDOW_MS = 1_500;
const MINUTE = 60_000;
const SETTINGS = { leaseMs: 60_000, providerTimeoutMs: 10_000, revokeMaxAttempts: 6, revokeFailedRetryMs: 15 * MINUTE };

/**
 * Issue 18 point 1 through the lifecycle on a real database: an early revoke of a PIM grant
 * inside PIM's five-minute removal window is a retry scheduled at assignment time + 5 min
 * (audited as grant.revoke_retried), and the retry ends it `revoked`, never `revoke_failed`.
 */
describe('early revoke of a PIM grant inside the five-minute window', () => {
  type Db = Awaited<ReturnType<typeof openTestDatabase>>;
  let db: Db;
  let sim: AzureSimulator;

  beforeAll(async () => {
    db = await openTestDatabase();
    sim = await startSeededSimulator({ pimRemovalWindowMs: SHORT_WINDOW_MS });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.close();
  });

  it('should retry at assignment time + 5 min and end revoked', async () => {
    const azure = providerFor(sim);
    const registry = new CloudProviderRegistry([azure, new LocalCloudProvider('aws', targetKinds), new LocalCloudProvider('gcp', targetKinds)]);
    const store = postgresStores(db.dataSource, new SystemClock(), 'medium');
    const { revoke, processDue } = wireGrantUseCases(store, registry, new SystemClock(), SETTINGS);
    const spec = specFactory(azure, MECHANISMS.directoryRole)({ expiresAt: new Date(Date.now() + 30 * MINUTE) });
    await azure.grant(spec, { overlapping: [] });
    const [made] = sim.pimSchedules(spec.principal.id, holdsQuery(spec.target) as Parameters<AzureSimulator['pimSchedules']>[1]);
    const grant: Grant = {
      id: spec.grantId,
      state: 'active',
      cloud: 'azure',
      kind: spec.target.kind,
      principal: spec.principal,
      target: spec.target,
      requestedBy: 'alice',
      justification: spec.justification,
      ticket: null,
      durationSeconds: 1800,
      createdAt: spec.startsAt,
      startsAt: spec.startsAt,
      expiresAt: spec.expiresAt,
      endedAt: null,
      endReason: null,
      approvals: [],
      artifactName: spec.artifactName,
      overlapKey: azure.overlapKey(spec.principal, spec.target),
      providerRef: { mechanism: 'Graph PIM (directory role)', artifactName: spec.artifactName },
      lastError: null,
      attempts: 0,
      nextAttemptAt: null,
      decision: null,
      approvalDeadline: null,
    };
    await store.insert(grant, null, [], null);

    const refused = await revoke.execute({ subject: 'alice', roles: ['requester'] }, grant.id, { reason: 'job done', force: false });
    expect(refused.state).toBe('revoking');
    expect(refused.lastError).toContain('ActiveDurationTooShort');
    // Retried when PIM allows it, not after a capped minute that would burn the attempts.
    expect(refused.nextAttemptAt!.getTime()).toBeGreaterThanOrEqual(made.createdAt.getTime() + 5 * MINUTE);
    expect(refused.nextAttemptAt!.getTime()).toBeLessThanOrEqual(made.createdAt.getTime() + 6 * MINUTE);
    expect(sim.holds(spec.principal.id, holdsQuery(spec.target))).toBe(true);

    // The sweeper's retry, once the simulator's (shortened) window has passed.
    while (Date.now() < made.createdAt.getTime() + SHORT_WINDOW_MS + 100) await sleep(50);
    const ended = await processDue.execute((await store.grants.findById(grant.id))!);
    expect(ended.state).toBe('revoked');
    expect(sim.holds(spec.principal.id, holdsQuery(spec.target))).toBe(false);

    await auditChained(db.dataSource);
    const events: { type: string; data: { nextAttemptAt?: string; error?: string } }[] = await db.dataSource.query(
      `SELECT type, data FROM audit_events WHERE grant_id = $1 ORDER BY seq`,
      [grant.id],
    );
    expect(events.map((e) => e.type)).toEqual(['grant.revoke_requested', 'grant.revoke_retried', 'grant.revoked']);
    expect(events[1].data.error).toContain('five minutes');
  });
});
