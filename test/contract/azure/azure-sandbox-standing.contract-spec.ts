import { StandingAssignment } from '@jit/domain';
import { DEFAULT_PRIVILEGE_CRITERIA, judge } from '@jit/discovery';
import { AzureProvider } from '@jit/provider-azure';
import { AzureSimulator } from '@jit/sim-azure';
import { SANDBOX, seedSandboxAzure, seedSandboxAzureStanding } from '../../../apps/sandbox/src/sandbox-clouds';

/** The sandbox's seeded standing Azure access, as a scan reads it through the adapter and discovery's default criteria judge it. */
describe('sandbox Azure: standing access for discovery', () => {
  let sim: AzureSimulator;
  let all: StandingAssignment[];
  const s = SANDBOX.azure.standing;

  beforeAll(async () => {
    sim = await AzureSimulator.start();
    seedSandboxAzure(sim);
    seedSandboxAzureStanding(sim);
    const a = SANDBOX.azure;
    const inventory = new AzureProvider({
      tenantId: sim.tenantId,
      clientId: a.clientId,
      clientSecret: a.secret,
      authorityHost: sim.url,
      graphEndpoint: sim.url,
      armEndpoint: sim.url,
      extraCaCertsPem: [sim.caCertPem],
      reconcileScopes: [`/subscriptions/${a.subscription}`],
    }).standingInventory();
    all = [];
    for (const part of await inventory.parts()) {
      for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
        const page = await inventory.page(part, cursor);
        all.push(...page.assignments);
        cursor = page.cursor;
      }
    }
  });
  afterAll(() => sim.close());

  const of = (principalId: string) => all.filter((x) => x.principal.id === principalId);
  const privileged = (x: StandingAssignment) => judge(x, DEFAULT_PRIVILEGE_CRITERIA).privileged;

  it('should find every seeded privileged assignment, judged privileged', () => {
    for (const [principal, type, name] of [
      [s.owner, 'azure.role-assignment', 'Owner'],
      [s.dormant, 'azure.role-assignment', 'User Access Administrator'],
      [s.managedIdentity, 'azure.role-assignment', 'Contributor'],
      [s.globalAdmin, 'azure.directory-role', 'Global Administrator'],
    ]) {
      const [found] = of(principal);
      expect(found).toMatchObject({ access: { type, name }, brokerOwned: false, removable: true });
      expect(privileged(found)).toBe(true);
    }
  });

  it('should report the Reader as standing but not privileged, the eligibility as eligibility, and not the activation', () => {
    expect(of(s.reader).map(privileged)).toEqual([false]);
    expect(of(s.eligible).map((x) => x.access.type)).toEqual(['azure.pim-eligible']);
    expect(of(s.activated)).toEqual([]);
    // The one broker artifact the seed holds is recognised as the broker's, and nothing else is.
    expect(all.filter((x) => x.brokerOwned).map((x) => [x.principal.id, x.brokerGrantIds])).toEqual([[s.brokerWorkload, [s.brokerGrantId]]]);
  });

  it('should tell unused from used: the dormant admin and the one who never signed in', () => {
    expect(of(s.dormant)[0]).toMatchObject({ lastUsedAt: new Date('2025-01-15T09:30:00Z'), neverUsed: false });
    expect(of(s.globalAdmin)[0]).toMatchObject({ lastUsedAt: null, neverUsed: true });
    expect(of(s.owner)[0].lastUsedAt!.getTime()).toBeGreaterThan(Date.now() - 7 * 86_400_000);
    expect(of(s.managedIdentity)[0].principal).toMatchObject({ kind: 'managed_identity', human: false });
  });
});
