import { DataSource } from 'typeorm';
import { CuttableProxy, ProxyTarget } from '@jit/testing';
import { Database, createDataSource } from '@jit/persistence';
import { pollUntil } from '../setup/poll-until.util';
import { openTestDatabase } from '../setup/test-database';
import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

/** Longer than the test: a row left to its lease would wait this long, so one retried sooner was handed back. */
const LEASE = 'PT60S';
/** How long the cloud takes to answer while the database goes away under the calls. */
const CLOUD_LATENCY_MS = 3000;
/** Well under the lease: the rows the outage stranded are worked on again within this of the restore. */
const AFTER_RESTORE_MS = 20_000;

/** The database's address behind a proxy: TCP for PostgreSQL, the Unix socket for the embedded PGlite. */
function proxyTarget(url: URL): ProxyTarget {
  const host = decodeURIComponent(url.hostname);
  return host.startsWith('/') ? { path: `${host}/.s.PGSQL.${url.port || 5432}` } : { host, port: Number(url.port || 5432) };
}

/**
 * Issue 12 point 1: with the database gone for a while, requests get 503 problem+json with
 * Retry-After (not 500), /health says not ready, a request whose row was stored before the
 * outage finds it again with its Idempotency-Key, and the claims the outage stranded (a sweeper
 * claim whose result could not be stored, a request's write-ahead row) are worked on again as
 * soon as the database is back, not a lease later. The database is cut by a proxy between the
 * broker and the test database (PostgreSQL with TEST_DATABASE_URL, else the embedded PGlite).
 */
describe('database outage', () => {
  let db: Database & { url: string | undefined };
  let proxy: CuttableProxy;
  let proxied: DataSource;
  let t: TestBroker;

  beforeAll(async () => {
    db = await openTestDatabase();
    const url = new URL((db.dataSource.options as { url: string }).url);
    proxy = await CuttableProxy.start(proxyTarget(url));
    const through = new URL(url.toString());
    through.hostname = '127.0.0.1';
    through.port = String(proxy.listenPort);
    // PGlite is one session: one connection, as openDatabase gives it, and a reconnect finds the
    // previous connection's prepared statements there (sharedSession clears them).
    proxied = createDataSource(through.toString(), db.url ? 10 : 1, undefined, !db.url);
    await proxied.initialize();
    t = await startTestBroker(
      { JIT_LEASE: LEASE, JIT_PROVIDER_TIMEOUT: 'PT10S' },
      { database: { dataSource: proxied, description: 'test database through a cuttable proxy', close: async () => {} } },
    );
  });
  afterAll(async () => {
    await t?.close();
    await proxied?.destroy();
    await proxy?.close();
    await db?.close();
  });

  const getGrant = async (id: string) => (await t.http.get(`/v1/grants/${id}`).set(t.as('alice')).expect(200)).body as { id: string; state: string };

  it('should answer 503 with Retry-After while it is away, find a stored request by its key, and retry stranded claims once it is back', async () => {
    // A grant the sweeper will claim at expiry, and whose revocation the outage interrupts.
    const expiring = (await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant({ duration: 'PT2S' })).expect(201)).body as { id: string };
    t.clouds.aws.inject({ latencyMs: CLOUD_LATENCY_MS });
    // A request whose write-ahead row is stored, then the database goes away during its cloud call.
    const body = awsPolicyGrant({ justification: 'stored before the outage' });
    const answer = t.http.post('/v1/grants').set(t.as('alice')).set('Idempotency-Key', 'outage-1').send(body).then((r) => r);
    const requested = await pollUntil(async () => t.clouds.aws.calls.find((c) => c.op === 'grant' && c.grantId !== expiring.id)?.grantId, 10_000);
    await pollUntil(async () => (t.clouds.aws.calls.some((c) => c.op === 'revoke' && c.grantId === expiring.id) ? true : undefined), 10_000);

    await proxy.cut();

    const failed = await answer;
    expect(failed.status).toBe(503);
    expect(failed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(failed.headers['retry-after']).toBe('5');
    expect(failed.body).toMatchObject({ type: 'urn:jit-broker:problem:store_unavailable', status: 503, title: 'The database is unavailable' });
    expect(failed.body.errorId).toBeUndefined();

    for (const res of [
      await t.http.get(`/v1/grants/${requested}`).set(t.as('alice')),
      await t.http.get('/v1/grants').set(t.as('alice')),
      await t.http.post('/v1/grants').set(t.as('alice')).set('Idempotency-Key', 'outage-2').send(awsPolicyGrant()),
      await t.http.get('/v1/audit').set(t.as('auditor')),
    ]) {
      expect({ status: res.status, type: res.body.type, retryAfter: res.headers['retry-after'] }).toEqual({
        status: 503,
        type: 'urn:jit-broker:problem:store_unavailable',
        retryAfter: '5',
      });
    }
    const health = await t.http.get('/health');
    expect({ status: health.status, body: health.body }).toEqual({ status: 503, body: { status: 'unavailable' } });

    // Both stranded claims are noted: the request's row and the sweeper's claim on the expiring grant.
    await pollUntil(async () => (t.broker.stranded.pending.includes(expiring.id) ? true : undefined), 10_000);
    expect(t.broker.stranded.pending).toContain(requested);

    t.clouds.aws.inject({ latencyMs: 0 });
    await proxy.restore();

    // Retried with the same key, the request finds the grant stored before the outage.
    const retried = await t.http.post('/v1/grants').set(t.as('alice')).set('Idempotency-Key', 'outage-1').send(body);
    expect(retried.status).toBe(200);
    expect(retried.body.id).toBe(requested);
    // Both rows are worked on again at once (the lease would have held them for a minute).
    const ended = await pollUntil(async () => {
      const g = await getGrant(expiring.id);
      return g.state === 'expired' ? g : undefined;
    }, AFTER_RESTORE_MS);
    expect(ended.state).toBe('expired');
    const active = await pollUntil(async () => {
      const g = await getGrant(requested);
      return g.state === 'active' ? g : undefined;
    }, AFTER_RESTORE_MS);
    expect(active.state).toBe('active');
    expect(t.broker.stranded.pending).toEqual([]);
    expect((await t.http.get('/health')).status).toBe(200);
    const verify = await t.http.get('/v1/audit/verify').set(t.as('auditor')).expect(200);
    expect(verify.body).toMatchObject({ ok: true, firstBroken: null });
  });
});
