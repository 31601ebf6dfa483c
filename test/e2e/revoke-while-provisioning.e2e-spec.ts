import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';
import { pollUntil } from '../setup/poll-until.util';

/**
 * Issue 12 point 2 over HTTP: a grant held in `provisioning` by a slow cloud is revoked; the
 * revoke is answered 202 (recorded, `revokeRequestedAt`), never 409, and carried out as soon as
 * provisioning settles: the grant ends `revoked`, nothing is left in the cloud, and the audit
 * shows the request, the revoke carried out and its end.
 */
describe('revoke while provisioning over HTTP', () => {
  let t: TestBroker;
  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(async () => {
    await t.close();
  });

  it('should answer 202, record the request, and end the grant revoked with no artifact left once the slow grant call returns', async () => {
    // The cloud takes 2 s to answer each call: the grant stays provisioning meanwhile.
    t.clouds.aws.inject({ latencyMs: 2_000 });
    const creating = t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant({ duration: 'PT10M' })).then((r) => r);
    const held = await pollUntil(async () => {
      const page = await t.http.get('/v1/grants?state=provisioning').set(t.as('alice')).expect(200);
      return page.body.items[0] as { id: string } | undefined;
    }, 5_000, 20);

    const revoke = await t.http.post(`/v1/grants/${held.id}/revoke`).set(t.as('alice')).send({ reason: 'wrong bucket' });

    expect(revoke.status).toBe(202);
    expect(revoke.body).toMatchObject({ id: held.id, state: 'provisioning', revokeRequestedAt: expect.any(String) });
    const created = await creating;
    t.clouds.aws.inject({ latencyMs: 0 });
    expect(created.body).toMatchObject({ id: held.id, state: 'revoked', endReason: 'revoked' });
    expect(created.body.credentials).toBeUndefined();
    const ended = (await t.http.get(`/v1/grants/${held.id}`).set(t.as('alice')).expect(200)).body;
    expect(ended).toMatchObject({ state: 'revoked', endReason: 'revoked', revokeRequestedAt: revoke.body.revokeRequestedAt });
    expect(t.clouds.aws.size).toBe(0);

    const audit = await t.http.get(`/v1/audit?grantId=${held.id}`).set(t.as('auditor')).expect(200);
    const events = audit.body.items as { type: string; actor: string; data: Record<string, unknown> }[];
    expect(events.map((e) => e.type)).toEqual([
      'grant.requested',
      'grant.approved',
      'grant.revoke_requested',
      'grant.provisioned',
      'grant.activated',
      'grant.revoke_requested',
      'grant.revoked',
    ]);
    expect(events[2]).toMatchObject({ actor: 'alice', data: { reason: 'wrong bucket', deferred: true } });
    expect(events[5]).toMatchObject({ actor: 'broker', data: { requestedBy: 'alice', requestedAt: revoke.body.revokeRequestedAt } });
    const verify = await t.http.get('/v1/audit/verify').set(t.as('auditor')).expect(200);
    expect(verify.body).toMatchObject({ ok: true });
  });

  it('should answer 200 without revokeRequestedAt for an active grant, revoked at once, and again once it has ended', async () => {
    const active = await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant({ duration: 'PT10M' })).expect(201);
    await t.http.post(`/v1/grants/${active.body.id}/revoke`).set(t.as('alice')).send({}).expect(200);
    const again = await t.http.post(`/v1/grants/${active.body.id}/revoke`).set(t.as('alice')).send({}).expect(200);
    expect(again.body).toMatchObject({ state: 'revoked' });
    expect(again.body.revokeRequestedAt).toBeUndefined();
  });
});
