import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AzureProvider } from '@jit/provider-azure';
import { AzureSimulator } from '@jit/sim-azure';
import { IDS, providerFor, startSeededSimulator } from '../contract/azure/azure-world.fixture';
import { TestBroker, startTestBroker } from '../setup/test-broker';

const SCOPE = `/subscriptions/${IDS.subscription}/resourceGroups/rg-orders`;

/** Workloads get Reader at once; people need an approval. The type decides which rule applies. */
const RULES = `
version: 1
groups:
  sre: []
rules:
  - name: workloads-read-orders
    requesters:
      - subjects: [alice]
    targets:
      - kind: azure.resource-role
        roleDefinitionIds: ["${IDS.reader}"]
        scopes: ["${SCOPE}"]
        principalTypes: [workload]
    maxDuration: PT1H
    approval: auto
  - name: people-read-orders
    requesters:
      - subjects: [alice]
    targets:
      - kind: azure.resource-role
        roleDefinitionIds: ["${IDS.reader}"]
        scopes: ["${SCOPE}"]
        principalTypes: [user]
    maxDuration: PT1H
    approval: { approvals: 1, from: [sre] }
`;

/**
 * An Entra object id does not show whether it is a user, a group or a service principal. The
 * broker asks Graph (the real adapter against the simulator) before the rules, so a person
 * cannot take the workloads' automatic rule by declaring themselves a workload.
 */
describe('Azure principal types are checked before the rules', () => {
  let t: TestBroker;
  let sim: AzureSimulator;
  let provider: AzureProvider;

  beforeAll(async () => {
    sim = await startSeededSimulator();
    provider = providerFor(sim);
    const dir = mkdtempSync(join(tmpdir(), 'jit-azure-types-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    t = await startTestBroker({ JIT_POLICY_FILE: join(dir, 'rules.yaml') }, { providers: [provider] });
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  const request = (principal: { type: string; id: string }) => ({
    cloud: 'azure',
    principal,
    target: { kind: 'azure.resource-role', roleDefinitionId: IDS.reader, scope: SCOPE },
    duration: 'PT30M',
    justification: 'read order history',
  });
  const armWrites = () => sim.calls.filter((c) => c.api === 'arm' && c.method === 'PUT');

  it('should refuse a user declared as a workload with 400 on principal.type, writing nothing anywhere', async () => {
    const writes = armWrites().length;
    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(request({ type: 'workload', id: IDS.users[0] })).expect(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'principal.type', message: expect.stringContaining('is a user in Entra ID') })]);
    expect(armWrites()).toHaveLength(writes);
    const grants = (await t.http.get('/v1/grants').set(t.as('admin')).expect(200)).body.items;
    expect(grants.filter((g: { principal: { id: string } }) => g.principal.id === IDS.users[0])).toEqual([]);
  });

  it('should give a real workload the automatic rule, through an ARM role assignment', async () => {
    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(request({ type: 'workload', id: IDS.workloads[0] })).expect(201);
    expect(res.body).toMatchObject({ state: 'active', decision: { rule: 'workloads-read-orders' } });
    expect(armWrites().filter((c) => /roleAssignments\//.test(c.path))).not.toHaveLength(0);
    await t.http.post(`/v1/grants/${res.body.id}/revoke`).set(t.as('alice')).send({}).expect(200);
  });

  it('should hold the same user, declared truthfully, to the approval rule', async () => {
    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(request({ type: 'user', id: IDS.users[0] })).expect(202);
    expect(res.body).toMatchObject({ state: 'pending_approval', decision: { rule: 'people-read-orders' } });
  });

  it('should give a dry run the same answer as the request, Azure\'s own limits included', async () => {
    const dry = await t.http.post('/v1/policy/evaluate').set(t.as('alice')).send(request({ type: 'workload', id: IDS.workloads[2] })).expect(200);
    expect(dry.body).toMatchObject({ effect: 'allow', rule: 'workloads-read-orders', mode: 'auto' });
    // The role definition's ARM id names another subscription than the scope: the rules allow the GUID, Azure would refuse it.
    const foreign = {
      ...request({ type: 'workload', id: IDS.workloads[2] }),
      target: { kind: 'azure.resource-role', roleDefinitionId: `/subscriptions/99999999-0000-4000-8000-000000000009/providers/Microsoft.Authorization/roleDefinitions/${IDS.reader}`, scope: SCOPE },
    };
    const writes = armWrites().length;
    const dryForeign = await t.http.post('/v1/policy/evaluate').set(t.as('alice')).send(foreign);
    const realForeign = await t.http.post('/v1/grants').set(t.as('alice')).send(foreign);
    expect(dryForeign.status).toBe(400);
    expect([realForeign.status, realForeign.body.errors]).toEqual([dryForeign.status, dryForeign.body.errors]);
    expect(dryForeign.body.errors).toEqual([expect.objectContaining({ field: 'target.roleDefinitionId' })]);
    expect(armWrites()).toHaveLength(writes);
  });

  it('should refuse a service principal declared as a user, and a group declared as a user', async () => {
    for (const id of [IDS.workloads[1], IDS.groups[0]]) {
      const res = await t.http.post('/v1/grants').set(t.as('alice')).send(request({ type: 'user', id })).expect(400);
      expect(res.body.errors[0]).toMatchObject({ field: 'principal.type' });
    }
  });
});
