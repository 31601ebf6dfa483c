import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AzureSimulator, RecordedCall } from '@jit/sim-azure';
import { MECHANISMS, specFactory } from './azure-harness.factory';
import { IDS, providerFor, startSeededSimulator } from './azure-world.fixture';
import { Csdl, SPECS_DIR, Swagger, loadCsdl, loadSwagger, pathTemplate } from './published-specs.loader';

const hasSpecs = existsSync(join(SPECS_DIR, 'graph/cleanMetadata.xml'));

/** Checks the adapter's requests, and the simulator's answers, against Microsoft's published descriptions. */
(hasSpecs ? describe : describe.skip)('Azure wire format against the Azure REST specs and the Graph CSDL', () => {
  let sim: AzureSimulator;
  let pim: Swagger;
  let instances: Swagger;
  let rbac: Swagger;
  let csdl: Csdl;

  beforeAll(async () => {
    pim = loadSwagger('2020-10-01/RoleAssignmentScheduleRequest.json');
    instances = loadSwagger('2020-10-01/RoleAssignmentScheduleInstance.json');
    rbac = loadSwagger('2022-04-01/authorization-RoleAssignmentsCalls.json');
    csdl = loadCsdl();
    // These tests revoke right after granting; the five-minute removal window has its own spec.
    sim = await startSeededSimulator({ pimRemovalWindowMs: 0 });
    const provider = providerFor(sim);
    // Drive every mechanism through grant, overlap, status, reconciliation and revoke.
    for (const c of Object.values(MECHANISMS)) {
      const make = specFactory(provider, c);
      const a = make({ expiresAt: new Date(Date.now() + 30 * 60_000) });
      const b = make({ expiresAt: new Date(Date.now() + 60 * 60_000) });
      await provider.grant(a, { overlapping: [] });
      await provider.grant(b, { overlapping: [a] });
      await provider.status(a);
      for await (const owned of provider.listOwned()) void owned;
      await provider.revoke(a, { overlapping: [b], early: true });
      await provider.revoke(b, { overlapping: [], early: true });
    }
  });
  afterAll(() => sim.close());

  const arm = (collection: string, method?: string) => sim.calls.filter((c) => c.api === 'arm' && new RegExp(`/${collection}(/|$)`, 'i').test(c.path) && (!method || c.method === method));
  const graph = (pathPart: string, method: string) => sim.calls.filter((c) => c.api === 'graph' && c.path.includes(pathPart) && c.method === method);
  const writable = (s: Swagger, def: string) => Object.entries(s.definitions[def].properties).filter(([, p]) => !p.readOnly).map(([k]) => k);

  it('should send ARM PIM requests on a documented path, with the spec api-version, writable properties and enum values', () => {
    const puts = arm('roleAssignmentScheduleRequests', 'PUT');
    expect(puts.length).toBeGreaterThanOrEqual(4);
    const props = pim.definitions.RoleAssignmentScheduleRequestProperties.properties;
    const templates = Object.keys(pim.paths).map(pathTemplate);
    for (const call of puts) {
      expect(templates.some((t) => t.test(call.path))).toBe(true);
      expect(call.query['api-version']).toBe(pim.info.version);
      const body = call.body as { properties: Record<string, unknown> };
      expect(Object.keys(body)).toEqual(['properties']);
      for (const key of Object.keys(body.properties)) expect(writable(pim, 'RoleAssignmentScheduleRequestProperties')).toContain(key);
      expect(props.requestType.enum).toContain(body.properties.requestType);
      const schedule = body.properties.scheduleInfo as { expiration?: Record<string, unknown> } | undefined;
      if (schedule) {
        const expiration = props.scheduleInfo.properties!.expiration;
        for (const key of Object.keys(schedule)) expect(Object.keys(props.scheduleInfo.properties!)).toContain(key);
        for (const key of Object.keys(schedule.expiration!)) expect(Object.keys(expiration.properties!)).toContain(key);
        expect(expiration.properties!.type.enum).toContain(schedule.expiration!.type);
      }
      expect(call.path.split('/').pop()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
    expect(new Set(puts.map((c) => c.path)).size).toBe(puts.length);
  });

  it('should send ARM role assignments with the required, writable properties and a PrincipalType enum value', () => {
    const puts = arm('roleAssignments', 'PUT');
    expect(puts.length).toBeGreaterThanOrEqual(2);
    const def = rbac.definitions.RoleAssignmentProperties;
    for (const call of puts) {
      expect(call.query['api-version']).toBe(rbac.info.version);
      expect(Object.keys(rbac.paths).map(pathTemplate).some((t) => t.test(call.path))).toBe(true);
      const props = (call.body as { properties: Record<string, unknown> }).properties;
      for (const key of Object.keys(props)) expect(writable(rbac, 'RoleAssignmentProperties')).toContain(key);
      for (const key of def.required ?? []) expect(props).toHaveProperty(key);
      expect(def.properties.principalType.enum).toContain(props.principalType);
    }
    for (const call of arm('roleAssignments', 'DELETE')) expect(call.query['api-version']).toBe(rbac.info.version);
  });

  it('should answer ARM reads with properties the specs define', async () => {
    const provider = providerFor(sim);
    const spec = specFactory(provider, MECHANISMS.resourceRoleUser)({ variant: 1 });
    await provider.grant(spec, { overlapping: [] });
    const bodies = await getBodies(sim, [
      `/subscriptions/${IDS.subscription}/resourceGroups/rg-orders/providers/Microsoft.Authorization/roleAssignmentScheduleRequests/${spec.artifactName}?api-version=2020-10-01`,
      `/subscriptions/${IDS.subscription}/providers/Microsoft.Authorization/roleAssignmentScheduleInstances?api-version=2020-10-01&$filter=${encodeURIComponent(`principalId eq '${spec.principal.id}'`)}`,
    ]);
    const [request, list] = bodies as [Record<string, unknown>, { value: Record<string, unknown>[] }];
    expect(Object.keys(request).sort()).toEqual(Object.keys(pim.definitions.RoleAssignmentScheduleRequest.properties).sort());
    for (const key of Object.keys(request.properties as object)) expect(Object.keys(pim.definitions.RoleAssignmentScheduleRequestProperties.properties)).toContain(key);
    expect(pim.definitions.RoleAssignmentScheduleRequestProperties.properties.status.enum).toContain((request.properties as { status: string }).status);
    expect(list.value.length).toBeGreaterThan(0);
    for (const item of list.value) {
      for (const key of Object.keys(item.properties as object)) expect(Object.keys(instances.definitions.RoleAssignmentScheduleInstanceProperties.properties)).toContain(key);
    }
    await provider.revoke(spec, { overlapping: [], early: true });
  });

  it('should answer a missing api-version with ARM\'s error envelope', async () => {
    const [body, status] = await rawGet(sim, `/subscriptions/${IDS.subscription}/providers/Microsoft.Authorization/roleAssignments`);
    expect(status).toBe(400);
    expect(body).toEqual({ error: { code: 'MissingApiVersionParameter', message: expect.any(String) } });
  });

  it('should send Graph PIM requests whose properties and enum members are in the CSDL', () => {
    const checks: [RecordedCall[], string, string][] = [
      [graph('/roleManagement/directory/roleAssignmentScheduleRequests', 'POST'), 'unifiedRoleAssignmentScheduleRequest', 'unifiedRoleScheduleRequestActions'],
      [graph('/privilegedAccess/group/assignmentScheduleRequests', 'POST'), 'privilegedAccessGroupAssignmentScheduleRequest', 'scheduleRequestActions'],
    ];
    for (const [calls, type, actions] of checks) {
      expect(calls.length).toBeGreaterThanOrEqual(3);
      const props = csdl.propertiesOf(type);
      for (const call of calls) {
        const body = call.body as Record<string, unknown>;
        for (const key of Object.keys(body)) expect([...props.keys()]).toContain(key);
        expect(csdl.enums.get(actions)).toContain(body.action);
        if (body.accessId !== undefined) expect(csdl.enums.get('privilegedAccessGroupRelationships')).toContain(body.accessId);
        for (const key of Object.keys(body.ticketInfo as object)) expect([...csdl.propertiesOf('ticketInfo').keys()]).toContain(key);
        const schedule = body.scheduleInfo as { expiration: Record<string, unknown> } | undefined;
        if (schedule) {
          for (const key of Object.keys(schedule)) expect([...csdl.propertiesOf('requestSchedule').keys()]).toContain(key);
          for (const key of Object.keys(schedule.expiration)) expect([...csdl.propertiesOf('expirationPattern').keys()]).toContain(key);
          expect(csdl.enums.get('expirationPatternType')).toContain(schedule.expiration.type);
        }
      }
    }
  });

  it('should send app role assignments and service principal tag updates with CSDL properties', () => {
    const posts = graph('/appRoleAssignedTo', 'POST');
    expect(posts.length).toBeGreaterThan(0);
    for (const call of posts) for (const key of Object.keys(call.body as object)) expect([...csdl.propertiesOf('appRoleAssignment').keys()]).toContain(key);
    const patches = sim.calls.filter((c) => c.api === 'graph' && c.method === 'PATCH');
    expect(patches.length).toBeGreaterThan(0);
    for (const call of patches) for (const key of Object.keys(call.body as object)) expect([...csdl.propertiesOf('servicePrincipal').keys()]).toContain(key);
  });

  it('should answer Graph reads with CSDL properties only', async () => {
    const provider = providerFor(sim);
    const spec = specFactory(provider, MECHANISMS.directoryRole)({ variant: 1 });
    await provider.grant(spec, { overlapping: [] });
    const app = specFactory(provider, MECHANISMS.appRole)({ variant: 1 });
    await provider.grant(app, { overlapping: [] });
    const [requests, inst, assignments] = (await getBodies(sim, [
      `/v1.0/roleManagement/directory/roleAssignmentScheduleRequests?$filter=${encodeURIComponent(`principalId eq '${spec.principal.id}'`)}`,
      `/v1.0/roleManagement/directory/roleAssignmentScheduleInstances?$filter=${encodeURIComponent(`principalId eq '${spec.principal.id}'`)}`,
      `/v1.0/servicePrincipals/${IDS.resourceApi}/appRoleAssignedTo`,
    ], 'https://graph.microsoft.com')) as { value: Record<string, unknown>[] }[];
    const cases: [Record<string, unknown>[], string][] = [
      [requests.value, 'unifiedRoleAssignmentScheduleRequest'],
      [inst.value, 'unifiedRoleAssignmentScheduleInstance'],
      [assignments.value, 'appRoleAssignment'],
    ];
    for (const [items, type] of cases) {
      expect(items.length).toBeGreaterThan(0);
      for (const item of items) for (const key of Object.keys(item)) expect([...csdl.propertiesOf(type).keys()]).toContain(key);
    }
    expect(csdl.enums.get('unifiedRoleScheduleRequestActions')).toContain(requests.value[0].action);
    await provider.revoke(spec, { overlapping: [], early: true });
    await provider.revoke(app, { overlapping: [], early: true });
  });

  it('should look principals up on the directoryObjects entity set, and get back a derived type the CSDL defines', async () => {
    const provider = providerFor(sim);
    const target = { kind: 'azure.resource-role' as const, roleDefinitionId: IDS.reader, scope: `/subscriptions/${IDS.subscription}` };
    const before = sim.calls.length;
    await provider.verifyPrincipal({ type: 'group', id: IDS.groups[1] }, target);
    const [lookup] = sim.calls.slice(before);
    const entitySet = /^\/v1\.0\/(\w+)\//.exec(lookup.path)![1];
    expect(csdl.entitySets.get(entitySet)).toBe('directoryObject');
    expect([...csdl.propertiesOf('directoryObject').keys()]).toContain(lookup.query.$select);
    const [body] = (await getBodies(sim, [`/v1.0/directoryObjects/${IDS.groups[1]}?$select=id`], 'https://graph.microsoft.com')) as Record<string, unknown>[];
    const type = String(body['@odata.type']).replace('#microsoft.graph.', '');
    // The answer's type derives from directoryObject, and carries only what $select asked for.
    expect(csdl.types.get(type)?.base).toBe('directoryObject');
    expect(Object.keys(body).filter((k) => !k.startsWith('@odata.'))).toEqual(['id']);
  });
});

async function rawGet(sim: AzureSimulator, path: string, audience = 'https://management.azure.com'): Promise<[unknown, number]> {
  const { request } = await import('node:https');
  const claims = { appid: IDS.clientId, aud: audience, tid: sim.tenantId, exp: Math.floor(Date.now() / 1000) + 600 };
  return new Promise((resolve, reject) => {
    const req = request(`${sim.url}${path}`, { ca: sim.caCertPem, headers: { authorization: `Bearer sim.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig` } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve([text ? JSON.parse(text) : undefined, res.statusCode ?? 0]));
    });
    req.on('error', reject);
    req.end();
  });
}

async function getBodies(sim: AzureSimulator, paths: string[], audience?: string): Promise<unknown[]> {
  const out = [];
  for (const p of paths) {
    const [body, status] = await rawGet(sim, p, audience);
    expect(status).toBe(200);
    out.push(body);
  }
  return out;
}
