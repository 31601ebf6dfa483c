import { SPECS_DIR } from '../../setup/specs-dir';
import { StandingAssignment } from '@jit/domain';
import { GcpIamBindingProvider } from '@jit/provider-gcp';
import { discoveryValidator } from './discovery-schema.validator';
import { GcpContractEnv, startGcpContractEnv } from './gcp-contract.env';

const resourceManager = discoveryValidator();
const recommender = discoveryValidator(`${SPECS_DIR}/gcp/recommender/v1/recommender-api.json`);

const ALICE = 'user:alice@example.com';
const CI = 'serviceAccount:ci@inv-app.iam.gserviceaccount.com';
const DAY = 86_400_000;
const at = (ms: number) => new Date(Date.now() + ms).toISOString();

type Method = { httpMethod: string; flatPath: string; parameters?: Record<string, unknown>; response?: { $ref: string } };
type Resources = Record<string, { methods?: Record<string, Method>; resources?: Resources }>;

/** The discovery method (nested resources included) whose flatPath and verb match a request. */
function methodOf(doc: { resources: Resources }, httpMethod: string, path: string): (Method & { id: string }) | undefined {
  const walk = (resources: Resources, prefix: string): (Method & { id: string }) | undefined => {
    for (const [name, resource] of Object.entries(resources)) {
      for (const [verb, m] of Object.entries(resource.methods ?? {})) {
        const pattern = new RegExp(`^/${m.flatPath.replace(/\{[^}]+\}/g, '[^/:]+')}$`);
        if (m.httpMethod === httpMethod && pattern.test(path)) return { ...m, id: `${prefix}${name}.${verb}` };
      }
      const nested = walk(resource.resources ?? {}, `${prefix}${name}.`);
      if (nested) return nested;
    }
    return undefined;
  };
  return walk(doc.resources, '');
}

const byKey = (assignments: StandingAssignment[], scope: string, role: string, member: string) =>
  assignments.find((a) => a.scope === scope && a.access.name === role && a.principal.id === member);

describe('GCP standing-access inventory (discovery) against the simulator', () => {
  let env: GcpContractEnv;
  let provider: GcpIamBindingProvider;
  let app: string;

  beforeAll(async () => {
    env = await startGcpContractEnv();
    const sim = env.simulator;
    sim.createOrganization(100, { bindings: [{ role: 'roles/resourcemanager.organizationAdmin', members: ['user:root@example.com'] }, { role: 'roles/viewer', members: ['domain:example.com'] }] }, { displayName: 'example.com' });
    sim.createFolder(200, { bindings: [{ role: 'roles/owner', members: ['group:platform@example.com'] }] }, { parent: 'organizations/100', displayName: 'Platform' });
    app = sim.createProject(
      'inv-app',
      {
        bindings: [
          { role: 'roles/owner', members: [ALICE] },
          { role: 'roles/editor', members: [CI] },
          { role: 'roles/viewer', members: ['user:bob@example.com', ALICE] },
          // Another tool's activation ending in two days: temporary, not standing.
          { role: 'roles/storage.admin', members: ['user:temp@example.com'], condition: { title: 'JIT access activation', expression: `(request.time >= timestamp("${at(-DAY)}") && request.time < timestamp("${at(2 * DAY)}"))` } },
          // An expiry years away is standing in all but name.
          { role: 'roles/storage.admin', members: ['user:forever@example.com'], condition: { title: 'until 2099', expression: 'request.time < timestamp("2099-01-01T00:00:00Z")' } },
          // A start without an end leaves the access standing from then on.
          { role: 'roles/compute.admin', members: ['user:carol@example.com'], condition: { title: 'dev vms', expression: 'request.time > timestamp("2020-01-01T00:00:00Z")' } },
        ],
      },
      { parent: 'folders/200', displayName: 'Inventory app' },
    );
    for (let i = 1; i <= 5; i++) sim.createProject(`inv-p${i}`, { bindings: [{ role: 'roles/browser', members: [`user:p${i}@example.com`] }] }, { parent: 'folders/200' });
    sim.createProject('inv-denied', { bindings: [{ role: 'roles/owner', members: ['user:hidden@example.com'] }] });
    sim.denyCaller('projects/inv-denied');
    sim.createProject('inv-deleted', { bindings: [{ role: 'roles/owner', members: ['user:gone@example.com'] }] });
    sim.setLifecycleState('projects/inv-deleted', 'DELETE_REQUESTED');
    sim.setRecommenderEnabled('projects/inv-p1', false);

    const refreshed = new Date(Date.now() - DAY);
    sim.addPolicyInsight(app, { member: CI, role: 'roles/editor', exercisedPermissions: [], currentTotalPermissionsCount: 3542, lastRefreshTime: refreshed });
    sim.addPolicyInsight(app, {
      member: ALICE,
      role: 'roles/owner',
      exercisedPermissions: ['resourcemanager.projects.get', 'storage.buckets.list'],
      inferredPermissions: ['storage.buckets.get'],
      currentTotalPermissionsCount: 3921,
      lastRefreshTime: refreshed,
    });
    // Frozen once accepted: not read.
    sim.addPolicyInsight(app, { member: 'user:bob@example.com', role: 'roles/viewer', exercisedPermissions: [], currentTotalPermissionsCount: 1800, state: 'ACCEPTED' });

    provider = env.provider({ inventory: { searchPageSize: 2, insightsPageSize: 1, assignmentsPerPage: 3 } });
    // One of the broker's own grants on the project, with its conditional binding.
    await provider.grant(env.spec(app, { member: 'user:requester@example.com', role: 'roles/storage.objectViewer' }), { overlapping: [] });
  });
  afterAll(() => env.close());

  async function scan(part: string): Promise<{ assignments: StandingAssignment[]; pages: number }> {
    const inventory = provider.standingInventory();
    const assignments: StandingAssignment[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await inventory.page(part, cursor);
      assignments.push(...page.assignments);
      cursor = page.cursor;
      pages += 1;
    } while (cursor !== null);
    return { assignments, pages };
  }

  it('should list the organization, then folders, then the active projects the broker can see, across search pages', async () => {
    const parts = await provider.standingInventory().parts();
    expect(parts).toEqual(['organizations/100', 'folders/200', 'projects/inv-app', 'projects/inv-p1', 'projects/inv-p2', 'projects/inv-p3', 'projects/inv-p4', 'projects/inv-p5']);
    expect(parts).not.toContain('projects/inv-denied');
    expect(parts).not.toContain('projects/inv-deleted');
  });

  it('should report a human roles/owner with what the policy insight says was used', async () => {
    const { assignments } = await scan(app);
    const owner = byKey(assignments, app, 'roles/owner', ALICE)!;
    expect(owner).toMatchObject({
      cloud: 'gcp',
      principal: { id: ALICE, kind: 'user', human: true, displayName: 'alice@example.com' },
      scope: 'projects/inv-app',
      access: { type: 'gcp.role-binding', name: 'roles/owner' },
      since: null,
      neverUsed: false,
      usage: { granted: ['roles/owner'], used: ['resourcemanager.projects.get', 'storage.buckets.list'], periodDays: 90 },
      brokerOwned: false,
      removable: true,
      locator: { resource: app, role: 'roles/owner', member: ALICE, condition: null },
    });
    expect(owner.lastUsedAt!.getTime()).toBeGreaterThan(Date.now() - 2 * DAY);
  });

  it('should flag a roles/editor service account that used none of its permissions in the observation period', async () => {
    const { assignments } = await scan(app);
    expect(byKey(assignments, app, 'roles/editor', CI)).toMatchObject({
      principal: { kind: 'service_account', human: false },
      lastUsedAt: null,
      neverUsed: false,
      usage: { granted: ['roles/editor'], used: [], periodDays: 90 },
    });
    // No current insight (the only one was ACCEPTED): usage unknown, not "never used".
    expect(byKey(assignments, app, 'roles/viewer', 'user:bob@example.com')).toMatchObject({ lastUsedAt: null, neverUsed: false, usage: null });
  });

  it('should mark the broker\'s own binding, keep standing conditions and leave out temporary ones', async () => {
    const { assignments } = await scan(app);
    const own = assignments.filter((a) => a.brokerOwned);
    expect(own).toEqual([expect.objectContaining({ principal: expect.objectContaining({ id: 'user:requester@example.com' }), access: expect.objectContaining({ name: 'roles/storage.objectViewer' }), removable: false })]);
    const members = assignments.map((a) => a.principal.id);
    expect(members).toEqual(expect.arrayContaining(['user:forever@example.com', 'user:carol@example.com']));
    expect(members).not.toContain('user:temp@example.com');
    expect(byKey(assignments, app, 'roles/compute.admin', 'user:carol@example.com')!.locator).toMatchObject({ condition: { title: 'dev vms', expression: expect.stringContaining('2020-01-01') } });
    // One assignment per member, role, resource (and condition); keys stable across scans.
    expect(new Set(assignments.map((a) => a.key)).size).toBe(assignments.length);
    expect((await scan(app)).assignments.map((a) => a.key)).toEqual(assignments.map((a) => a.key));
  });

  it('should page a policy by key and resume from a stored cursor', async () => {
    const { assignments, pages } = await scan(app);
    expect(assignments).toHaveLength(7);
    expect(pages).toBe(3);
    const first = await provider.standingInventory().page(app, null);
    // A new inventory (a restarted broker) goes on from the cursor alone.
    const resumed = await env.provider({ inventory: { assignmentsPerPage: 100 } }).standingInventory().page(app, first.cursor);
    expect([...first.assignments, ...resumed.assignments].map((a) => a.key)).toEqual(assignments.map((a) => a.key));
    expect(resumed.cursor).toBeNull();
  });

  it('should read folder and organization policies with their principal kinds', async () => {
    const org = (await scan('organizations/100')).assignments;
    expect(org.map((a) => [a.access.name, a.principal.id, a.principal.kind])).toEqual([
      ['roles/resourcemanager.organizationAdmin', 'user:root@example.com', 'user'],
      ['roles/viewer', 'domain:example.com', 'group'],
    ]);
    expect((await scan('folders/200')).assignments).toEqual([
      expect.objectContaining({ scope: 'folders/200', principal: expect.objectContaining({ kind: 'group', human: null }), access: expect.objectContaining({ name: 'roles/owner' }) }),
    ]);
  });

  it('should read a project whose Recommender API is off without usage, and refuse a part that is not a resource', async () => {
    const { assignments } = await scan('projects/inv-p1');
    expect(assignments).toEqual([expect.objectContaining({ principal: expect.objectContaining({ id: 'user:p1@example.com' }), usage: null, neverUsed: false })]);
    await expect(provider.standingInventory().page('projects/inv-denied', null)).rejects.toMatchObject({ name: 'ProviderError', kind: 'terminal' });
    await expect(provider.standingInventory().page('buckets/x', null)).rejects.toMatchObject({ kind: 'invalid', options: { field: 'part' } });
  });

  it('should ride out throttling on search, policy and insight reads', async () => {
    env.simulator.resetTraffic();
    env.simulator.inject({ throttle: 2 });
    expect(await provider.standingInventory().parts()).toHaveLength(8);
    env.simulator.inject({ throttle: 2 });
    expect((await scan(app)).assignments).toHaveLength(7);
    expect(env.simulator.traffic().filter((t) => t.status === 429)).toHaveLength(4);
  });

  it('should remove a standing member with an etag read-modify-write and restore it, both idempotent', async () => {
    const inventory = provider.standingInventory();
    const { assignments } = await scan(app);
    const owner = byKey(assignments, app, 'roles/owner', ALICE)!;
    const conditional = byKey(assignments, app, 'roles/compute.admin', 'user:carol@example.com')!;
    const etag = env.simulator.policy(app)!.etag;

    env.simulator.inject({ conflict: 1 });
    await inventory.remove(owner);
    expect(env.simulator.holds(app, ALICE, 'roles/owner', new Date())).toBe(false);
    expect(env.simulator.holds(app, ALICE, 'roles/viewer', new Date())).toBe(true);
    expect(env.simulator.policy(app)!.etag).not.toBe(etag);
    await inventory.remove(owner);
    await inventory.remove(conditional);
    const policy = env.simulator.policy(app)!;
    expect(policy.bindings.find((b) => b.role === 'roles/compute.admin' && b.condition?.title === 'dev vms')).toBeUndefined();
    // Everything else, the broker's own binding included, is as it was.
    expect(policy.bindings.filter((b) => b.condition?.title?.startsWith('jit-broker grant '))).toHaveLength(1);
    expect((await scan(app)).assignments.map((a) => a.key)).toEqual(assignments.filter((a) => a !== owner && a !== conditional).map((a) => a.key));

    await inventory.restore(owner);
    await inventory.restore(owner);
    await inventory.restore(conditional);
    expect(env.simulator.holds(app, ALICE, 'roles/owner', new Date())).toBe(true);
    const restored = env.simulator.policy(app)!.bindings.filter((b) => b.role === 'roles/compute.admin' && b.condition?.title === 'dev vms');
    expect(restored).toEqual([{ role: 'roles/compute.admin', members: ['user:carol@example.com'], condition: conditional.locator.condition }]);
    expect((await scan(app)).assignments.map((a) => a.key).sort()).toEqual(assignments.map((a) => a.key).sort());
  });

  it('should refuse to remove the broker\'s own binding or a foreign locator', async () => {
    const inventory = provider.standingInventory();
    const own = (await scan(app)).assignments.find((a) => a.brokerOwned)!;
    await expect(inventory.remove(own)).rejects.toMatchObject({ kind: 'invalid' });
    await expect(inventory.remove({ ...own, brokerOwned: false, removable: true, locator: { resource: app } })).rejects.toMatchObject({ kind: 'invalid', options: { field: 'locator' } });
  });

  it('should send and get only what the Resource Manager and Recommender discovery documents describe', async () => {
    env.simulator.resetTraffic();
    const inventory = provider.standingInventory();
    for (const part of await inventory.parts()) await scan(part);
    const traffic = env.simulator.traffic();
    expect(new Set(traffic.map((t) => t.rpc))).toEqual(new Set(['organizations.search', 'folders.search', 'projects.search', 'getIamPolicy', 'insights.list']));
    for (const t of traffic) {
      const isInsights = t.rpc === 'insights.list';
      const doc = isInsights ? recommender : resourceManager;
      const method = methodOf(doc.document, t.method, t.path);
      expect(method).toBeDefined();
      expect(t.authorization).toMatch(/^Bearer \S+$/);
      const numericEnums = new URLSearchParams(t.query).get('$alt') === 'json;enum-encoding=int';
      if (t.method === 'GET') {
        expect(t.requestBody).toBe('');
        for (const key of new URLSearchParams(t.query).keys()) expect(['$alt', ...Object.keys(method!.parameters ?? {})]).toContain(key);
      }
      if (isInsights) expect(new URLSearchParams(t.query).get('filter')).toBe('stateInfo.state = ACTIVE OR stateInfo.state = DISMISSED');
      if (t.status === 200) expect(doc.validate(method!.response!.$ref, t.responseBody, { numericEnums })).toEqual([]);
      else expect(t.responseBody).toEqual({ error: { code: t.status, message: expect.any(String), status: expect.stringMatching(/^[A-Z_]+$/) } });
    }
    expect(traffic.filter((t) => t.rpc === 'projects.search').map((t) => new URLSearchParams(t.query).get('query'))).toEqual(['state:ACTIVE', 'state:ACTIVE', 'state:ACTIVE']);
  });

  describe('what the simulator rejects or filters, as GCP does', () => {
    const get = async (path: string, headers: Record<string, string> = { authorization: 'Bearer contract-token' }): Promise<{ status: number; body: any }> => {
      const res = await fetch(`${env.simulator.endpoint}${path}`, { headers });
      return { status: res.status, body: await res.json() };
    };
    const insights = (resource: string, query = '') => `/v1/${resource}/locations/global/insightTypes/google.iam.policy.Insight/insights${query}`;

    it('should search by parent, display name and state, and page with tokens bound to the query', async () => {
      const under = await get('/v3/projects:search?query=parent%3Afolders%2F200&pageSize=4');
      expect(under.body.projects.map((p: { projectId: string }) => p.projectId)).toEqual(['inv-app', 'inv-p1', 'inv-p2', 'inv-p3']);
      expect(resourceManager.validate('SearchProjectsResponse', under.body)).toEqual([]);
      const next = await get(`/v3/projects:search?query=parent%3Afolders%2F200&pageSize=4&pageToken=${under.body.nextPageToken}`);
      expect(next.body).toEqual({ projects: [expect.objectContaining({ projectId: 'inv-p4' }), expect.objectContaining({ projectId: 'inv-p5' })] });
      expect((await get(`/v3/projects:search?query=state%3AACTIVE&pageToken=${under.body.nextPageToken}`)).status).toBe(400);
      expect((await get('/v3/projects:search?query=displayName%3Ainventory*')).body.projects.map((p: { projectId: string }) => p.projectId)).toEqual(['inv-app']);
      const deleted = await get('/v3/projects:search?query=state%3ADELETE_REQUESTED');
      expect(deleted.body.projects).toEqual([expect.objectContaining({ projectId: 'inv-deleted', state: 'DELETE_REQUESTED' })]);
      expect((await get('/v3/folders:search?query=parent%3Dorganizations%2F100%20AND%20state%3DACTIVE')).body.folders).toEqual([
        expect.objectContaining({ name: 'folders/200', parent: 'organizations/100', displayName: 'Platform', state: 'ACTIVE' }),
      ]);
      expect((await get('/v3/organizations:search?query=domain%3Aexample.com')).body.organizations).toEqual([expect.objectContaining({ name: 'organizations/100', displayName: 'example.com' })]);
    });

    it('should refuse unknown parameters, query fields and operators it does not serve in Google\'s envelope', async () => {
      const invalid = { status: 400, body: { error: { code: 400, status: 'INVALID_ARGUMENT', message: expect.any(String) } } };
      expect(await get('/v3/projects:search?parent=folders%2F200')).toMatchObject(invalid);
      expect(await get('/v3/projects:search?query=owner%3Ame')).toMatchObject(invalid);
      expect(await get('/v3/folders:search?query=NOT%20state%3DACTIVE')).toMatchObject(invalid);
      expect(await get('/v3/projects:search?pageSize=many')).toMatchObject(invalid);
      expect(await get('/v3/projects:search', {})).toMatchObject({ status: 401, body: { error: { status: 'UNAUTHENTICATED' } } });
      expect(await get(insights(app, '?filter=severity%3DHIGH'))).toMatchObject(invalid);
      expect(await get(`/v1/${app}/locations/us-east1/insightTypes/google.iam.policy.Insight/insights`)).toMatchObject(invalid);
      expect(await get(insights('projects/inv-denied'))).toMatchObject({ status: 403, body: { error: { status: 'PERMISSION_DENIED' } } });
      expect(await get(insights('projects/inv-p1'))).toMatchObject({ status: 403, body: { error: { message: expect.stringContaining('Recommender API has not been used') } } });
    });

    it('should filter insights by state, name them by project number and page them', async () => {
      const number = env.simulator.projectNumber('inv-app');
      const all = await get(insights(`projects/${number}`));
      expect(all.body.insights).toHaveLength(3);
      expect(recommender.validate('GoogleCloudRecommenderV1ListInsightsResponse', all.body)).toEqual([]);
      for (const i of all.body.insights) expect(i.name).toMatch(new RegExp(`^projects/${number}/locations/global/insightTypes/google\\.iam\\.policy\\.Insight/insights/\\w+$`));
      const accepted = await get(insights(app, '?filter=stateInfo.state%20%3D%20ACCEPTED'));
      expect(accepted.body.insights.map((i: { content: { member: string } }) => i.content.member)).toEqual(['user:bob@example.com']);
      const legacy = await get(insights(app, `?filter=${encodeURIComponent('state:"ACTIVE" or state:"DISMISSED"')}&pageSize=1`));
      expect(legacy.body.insights).toHaveLength(1);
      const rest = await get(insights(app, `?filter=${encodeURIComponent('state:"ACTIVE" or state:"DISMISSED"')}&pageSize=1&pageToken=${legacy.body.nextPageToken}`));
      expect(rest.body.insights).toHaveLength(1);
      expect(rest.body.nextPageToken).toBeUndefined();
    });
  });
});
