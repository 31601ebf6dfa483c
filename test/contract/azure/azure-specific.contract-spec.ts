import { request } from 'node:https';
import { GrantSpec, ProviderError } from '@jit/domain';
import { AzureTargetOf, azureTarget } from '@jit/provider-azure';
import { AzureSimulator } from '@jit/sim-azure';
import { MECHANISMS, holdsQuery, specFactory } from './azure-harness.factory';
import { IDS, providerFor, startSeededSimulator } from './azure-world.fixture';

const alone = { overlapping: [] };

async function failure(p: Promise<unknown>): Promise<ProviderError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(ProviderError);
  return e as ProviderError;
}

describe('Azure provider against the simulator: PIM policy, faults, validation', () => {
  let sim: AzureSimulator;
  beforeAll(async () => {
    // These tests revoke right after granting; the five-minute removal window has its own spec.
    sim = await startSeededSimulator({ pimRemovalWindowMs: 0 });
  });
  afterAll(() => sim.close());

  const directory = (roleDefinitionId: string) => ({ kind: 'azure.directory-role' as const, roleDefinitionId, directoryScopeId: '/' });
  const holds = (spec: GrantSpec, at = new Date()) => sim.holds(spec.principal.id, holdsQuery(spec.target), at);

  it('should report pending while PIM waits for approval, then active once approved', async () => {
    const provider = providerFor(sim);
    const spec = specFactory(provider, MECHANISMS.directoryRole, directory(IDS.approvalRole))();
    const outcome = await provider.grant(spec, alone);
    expect(outcome.status).toBe('pending');
    expect(outcome.providerRef.requestStatus).toBe('PendingApproval');
    expect(holds(spec)).toBe(false);
    expect((await provider.status(spec)).status).toBe('pending');
    sim.decide(String(outcome.providerRef.requestId), 'approve');
    expect((await provider.status(spec)).status).toBe('active');
    expect(holds(spec)).toBe(true);
    await provider.revoke(spec, { overlapping: [], early: true });
    expect(holds(spec)).toBe(false);
  });

  it('should report a denied PIM request as failed with the reason', async () => {
    const provider = providerFor(sim);
    const spec = specFactory(provider, MECHANISMS.directoryRole, directory(IDS.approvalRole))({ variant: 1 });
    const outcome = await provider.grant(spec, alone);
    sim.decide(String(outcome.providerRef.requestId), 'deny');
    const status = await provider.status(spec);
    expect(status).toEqual({ status: 'failed', reason: expect.stringContaining('denied') });
  });

  it('should cancel a pending request when the grant is revoked before approval', async () => {
    const provider = providerFor(sim);
    const spec = specFactory(provider, MECHANISMS.directoryRole, directory(IDS.approvalRole))({ variant: 2 });
    await provider.grant(spec, alone);
    await provider.revoke(spec, { overlapping: [], early: true });
    expect(sim.pendingApprovals().filter((p) => p.principalId === spec.principal.id)).toHaveLength(0);
    expect((await provider.status(spec)).status).toBe('failed');
  });

  it('should wait out PendingProvisioning within its bound and return active', async () => {
    sim.setPolicy('resource-role', IDS.contributor, { maxDurationSeconds: 3600, provisioningDelayMs: 50 });
    const provider = providerFor(sim);
    const target = { kind: 'azure.resource-role' as const, scope: `/subscriptions/${IDS.subscription}`, roleDefinitionId: IDS.contributor };
    const spec = specFactory(provider, MECHANISMS.resourceRoleUser, target)({ expiresAt: new Date(Date.now() + 30 * 60_000) });
    expect((await provider.grant(spec, alone)).status).toBe('active');
    expect(holds(spec)).toBe(true);
    await provider.revoke(spec, { overlapping: [], early: false });
    sim.setPolicy('resource-role', IDS.contributor, { maxDurationSeconds: 3600 });
  });

  it('should turn a duration over the role maximum into a limit error naming the PIM rule, with nothing granted', async () => {
    const provider = providerFor(sim);
    const spec = specFactory(provider, MECHANISMS.directoryRole, directory(IDS.shortRole))({ expiresAt: new Date(Date.now() + 2 * 3600_000) });
    const e = await failure(provider.grant(spec, alone));
    expect(e.kind).toBe('limit');
    expect(e.message).toMatch(/Expiration_Admin_Assignment/);
    expect(holds(spec)).toBe(false);
    const arm = specFactory(provider, MECHANISMS.resourceRoleUser, { kind: 'azure.resource-role', scope: `/subscriptions/${IDS.subscription}`, roleDefinitionId: IDS.contributor })({
      expiresAt: new Date(Date.now() + 2 * 3600_000),
    });
    expect((await failure(provider.grant(arm, alone))).kind).toBe('limit');
  });

  it('should end PIM access at the schedule end: held just before expiresAt, not just after', async () => {
    const provider = providerFor(sim);
    for (const c of [MECHANISMS.directoryRole, MECHANISMS.resourceRoleUser, MECHANISMS.groupMembership]) {
      const spec = specFactory(provider, c)({ variant: 2, expiresAt: new Date(Date.now() + 10 * 60_000) });
      await provider.grant(spec, alone);
      expect(holds(spec, new Date(spec.expiresAt.getTime() - 1000))).toBe(true);
      expect(holds(spec, new Date(spec.expiresAt.getTime() + 1000))).toBe(false);
      await provider.revoke(spec, { overlapping: [], early: false });
    }
  });

  it('should keep an overlapping grant to its own end when the longer one is revoked early', async () => {
    const provider = providerFor(sim);
    const make = specFactory(provider, MECHANISMS.resourceRoleUser);
    const short = make({ variant: 1, expiresAt: new Date(Date.now() + 20 * 60_000) });
    const long = make({ variant: 1, expiresAt: new Date(Date.now() + 90 * 60_000) });
    await provider.grant(short, alone);
    await provider.grant(long, { overlapping: [short] });
    expect(holds(short, new Date(long.expiresAt.getTime() - 60_000))).toBe(true);
    await provider.revoke(long, { overlapping: [short], early: true });
    expect(holds(short)).toBe(true);
    expect(holds(short, new Date(short.expiresAt.getTime() + 1000))).toBe(false);
    const owned = [];
    for await (const a of provider.listOwned()) if (a.grantId === short.grantId || a.grantId === long.grantId) owned.push(a.grantId);
    expect(owned).toEqual([short.grantId]);
    await provider.revoke(short, { overlapping: [], early: true });
  });

  it('should honour a Retry-After given in seconds only', async () => {
    sim.inject({ retryAfterMs: undefined, retryAfterSeconds: 1 });
    const provider = providerFor(sim);
    const spec = specFactory(provider, MECHANISMS.appRole)({ variant: 2 });
    sim.inject({ throttle: 1 });
    const before = sim.calls.length;
    await provider.grant(spec, alone);
    const throttled = sim.calls.slice(before).filter((c) => c.status === 429);
    expect(throttled).toHaveLength(1);
    expect(holds(spec)).toBe(true);
    await provider.revoke(spec, { overlapping: [], early: true });
    sim.inject({ retryAfterMs: 20 });
  });

  it('should give up at once, with retryAfterMs, when Retry-After exceeds the wait bound', async () => {
    sim.inject({ retryAfterMs: undefined, retryAfterSeconds: 120 });
    const provider = providerFor(sim);
    sim.inject({ throttle: 1 });
    const e = await failure(provider.grant(specFactory(provider, MECHANISMS.directoryRole)(), alone));
    expect(e.kind).toBe('transient');
    expect(e.options.retryAfterMs).toBe(120_000);
    sim.inject({ throttle: 0, retryAfterSeconds: 1, retryAfterMs: 20 });
  });

  it('should retry "principal not found" while Entra replicates a new principal', async () => {
    const provider = providerFor(sim);
    const spec = specFactory(provider, MECHANISMS.resourceRoleUser)({ variant: 0 });
    sim.inject({ notFoundReplication: 2 });
    expect((await provider.grant(spec, alone)).status).toBe('active');
    expect(holds(spec)).toBe(true);
    await provider.revoke(spec, { overlapping: [], early: true });
  });

  it('should report a principal that never appears as invalid once the replication wait is spent', async () => {
    const provider = providerFor(sim, { retry: { maxAttempts: 3, baseDelayMs: 10, replicationWaitMs: 100 } });
    const spec = specFactory(provider, MECHANISMS.directoryRole)();
    const ghost = { ...spec, principal: { type: 'user' as const, id: '99999999-0000-4000-8000-000000000009' } };
    const e = await failure(provider.grant(ghost, alone));
    expect(e.kind).toBe('invalid');
    expect(e.options.field).toBe('principal.id');
  });

  it('should treat a permission error as terminal, without retrying', async () => {
    const provider = providerFor(sim, { clientId: IDS.deniedClientId });
    const before = sim.calls.length;
    const e = await failure(provider.grant(specFactory(provider, MECHANISMS.resourceRoleWorkload)(), alone));
    expect(e.kind).toBe('terminal');
    expect(e.message).toMatch(/lacks the permission/);
    expect(sim.calls.slice(before).filter((c) => c.status === 403)).toHaveLength(1);
  });

  it('should fail as terminal, not retry, when the TLS certificate is not trusted', async () => {
    const provider = providerFor(sim, { extraCaCertsPem: [] , credential: { getToken: async () => ({ token: 'x', expiresOnTimestamp: Date.now() + 60_000 }) } });
    const e = await failure(provider.healthCheck());
    expect(e.kind).toBe('terminal');
  });

  it('should validate GUIDs, scopes, role definitions and principal types before any call', async () => {
    const provider = providerFor(sim);
    const before = sim.calls.length;
    const base = specFactory(provider, MECHANISMS.resourceRoleWorkload)();
    const cases: [GrantSpec, string][] = [
      [{ ...base, target: { ...base.target, scope: '/subscriptions/not-a-guid' } }, 'target.scope'],
      [{ ...base, target: { ...base.target, roleDefinitionId: 'Reader' } }, 'target.roleDefinitionId'],
      [
        { ...base, target: { ...base.target, roleDefinitionId: `/subscriptions/${IDS.users[0]}/providers/Microsoft.Authorization/roleDefinitions/${IDS.reader}` } },
        'target.roleDefinitionId',
      ],
      [{ ...base, principal: { type: 'workload', id: 'sp-name' } }, 'principal.id'],
      [{ ...specFactory(provider, MECHANISMS.appRole)(), principal: { type: 'user', id: IDS.users[0] } }, 'principal.type'],
      [{ ...specFactory(provider, MECHANISMS.groupMembership)(), principal: { type: 'workload', id: IDS.workloads[0] } }, 'principal.type'],
      [{ ...base, artifactName: 'made-up' }, 'artifactName'],
    ];
    for (const [spec, field] of cases) {
      const e = await failure(provider.grant(spec, alone));
      expect([e.kind, e.options.field]).toEqual(['invalid', field]);
    }
    expect(sim.calls.length).toBe(before);
  });

  describe('declared principal types, checked against the directory', () => {
    const resourceRole = { kind: 'azure.resource-role' as const, roleDefinitionId: IDS.reader, scope: `/subscriptions/${IDS.subscription}` };

    it('should accept each principal under its own type, asking Graph once per principal', async () => {
      const provider = providerFor(sim);
      const before = sim.calls.length;
      for (const principal of [
        { type: 'user' as const, id: IDS.users[0] },
        { type: 'group' as const, id: IDS.groups[0] },
        { type: 'workload' as const, id: IDS.workloads[0].toUpperCase() },
      ]) {
        await provider.verifyPrincipal(principal, resourceRole);
        await provider.verifyPrincipal(principal, resourceRole);
      }
      const lookups = sim.calls.slice(before);
      expect(lookups.map((c) => [c.method, c.path, c.query.$select, c.status])).toEqual([
        ['GET', `/v1.0/directoryObjects/${IDS.users[0]}`, 'id', 200],
        ['GET', `/v1.0/directoryObjects/${IDS.groups[0]}`, 'id', 200],
        ['GET', `/v1.0/directoryObjects/${IDS.workloads[0]}`, 'id', 200],
      ]);
    });

    it('should refuse a principal declared as another type, naming principal.type and the real one', async () => {
      const provider = providerFor(sim);
      for (const [declared, id, actual] of [
        ['workload', IDS.users[1], 'user'],
        ['user', IDS.groups[1], 'group'],
        ['user', IDS.workloads[1], 'workload'],
      ] as const) {
        const e = await failure(provider.verifyPrincipal({ type: declared, id }, resourceRole));
        expect(e).toMatchObject({ kind: 'invalid', options: { field: 'principal.type', code: 'azure.principal-type' } });
        expect(e.message).toContain(`is a ${actual} in Entra ID`);
      }
    });

    it('should wait briefly for a principal still replicating, and call one that never appears invalid on principal.id', async () => {
      const provider = providerFor(sim);
      sim.inject({ notFoundReplication: 1 });
      await provider.verifyPrincipal({ type: 'user', id: IDS.users[2] }, resourceRole);
      const quick = providerFor(sim, { retry: { maxAttempts: 3, baseDelayMs: 10, replicationWaitMs: 100 } });
      const e = await failure(quick.verifyPrincipal({ type: 'user', id: '99999999-0000-4000-8000-000000000009' }, resourceRole));
      expect(e).toMatchObject({ kind: 'invalid', options: { field: 'principal.id' } });
      // Asked again at once, the answer comes from memory: a flood of unknown ids costs Graph nothing more.
      const before = sim.calls.length;
      await expect(failure(quick.verifyPrincipal({ type: 'user', id: '99999999-0000-4000-8000-000000000009' }, resourceRole))).resolves.toBe(e);
      expect(sim.calls.length).toBe(before);
    });

    it('should report a broker without directory read permission as terminal, and an outage as transient', async () => {
      const denied = providerFor(sim, { clientId: IDS.deniedClientId });
      await expect(failure(denied.verifyPrincipal({ type: 'user', id: IDS.users[0] }, resourceRole))).resolves.toMatchObject({ kind: 'terminal' });
      sim.inject({ serverError: 10 });
      try {
        await expect(failure(providerFor(sim).verifyPrincipal({ type: 'user', id: IDS.users[0] }, resourceRole))).resolves.toMatchObject({ kind: 'transient' });
      } finally {
        sim.inject({ serverError: 0 });
      }
    });
  });

  it('should not delete a standing role assignment the broker did not make', async () => {
    const provider = providerFor(sim);
    const make = specFactory(provider, MECHANISMS.resourceRoleWorkload);
    const standing = make({ variant: 2 });
    await provider.grant(standing, alone);
    expect((await provider.status(standing)).status).toBe('active');
    // Turn it into a human-made assignment: the broker's description is gone.
    await rewriteDescription(sim, standing, standing.artifactName);
    const jit = make({ variant: 2 });
    expect((await provider.grant(jit, alone)).status).toBe('active');
    await provider.revoke(jit, { overlapping: [], early: true });
    expect(holds(jit)).toBe(true);
  });
});

/** Plays a human who edits the assignment in the portal, through ARM itself. */
async function rewriteDescription(sim: AzureSimulator, spec: GrantSpec, name: string): Promise<void> {
  const t = azureTarget(spec.target) as AzureTargetOf<'azure.resource-role'>;
  const body = JSON.stringify({
    properties: {
      roleDefinitionId: `/subscriptions/${IDS.subscription}/providers/Microsoft.Authorization/roleDefinitions/${IDS.reader}`,
      principalId: spec.principal.id,
      description: 'standing access, owned by the platform team',
    },
  });
  const claims = { appid: 'portal-user', aud: 'https://management.azure.com', tid: sim.tenantId, exp: Math.floor(Date.now() / 1000) + 600 };
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      `${sim.url}${t.scope}/providers/Microsoft.Authorization/roleAssignments/${name}?api-version=2022-04-01`,
      { method: 'PUT', ca: sim.caCertPem, headers: { authorization: `Bearer sim.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`, 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  expect(status).toBe(200);
}
