/**
 * The sweeper role's port (JIT_ROLE=sweeper): /health without a token, /metrics with the API's
 * token check, and no API route. An API-role broker and a sweeper-role broker share one database
 * and one cloud, as two Kubernetes Deployments do: a grant requested from the API expires through
 * the sweeper, and the revocation lag it records is scraped from the sweeper's own /metrics.
 */
import request from 'supertest';
import { LocalCloudProvider } from '@jit/provider-local';
import { targetKinds } from '@jit/testing';
import { Database } from '@jit/persistence';
import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';
import { openTestDatabase } from '../setup/test-database';

describe('the sweeper role serves /health and /metrics only', () => {
  let database: Database;
  let api: TestBroker;
  let sweeper: TestBroker;
  let sweeperHttp: ReturnType<typeof request>;

  beforeAll(async () => {
    database = await openTestDatabase();
    // One cloud for both roles, as both Deployments reach the same account.
    const aws = new LocalCloudProvider('aws', targetKinds);
    api = await startTestBroker({ JIT_ROLE: 'api' }, { database, providers: [aws] });
    sweeper = await startTestBroker({ JIT_ROLE: 'sweeper', JIT_SWEEP_INTERVAL: 'PT1S' }, { database, providers: [aws] });
    sweeperHttp = request(sweeper.broker.url!);
  });
  afterAll(async () => {
    await sweeper?.close();
    await api?.close();
    await database?.close();
  });

  it('answers /health with 200 and no token', async () => {
    const res = await sweeperHttp.get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('serves the revocation lag of the grants it expired on /metrics, to an auditor token', async () => {
    const created = await api.http.post('/v1/grants').set(api.as('alice')).send(awsPolicyGrant({ duration: 'PT1S' }));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    // The API role runs no sweeper: the sweeper-role broker revokes the grant at its expiry.
    let state = created.body.state as string;
    for (let i = 0; i < 600 && state !== 'expired'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await api.http.get(`/v1/grants/${id}`).set(api.as('alice'))).body.state as string;
    }
    expect(state).toBe('expired');

    const res = await sweeperHttp.get('/metrics').set(sweeper.as('auditor'));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/^jit_revocation_lag_seconds_count\{cloud="aws",kind="aws\.iam-policy",enforcement="\w+"\} 1$/m);
    expect(res.text).toMatch(/^jit_grant_transitions_total\{state="expired"\} 1$/m);
    expect(res.text).toMatch(/^jit_broker_info\{role="sweeper",/m);
    // The API role expired nothing, so its own figures have no lag.
    const apiMetrics = await api.http.get('/metrics').set(api.as('auditor'));
    expect(apiMetrics.text).not.toMatch(/^jit_revocation_lag_seconds_count/m);
  });

  it('checks /metrics tokens as the API does: 401 without one, 403 for a requester', async () => {
    const none = await sweeperHttp.get('/metrics');
    expect(none.status).toBe(401);
    expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((await sweeperHttp.get('/metrics').set(sweeper.as('alice'))).status).toBe(403);
    expect((await sweeperHttp.get('/metrics').set(sweeper.as('admin'))).status).toBe(200);
  });

  it('serves no API route, even to a valid token', async () => {
    for (const path of ['/v1/grants', '/v1/audit', '/v1/policy', '/docs']) {
      const res = await sweeperHttp.get(path).set(sweeper.as('admin'));
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    const post = await sweeperHttp.post('/v1/grants').set(sweeper.as('alice')).send(awsPolicyGrant());
    expect(post.status).toBe(404);
  });
});

describe('the sweeper role\'s /health when its loop stalls', () => {
  let database: Database;
  let sweeper: TestBroker;

  beforeAll(async () => {
    database = await openTestDatabase();
    sweeper = await startTestBroker({ JIT_ROLE: 'sweeper', JIT_SWEEP_INTERVAL: 'PT1S', JIT_SWEEP_STALL_AFTER: 'PT10S' }, { database });
  });
  afterAll(async () => {
    await sweeper?.close();
    await database?.close();
  });

  it('answers 503 once no sweep cycle has ended for JIT_SWEEP_STALL_AFTER, with the database up', async () => {
    expect((await sweeper.http.get('/health')).status).toBe(200);
    // A loop that no longer cycles, as a wedged one would: the database still answers.
    await sweeper.broker.sweeper!.stop();
    let res = await sweeper.http.get('/health');
    for (let i = 0; i < 240 && res.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 500));
      res = await sweeper.http.get('/health');
    }
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'unavailable' });
    expect(await database.dataSource.query('SELECT 1 AS up')).toEqual([{ up: 1 }]);
  });
});
