import { request } from 'node:https';
import { ProviderError, StandingAccessInventory, StandingAssignment } from '@jit/domain';
import { AzureProvider } from '@jit/provider-azure';
import { AzureSimulator } from '@jit/sim-azure';
import { MECHANISMS, specFactory } from './azure-harness.factory';
import { IDS, providerFor, startSeededSimulator } from './azure-world.fixture';
import { loadCsdl, loadSwagger, pathTemplate } from './published-specs.loader';

const OWNER = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
const UAA = '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9';
const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const PRIVILEGED_ROLE_ADMIN = 'e8611ab8-c189-46e8-94e1-60213ab1f814';
const DIRECTORY_READERS = '88d8e3e3-8f55-4a1e-953a-9b9898b8876b';
const SUB = `/subscriptions/${IDS.subscription}`;
const RG = `${SUB}/resourceGroups/rg-orders`;

const P = {
  owner: 'aaaa0000-0000-4000-8000-000000000001',
  globalAdmin: 'aaaa0000-0000-4000-8000-000000000002',
  eligible: 'aaaa0000-0000-4000-8000-000000000003',
  activated: 'aaaa0000-0000-4000-8000-000000000004',
  dormant: 'aaaa0000-0000-4000-8000-000000000005',
  neverSignedIn: 'aaaa0000-0000-4000-8000-000000000006',
  pimPermanent: 'aaaa0000-0000-4000-8000-000000000007',
  pimUntil2099: 'aaaa0000-0000-4000-8000-000000000008',
  managedIdentity: 'bbbb0000-0000-4000-8000-000000000001',
};
const RECENT = new Date(Date.now() - 2 * 86_400_000).toISOString();
const OLD = '2025-01-15T09:30:00Z';

/** Every part, every page, as discovery walks them; the cursors are kept to check paging. */
async function scan(inventory: StandingAccessInventory): Promise<{ assignments: StandingAssignment[]; pages: Record<string, number> }> {
  const assignments: StandingAssignment[] = [];
  const pages: Record<string, number> = {};
  for (const part of await inventory.parts()) {
    let cursor: string | null = null;
    do {
      const page = await inventory.page(part, cursor);
      assignments.push(...page.assignments);
      pages[part] = (pages[part] ?? 0) + 1;
      cursor = page.cursor;
    } while (cursor !== null);
  }
  return { assignments, pages };
}

function seedTenant(sim: AzureSimulator): void {
  sim.seed({
    users: [
      { id: P.owner, displayName: 'Olga Owner', userPrincipalName: 'olga@contoso.example', signInActivity: { lastSuccessfulSignInDateTime: RECENT, lastSignInDateTime: RECENT } },
      { id: P.globalAdmin, displayName: 'Gary Admin', signInActivity: { lastSuccessfulSignInDateTime: RECENT } },
      { id: P.eligible, signInActivity: { lastSuccessfulSignInDateTime: RECENT } },
      { id: P.activated, signInActivity: { lastSuccessfulSignInDateTime: RECENT } },
      { id: P.dormant, displayName: 'Dora Dormant', signInActivity: { lastSignInDateTime: OLD, lastSuccessfulSignInDateTime: OLD, lastNonInteractiveSignInDateTime: null } },
      { id: P.neverSignedIn, signInActivity: null },
      { id: P.pimPermanent, signInActivity: { lastNonInteractiveSignInDateTime: RECENT, lastSuccessfulSignInDateTime: RECENT } },
      { id: P.pimUntil2099, signInActivity: { lastSuccessfulSignInDateTime: RECENT } },
    ],
    servicePrincipals: [{ id: P.managedIdentity, displayName: 'id-orders-batch', servicePrincipalType: 'ManagedIdentity' }],
  });
}

const find = (all: StandingAssignment[], principalId: string, type?: string) => all.filter((a) => a.principal.id === principalId && (!type || a.access.type === type));

describe('Azure standing access inventory against the simulator (discovery, issue 16)', () => {
  let sim: AzureSimulator;
  let provider: AzureProvider;
  let inventory: StandingAccessInventory;

  beforeAll(async () => {
    sim = await startSeededSimulator({ pimRemovalWindowMs: 0 });
    seedTenant(sim);
    provider = providerFor(sim);
    inventory = provider.standingInventory();
  });
  afterAll(() => sim.close());

  it('should walk one part per discovery scope and one for the Entra tenant', async () => {
    expect(await inventory.parts()).toEqual([`arm:${SUB}`, `entra:${sim.tenantId}`]);
    const wider = providerFor(sim, { discoveryScopes: [SUB, `${SUB}/`] }).standingInventory();
    expect(await wider.parts()).toEqual([`arm:${SUB}`, `arm:${SUB}`, `entra:${sim.tenantId}`]);
    await expect(inventory.page('arm:/subscriptions/00000000-0000-4000-8000-000000000000', null)).rejects.toMatchObject({ kind: 'invalid', options: { field: 'part' } });
  });

  it('should find a permanent Owner with its role, actions, principal, age and last sign-in', async () => {
    const id = sim.seedRoleAssignment({ scope: SUB, roleDefinitionId: OWNER, principalId: P.owner, createdOn: new Date('2024-03-01T00:00:00Z') });
    const [owner] = find((await scan(inventory)).assignments, P.owner);
    expect(owner).toMatchObject({
      cloud: 'azure',
      key: `azure|arm|${SUB}|${OWNER}|${P.owner}`,
      principal: { id: P.owner, kind: 'user', human: true, displayName: 'olga@contoso.example' },
      scope: SUB,
      access: { type: 'azure.role-assignment', name: 'Owner', id: OWNER, actions: ['*'] },
      since: new Date('2024-03-01T00:00:00Z'),
      lastUsedAt: new Date(RECENT),
      neverUsed: false,
      brokerOwned: false,
      removable: true,
      locator: { id, principalType: 'User' },
    });
  });

  it('should find a permanent Global Administrator assignment in the tenant part', async () => {
    sim.seedDirectoryRoleAssignment({ roleDefinitionId: GLOBAL_ADMIN, principalId: P.globalAdmin });
    const all = (await scan(inventory)).assignments;
    const [ga] = find(all, P.globalAdmin);
    expect(ga).toMatchObject({
      key: `azure|entra|/|${GLOBAL_ADMIN}|${P.globalAdmin}`,
      scope: '/',
      principal: { kind: 'user', human: true },
      access: { type: 'azure.directory-role', name: 'Global Administrator', id: GLOBAL_ADMIN, actions: expect.arrayContaining(['microsoft.directory/*/allProperties/allTasks']) },
      removable: true,
      brokerOwned: false,
    });
  });

  it('should report eligibilities as azure.pim-eligible, not as held access, on both ARM and Entra', async () => {
    sim.seedEligibility({ surface: 'arm', scope: RG, roleDefinitionId: CONTRIBUTOR, principalId: P.eligible });
    sim.seedEligibility({ surface: 'directory', scope: '/', roleDefinitionId: PRIVILEGED_ROLE_ADMIN, principalId: P.eligible, end: new Date(Date.now() + 30 * 86_400_000) });
    const mine = find((await scan(inventory)).assignments, P.eligible);
    expect(mine.map((a) => a.access.type).sort()).toEqual(['azure.pim-eligible', 'azure.pim-eligible']);
    // ARM answers scopes as it stores them (the simulator: lower case).
    expect(mine.find((a) => a.scope.toLowerCase() === RG.toLowerCase())).toMatchObject({ access: { name: 'Contributor' }, removable: false, locator: { permanent: true } });
    expect(mine.find((a) => a.scope === '/')).toMatchObject({ access: { name: 'Privileged Role Administrator' }, locator: { permanent: false } });
  });

  it('should not report PIM activations, though Azure lists their role assignments, and report an admin\'s permanent PIM assignment as azure.pim-active', async () => {
    sim.seedPimAssignment({ surface: 'arm', scope: SUB, roleDefinitionId: OWNER, principalId: P.activated, assignmentType: 'Activated', end: new Date(Date.now() + 3_600_000) });
    sim.seedPimAssignment({ surface: 'directory', scope: '/', roleDefinitionId: GLOBAL_ADMIN, principalId: P.activated, assignmentType: 'Activated', end: new Date(Date.now() + 3_600_000) });
    sim.seedPimAssignment({ surface: 'arm', scope: SUB, roleDefinitionId: UAA, principalId: P.pimPermanent, assignmentType: 'Assigned', end: null });
    expect(sim.holds(P.activated, { kind: 'resource-role', roleDefinitionId: OWNER, scope: SUB })).toBe(true);
    expect(sim.holds(P.activated, { kind: 'directory-role', roleDefinitionId: GLOBAL_ADMIN })).toBe(true);
    const before = sim.calls.length;
    const all = (await scan(inventory)).assignments;
    // Azure's own lists carry the activations: the inventory leaves them out after asking PIM.
    const listed = sim.calls.slice(before).filter((c) => /roleAssignments$/.test(c.path));
    expect(listed.length).toBeGreaterThan(0);
    expect(find(all, P.activated)).toEqual([]);
    expect(find(all, P.pimPermanent)).toEqual([
      expect.objectContaining({ access: expect.objectContaining({ type: 'azure.pim-active', name: 'User Access Administrator' }), removable: true, lastUsedAt: new Date(RECENT) }),
    ]);
  });

  it('should mark the broker\'s own role assignments, and not list its PIM grants at all (they end)', async () => {
    const workload = specFactory(provider, MECHANISMS.resourceRoleWorkload)();
    const user = specFactory(provider, MECHANISMS.resourceRoleUser)();
    const directory = specFactory(provider, MECHANISMS.directoryRole)();
    for (const spec of [workload, user, directory]) await provider.grant(spec, { overlapping: [] });
    try {
      const all = (await scan(inventory)).assignments;
      expect(find(all, workload.principal.id)).toEqual([expect.objectContaining({ brokerOwned: true, access: expect.objectContaining({ type: 'azure.role-assignment', name: 'Reader' }) })]);
      expect(find(all, user.principal.id)).toEqual([]);
      expect(all.filter((a) => a.access.id === IDS.directoryRole)).toEqual([]);
      // Nothing else is the broker's.
      expect(all.filter((a) => a.brokerOwned)).toHaveLength(1);
    } finally {
      for (const spec of [workload, user, directory]) await provider.revoke(spec, { overlapping: [], early: true });
    }
  });

  it('should not take an assignment for the broker\'s because its description says so: only the broker\'s name for the claimed grant counts', async () => {
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const forgedId = sim.seedRoleAssignment({ scope: SUB, roleDefinitionId: OWNER, principalId: P.dormant, description: `jit-broker grant totally-legit until ${until}` });
    const named = provider.artifactName('grant-named', MECHANISMS.resourceRoleWorkload.target);
    const realId = sim.seedRoleAssignment({ scope: SUB, roleDefinitionId: CONTRIBUTOR, principalId: P.dormant, name: named, description: `jit-broker grant grant-named until ${until}` });
    let all: StandingAssignment[] = [];
    try {
      all = (await scan(inventory)).assignments;
      const forged = all.find((a) => a.locator.id === forgedId);
      expect(forged).toMatchObject({ brokerOwned: false, brokerGrantIds: ['totally-legit'], access: { type: 'azure.role-assignment', name: 'Owner' }, locator: { claimedGrantId: 'totally-legit' } });
      const real = all.find((a) => a.locator.id === realId);
      expect(real).toMatchObject({ brokerOwned: true, brokerGrantIds: ['grant-named'] });
      expect(real?.locator.claimedGrantId).toBeUndefined();
    } finally {
      for (const a of all.filter((x) => x.locator.id === forgedId || x.locator.id === realId)) await inventory.remove(a);
    }
  });

  it('should carry last sign-in: an old one, none at all, and no record for workloads', async () => {
    sim.seedRoleAssignment({ scope: RG, roleDefinitionId: CONTRIBUTOR, principalId: P.dormant });
    sim.seedRoleAssignment({ scope: RG, roleDefinitionId: CONTRIBUTOR, principalId: P.neverSignedIn });
    sim.seedRoleAssignment({ scope: SUB, roleDefinitionId: CONTRIBUTOR, principalId: P.managedIdentity });
    sim.seedRoleAssignment({ scope: SUB, roleDefinitionId: OWNER, principalId: IDS.groups[0] });
    const all = (await providerFor(sim).standingInventory().page(`arm:${SUB}`, null)).assignments;
    expect(find(all, P.dormant)[0]).toMatchObject({ lastUsedAt: new Date(OLD), neverUsed: false, principal: { displayName: expect.any(String) } });
    expect(find(all, P.neverSignedIn)[0]).toMatchObject({ lastUsedAt: null, neverUsed: true });
    expect(find(all, P.managedIdentity)[0]).toMatchObject({ principal: { kind: 'managed_identity', human: false, displayName: 'id-orders-batch' }, lastUsedAt: null, neverUsed: false });
    expect(find(all, IDS.groups[0])[0]).toMatchObject({ principal: { kind: 'group', human: null }, lastUsedAt: null });
    expect(find(all, IDS.workloads[2])).toEqual([]);
    const contributor = find(all, P.dormant)[0];
    expect(contributor.access.actions).toEqual(['*']);
    // Azure's notActions narrow the actions beside them; they are not the port's "everything but".
    expect(contributor.access.notActions).toBeUndefined();
  });

  it('should retry a throttled listing and honour Retry-After', async () => {
    const before = sim.calls.length;
    sim.inject({ throttle: 2 });
    const page = await providerFor(sim).standingInventory().page(`arm:${SUB}`, null);
    expect(page.assignments.length).toBeGreaterThan(0);
    expect(sim.calls.slice(before).filter((c) => c.status === 429)).toHaveLength(2);
  });

  it('should fail a page as transient when throttling outlasts the retry budget', async () => {
    sim.inject({ throttle: 10 });
    const error = await providerFor(sim).standingInventory().page(`entra:${sim.tenantId}`, null).then(() => undefined, (e: unknown) => e);
    sim.inject({ throttle: 0 });
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: 'transient' });
  });

  it('should remove a permanent Owner and restore it under the same name', async () => {
    const principal = IDS.users[2];
    const id = sim.seedRoleAssignment({ scope: SUB, roleDefinitionId: OWNER, principalId: principal, description: 'break-glass, ticket OPS-1' });
    const [owner] = find((await scan(inventory)).assignments, principal, 'azure.role-assignment');
    await inventory.remove(owner);
    expect(sim.holds(principal, { kind: 'resource-role', roleDefinitionId: OWNER, scope: SUB })).toBe(false);
    await inventory.remove(owner); // absent means done
    await inventory.restore(owner);
    await inventory.restore(owner); // present means done
    expect(sim.holds(principal, { kind: 'resource-role', roleDefinitionId: OWNER, scope: SUB })).toBe(true);
    const [back] = find((await scan(inventory)).assignments, principal, 'azure.role-assignment');
    expect(back).toMatchObject({ key: owner.key, locator: { id, description: 'break-glass, ticket OPS-1' } });
  });

  it('should remove a permanent Global Administrator and restore it, then remove the restored one', async () => {
    const principal = IDS.users[1];
    sim.seedDirectoryRoleAssignment({ roleDefinitionId: GLOBAL_ADMIN, principalId: principal });
    const [ga] = find((await scan(inventory)).assignments, principal, 'azure.directory-role');
    await inventory.remove(ga);
    expect(sim.holds(principal, { kind: 'directory-role', roleDefinitionId: GLOBAL_ADMIN })).toBe(false);
    await inventory.restore(ga);
    await inventory.restore(ga);
    expect(sim.holds(principal, { kind: 'directory-role', roleDefinitionId: GLOBAL_ADMIN })).toBe(true);
    const [back] = find((await scan(inventory)).assignments, principal, 'azure.directory-role');
    expect(back.key).toBe(ga.key);
    expect(back.locator.id).not.toBe(ga.locator.id);
    await inventory.remove(ga);
    expect(sim.holds(principal, { kind: 'directory-role', roleDefinitionId: GLOBAL_ADMIN })).toBe(false);
    await inventory.restore(ga);
  });

  it('should remove an admin\'s permanent PIM assignment through PIM (AdminRemove) and restore it with no expiration', async () => {
    const principal = P.pimPermanent;
    sim.seedPimAssignment({ surface: 'directory', scope: '/', roleDefinitionId: PRIVILEGED_ROLE_ADMIN, principalId: principal, assignmentType: 'Assigned', end: null });
    const mine = find((await scan(inventory)).assignments, principal, 'azure.pim-active');
    expect(mine.map((a) => a.access.name).sort((x, y) => x.localeCompare(y))).toEqual(['Privileged Role Administrator', 'User Access Administrator']);
    const before = sim.calls.length;
    const arm = { kind: 'resource-role' as const, roleDefinitionId: UAA, scope: SUB };
    const entra = { kind: 'directory-role' as const, roleDefinitionId: PRIVILEGED_ROLE_ADMIN };
    for (const a of mine) {
      expect(a.removable).toBe(true);
      await inventory.remove(a);
      await inventory.remove(a); // absent means done
    }
    expect([sim.holds(principal, arm), sim.holds(principal, entra)]).toEqual([false, false]);
    for (const a of mine) {
      await inventory.restore(a);
      await inventory.restore(a); // present means done
    }
    expect([sim.holds(principal, arm), sim.holds(principal, entra)]).toEqual([true, true]);
    const back = find((await scan(inventory)).assignments, principal, 'azure.pim-active');
    expect(back.map((a) => a.key).sort((x, y) => x.localeCompare(y))).toEqual(mine.map((a) => a.key).sort((x, y) => x.localeCompare(y)));
    // The requests are discovery's, not a grant's: reconciliation never takes them for the broker's own.
    const requests = sim.calls.slice(before).filter((c) => /roleAssignmentScheduleRequests/.test(c.path) && (c.method === 'PUT' || c.method === 'POST'));
    expect(requests.length).toBe(8);
    for (const call of requests) {
      const body = call.body as { properties?: { ticketInfo: unknown }; ticketInfo?: unknown };
      expect(body.properties?.ticketInfo ?? body.ticketInfo).toMatchObject({ ticketSystem: 'jit-broker-discovery' });
    }
    let owned = 0;
    for await (const artifact of provider.listOwned()) if (artifact.locator.principalId === principal) owned++;
    expect(owned).toBe(0);
  });

  it('should report an admin\'s PIM assignment that ends (Owner until 2099) as azure.pim-active with its end, and restore it until that end', async () => {
    const principal = P.pimUntil2099;
    const until = new Date('2099-01-01T00:00:00Z');
    sim.seedPimAssignment({ surface: 'arm', scope: SUB, roleDefinitionId: OWNER, principalId: principal, assignmentType: 'Assigned', end: until });
    sim.seedPimAssignment({ surface: 'directory', scope: '/', roleDefinitionId: GLOBAL_ADMIN, principalId: principal, assignmentType: 'Assigned', end: until });
    const mine = find((await scan(inventory)).assignments, principal);
    expect(mine.map((a) => [a.access.type, a.access.name, a.locator.endDateTime, a.locator.permanent]).sort((x, y) => String(x[1]).localeCompare(String(y[1])))).toEqual([
      ['azure.pim-active', 'Global Administrator', until.toISOString(), false],
      ['azure.pim-active', 'Owner', until.toISOString(), false],
    ]);
    const arm = { kind: 'resource-role' as const, roleDefinitionId: OWNER, scope: SUB };
    const entra = { kind: 'directory-role' as const, roleDefinitionId: GLOBAL_ADMIN };
    for (const a of mine) await inventory.remove(a);
    expect([sim.holds(principal, arm), sim.holds(principal, entra)]).toEqual([false, false]);
    for (const a of mine) await inventory.restore(a);
    expect(sim.pimSchedules(principal, arm).map((x) => x.end?.toISOString())).toEqual([until.toISOString()]);
    expect(sim.pimSchedules(principal, entra).map((x) => x.end?.toISOString())).toEqual([until.toISOString()]);
    const back = find((await scan(inventory)).assignments, principal);
    expect(back.map((a) => a.key).sort((x, y) => x.localeCompare(y))).toEqual(mine.map((a) => a.key).sort((x, y) => x.localeCompare(y)));
    for (const a of back) await inventory.remove(a);
  });

  it('should restore an admin\'s PIM assignment with the ABAC condition it had', async () => {
    const principal = P.pimUntil2099;
    const condition = "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {acdd72a7-3385-48ef-bd42-f606fba81ae7}))";
    sim.seedPimAssignment({ surface: 'arm', scope: SUB, roleDefinitionId: UAA, principalId: principal, assignmentType: 'Assigned', end: null, condition, conditionVersion: '2.0' });
    const [held] = find((await scan(inventory)).assignments, principal, 'azure.pim-active');
    expect(held.locator).toMatchObject({ condition, conditionVersion: '2.0' });
    const before = sim.calls.length;
    await inventory.remove(held);
    await inventory.restore(held);
    const restore = sim.calls.slice(before).find((c) => c.method === 'PUT' && /roleAssignmentScheduleRequests/.test(c.path) && (c.body as { properties: { requestType: string } }).properties.requestType === 'AdminAssign');
    expect((restore?.body as { properties: Record<string, unknown> }).properties).toMatchObject({ condition, conditionVersion: '2.0' });
    const [back] = find((await scan(inventory)).assignments, principal, 'azure.pim-active');
    expect(back.locator).toMatchObject({ condition, conditionVersion: '2.0' });
    await inventory.remove(back);
  });

  it('should mark an assignment whose role definition it may not read, rather than report a role that allows nothing', async () => {
    const custom = 'cccc0000-0000-4000-8000-00000000000c';
    sim.seed({ azureRoles: [{ id: custom, roleName: 'Secret Custom Role', permissions: [{ actions: ['*'] }] }] });
    sim.denyRoleDefinitionRead(custom);
    const id = sim.seedRoleAssignment({ scope: RG, roleDefinitionId: custom, principalId: P.dormant });
    const all = (await scan(inventory)).assignments;
    const held = all.find((a) => a.locator.id === id)!;
    expect(held.access).toEqual({ type: 'azure.role-assignment', name: `unknown role ${custom}`, id: custom, actions: undefined });
    expect(held.locator.definitionUnreadable).toBe(true);
    // A readable role is not marked.
    expect(all.filter((a) => a.locator.definitionUnreadable).map((a) => a.locator.id)).toEqual([id]);
    await inventory.remove(held);
  });

  it('should remove a directory role assignment by its id, and never a PIM activation of the same role in its place', async () => {
    const principal = P.activated;
    const standing = sim.seedDirectoryRoleAssignment({ roleDefinitionId: PRIVILEGED_ROLE_ADMIN, principalId: principal });
    const [pra] = find((await scan(inventory)).assignments, principal, 'azure.directory-role').filter((a) => a.locator.id === standing);
    await inventory.remove(pra);
    const role = { kind: 'directory-role' as const, roleDefinitionId: PRIVILEGED_ROLE_ADMIN };
    expect(sim.holds(principal, role)).toBe(false);
    // The member then activates the role in PIM: removing the finding again leaves the activation alone.
    sim.seedPimAssignment({ surface: 'directory', scope: '/', roleDefinitionId: PRIVILEGED_ROLE_ADMIN, principalId: principal, assignmentType: 'Activated', end: new Date(Date.now() + 3_600_000) });
    await inventory.remove(pra);
    expect(sim.holds(principal, role)).toBe(true);
    const left = (await scan(inventory)).assignments.filter((a) => a.principal.id === principal && a.access.type === 'azure.directory-role' && a.access.id === PRIVILEGED_ROLE_ADMIN);
    expect(left).toEqual([]);
    expect(sim.holds(principal, role)).toBe(true);
  });

  it('should keep an assignment scoped to an application apart from a tenant-wide one, and restore it to that application', async () => {
    const principal = P.eligible;
    const appScopeId = '/e5d4c3b2-0000-4000-8000-0000000000a1';
    const scoped = sim.seedDirectoryRoleAssignment({ roleDefinitionId: PRIVILEGED_ROLE_ADMIN, principalId: principal, appScopeId });
    const [held] = find((await scan(inventory)).assignments, principal, 'azure.directory-role').filter((a) => a.locator.id === scoped);
    expect(held).toMatchObject({ scope: `app:${appScopeId}`, key: `azure|entra|app:${appScopeId}|${PRIVILEGED_ROLE_ADMIN}|${principal}`, locator: { appScopeId, directoryScopeId: null } });
    await inventory.remove(held);
    const before = sim.calls.length;
    await inventory.restore(held);
    const post = sim.calls.slice(before).find((c) => c.method === 'POST' && /roleAssignments$/.test(c.path));
    expect(post?.body).toMatchObject({ appScopeId });
    expect((post?.body as Record<string, unknown>).directoryScopeId).toBeUndefined();
    const back = find((await scan(inventory)).assignments, principal, 'azure.directory-role').filter((a) => a.key === held.key);
    expect(back).toHaveLength(1);
    await inventory.remove(back[0]);
  });

  it('should refuse to remove an eligibility, naming the field', async () => {
    const eligible = (await scan(inventory)).assignments.filter((a) => a.access.type === 'azure.pim-eligible');
    expect(eligible.length).toBeGreaterThan(0);
    for (const a of eligible) {
      expect(a.removable).toBe(false);
      await expect(inventory.remove(a)).rejects.toMatchObject({ kind: 'invalid', options: { field: 'access.type' } });
    }
  });

  it('should walk a management group at its own scope (atScope()), with tenant-level role definitions', async () => {
    const mg = '/providers/Microsoft.Management/managementGroups/mg-platform';
    sim.seed({ managementGroups: ['mg-platform'] });
    sim.seedRoleAssignment({ scope: mg, roleDefinitionId: UAA, principalId: P.dormant });
    sim.seedEligibility({ surface: 'arm', scope: mg, roleDefinitionId: OWNER, principalId: P.dormant });
    const before = sim.calls.length;
    const { assignments } = await scan(providerFor(sim, { discoveryScopes: [mg] }).standingInventory());
    const atMg = assignments.filter((a) => a.scope.toLowerCase() === mg.toLowerCase());
    expect(atMg.map((a) => `${a.access.type} ${a.access.name}`).sort((x, y) => x.localeCompare(y))).toEqual(['azure.pim-eligible Owner', 'azure.role-assignment User Access Administrator']);
    // Nothing of the subscription below is reported by the management group's part.
    expect(assignments.filter((a) => a.scope.startsWith('/subscriptions/'))).toEqual([]);
    const lists = sim.calls.slice(before).filter((c) => c.api === 'arm' && /\/(roleAssignments|roleAssignmentSchedules|roleEligibilitySchedules)$/.test(c.path));
    expect(lists.length).toBe(3);
    for (const call of lists) expect(call.query.$filter).toBe('atScope()');
  });

  it('should report what is assigned above a scope (the tenant root, a management group) under its own scope, and walk the root itself', async () => {
    const mg = '/providers/Microsoft.Management/managementGroups/mg-above';
    sim.seed({ managementGroups: [{ id: 'mg-top' }, { id: 'mg-above', parent: 'mg-top', subscriptions: [IDS.subscription] }, { id: 'mg-elsewhere' }] });
    // A management group the subscription is not under is not its ancestor.
    const elsewhereId = sim.seedRoleAssignment({ scope: '/providers/Microsoft.Management/managementGroups/mg-elsewhere', roleDefinitionId: OWNER, principalId: P.neverSignedIn });
    const topId = sim.seedRoleAssignment({ scope: '/providers/Microsoft.Management/managementGroups/mg-top', roleDefinitionId: CONTRIBUTOR, principalId: P.neverSignedIn });
    const rootId = sim.seedRoleAssignment({ scope: '/', roleDefinitionId: UAA, principalId: P.neverSignedIn });
    const mgId = sim.seedRoleAssignment({ scope: mg, roleDefinitionId: OWNER, principalId: P.neverSignedIn });
    let all: StandingAssignment[] = [];
    try {
      all = (await scan(inventory)).assignments;
      const mine = find(all, P.neverSignedIn).filter((a) => a.locator.id === rootId || a.locator.id === mgId);
      expect(mine.map((a) => [a.scope.toLowerCase(), a.access.name]).sort((x, y) => x[0].localeCompare(y[0]))).toEqual([
        ['/', 'User Access Administrator'],
        [mg.toLowerCase(), 'Owner'],
      ]);
      // Up the hierarchy (mg-top holds mg-above), and not from a group the subscription is not under.
      expect(all.filter((a) => a.locator.id === topId)).toHaveLength(1);
      expect(all.filter((a) => a.locator.id === elsewhereId)).toEqual([]);
      // Keys are per scope: the subscription's part and the root's own part report the root's assignment under one key.
      const root = mine.find((a) => a.locator.id === rootId)!;
      expect(root.key).toBe(`azure|arm|/|${UAA}|${P.neverSignedIn}`);
      const atRoot = (await scan(providerFor(sim, { discoveryScopes: ['/'] }).standingInventory())).assignments;
      expect(await providerFor(sim, { discoveryScopes: ['/'] }).standingInventory().parts()).toEqual(['arm:/', `entra:${sim.tenantId}`]);
      expect(atRoot.filter((a) => a.locator.id === rootId).map((a) => a.key)).toEqual([root.key]);
      // The root's part lists what is at the root only (atScope()), not every subscription below.
      expect(atRoot.filter((a) => a.locator.api === 'arm' && a.scope !== '/')).toEqual([]);
    } finally {
      for (const a of all.filter((x) => [rootId, mgId, topId].includes(String(x.locator.id)))) await inventory.remove(a);
    }
  });

  it('should refuse a cursor it did not write, and one that would send its token elsewhere', async () => {
    for (const part of [`arm:${SUB}`, `entra:${sim.tenantId}`]) {
      for (const next of ['https://evil.example/x', 'nonsense', 'http://[bad']) {
        await expect(inventory.page(part, JSON.stringify({ phase: 'assignments', next }))).rejects.toMatchObject({ kind: 'invalid', options: { field: 'cursor' } });
      }
      for (const cursor of ['nonsense', JSON.stringify({ phase: 'other', next: '/x' })]) {
        await expect(inventory.page(part, cursor)).rejects.toMatchObject({ kind: 'invalid', options: { field: 'cursor' } });
      }
    }
  });

  it('should send a cursor\'s path to the configured API only, even with a URL inside it', async () => {
    for (const [part, api] of [[`arm:${SUB}`, 'arm'], [`entra:${sim.tenantId}`, 'graph']] as const) {
      for (const next of ['/x?y=https://evil.example/', '//evil.example/x']) {
        const before = sim.calls.length;
        // The path is no API the simulator serves: it answers, so the request reached it and nowhere else.
        const error = await inventory.page(part, JSON.stringify({ phase: 'eligibility', next })).then(
          () => null,
          (e: Error) => e,
        );
        expect(error?.message).not.toMatch(/ENOTFOUND|unreachable|evil/i);
        expect(sim.calls.slice(before).filter((c) => c.api === api).length).toBeGreaterThan(0);
      }
    }
  });
});

describe('Azure standing access inventory: paging and resuming', () => {
  let sim: AzureSimulator;
  beforeAll(async () => {
    sim = await startSeededSimulator();
    for (let i = 0; i < 120; i++) sim.seedRoleAssignment({ scope: `${SUB}/resourceGroups/rg-${String(i).padStart(3, '0')}`, roleDefinitionId: CONTRIBUTOR, principalId: IDS.users[i % 3] });
    for (let i = 0; i < 55; i++) sim.seedDirectoryRoleAssignment({ roleDefinitionId: DIRECTORY_READERS, principalId: IDS.users[i % 3], directoryScopeId: `/administrativeUnits/au-${i}` });
    for (let i = 0; i < 60; i++) sim.seedEligibility({ surface: 'arm', scope: `${SUB}/resourceGroups/rg-${String(i).padStart(3, '0')}`, roleDefinitionId: OWNER, principalId: IDS.users[i % 3] });
  });
  afterAll(() => sim.close());

  it('should follow nextLink and @odata.nextLink to the end, each assignment once', async () => {
    const { assignments, pages } = await scan(providerFor(sim).standingInventory());
    const arm = assignments.filter((a) => a.scope.startsWith(SUB));
    expect(arm.filter((a) => a.access.type === 'azure.role-assignment')).toHaveLength(120);
    expect(arm.filter((a) => a.access.type === 'azure.pim-eligible')).toHaveLength(60);
    expect(assignments.filter((a) => a.access.type === 'azure.directory-role')).toHaveLength(55);
    expect(new Set(assignments.map((a) => a.key)).size).toBe(assignments.length);
    // 120 role assignments in pages of 50, then 60 eligibilities in pages of 50.
    expect(pages[`arm:${SUB}`]).toBe(5);
    expect(pages[`entra:${sim.tenantId}`]).toBe(3);
    const skipTokens = sim.calls.filter((c) => /roleAssignments$/.test(c.path) && c.query.$skipToken);
    expect(skipTokens.length).toBe(2);
    expect(sim.calls.filter((c) => c.api === 'graph' && c.query.$skiptoken).length).toBeGreaterThan(0);
  });

  it('should be served Graph pages with @odata.nextLink when $top sizes them, as Graph does', async () => {
    const [body, status] = await rawGet(sim, '/v1.0/roleManagement/directory/roleAssignments?$top=10', 'https://graph.microsoft.com');
    expect(status).toBe(200);
    const page = body as { value: unknown[]; '@odata.nextLink'?: string };
    expect(page.value).toHaveLength(10);
    expect(new URL(page['@odata.nextLink'] ?? 'http://x/').searchParams.get('$top')).toBe('10');
  });

  it('should resume from a stored cursor in a new process with the same result', async () => {
    const part = `arm:${SUB}`;
    const first = await providerFor(sim).standingInventory().page(part, null);
    const rest: StandingAssignment[] = [];
    // A fresh adapter (the broker restarted) goes on from the cursor the scan stored.
    const resumed = providerFor(sim).standingInventory();
    for (let cursor = first.cursor; cursor !== null; ) {
      const page = await resumed.page(part, cursor);
      rest.push(...page.assignments);
      cursor = page.cursor;
    }
    expect(first.assignments.length + rest.length).toBe(180);
    expect(new Set([...first.assignments, ...rest].map((a) => a.key)).size).toBe(180);
  });
});

describe('Azure standing access inventory on the wire', () => {
  let sim: AzureSimulator;
  beforeAll(async () => {
    sim = await startSeededSimulator();
    seedTenant(sim);
    sim.seedRoleAssignment({ scope: SUB, roleDefinitionId: OWNER, principalId: P.owner });
    sim.seedDirectoryRoleAssignment({ roleDefinitionId: GLOBAL_ADMIN, principalId: P.globalAdmin });
    sim.seedEligibility({ surface: 'arm', scope: SUB, roleDefinitionId: CONTRIBUTOR, principalId: P.eligible });
    sim.seedEligibility({ surface: 'directory', scope: '/', roleDefinitionId: GLOBAL_ADMIN, principalId: P.eligible });
    sim.seedPimAssignment({ surface: 'arm', scope: SUB, roleDefinitionId: UAA, principalId: P.activated, assignmentType: 'Activated', end: new Date(Date.now() + 3_600_000) });
    await scan(providerFor(sim).standingInventory());
  });
  afterAll(() => sim.close());

  it('should read ARM on documented paths with each API\'s api-version, and get back what the specs define', async () => {
    const cases: [string, string, string][] = [
      ['roleAssignmentSchedules', '2020-10-01/RoleAssignmentSchedule.json', 'RoleAssignmentScheduleProperties'],
      ['roleEligibilitySchedules', '2020-10-01/RoleEligibilitySchedule.json', 'RoleEligibilityScheduleProperties'],
      ['roleAssignments', '2022-04-01/authorization-RoleAssignmentsCalls.json', 'RoleAssignmentProperties'],
    ];
    for (const [collection, file, definition] of cases) {
      const swagger = loadSwagger(file);
      const calls = sim.calls.filter((c) => c.api === 'arm' && new RegExp(`/${collection}$`).test(c.path));
      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) {
        expect(call.query['api-version']).toBe(swagger.info.version);
        expect(Object.keys(swagger.paths).map(pathTemplate).some((t) => t.test(call.path))).toBe(true);
      }
      const [body] = await rawGet(sim, `${calls[0].path}?api-version=${swagger.info.version}`);
      const items = (body as { value: { properties: object }[] }).value;
      expect(items.length).toBeGreaterThan(0);
      for (const item of items) for (const key of Object.keys(item.properties)) expect(Object.keys(swagger.definitions[definition].properties)).toContain(key);
    }
    // Role definitions are not in the shipped specs: Microsoft's REST reference (2022-04-01).
    const reads = sim.calls.filter((c) => c.api === 'arm' && /\/roleDefinitions\//.test(c.path));
    expect(reads.length).toBeGreaterThan(0);
    for (const call of reads) expect(call.query['api-version']).toBe('2022-04-01');
  });

  it('should read Graph with CSDL properties and navigation, and get back CSDL properties', async () => {
    const csdl = loadCsdl();
    const graph = (part: string) => sim.calls.filter((c) => c.api === 'graph' && c.path.endsWith(part));
    const [assignments] = graph('/roleManagement/directory/roleAssignments');
    expect(assignments.query.$expand).toBe('principal');
    const [user] = sim.calls.filter((c) => c.api === 'graph' && c.path.startsWith('/v1.0/users/'));
    for (const field of user.query.$select.split(',')) expect([...csdl.propertiesOf('user').keys()]).toContain(field);
    const [usersBody] = await rawGet(sim, `${user.path}?$select=${user.query.$select}`, 'https://graph.microsoft.com');
    for (const key of Object.keys((usersBody as { signInActivity: object }).signInActivity)) expect([...csdl.propertiesOf('signInActivity').keys()]).toContain(key);
    const cases: [string, string][] = [
      ['/roleManagement/directory/roleAssignments?$expand=principal', 'unifiedRoleAssignment'],
      ['/roleManagement/directory/roleEligibilitySchedules?$expand=principal', 'unifiedRoleEligibilitySchedule'],
      ['/roleManagement/directory/roleDefinitions', 'unifiedRoleDefinition'],
    ];
    for (const [path, type] of cases) {
      const [body] = await rawGet(sim, `/v1.0${path}`, 'https://graph.microsoft.com');
      const items = (body as { value: Record<string, unknown>[] }).value;
      expect(items.length).toBeGreaterThan(0);
      // `principal` is the expanded navigation property; the rest are the type's properties.
      for (const item of items) for (const key of Object.keys(item)) expect([...csdl.propertiesOf(type).keys(), 'principal']).toContain(key);
    }
    // Service principals' sign-in activity is beta only: the v1.0 CSDL has no such entity.
    expect(csdl.types.has('servicePrincipalSignInActivity')).toBe(false);
  });
});

function rawGet(sim: AzureSimulator, path: string, audience = 'https://management.azure.com'): Promise<[unknown, number]> {
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
