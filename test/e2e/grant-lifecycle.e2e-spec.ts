import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';
import { pollUntil } from '../setup/poll-until.util';

describe('grant lifecycle over HTTP', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(async () => {
    await t.close();
  });

  const getGrant = async (id: string) => (await t.http.get(`/v1/grants/${id}`).set(t.as('alice')).expect(200)).body;

  // Expiry is never early, and comes from the sweeper's timer or its PT2S poll, not from a much later pass.
  // The bound is loose on purpose (the shared CI machine stalls for seconds); npm run bench measures the real lag.
  const LAG_BOUND_MS = 10_000;
  const expectEndedInWindow = (g: { endedAt: string; expiresAt: string }) => {
    const lag = new Date(g.endedAt).getTime() - new Date(g.expiresAt).getTime();
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(LAG_BOUND_MS);
  };

  it('should activate a grant, expire it at its expiresAt (never before), and log requested, activated, expired in order', async () => {
    const created = await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant({ duration: 'PT2S' })).expect(201);
    expect(created.body).toMatchObject({ state: 'active', requestedBy: 'alice', duration: 'PT2S', endedAt: null });
    const spec = { artifactName: created.body.providerRef.artifact as string };
    expect(t.clouds.aws.holds(spec, new Date())).toBe(true);

    const ended = await pollUntil(async () => {
      const g = await getGrant(created.body.id);
      return g.state === 'expired' ? g : undefined;
    }, 20_000);
    expectEndedInWindow(ended);
    expect(ended.endReason).toBe('expired');
    expect(t.clouds.aws.holds(spec, new Date())).toBe(false);
    expect(t.clouds.aws.size).toBe(0);

    const audit = await t.http.get(`/v1/audit?grantId=${created.body.id}`).set(t.as('auditor')).expect(200);
    expect(audit.body.items.map((e: { type: string }) => e.type)).toEqual([
      'grant.requested',
      'grant.approved',
      'grant.provisioned',
      'grant.activated',
      'grant.expired',
    ]);
    const verify = await t.http.get('/v1/audit/verify?full=true').set(t.as('auditor')).expect(200);
    expect(verify.body).toMatchObject({ ok: true, firstBroken: null });
    expect(verify.body.checked).toBeGreaterThanOrEqual(5);
  });

  it('should revoke early, mark the cloud call as early, and answer a second revoke with the ended grant', async () => {
    const created = await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant()).expect(201);
    const revoked = await t.http.post(`/v1/grants/${created.body.id}/revoke`).set(t.as('alice')).send({ reason: 'job done' }).expect(200);
    expect(revoked.body).toMatchObject({ state: 'revoked', endReason: 'revoked' });
    expect(t.clouds.aws.calls.filter((c) => c.grantId === created.body.id && c.op === 'revoke')).toEqual([
      expect.objectContaining({ early: true }),
    ]);
    const again = await t.http.post(`/v1/grants/${created.body.id}/revoke`).set(t.as('alice')).expect(200);
    expect(again.body.state).toBe('revoked');
    const audit = await t.http.get(`/v1/audit?grantId=${created.body.id}&type=grant.revoke_requested`).set(t.as('auditor')).expect(200);
    expect(audit.body.items).toEqual([expect.objectContaining({ actor: 'alice', data: { reason: 'job done' } })]);
  });

  it('should expire a burst of concurrent grants, each at its expiresAt (never before)', async () => {
    const created = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        t.http
          .post('/v1/grants')
          .set(t.as('bob'))
          .send(awsPolicyGrant({ duration: `PT${1 + (i % 4)}S`, principal: { type: 'workload', id: `arn:aws:iam::123456789012:role/r${i}` } }))
          .expect(201),
      ),
    );
    const ids = new Set(created.map((r) => r.body.id as string));
    const ended = await pollUntil(async () => {
      const page = await t.http.get('/v1/grants?requester=bob&limit=100').set(t.as('bob')).expect(200);
      const mine = page.body.items.filter((g: { id: string }) => ids.has(g.id));
      return mine.every((g: { state: string }) => g.state === 'expired') ? mine : undefined;
    }, 30_000, 200);
    expect(ended).toHaveLength(40);
    for (const g of ended) expectEndedInWindow(g);
  });

  it('should retry a failing revocation with backoff, then give up as revoke_failed until an admin force-closes it', async () => {
    t.clouds.gcp.inject({ transient: 1 });
    const body = {
      cloud: 'gcp',
      principal: { type: 'workload', id: 'serviceAccount:ci@proj-123456.iam.gserviceaccount.com' },
      target: { kind: 'gcp.iam-binding', resource: 'projects/proj-123456', role: 'roles/storage.objectAdmin' },
      duration: 'PT1S',
    };
    // The first grant call fails transiently and is retried inside the request.
    const created = await t.http.post('/v1/grants').set(t.as('alice')).send(body).expect(201);
    t.clouds.gcp.inject({ terminal: 1 });
    const failed = await pollUntil(async () => {
      const g = await getGrant(created.body.id);
      return g.state === 'revoke_failed' ? g : undefined;
    }, 6000);
    expect(failed.lastError).toMatch(/AccessDenied/);
    expect(failed.endReason).toBe('expired');

    await t.http.post(`/v1/grants/${created.body.id}/revoke`).set(t.as('alice')).send({ force: true }).expect(403);
    const closed = await t.http
      .post(`/v1/grants/${created.body.id}/revoke`)
      .set(t.as('admin'))
      .send({ force: true, reason: 'removed by hand in the console' })
      .expect(200);
    expect(closed.body).toMatchObject({ state: 'revoked', endReason: 'revoked' });
    const audit = await t.http.get(`/v1/audit?grantId=${created.body.id}`).set(t.as('auditor')).expect(200);
    expect(audit.body.items.map((e: { type: string }) => e.type)).toEqual([
      'grant.requested',
      'grant.approved',
      'grant.provisioned',
      'grant.activated',
      'grant.revoke_failed',
      'grant.revoked',
    ]);
    expect(audit.body.items[5].data).toMatchObject({ forced: true, reason: 'removed by hand in the console' });
  });

  it('should keep retrying a transient revoke failure and finish the expiry once the cloud answers', async () => {
    const created = await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant({ duration: 'PT1S' })).expect(201);
    t.clouds.aws.inject({ transient: 2 });
    const ended = await pollUntil(async () => {
      const g = await getGrant(created.body.id);
      return g.state === 'expired' ? g : undefined;
    }, 15000, 100);
    expect(ended.endReason).toBe('expired');
    const audit = await t.http.get(`/v1/audit?grantId=${created.body.id}&type=grant.revoke_retried`).set(t.as('auditor')).expect(200);
    expect(audit.body.items.map((e: { data: { attempt: number } }) => e.data.attempt)).toEqual([1, 2]);
  });

  it('should fail a grant the cloud refuses, leaving nothing behind, with a 502 naming the grant', async () => {
    t.clouds.azure.inject({ terminal: 1 });
    const res = await t.http
      .post('/v1/grants')
      .set(t.as('alice'))
      .send({
        cloud: 'azure',
        principal: { type: 'workload', id: '6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b' },
        target: { kind: 'azure.app-role', resourceServicePrincipalId: '11111111-2222-4333-8444-555555555555', appRoleId: '00000000-0000-4000-8000-000000000001' },
        duration: 'PT5M',
      })
      .expect(502);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ type: 'urn:jit-broker:problem:provider_rejected', state: 'failed' });
    const g = await getGrant(res.body.grantId);
    expect(g).toMatchObject({ state: 'failed', endReason: 'failed' });
    expect(g.lastError).toMatch(/AccessDenied/);
    expect(t.clouds.azure.size).toBe(0);
  });
});
