import { AzureSimulator } from '@jit/sim-azure';
import { IDS, providerFor, startSeededSimulator } from '../contract/azure/azure-world.fixture';
import { TestBroker, startTestBroker } from '../setup/test-broker';

const MINUTE = 60_000;

/**
 * Issue 18 point 1 over HTTP, against a simulator with PIM's real five-minute rules: a PIM
 * grant under PT5M is a 400 naming `duration` with nothing sent to the cloud, and an early
 * revoke inside the removal window leaves the grant `revoking` with its retry at assignment
 * time + 5 min, audited, never `revoke_failed`.
 */
describe('Azure PIM five-minute rules through the API', () => {
  let t: TestBroker;
  let sim: AzureSimulator;

  beforeAll(async () => {
    sim = await startSeededSimulator();
    t = await startTestBroker({}, { providers: [providerFor(sim)] });
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  const request = (duration: string, user = IDS.users[0]) => ({
    cloud: 'azure',
    principal: { type: 'user', id: user },
    target: { kind: 'azure.directory-role', roleDefinitionId: IDS.directoryRole, directoryScopeId: '/' },
    duration,
    justification: 'incident 42',
  });
  const graphWrites = () => sim.calls.filter((c) => c.api === 'graph' && c.method === 'POST').length;

  it('should refuse a PIM grant under five minutes with 400 on duration, sending nothing', async () => {
    const writes = graphWrites();
    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(request('PT4M59S')).expect(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'duration', message: expect.stringContaining('five minutes') })]);
    expect(graphWrites()).toBe(writes);
    // The same for a dry run.
    const dry = await t.http.post('/v1/policy/evaluate').set(t.as('alice')).send(request('PT1M')).expect(400);
    expect(dry.body.errors[0]).toMatchObject({ field: 'duration' });
  });

  it('should keep an early revoke inside the window revoking, retried at assignment time + 5 min, and audit it', async () => {
    const created = await t.http.post('/v1/grants').set(t.as('alice')).send(request('PT10M', IDS.users[1])).expect(201);
    expect(created.body.state).toBe('active');
    const [made] = sim.pimSchedules(IDS.users[1], { kind: 'directory-role', roleDefinitionId: IDS.directoryRole, directoryScopeId: '/' });
    expect(made.end!.getTime()).toBeLessThanOrEqual(Date.parse(created.body.expiresAt));

    const revoked = await t.http.post(`/v1/grants/${created.body.id}/revoke`).set(t.as('alice')).send({ reason: 'done early' }).expect(200);
    expect(revoked.body.state).toBe('revoking');
    expect(revoked.body.lastError).toContain('ActiveDurationTooShort');
    const retryAt = Date.parse(revoked.body.nextAttemptAt);
    expect(retryAt).toBeGreaterThanOrEqual(made.createdAt.getTime() + 5 * MINUTE);
    expect(retryAt).toBeLessThanOrEqual(made.createdAt.getTime() + 6 * MINUTE);
    expect(sim.holds(IDS.users[1], { kind: 'directory-role', roleDefinitionId: IDS.directoryRole, directoryScopeId: '/' })).toBe(true);

    const audit = await t.http.get(`/v1/audit?grantId=${created.body.id}`).set(t.as('auditor')).expect(200);
    const types = (audit.body.items as { type: string }[]).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['grant.revoke_requested', 'grant.revoke_retried']));
    expect(types).not.toContain('grant.revoke_failed');
  });
});
