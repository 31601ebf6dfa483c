import { StandingAssignment } from '@jit/domain';
import { Database } from '@jit/persistence';
import { pollUntil } from '../setup/poll-until.util';
import { TestBroker, startTestBroker } from '../setup/test-broker';
import { openTestDatabase } from '../setup/test-database';

/**
 * A scan stopped mid-way (its broker shut down while listing a slow cloud) is carried on by the
 * next broker on the same database from the stored cursor: no page is read twice, none missed.
 */
const ASSIGNMENTS: StandingAssignment[] = Array.from({ length: 40 }, (_, i) => ({
  cloud: 'gcp',
  key: `gcp:projects/big-project:roles/editor:user:u${String(i).padStart(2, '0')}@example.com`,
  principal: { id: `user:u${String(i).padStart(2, '0')}@example.com`, kind: 'user', human: true },
  scope: 'projects/big-project',
  access: { type: 'gcp.role-binding', name: 'roles/editor' },
  since: null,
  lastUsedAt: null,
  brokerOwned: false,
  removable: true,
  locator: {},
}));

describe('a discovery scan resumed by the next broker (e2e)', () => {
  let db: Database;
  let first: TestBroker | undefined;
  let second: TestBroker | undefined;

  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await db.close();
  });

  it('should carry on from the stored cursor after the broker scanning it stopped', async () => {
    first = await startTestBroker({}, { database: db });
    first.clouds.gcp.inventory.seed(...ASSIGNMENTS);
    first.clouds.gcp.inventory.pageSize = 1;
    first.clouds.gcp.inventory.inject({ latencyMs: 40 });
    const started = await first.http.post('/v1/discovery/scans').set(first.as('admin')).expect(202);
    // Some pages stored, not all: then the broker goes away (its cloud calls are cancelled).
    await pollUntil(async () => {
      const scan = await first!.http.get(`/v1/discovery/scans/${started.body.id}`).set(first!.as('admin')).expect(200);
      return scan.body.clouds.find((c: { cloud: string }) => c.cloud === 'gcp')?.pages >= 5 ? true : undefined;
    }, 20_000);
    await first.close();
    first = undefined;
    const stopped: { cursor: string; pages: number }[] = await db.dataSource.query(`SELECT cursor, pages FROM discovery_scan_parts WHERE scan_id = $1 AND cloud = 'gcp'`, [started.body.id]);
    expect(stopped[0].pages).toBeGreaterThanOrEqual(5);
    expect(stopped[0].pages).toBeLessThan(40);
    expect(stopped[0].cursor).toBe(String(stopped[0].pages));

    second = await startTestBroker({}, { database: db });
    second.clouds.gcp.inventory.seed(...ASSIGNMENTS);
    second.clouds.gcp.inventory.pageSize = 1;
    // The new broker's scheduler finds the running scan at start and takes it over.
    const done = await pollUntil(async () => {
      const scan = await second!.http.get(`/v1/discovery/scans/${started.body.id}`).set(second!.as('admin')).expect(200);
      return scan.body.state === 'running' ? undefined : scan.body;
    }, 30_000);
    expect(done.state).toBe('completed');
    const gcp = done.clouds.find((c: { cloud: string }) => c.cloud === 'gcp');
    expect(gcp).toMatchObject({ pages: 40, assignments: 40, errors: 0 });
    const asked = second.clouds.gcp.inventory.calls.filter((c) => c.op === 'page').map((c) => c.cursor);
    expect(asked[0]).toBe(stopped[0].cursor);
    expect(asked).toHaveLength(40 - stopped[0].pages);
    expect(second.clouds.gcp.inventory.calls.some((c) => c.op === 'parts')).toBe(false);
    const findings = await second.http.get('/v1/discovery/findings?cloud=gcp&limit=500').set(second.as('admin')).expect(200);
    expect(findings.body.items).toHaveLength(40);
  });
});
