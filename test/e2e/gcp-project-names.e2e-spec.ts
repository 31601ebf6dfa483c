import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GcpIamBindingProvider, staticTokenClient } from '@jit/provider-gcp';
import { GcpSimulator } from '@jit/sim-gcp';
import { TestBroker, startTestBroker } from '../setup/test-broker';

const TOKEN = 'gcp-names-token';
const ROLE = 'roles/storage.objectViewer';

/** Any project by glob; the broker's own project is on the deny-list by its id only. */
const RULES = `
version: 1
denyList:
  - name: broker-project
    reason: the broker's own project is never granted
    targets:
      - kind: gcp.iam-binding
        roles: ["*"]
        resources: ["projects/jit-broker-home"]
rules:
  - name: any-project-storage
    requesters:
      - subjects: [alice]
    targets:
      - kind: gcp.iam-binding
        roles: ["roles/storage.*"]
        resources: ["projects/*"]
    maxDuration: PT1H
    approval: auto
`;

/**
 * A GCP project has two names, `projects/<id>` and `projects/<number>`, and setIamPolicy takes
 * either. The broker judges every request under the id (projects.get through the real adapter,
 * against the simulator), so a deny entry written with the id also stops a request by number.
 */
describe('GCP projects requested by number', () => {
  let t: TestBroker;
  let gcp: GcpSimulator;
  let provider: GcpIamBindingProvider;
  let homeNumber: string;
  let appNumber: string;

  beforeAll(async () => {
    gcp = await GcpSimulator.start({ token: TOKEN });
    gcp.createProject('jit-broker-home');
    gcp.createProject('orders-app');
    homeNumber = gcp.projectNumber('jit-broker-home');
    appNumber = gcp.projectNumber('orders-app');
    provider = new GcpIamBindingProvider({
      endpoint: { protocol: 'http', host: gcp.host, port: gcp.port },
      authClient: staticTokenClient(TOKEN),
      reconcileResources: [],
      retry: { attempts: 3, baseDelayMs: 2, maxDelayMs: 20 },
    });
    const dir = mkdtempSync(join(tmpdir(), 'jit-gcp-names-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    t = await startTestBroker({ JIT_POLICY_FILE: join(dir, 'rules.yaml') }, { providers: [provider] });
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
    await gcp?.close();
  });

  const request = (resource: string) => ({
    cloud: 'gcp',
    principal: { type: 'workload', id: 'serviceAccount:ci@orders-app.iam.gserviceaccount.com' },
    target: { kind: 'gcp.iam-binding', resource, role: ROLE },
    duration: 'PT10M',
    justification: 'read release artifacts',
  });
  const setIamPolicyCalls = () => gcp.traffic().filter((x) => x.rpc === 'setIamPolicy');

  it('should deny the broker project requested by its number, under the deny entry written with its id', async () => {
    gcp.resetTraffic();
    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(request(`projects/${homeNumber}`)).expect(403);
    expect(res.body).toMatchObject({ type: 'urn:jit-broker:problem:policy_denied', decision: { rule: 'deny-list:broker-project', code: 'deny_list' } });
    expect(setIamPolicyCalls()).toEqual([]);
    const audit = await t.http.get('/v1/audit?type=policy.denied').set(t.as('auditor')).expect(200);
    expect(audit.body.items.at(-1).data).toMatchObject({ target: { resource: 'projects/jit-broker-home' } });
  });

  it('should grant another project requested by its number, recorded and bound under its id', async () => {
    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(request(`projects/${appNumber}`)).expect(201);
    expect(res.body.target).toEqual({ kind: 'gcp.iam-binding', resource: 'projects/orders-app', role: ROLE });
    expect(gcp.holds('projects/orders-app', 'serviceAccount:ci@orders-app.iam.gserviceaccount.com', ROLE, new Date())).toBe(true);
    await t.http.post(`/v1/grants/${res.body.id}/revoke`).set(t.as('alice')).send({}).expect(200);
    expect(gcp.holds('projects/orders-app', 'serviceAccount:ci@orders-app.iam.gserviceaccount.com', ROLE, new Date())).toBe(false);
  });

  it('should answer 400 naming target.resource for a number the broker cannot resolve, and store nothing', async () => {
    const before = (await t.http.get('/v1/grants?limit=500').set(t.as('admin')).expect(200)).body.items.length;
    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(request('projects/999999999999')).expect(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'target.resource', message: expect.stringMatching(/request it by project id/) })]);
    expect((await t.http.get('/v1/grants?limit=500').set(t.as('admin')).expect(200)).body.items).toHaveLength(before);
  });

  it('should answer 503 when GCP cannot be asked, rather than judge the request under a name it may not have', async () => {
    gcp.createProject('late-project');
    gcp.resetTraffic();
    gcp.inject({ serverError: 100 });
    try {
      await t.http.post('/v1/grants').set(t.as('alice')).send(request(`projects/${gcp.projectNumber('late-project')}`)).expect(503);
    } finally {
      gcp.inject({ serverError: 0 });
    }
    // Only the lookup was tried (with its retries): the policy was never read or written.
    expect(new Set(gcp.traffic().map((x) => x.rpc))).toEqual(new Set(['getProject']));
  });
});
