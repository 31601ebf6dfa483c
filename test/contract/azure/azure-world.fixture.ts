import { randomUUID } from 'node:crypto';
import { AzureProvider, AzureProviderOptions } from '@jit/provider-azure';
import { AzureSimulator } from '@jit/sim-azure';

/** Fixed ids of the simulated tenant every Azure contract test seeds. */
export const IDS = {
  clientId: 'a0a0a0a0-0000-4000-8000-000000000001',
  deniedClientId: 'a0a0a0a0-0000-4000-8000-000000000002',
  secret: 'sim-secret',
  users: ['11111111-0000-4000-8000-000000000001', '11111111-0000-4000-8000-000000000002', '11111111-0000-4000-8000-000000000003'],
  groups: ['22222222-0000-4000-8000-000000000001', '22222222-0000-4000-8000-000000000002'],
  pimGroup: '22222222-0000-4000-8000-0000000000aa',
  workloads: ['33333333-0000-4000-8000-000000000001', '33333333-0000-4000-8000-000000000002', '33333333-0000-4000-8000-000000000003'],
  resourceApi: '44444444-0000-4000-8000-000000000001',
  appRole: '55555555-0000-4000-8000-000000000001',
  /** Entra "Security Reader" template id. */
  directoryRole: '5d6b6bb7-de71-4623-b4af-96380a352509',
  /** Entra role with approval required, for PendingApproval. */
  approvalRole: '194ae4cb-b126-40b2-bd5b-6091b380977d',
  /** Entra role whose PIM maximum is one hour. */
  shortRole: 'fdd7a751-b60b-444a-984c-02652fe8fa1c',
  subscription: '66666666-0000-4000-8000-000000000001',
  /** Azure "Reader" and "Contributor". */
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
};

export const TEST_RETRY: AzureProviderOptions['retry'] = {
  maxAttempts: 3,
  baseDelayMs: 10,
  replicationWaitMs: 3_000,
  settleWaitMs: 3_000,
  pollIntervalMs: 20,
};

/**
 * A simulator seeded with the tenant above, answering 429s with a short `retry-after-ms`. PIM's
 * five-minute removal window applies unless `pimRemovalWindowMs` shortens it, for tests that
 * revoke right after granting and are about something else.
 */
export async function startSeededSimulator(options: { pimRemovalWindowMs?: number } = {}): Promise<AzureSimulator> {
  const sim = await AzureSimulator.start(options);
  sim.seed({
    users: IDS.users.map((id) => ({ id })),
    groups: [...IDS.groups, IDS.pimGroup].map((id) => ({ id })),
    servicePrincipals: [
      ...IDS.workloads.map((id) => ({ id })),
      { id: IDS.resourceApi, displayName: 'orders-api', appRoles: [{ id: IDS.appRole, value: 'Orders.Write' }] },
    ],
    directoryRoles: [
      { id: IDS.directoryRole, displayName: 'Security Reader', policy: { maxDurationSeconds: 24 * 3600 } },
      { id: IDS.approvalRole, displayName: 'Approval Role', policy: { approvalRequired: true } },
      { id: IDS.shortRole, displayName: 'Short Role', policy: { maxDurationSeconds: 3600 } },
    ],
    azureRoles: [
      { id: IDS.reader, roleName: 'Reader', policy: { maxDurationSeconds: 24 * 3600 } },
      { id: IDS.contributor, roleName: 'Contributor', policy: { maxDurationSeconds: 3600, approvalRequired: false } },
    ],
    subscriptions: [IDS.subscription],
    clients: [
      { clientId: IDS.clientId, secret: IDS.secret },
      { clientId: IDS.deniedClientId, secret: IDS.secret, authorized: false },
    ],
  });
  sim.inject({ retryAfterMs: 20 });
  return sim;
}

/** The adapter as the composition root would build it against the simulator. */
export function providerFor(sim: AzureSimulator, overrides: Partial<AzureProviderOptions> = {}): AzureProvider {
  return new AzureProvider({
    tenantId: sim.tenantId,
    clientId: IDS.clientId,
    clientSecret: IDS.secret,
    authorityHost: sim.url,
    graphEndpoint: sim.url,
    armEndpoint: sim.url,
    extraCaCertsPem: [sim.caCertPem],
    reconcileScopes: [`/subscriptions/${IDS.subscription}`],
    retry: TEST_RETRY,
    ...overrides,
  });
}

export function newGrantId(): string {
  return randomUUID();
}
