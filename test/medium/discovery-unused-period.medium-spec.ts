import { StandingAssignment } from '@jit/domain';
import { DEFAULT_PRIVILEGE_CRITERIA, DiscoveryScanner } from '@jit/discovery';
import { LocalStandingInventory } from '@jit/provider-local';
import { PostgresDiscoveryStore } from '@jit/persistence';
import { ManualClock } from '@jit/testing';
import { openTestDatabase } from '../setup/test-database';

/**
 * "Unused for N days" on the database for a cloud that reports usage for a period rather than a
 * last use (GCP's policy insights): nothing used in a period of at least N days counts, a shorter
 * period or something used does not. Not "never used": GCP does not know what came before.
 */
function assignment(key: string, usage: StandingAssignment['usage'], over: Partial<StandingAssignment> = {}): StandingAssignment {
  return {
    cloud: 'gcp',
    key,
    principal: { id: `user:${key}@example.com`, kind: 'user', human: true },
    scope: 'projects/p1',
    access: { type: 'gcp.role-binding', name: 'roles/owner' },
    since: null,
    lastUsedAt: null,
    neverUsed: false,
    usage,
    brokerOwned: false,
    removable: true,
    locator: { key },
    ...over,
  };
}

describe('discovery: unused in the usage period', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let store: PostgresDiscoveryStore;
  const clock = new ManualClock(new Date('2026-11-01T00:00:00Z'));

  beforeAll(async () => {
    db = await openTestDatabase();
    store = new PostgresDiscoveryStore(db.dataSource);
  });
  afterAll(async () => db.close());

  it('should count a finding with nothing used in a period of at least N days as unused for N days, and no other', async () => {
    await db.dataSource.query(
      'TRUNCATE discovery_removals, discovery_finding_history, discovery_findings, discovery_scan_parts, discovery_scans, discovery_leases CASCADE',
    );
    const inv = new LocalStandingInventory('gcp');
    inv.seed(
      assignment('idle-90', { granted: ['roles/owner'], used: [], periodDays: 90 }),
      assignment('idle-30', { granted: ['roles/owner'], used: [], periodDays: 30 }),
      assignment('busy-90', { granted: ['roles/owner'], used: ['resourcemanager.projects.get'], periodDays: 90 }, { lastUsedAt: new Date(clock.now().getTime() - 86_400_000) }),
      assignment('unknown', null),
    );
    const scanner = new DiscoveryScanner(store, [inv], DEFAULT_PRIVILEGE_CRITERIA, clock, () => undefined, {
      // No assignment here claims to be the broker's: no grant is asked for.
      grants: { findByIds: async () => [] },
      owner: 'r1',
      leaseMs: 60_000,
      retry: { maxAttempts: 2, backoff: { baseMs: 1, capMs: 5, jitter: 'equal' } },
    });
    expect(await scanner.create('manual', 'admin')).not.toBeNull();
    expect((await scanner.runPending()).scan?.state).toBe('completed');

    const keys = async (days: number) => (await store.listFindings({ unusedForDays: days }, { limit: 100 }, clock.now())).map((f) => f.key).sort();
    expect(await keys(90)).toEqual(['idle-90']);
    expect(await keys(30)).toEqual(['idle-30', 'idle-90']);
    expect(await keys(91)).toEqual([]);
    expect(await store.summary(90, clock.now())).toEqual([expect.objectContaining({ cloud: 'gcp', open: 4, privileged: 4, privilegedUnused: 1 })]);
    expect(await store.summary(30, clock.now())).toEqual([expect.objectContaining({ privilegedUnused: 2 })]);
  });
});
