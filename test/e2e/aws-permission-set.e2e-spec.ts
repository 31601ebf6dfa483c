import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AwsIamStsProvider } from '@jit/provider-aws';
import { AwsSimulator } from '@jit/sim-aws';
import { pollUntil } from '../setup/poll-until.util';
import { TestBroker, startTestBroker } from '../setup/test-broker';

const RULES = `
version: 1
denyList:
  - name: no-prod
    reason: production is never granted just in time
    targets:
      - { kind: aws.permission-set, permissionSets: ["*"], accounts: ["999999999999", "\${PROD_OU}"] }
rules:
  - name: platform-sets
    requesters:
      - subjects: ["*"]
    targets:
      - { kind: aws.permission-set, permissionSets: [ReadOnly, Admin], accounts: ["*"], principalTypes: [group] }
    maxDuration: PT8H
    approval: auto
`;

/**
 * `aws.permission-set` over HTTP (issue 19, AWS): a group gets a permission set in an OU's
 * accounts through the broker's API, judged under the accounts the OU holds, revoked early or
 * removed by the sweeper at expiry; the session-duration limit and an unknown group are 4xx
 * naming the field, before anything is stored.
 */
describe('aws.permission-set through the broker', () => {
  let sim: AwsSimulator;
  let t: TestBroker;
  let workloads: string;
  let prod: string;
  let groupId: string;
  let readOnlyArn: string;

  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
    sim.identityCenter.setTiming({ polls: 1 });
    workloads = sim.organization.createOrganizationalUnit('Workloads');
    prod = sim.organization.createOrganizationalUnit('Prod');
    for (const [name, id] of [['dev', '111111111111'], ['staging', '222222222222'], ['play', '333333333333']]) {
      sim.organization.createAccount({ name, id, parentId: workloads });
    }
    // An account no other test here assigns in: an earlier grant that created an assignment there would make a hand-made one look like the broker's.
    sim.organization.createAccount({ name: 'lab', id: '444444444444', parentId: sim.organization.createOrganizationalUnit('Lab') });
    sim.organization.createAccount({ name: 'prod', id: '999999999999', parentId: prod });
    sim.organization.createAccount({ name: 'prod-eu', id: '888888888888', parentId: prod });
    groupId = sim.identityCenter.createGroup({ displayName: 'Platform' });
    readOnlyArn = sim.identityCenter.createPermissionSet({ name: 'ReadOnly', sessionDuration: 'PT1H' });
    sim.identityCenter.createPermissionSet({ name: 'Admin', sessionDuration: 'PT8H' });
    const dir = mkdtempSync(join(tmpdir(), 'jit-ps-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES.replace('${PROD_OU}', prod));
    const aws = new AwsIamStsProvider({
      region: 'us-east-1',
      iamEndpoint: sim.endpoint,
      stsEndpoint: sim.endpoint,
      ssoAdminEndpoint: sim.endpoint,
      identityStoreEndpoint: sim.endpoint,
      organizationsEndpoint: sim.endpoint,
      credentials: { accessKeyId: 'AKIAJITBROKERTEST000', secretAccessKey: 'test-secret' },
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 4 },
    });
    t = await startTestBroker({ JIT_POLICY_FILE: join(dir, 'rules.yaml'), JIT_RECONCILE_INTERVAL: 'PT10S' }, { providers: [aws] });
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  const request = (target: Record<string, unknown>, duration = 'PT1H', principal = { type: 'group', id: 'Platform' }) => ({
    cloud: 'aws',
    principal,
    target: { kind: 'aws.permission-set', ...target },
    duration,
    justification: 'incident 4711',
  });
  const held = () => sim.identityCenter.assignments().filter((a) => a.principalId === groupId).map((a) => a.accountId).sort();

  it('should assign the set in each of the OU\'s accounts, store the accounts it judged, and remove them all on an early revoke', async () => {
    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(request({ permissionSet: 'ReadOnly', organizationalUnit: workloads })).expect(201);
    expect(res.body.state).toBe('active');
    expect(res.body.target).toMatchObject({ permissionSetName: 'ReadOnly', accounts: ['111111111111', '222222222222', '333333333333'], organizationalUnit: workloads });
    expect(res.body.target.permissionSet).toMatch(/^arn:aws:sso:::permissionSet\//);
    expect(res.body.providerRef.notice).toMatch(/session duration \(3,600 s\)/);
    expect(res.body.providerRef.accounts).toEqual({ '111111111111': 'created', '222222222222': 'created', '333333333333': 'created' });
    expect(held()).toEqual(['111111111111', '222222222222', '333333333333']);

    await t.http.post(`/v1/grants/${res.body.id}/revoke`).set(t.as('alice')).send({ reason: 'done' }).expect(200);
    expect(held()).toEqual([]);
  });

  it('should stop a request for an OU holding a denied account, and one listing an account of a denied OU (403), assigning nothing', async () => {
    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(request({ permissionSet: 'ReadOnly', organizationalUnit: prod })).expect(403);
    expect(res.body.code ?? res.body.type).toMatch(/policy_denied/);
    // An account of the denied OU, listed by id: the broker found the OU above it.
    const listed = await t.http.post('/v1/grants').set(t.as('alice')).send(request({ permissionSet: 'ReadOnly', accounts: ['111111111111', '888888888888'] })).expect(403);
    expect(listed.body.code ?? listed.body.type).toMatch(/policy_denied/);
    expect(held()).toEqual([]);
  });

  it('should answer 422 naming target.permissionSet for a set whose sessions outlive a short grant, and 400 naming principal.id for an unknown group', async () => {
    const creations = () => sim.identityCenter.requests().filter((r) => r.operation === 'CreateAccountAssignment').length;
    const before = creations();
    const long = await t.http.post('/v1/grants').set(t.as('alice')).send(request({ permissionSet: 'Admin', accounts: ['111111111111'] })).expect(422);
    expect(long.body.errors).toEqual([expect.objectContaining({ field: 'target.permissionSet', message: expect.stringContaining('SessionDuration of PT8H') })]);
    const unknown = await t.http
      .post('/v1/grants')
      .set(t.as('alice'))
      .send(request({ permissionSet: 'ReadOnly', accounts: ['111111111111'] }, 'PT1H', { type: 'group', id: 'Nobody' }))
      .expect(400);
    expect(unknown.body.errors).toEqual([expect.objectContaining({ field: 'principal.id' })]);
    const list = await t.http.get('/v1/grants').query({ principal: 'Nobody' }).set(t.as('alice')).expect(200);
    expect(list.body.items).toEqual([]);
    expect(creations()).toBe(before);
  });

  it('should let the sweeper remove the assignment at expiry', async () => {
    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(request({ permissionSet: 'ReadOnly', accounts: ['222222222222'] }, 'PT3S')).expect(201);
    expect(held()).toEqual(['222222222222']);
    const deadline = Date.now() + 20_000;
    let state = res.body.state as string;
    while (state !== 'expired' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      state = (await t.http.get(`/v1/grants/${res.body.id}`).set(t.as('alice')).expect(200)).body.state;
    }
    expect(state).toBe('expired');
    expect(held()).toEqual([]);
  });

  it('should find and remove, by reconciliation, an assignment that reappeared in an account whose grant created it, and leave alone one no grant made', async () => {
    // The group holds ReadOnly in 444444444444 outside the broker; a request for it there is refused
    // and stays in reconciliation's scope as an ended grant: it made nothing, so it proves nothing an orphan.
    sim.identityCenter.assign({ accountId: '444444444444', permissionSetArn: readOnlyArn, principalType: 'GROUP', principalId: groupId });
    const refused = await t.http.post('/v1/grants').set(t.as('alice')).send(request({ permissionSet: 'ReadOnly', accounts: ['444444444444'] })).expect(422);
    expect(refused.body).toMatchObject({ state: 'failed', errors: [expect.objectContaining({ field: 'target.accounts' })] });
    expect(refused.body.detail).toMatch(/already holds ReadOnly in account 444444444444 outside this broker/);

    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(request({ permissionSet: 'ReadOnly', accounts: ['333333333333'] }, 'PT2S')).expect(201);
    const setArn = res.body.target.permissionSet as string;
    let state = res.body.state as string;
    for (const deadline = Date.now() + 20_000; state !== 'expired' && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 500));
      state = (await t.http.get(`/v1/grants/${res.body.id}`).set(t.as('alice')).expect(200)).body.state;
    }
    expect(state).toBe('expired');
    // A stale write (another replica, a restore) brings the assignment back after the grant ended.
    sim.identityCenter.assign({ accountId: '333333333333', permissionSetArn: setArn, principalType: 'GROUP', principalId: groupId });
    expect(held()).toEqual(['333333333333', '444444444444']);
    for (const deadline = Date.now() + 40_000; held().includes('333333333333') && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 500));
    expect(held()).toEqual(['444444444444']);
    // Reconciliation records the removal once the cloud has answered: the assignment can be gone
    // a moment before its event is in the log.
    const removed = await pollUntil(async () => {
      const audit = await t.http.get('/v1/audit').query({ type: 'reconcile.orphan_removed', cloud: 'aws' }).set(t.as('auditor')).expect(200);
      const items = JSON.stringify(audit.body.items);
      return items.includes('333333333333') ? items : undefined;
    }, 10_000, 200);
    expect(removed).not.toContain('444444444444');
  }, 60_000);
});
