import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GcpIamBindingProvider, staticTokenClient } from '@jit/provider-gcp';
import { GcpSimulator } from '@jit/sim-gcp';
import { TestBroker, startTestBroker } from '../setup/test-broker';

const TOKEN = 'gcp-groups-token';

const RULES = `
version: 1
denyList:
  - name: admin-groups
    reason: admin groups are never joined just in time
    targets:
      - kind: gcp.group-membership
        groups: ["*-admins@example.com"]
rules:
  - name: teams
    requesters:
      - subjects: [alice]
    targets:
      - kind: gcp.group-membership
        groups: ["*@example.com"]
        principalTypes: [user]
    maxDuration: PT2H
    approval: auto
`;

/** gcp.group-membership through the HTTP API, the real adapter and the Cloud Identity simulator. */
describe('Google group membership grants through the API', () => {
  let t: TestBroker;
  let gcp: GcpSimulator;
  let provider: GcpIamBindingProvider;

  beforeAll(async () => {
    gcp = await GcpSimulator.start({ token: TOKEN });
    gcp.groups.createGroup('ops@example.com');
    gcp.groups.createGroup('prod-admins@example.com');
    gcp.groups.createGroup('basic@example.com', { expirySupported: false });
    provider = new GcpIamBindingProvider({
      endpoint: { protocol: 'http', host: gcp.host, port: gcp.port },
      authClient: staticTokenClient(TOKEN),
      reconcileResources: [],
      retry: { attempts: 3, baseDelayMs: 2, maxDelayMs: 20 },
    });
    const dir = mkdtempSync(join(tmpdir(), 'jit-gcp-groups-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    t = await startTestBroker({ JIT_POLICY_FILE: join(dir, 'rules.yaml') }, { providers: [provider] });
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
    await gcp?.close();
  });

  const request = (group: string, duration = 'PT30M', id = 'user:alice@example.com') => ({
    cloud: 'gcp',
    principal: { type: 'user', id },
    target: { kind: 'gcp.group-membership', group },
    duration,
    justification: 'on-call shift',
  });
  const expiry = () => gcp.groups.member('ops@example.com', 'alice@example.com')?.roles.find((r) => r.name === 'MEMBER')?.expireTime?.toISOString();

  it('should add the member until expiresAt, keep one membership for overlapping grants, and take it back grant by grant', async () => {
    const first = await t.http.post('/v1/grants').set(t.as('alice')).send(request('Ops@Example.com')).expect(201);
    expect(first.body).toMatchObject({ state: 'active', target: { kind: 'gcp.group-membership', group: 'ops@example.com' } });
    expect(expiry()).toBe(first.body.expiresAt);

    const second = await t.http.post('/v1/grants').set(t.as('alice')).send(request('ops@example.com', 'PT90M')).expect(201);
    expect(expiry()).toBe(second.body.expiresAt);
    expect(gcp.groups.members('ops@example.com')).toHaveLength(1);

    await t.http.post(`/v1/grants/${second.body.id}/revoke`).set(t.as('alice')).send({ reason: 'done early' }).expect(200);
    expect(expiry()).toBe(first.body.expiresAt);
    await t.http.post(`/v1/grants/${first.body.id}/revoke`).set(t.as('alice')).send({}).expect(200);
    expect(gcp.groups.member('ops@example.com', 'alice@example.com')).toBeUndefined();
  });

  it('should deny an admin group under the deny-list whatever the case it is written in, before any change', async () => {
    gcp.resetTraffic();
    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(request('Prod-Admins@example.com')).expect(403);
    expect(res.body).toMatchObject({ decision: { rule: 'deny-list:admin-groups', code: 'deny_list' } });
    // Two lookups before the rules: the group (canonicalTarget) and the member, which must not be a group named user: (verifyPrincipal).
    expect(gcp.traffic().map((x) => x.rpc)).toEqual(['cloudidentity.groups.lookup', 'cloudidentity.groups.lookup']);
    expect(gcp.groups.members('prod-admins@example.com')).toEqual([]);
  });

  it('should fail the grant with the reason when the customer has no membership expiration, adding nobody', async () => {
    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(request('basic@example.com')).expect(502);
    expect(res.body).toMatchObject({ type: 'urn:jit-broker:problem:provider_rejected', state: 'failed' });
    expect(res.body.detail).toMatch(/gcp\.membership-expiry-unsupported: .* needs Google Workspace Enterprise Standard or Plus, Enterprise for Education or Cloud Identity Premium/);
    expect(gcp.groups.members('basic@example.com')).toEqual([]);
  });

  it('should answer 400 naming the field for a group the broker cannot see or a member it cannot add', async () => {
    const unknown = await t.http.post('/v1/grants').set(t.as('alice')).send(request('nobody@example.com')).expect(400);
    expect(unknown.body.errors).toEqual([expect.objectContaining({ field: 'target.group' })]);
    const notEmail = await t.http.post('/v1/grants').set(t.as('alice')).send(request('groups/03x8tuzt')).expect(400);
    expect(notEmail.body.errors).toEqual([expect.objectContaining({ field: 'target.group' })]);
    const domain = await t.http.post('/v1/grants').set(t.as('alice')).send(request('ops@example.com', 'PT30M', 'domain:example.com')).expect(400);
    expect(domain.body.errors).toEqual([expect.objectContaining({ field: 'principal.id' })]);
  });
});
