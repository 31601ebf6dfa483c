import { ProviderError } from '@jit/domain';
import { bindingTitle, expiryExpression } from './broker-binding.convention';
import { GcpStandingInventory } from './gcp-standing.inventory';
import { InsightPage, PolicyInsight, PolicyInsightsGateway, readPolicyInsight } from './policy-insights.gateway';
import { PolicyWriteCoalescer } from './policy-write.coalescer';
import { GatewayError, IamBinding, ResourceManagerGateway, SearchKind, SearchPage } from './resource-manager.gateway';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const RETRY = { attempts: 2, baseDelayMs: 1, maxDelayMs: 1, conflictAttempts: 2 };

const insight = (member: string, role: string, exercised: string[], o: Partial<PolicyInsight> = {}): PolicyInsight => ({
  member, role, conditionExpression: '', exercised, inferred: [], totalPermissions: 100, observationDays: 90, lastRefreshTime: NOW, ...o,
});

/** A cloud in memory behind the two gateways' methods the inventory calls; the write queue is the real one. */
function inventoryOver(cloud: {
  search?: Partial<Record<SearchKind, SearchPage[]>>;
  bindings?: IamBinding[];
  insights?: InsightPage[] | GatewayError;
}, assignmentsPerPage = 500) {
  const searches: string[] = [];
  const gateway = {
    search: async (kind: SearchKind, query: string | undefined, token: string | undefined) => {
      searches.push(`${kind}?${query ?? ''}#${token ?? ''}`);
      const pages = cloud.search?.[kind] ?? [{ found: [], nextPageToken: null }];
      return pages[token ? Number(token) : 0];
    },
    getPolicy: async () => ({ version: 3, etag: Buffer.from('e'), bindings: cloud.bindings ?? [] }),
  } as unknown as ResourceManagerGateway;
  const insights = {
    list: async (_resource: string, token: string | undefined) => {
      if (cloud.insights instanceof GatewayError) throw cloud.insights;
      return (cloud.insights ?? [{ insights: [], nextPageToken: null }])[token ? Number(token) : 0];
    },
    close: async () => undefined,
  } as unknown as PolicyInsightsGateway;
  const writer = new PolicyWriteCoalescer(gateway, RETRY, () => NOW);
  const inventory = new GcpStandingInventory(gateway, insights, writer, { searchPageSize: 500, insightsPageSize: 500, assignmentsPerPage, now: () => NOW });
  return { inventory, searches };
}

describe(GcpStandingInventory.name, () => {
  describe('parts', () => {
    it('should follow every search page, skip resources being deleted and list each once', async () => {
      const { inventory, searches } = inventoryOver({
        search: {
          organizations: [{ found: [{ resource: 'organizations/1', active: true }], nextPageToken: null }],
          folders: [{ found: [{ resource: 'folders/2', active: false }], nextPageToken: null }],
          projects: [
            { found: [{ resource: 'projects/a', active: true }], nextPageToken: '1' },
            { found: [{ resource: 'projects/a', active: true }, { resource: 'projects/b', active: true }], nextPageToken: null },
          ],
        },
      });
      expect(await inventory.parts()).toEqual(['organizations/1', 'projects/a', 'projects/b']);
      expect(searches).toEqual(['organizations?#', 'folders?state=ACTIVE#', 'projects?state:ACTIVE#', 'projects?state:ACTIVE#1']);
    });
  });

  describe('page', () => {
    it('should join each binding with the freshest insight on the same member, role and condition', async () => {
      const condition = { title: 't', expression: 'request.time > timestamp("2020-01-01T00:00:00Z")' };
      const { inventory } = inventoryOver({
        bindings: [{ role: 'roles/editor', members: ['user:a@example.com'] }, { role: 'roles/editor', members: ['user:a@example.com'], condition }],
        insights: [
          { insights: [insight('user:a@example.com', 'roles/editor', ['x.get'], { lastRefreshTime: new Date('2029-12-01T00:00:00Z') })], nextPageToken: '1' },
          {
            insights: [
              insight('user:a@example.com', 'roles/editor', ['y.get'], { lastRefreshTime: new Date('2029-12-30T00:00:00Z') }),
              insight('user:a@example.com', 'roles/editor', [], { conditionExpression: condition.expression, observationDays: 30 }),
            ],
            nextPageToken: null,
          },
        ],
      });
      const [plain, conditional] = (await inventory.page('projects/p', null)).assignments.sort((a, b) => a.key.length - b.key.length);
      expect(plain).toMatchObject({ lastUsedAt: new Date('2029-12-30T00:00:00Z'), neverUsed: false, usage: { granted: ['roles/editor'], used: ['y.get'], periodDays: 90 } });
      // Nothing exercised in the 30-day observation period: unused for 30 days, not "never used" (GCP does not know before).
      expect(conditional).toMatchObject({ lastUsedAt: null, neverUsed: false, usage: { used: [], periodDays: 30 }, locator: { condition } });
      expect(conditional.key).not.toBe(plain.key);
    });

    it('should read the policy without usage where the Recommender refuses, and fail the page on anything else', async () => {
      const bindings = [{ role: 'roles/viewer', members: ['user:a@example.com'] }];
      const denied = inventoryOver({ bindings, insights: new GatewayError('terminal', 'PERMISSION_DENIED', 'Recommender API has not been used') });
      expect((await denied.inventory.page('projects/p', null)).assignments).toEqual([expect.objectContaining({ usage: null, neverUsed: false })]);
      const broken = inventoryOver({ bindings, insights: new GatewayError('invalid', 'INVALID_ARGUMENT', 'bad filter') });
      await expect(broken.inventory.page('projects/p', null)).rejects.toBeInstanceOf(ProviderError);
    });

    it('should go on after the cursor\'s key even when the policy changed between pages', async () => {
      const bindings: IamBinding[] = [{ role: 'roles/viewer', members: ['user:b@example.com', 'user:d@example.com', 'user:f@example.com'] }];
      const { inventory } = inventoryOver({ bindings }, 2);
      const first = await inventory.page('projects/p', null);
      expect(first.assignments.map((a) => a.principal.id)).toEqual(['user:b@example.com', 'user:d@example.com']);
      bindings[0].members!.push('user:a@example.com', 'user:e@example.com');
      const second = await inventory.page('projects/p', first.cursor);
      expect(second).toMatchObject({ assignments: [{ principal: { id: 'user:e@example.com' } }, { principal: { id: 'user:f@example.com' } }], cursor: null });
    });

    it('should report a binding titled like the broker\'s but ending past the broker\'s longest grant as standing, with the grant it claims', async () => {
      const own = (grantId: string, expiresAt: Date) => ({ role: 'roles/x', members: ['user:a@example.com'], condition: { title: bindingTitle(grantId), expression: expiryExpression(expiresAt) } });
      // 8 hours (the default JIT_MAX_DURATION) from NOW is the broker's; a year from now is not.
      const { inventory } = inventoryOver({ bindings: [own('ours', new Date('2030-01-01T08:00:00Z')), own('forged', new Date('2031-01-01T00:00:00Z'))] });
      const byGrant = Object.fromEntries((await inventory.page('projects/p', null)).assignments.map((a) => [a.brokerGrantIds?.[0], a]));
      expect(byGrant.ours).toMatchObject({ brokerOwned: true, removable: false });
      expect(byGrant.forged).toMatchObject({ brokerOwned: false, removable: true, brokerGrantIds: ['forged'] });
      const writer = new PolicyWriteCoalescer({} as ResourceManagerGateway, RETRY, () => NOW);
      const gateway = { getPolicy: async () => ({ version: 3, etag: Buffer.from('e'), bindings: [own('long', new Date('2030-01-03T00:00:00Z'))] }) } as unknown as ResourceManagerGateway;
      const insights = { list: async () => ({ insights: [], nextPageToken: null }) } as unknown as PolicyInsightsGateway;
      // A broker configured for grants up to 3 days takes it as its own.
      const longer = new GcpStandingInventory(gateway, insights, writer, { searchPageSize: 500, insightsPageSize: 500, assignmentsPerPage: 500, now: () => NOW, maxGrantSeconds: 3 * 86400 });
      expect((await longer.page('projects/p', null)).assignments).toEqual([expect.objectContaining({ brokerOwned: true })]);
    });

    it('should report the broker\'s own live binding as brokerOwned and not removable, and leave out an expired one', async () => {
      const own = (grantId: string, expiresAt: Date) => ({ role: 'roles/x', members: ['user:a@example.com'], condition: { title: bindingTitle(grantId), expression: expiryExpression(expiresAt) } });
      const { inventory } = inventoryOver({ bindings: [own('live', new Date('2030-01-01T01:00:00Z')), own('old', new Date('2029-01-01T00:00:00Z'))] });
      const { assignments } = await inventory.page('projects/p', null);
      expect(assignments).toEqual([expect.objectContaining({ brokerOwned: true, removable: false, locator: expect.objectContaining({ condition: expect.objectContaining({ title: bindingTitle('live') }) }) })]);
    });
  });

  describe(readPolicyInsight.name, () => {
    it('should read the content struct, the observation period and the refresh time as the client decodes them', () => {
      const str = (stringValue: string) => ({ stringValue });
      const perms = (...names: string[]) => ({ listValue: { values: names.map((n) => ({ structValue: { fields: { permission: str(n) } } })) } });
      const read = readPolicyInsight({
        content: {
          fields: {
            member: str('serviceAccount:ci@p.iam.gserviceaccount.com'),
            role: str('roles/editor'),
            condition: { structValue: { fields: { expression: str(''), title: str('') } } },
            exercisedPermissions: perms('storage.objects.get'),
            inferredPermissions: perms('storage.objects.list'),
            currentTotalPermissionsCount: str('3542'),
          },
        },
        observationPeriod: { seconds: '7776000' },
        lastRefreshTime: { seconds: 1_893_456_000 },
      });
      expect(read).toEqual({
        member: 'serviceAccount:ci@p.iam.gserviceaccount.com',
        role: 'roles/editor',
        conditionExpression: '',
        exercised: ['storage.objects.get'],
        inferred: ['storage.objects.list'],
        totalPermissions: 3542,
        observationDays: 90,
        lastRefreshTime: new Date('2030-01-01T00:00:00.000Z'),
      });
      expect(readPolicyInsight({ content: { fields: { role: str('roles/editor') } } })).toBeNull();
    });
  });
});
