import { randomUUID } from 'node:crypto';
import { GrantSpec, GrantSubject, OwnedArtifact, ProviderError, ReconcileScope } from '@jit/domain';
import { GcpIamBindingProvider } from '@jit/provider-gcp';
import { SPECS_DIR } from '../../setup/specs-dir';
import { discoveryValidator } from './discovery-schema.validator';
import { GcpContractEnv, startGcpContractEnv } from './gcp-contract.env';

const discovery = discoveryValidator(`${SPECS_DIR}/gcp/cloudidentity/v1/cloudidentity-api.json`);
const MIN = 60_000;
let seq = 0;

async function providerError(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('gcp.group-membership on the Cloud Identity simulator', () => {
  let env: GcpContractEnv;
  let provider: GcpIamBindingProvider;

  beforeAll(async () => {
    env = await startGcpContractEnv();
    provider = env.provider();
  });
  afterAll(() => env.close());
  afterEach(() => {
    env.simulator.inject({ throttle: 0, serverError: 0, latencyMs: 0 });
    env.simulator.groups.setClock(() => new Date());
  });

  const newGroup = (seed?: Parameters<GcpContractEnv['simulator']['groups']['createGroup']>[1]) => {
    const email = `jit-group-${++seq}@example.com`;
    env.simulator.groups.createGroup(email, seed);
    return email;
  };
  const spec = (group: string, o: { member?: string; minutes?: number; grantId?: string } = {}): GrantSpec => {
    const grantId = o.grantId ?? randomUUID();
    const startsAt = new Date();
    return {
      grantId,
      principal: { type: 'user', id: o.member ?? 'user:alice@example.com' },
      target: { kind: 'gcp.group-membership', group },
      startsAt,
      expiresAt: new Date(startsAt.getTime() + (o.minutes ?? 60) * MIN),
      requestedBy: 'user:requester@example.com',
      justification: 'contract test',
      artifactName: `jit-broker grant ${grantId}`,
    };
  };
  const expiryOf = (group: string, member = 'alice@example.com') => env.simulator.groups.member(group, member)?.roles.find((r) => r.name === 'MEMBER')?.expireTime;
  const second = (d: Date | undefined) => d && Math.floor(d.getTime() / 1000);

  it('should add the member with a MEMBER expiry equal to the grant, which Cloud Identity enforces on its own', async () => {
    const group = newGroup();
    const s = spec(group, { minutes: 20 });
    const outcome = await provider.grant(s, { overlapping: [] });
    expect(outcome.status).toBe('active');
    expect(outcome.providerRef).toMatchObject({ group, member: 'user:alice@example.com', expireTime: s.expiresAt.toISOString() });
    expect(outcome.notice).toMatch(/Cloud Identity enforces/);
    const membership = env.simulator.groups.member(group, 'alice@example.com')!;
    expect(membership.type).toBe('USER');
    expect(membership.roles).toEqual([{ name: 'MEMBER', expireTime: s.expiresAt }]);
    expect(await provider.status(s)).toMatchObject({ status: 'active' });

    // No revoke: the simulator's clock passes expireTime and the membership is gone.
    env.simulator.groups.setClock(() => new Date(s.expiresAt.getTime() + 1000));
    expect(env.simulator.groups.member(group, 'alice@example.com')).toBeUndefined();
    expect(await provider.status(s)).toEqual({ status: 'absent' });
    await provider.revoke(s, { overlapping: [], early: false });
  });

  it('should speak the discovery document: request and response bodies of every call conform, with the expiry update mask', async () => {
    env.simulator.resetTraffic();
    const group = newGroup();
    const a = spec(group, { minutes: 30 });
    const b = spec(group, { minutes: 60 });
    await provider.grant(a, { overlapping: [] });
    await provider.grant(b, { overlapping: [a] });
    await provider.revoke(b, { overlapping: [a], early: true });
    await provider.revoke(a, { overlapping: [], early: true });
    const calls = env.simulator.traffic().filter((t) => t.rpc?.startsWith('cloudidentity.'));
    const rpcs = calls.map((t) => t.rpc!.replace('cloudidentity.groups.', ''));
    expect(rpcs).toEqual(expect.arrayContaining(['lookup', 'memberships.lookup', 'memberships.create', 'memberships.get', 'memberships.modifyMembershipRoles', 'memberships.delete']));
    const schemas: Record<string, [string | null, string]> = {
      lookup: [null, 'LookupGroupNameResponse'],
      'memberships.lookup': [null, 'LookupMembershipNameResponse'],
      'memberships.get': [null, 'Membership'],
      'memberships.create': ['Membership', 'Operation'],
      'memberships.delete': [null, 'Operation'],
      'memberships.modifyMembershipRoles': ['ModifyMembershipRolesRequest', 'ModifyMembershipRolesResponse'],
    };
    for (const call of calls) {
      const rpc = call.rpc!.replace('cloudidentity.groups.', '');
      const [request, response] = schemas[rpc];
      expect(call.authorization).toBe('Bearer contract-token');
      if (request) expect(discovery.validate(request, call.requestBody)).toEqual([]);
      if (call.status === 404) {
        // The member is not in the group yet: Google's envelope, and the adapter creates the membership.
        expect(rpc).toBe('memberships.lookup');
        expect(call.responseBody).toEqual({ error: { code: 404, status: 'NOT_FOUND', message: expect.any(String) } });
        continue;
      }
      expect(call.status).toBe(200);
      expect(discovery.validate(response, call.responseBody)).toEqual([]);
    }
    // Extended to b's expiry, then brought back to a's by b's early revoke.
    const modifies = calls.filter((c) => c.rpc === 'cloudidentity.groups.memberships.modifyMembershipRoles').map((c) => c.requestBody);
    const update = (at: Date) => ({ updateRolesParams: [{ fieldMask: 'expiryDetail.expireTime', membershipRole: { name: 'MEMBER', expiryDetail: { expireTime: at.toISOString() } } }] });
    expect(modifies).toEqual([update(b.expiresAt), update(a.expiresAt)]);
    const create = calls.find((c) => c.rpc === 'cloudidentity.groups.memberships.create')!;
    expect(create.requestBody).toEqual({ preferredMemberKey: { id: 'alice@example.com' }, roles: [{ name: 'MEMBER', expiryDetail: { expireTime: a.expiresAt.toISOString() } }] });
    expect(create.responseBody).toMatchObject({ done: true, response: { '@type': expect.stringContaining('Membership') } });
  });

  it('should keep one membership for overlapping grants, its expiry the latest, and bring it back or remove it as they are revoked', async () => {
    const group = newGroup();
    const short = spec(group, { minutes: 30 });
    const long = spec(group, { minutes: 90 });
    await provider.grant(short, { overlapping: [] });
    expect(second(expiryOf(group))).toBe(second(short.expiresAt));
    await provider.grant(long, { overlapping: [short] });
    expect(env.simulator.groups.members(group)).toHaveLength(1);
    expect(second(expiryOf(group))).toBe(second(long.expiresAt));

    // A later grant that ends sooner changes nothing: the membership already covers it.
    const inner = spec(group, { minutes: 45 });
    await provider.grant(inner, { overlapping: [short, long] });
    expect(second(expiryOf(group))).toBe(second(long.expiresAt));

    // Early revoke of the longest: the expiry comes back to the latest remaining grant's.
    await provider.revoke(long, { overlapping: [short, inner], early: true });
    expect(second(expiryOf(group))).toBe(second(inner.expiresAt));
    // Revoking a grant that is not the latest leaves the expiry.
    await provider.revoke(short, { overlapping: [inner], early: true });
    expect(second(expiryOf(group))).toBe(second(inner.expiresAt));
    // The last one: the membership goes.
    await provider.revoke(inner, { overlapping: [], early: true });
    expect(env.simulator.groups.member(group, 'alice@example.com')).toBeUndefined();
    // Revoking again is done already.
    await provider.revoke(inner, { overlapping: [], early: true });
  });

  it('should converge on one membership when two processes grant overlapping access at once', async () => {
    const group = newGroup();
    const a = spec(group, { minutes: 40 });
    const b = spec(group, { minutes: 80 });
    const other = env.provider();
    await Promise.all([provider.grant(a, { overlapping: [b] }), other.grant(b, { overlapping: [a] })]);
    expect(env.simulator.groups.members(group)).toHaveLength(1);
    expect(second(expiryOf(group))).toBe(second(b.expiresAt));
  });

  it('should end on the latest expiry when two processes grant at once and neither grant sees the other, and remove it once both are revoked', async () => {
    const group = newGroup();
    const a = spec(group, { minutes: 40 });
    const b = spec(group, { minutes: 80 });
    const other = env.provider();
    const [ra, rb] = await Promise.all([provider.grant(a, { overlapping: [] }), other.grant(b, { overlapping: [] })]);
    expect(env.simulator.groups.members(group)).toHaveLength(1);
    expect(second(expiryOf(group))).toBe(second(b.expiresAt));
    // Revoked later, each sees the other (both are in the database by then).
    const withRef = (s: GrantSpec, r: { providerRef: Record<string, unknown> }) => ({ ...s, providerRef: r.providerRef });
    await provider.revoke(withRef(b, rb), { overlapping: [withRef(a, ra)], early: true });
    expect(second(expiryOf(group))).toBe(second(a.expiresAt));
    await other.revoke(withRef(a, ra), { overlapping: [], early: true });
    expect(env.simulator.groups.member(group, 'alice@example.com')).toBeUndefined();
  });

  it('should pass a member group\'s expiry down to its own members', async () => {
    const nested = newGroup({ members: [{ email: 'bob@example.com' }] });
    const group = newGroup();
    const s = { ...spec(group, { member: `group:${nested}`, minutes: 15 }), principal: { type: 'group' as const, id: `group:${nested}` } };
    await provider.grant(s, { overlapping: [] });
    expect(env.simulator.groups.isMember(group, 'bob@example.com')).toBe(true);
    env.simulator.groups.setClock(() => new Date(s.expiresAt.getTime() + 1));
    expect(env.simulator.groups.isMember(group, 'bob@example.com')).toBe(false);
    // bob stays in his own group: only the nesting ended.
    expect(env.simulator.groups.isMember(nested, 'bob@example.com')).toBe(true);
  });

  it('should leave a pre-existing permanent membership permanent, and say so on the grant', async () => {
    const group = newGroup({ members: [{ email: 'alice@example.com' }] });
    const s = spec(group);
    const outcome = await provider.grant(s, { overlapping: [] });
    expect(outcome.providerRef).toMatchObject({ preExisting: 'permanent', expireTime: null });
    expect(outcome.notice).toMatch(/already a permanent member/);
    await provider.revoke(s, { overlapping: [], early: true });
    const membership = env.simulator.groups.member(group, 'alice@example.com')!;
    expect(membership.roles).toEqual([{ name: 'MEMBER' }]);
  });

  it('should leave a membership someone else set to end later than the grant', async () => {
    const later = new Date(Date.now() + 5 * 60 * MIN);
    const group = newGroup({ members: [{ email: 'alice@example.com', expireTime: later }] });
    const s = spec(group);
    const outcome = await provider.grant(s, { overlapping: [] });
    expect(outcome.providerRef).toMatchObject({ preExisting: 'later-expiry' });
    await provider.revoke(s, { overlapping: [], early: true });
    expect(expiryOf(group)).toEqual(later);
  });

  it('should extend a membership someone else set to end sooner, and bring that expiry back on revoke instead of removing it', async () => {
    const sooner = new Date(Date.now() + 20 * MIN);
    const group = newGroup({ members: [{ email: 'alice@example.com', expireTime: sooner }] });
    const a = spec(group, { minutes: 60 });
    const outcomeA = await provider.grant(a, { overlapping: [] });
    expect(outcomeA.providerRef).toMatchObject({ priorExpireTime: sooner.toISOString(), expireTime: a.expiresAt.toISOString() });
    expect(outcomeA.notice).toMatch(/brings its expiry back/);
    expect(second(expiryOf(group))).toBe(second(a.expiresAt));
    // A second grant inherits the earlier expiry from the first (which may end before it).
    const b = spec(group, { minutes: 90 });
    const outcomeB = await provider.grant(b, { overlapping: [{ ...a, providerRef: outcomeA.providerRef }] });
    expect(outcomeB.providerRef).toMatchObject({ priorExpireTime: sooner.toISOString() });
    await provider.revoke({ ...a, providerRef: outcomeA.providerRef }, { overlapping: [{ ...b, providerRef: outcomeB.providerRef }], early: true });
    expect(second(expiryOf(group))).toBe(second(b.expiresAt));
    await provider.revoke({ ...b, providerRef: outcomeB.providerRef }, { overlapping: [], early: true });
    expect(expiryOf(group)).toEqual(sooner);
  });

  it('should leave a membership that holds OWNER or MANAGER as it was, say so, and not remove it on revoke', async () => {
    const sooner = new Date(Date.now() + 20 * MIN);
    const group = newGroup({ members: [{ email: 'alice@example.com', roles: ['MANAGER'], expireTime: sooner }, { email: 'owner@example.com', roles: ['OWNER'] }] });
    env.simulator.resetTraffic();
    const s = spec(group);
    const outcome = await provider.grant(s, { overlapping: [] });
    expect(outcome.providerRef).toMatchObject({ preExisting: 'roles', roles: ['MANAGER'] });
    expect(outcome.notice).toMatch(/already holds MANAGER/);
    await provider.revoke(s, { overlapping: [], early: true });
    const o = spec(group, { member: 'user:owner@example.com' });
    await provider.grant(o, { overlapping: [] });
    await provider.revoke(o, { overlapping: [], early: true });
    expect(env.simulator.traffic().filter((t) => /modifyMembershipRoles|memberships\.(create|delete)/.test(t.rpc ?? ''))).toEqual([]);
    expect(expiryOf(group)).toEqual(sooner);
    expect(env.simulator.groups.member(group, 'owner@example.com')).toBeDefined();
  });

  it('should grant service accounts and groups as members, and refuse a group as a member of itself', async () => {
    const nested = newGroup();
    const group = newGroup();
    await provider.grant(spec(group, { member: 'serviceAccount:ci@proj-1.iam.gserviceaccount.com' }), { overlapping: [] });
    await provider.grant({ ...spec(group, { member: `group:${nested}` }), principal: { type: 'group', id: `group:${nested}` } }, { overlapping: [] });
    expect(env.simulator.groups.member(group, 'ci@proj-1.iam.gserviceaccount.com')!.type).toBe('SERVICE_ACCOUNT');
    expect(env.simulator.groups.member(group, nested)!.type).toBe('GROUP');
    const self = await providerError(provider.grant(spec(group, { member: `group:${group}` }), { overlapping: [] }));
    expect(self.options).toMatchObject({ field: 'principal.id' });
  });

  it('should refuse a group\'s email named user: or serviceAccount: before the rules, since Cloud Identity adds the group whatever the prefix', async () => {
    const nested = newGroup({ members: [{ email: 'bob@example.com' }] });
    const group = newGroup();
    const target = { kind: 'gcp.group-membership', group };
    for (const id of [`user:${nested}`, `serviceAccount:${nested}`]) {
      const error = await providerError(provider.verifyPrincipal({ type: 'user', id }, target));
      expect(error.kind).toBe('invalid');
      expect(error.options).toMatchObject({ field: 'principal.id', code: 'gcp.member-is-group' });
    }
    await provider.verifyPrincipal({ type: 'group', id: `group:${nested}` }, target);
    await provider.verifyPrincipal({ type: 'user', id: 'user:alice@example.com' }, target);
    // Other kinds ask nothing of Cloud Identity.
    await provider.verifyPrincipal({ type: 'user', id: `user:${nested}` }, { kind: 'gcp.iam-binding', resource: 'projects/p', role: 'roles/viewer' });
  });

  it('should undo and fail a grant whose membership Cloud Identity made of another type than the prefix names', async () => {
    const nested = newGroup({ members: [{ email: 'bob@example.com' }] });
    const group = newGroup();
    const s = spec(group, { member: `user:${nested}` });
    const error = await providerError(provider.grant(s, { overlapping: [] }));
    expect(error.options).toMatchObject({ field: 'principal.id', code: 'gcp.member-type-mismatch' });
    expect(env.simulator.groups.members(group)).toEqual([]);
    expect(env.simulator.groups.isMember(group, 'bob@example.com')).toBe(false);
    // A group already in the group is not touched by a user: grant's grant or revoke.
    const other = newGroup();
    await provider.grant({ ...spec(other, { member: `group:${nested}`, minutes: 30 }), principal: { type: 'group', id: `group:${nested}` } }, { overlapping: [] });
    const before = expiryOf(other, nested);
    const wrong = spec(other, { member: `user:${nested}`, minutes: 90 });
    expect((await providerError(provider.grant(wrong, { overlapping: [] }))).options.code).toBe('gcp.member-type-mismatch');
    await provider.revoke(wrong, { overlapping: [], early: true });
    expect(expiryOf(other, nested)).toEqual(before);
  });

  it('should refuse a group Cloud Identity does not show the broker, naming the field, before the rules and at grant time', async () => {
    const error = await providerError(provider.grant(spec('no-such-group@example.com'), { overlapping: [] }));
    expect(error.kind).toBe('invalid');
    expect(error.options).toMatchObject({ field: 'target.group', code: 'gcp.unknown-group' });
    const before = await providerError(provider.canonicalTarget({ kind: 'gcp.group-membership', group: 'No-Such-Group@example.com' }));
    expect(before.options).toMatchObject({ field: 'target.group', code: 'gcp.unknown-group' });
    expect(await provider.status(spec('no-such-group@example.com'))).toEqual({ status: 'absent' });
  });

  it('should fail a revoke and a reconciliation that Cloud Identity answers 403, not report the membership gone (lost Manager rights look the same)', async () => {
    // Cloud Identity answers a group the broker may not see (rights lost, or deleted) with 403 PERMISSION_DENIED.
    const s = spec('lost-rights@example.com');
    const revoke = await providerError(provider.revoke(s, { overlapping: [], early: true }));
    expect(revoke.kind).toBe('terminal');
    expect(revoke.options).toMatchObject({ field: 'target.group', code: 'gcp.group-access-denied' });
    expect(revoke.message).toMatch(/Manager rights/);
    const parts = (await provider.listingParts({ subjects: async () => [{ principal: s.principal, target: s.target, live: false, lastExpiresAt: s.expiresAt }] })).filter((p) => p.name.startsWith('group '));
    expect(parts).toHaveLength(1);
    const listing = await providerError(collect(parts[0].list()));
    expect(listing.options.code).toBe('gcp.group-access-denied');
  });

  it('should judge a group under its lower-case email once Cloud Identity knows it', async () => {
    const group = newGroup();
    expect(await provider.canonicalTarget({ kind: 'gcp.group-membership', group: group.toUpperCase() })).toEqual({ kind: 'gcp.group-membership', group });
  });

  it('should give a clear error for a customer without membership expiration, and add no permanent member', async () => {
    const group = newGroup({ expirySupported: false });
    const error = await providerError(provider.grant(spec(group), { overlapping: [] }));
    expect(error.kind).toBe('terminal');
    expect(error.options).toMatchObject({ field: 'target.group', code: 'gcp.membership-expiry-unsupported' });
    expect(error.message).toMatch(/Enterprise .* Cloud Identity Premium/);
    expect(env.simulator.groups.members(group)).toEqual([]);
  });

  it('should retry throttling and 5xx and succeed within its attempts', async () => {
    const group = newGroup();
    env.simulator.resetTraffic();
    env.simulator.inject({ throttle: 2 });
    const granted = spec(group);
    await provider.grant(granted, { overlapping: [] });
    expect(env.simulator.traffic().filter((t) => t.status === 429)).toHaveLength(2);
    expect(env.simulator.groups.members(group)).toHaveLength(1);
    env.simulator.inject({ serverError: 1 });
    env.simulator.resetTraffic();
    await provider.revoke(granted, { overlapping: [], early: true });
    expect(env.simulator.traffic().filter((t) => t.status >= 500)).toHaveLength(1);
    expect(env.simulator.groups.member(group, 'alice@example.com')).toBeUndefined();
  });

  it('should report throttling past its attempts as transient', async () => {
    const group = newGroup();
    env.simulator.inject({ throttle: 10 });
    const error = await providerError(provider.grant(spec(group), { overlapping: [] }));
    expect(error.kind).toBe('transient');
  });

  describe('reconciliation', () => {
    const scope = (subjects: GrantSubject[]): ReconcileScope => ({ subjects: async () => subjects });
    const subject = (s: GrantSpec, live: boolean): GrantSubject => ({ principal: s.principal, target: s.target, live, lastExpiresAt: s.expiresAt });
    const owned = async (sc: ReconcileScope): Promise<OwnedArtifact[]> => {
      const parts = (await provider.listingParts(sc)).filter((p) => p.name.startsWith('group '));
      return (await Promise.all(parts.map((p) => collect(p.list())))).flat();
    };

    it('should find a broker membership whose grant ended and remove it, and leave live, permanent and foreign ones', async () => {
      const group = newGroup({ members: [{ email: 'permanent@example.com' }, { email: 'foreign@example.com', expireTime: new Date(Date.now() + 600 * MIN) }] });
      const ended = spec(group, { member: 'user:ended@example.com', minutes: 30 });
      const live = spec(group, { member: 'user:live@example.com' });
      for (const s of [ended, live]) await provider.grant(s, { overlapping: [] });
      const permanent = spec(group, { member: 'user:permanent@example.com' });
      const foreign = spec(group, { member: 'user:foreign@example.com' });

      const found = await owned(scope([subject(ended, false), subject(live, true), subject(permanent, false), subject(foreign, false)]));
      expect(found.map((a) => a.artifactName)).toEqual([`ended@example.com in ${group}`]);
      expect(found[0].description).toMatch(/no live grant covers/);

      // A grant made between the listing and the removal moved the expiry: the removal leaves it.
      const renewed = spec(group, { member: 'user:ended@example.com', minutes: 120 });
      await provider.grant(renewed, { overlapping: [] });
      await provider.removeOrphan(found[0]);
      expect(env.simulator.groups.member(group, 'ended@example.com')).toBeDefined();

      const again = await owned(scope([{ ...subject(renewed, false) }]));
      await provider.removeOrphan(again[0]);
      expect(env.simulator.groups.member(group, 'ended@example.com')).toBeUndefined();
      expect(env.simulator.groups.members(group).map((m) => m.memberId).sort()).toEqual(['foreign@example.com', 'live@example.com', 'permanent@example.com']);
    });

    it('should leave a membership changed after the last grant ended (someone re-added the member) and one with roles beyond MEMBER', async () => {
      const group = newGroup({ members: [{ email: 'manager@example.com', roles: ['MANAGER'], expireTime: new Date(Date.now() + 30 * MIN) }] });
      const ended = spec(group, { member: 'user:readded@example.com', minutes: 30 });
      const manager = spec(group, { member: 'user:manager@example.com', minutes: 30 });
      // The grant was revoked early an hour ago; an admin then put the member back, ending sooner than the grant would have.
      const endedAt = new Date(Date.now() - 60 * MIN);
      env.simulator.groups.putMember(group, 'readded@example.com', new Date(Date.now() + 10 * MIN));
      const found = await owned(scope([{ ...subject(ended, false), lastEndedAt: endedAt }, subject(manager, false)]));
      expect(found).toEqual([]);
      // The same membership, untouched since before the grant ended, is the broker's orphan.
      env.simulator.groups.setClock(() => new Date(endedAt.getTime() - MIN));
      env.simulator.groups.putMember(group, 'readded@example.com', new Date(Date.now() + 10 * MIN));
      env.simulator.groups.setClock(() => new Date());
      const orphan = await owned(scope([{ ...subject(ended, false), lastExpiresAt: new Date(Date.now() + 10 * MIN), lastEndedAt: endedAt }]));
      expect(orphan.map((a) => a.artifactName)).toEqual([`readded@example.com in ${group}`]);
    });

    it('should page through a large group (memberships.list, View.FULL, nextPageToken)', async () => {
      const members = Array.from({ length: 620 }, (_, i) => ({ email: `member-${i}@example.com`, expireTime: new Date(Date.now() + 60 * MIN) }));
      const group = newGroup({ members });
      const last = spec(group, { member: 'user:member-619@example.com' });
      env.simulator.resetTraffic();
      const found = await owned(scope([{ principal: last.principal, target: last.target, live: false, lastExpiresAt: members[619].expireTime }]));
      expect(found.map((a) => a.artifactName)).toEqual([`member-619@example.com in ${group}`]);
      const lists = env.simulator.traffic().filter((t) => t.rpc === 'cloudidentity.groups.memberships.list');
      expect(lists).toHaveLength(2);
      expect(lists[1].query).toMatch(/pageToken=/);
      for (const l of lists) expect(discovery.validate('ListMembershipsResponse', l.responseBody)).toEqual([]);
    });
  });

  describe('the simulator refuses what Cloud Identity refuses', () => {
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${env.simulator.endpoint}${path}`, {
        method,
        headers: { authorization: 'Bearer contract-token', 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { code: number; status: string; message: string } } }));

    it('should answer unknown parameters and fields, expiry on other roles, past expiries and bad page tokens with INVALID_ARGUMENT', async () => {
      const group = newGroup();
      const { body: found } = await call('GET', `/v1/groups:lookup?groupKey.id=${group}`);
      const name = (found as { name: string }).name;
      const future = new Date(Date.now() + 10 * MIN).toISOString();
      const refusals = [
        await call('GET', `/v1/groups:lookup?groupKey.id=${group}&groupKey.email=x`),
        await call('POST', `/v1/${name}/memberships`, { preferredMemberKey: { id: 'a@example.com' }, labels: {} }),
        await call('POST', `/v1/${name}/memberships`, { preferredMemberKey: { id: 'a@example.com' }, roles: [{ name: 'MEMBER' }, { name: 'OWNER', expiryDetail: { expireTime: future } }] }),
        await call('POST', `/v1/${name}/memberships`, { preferredMemberKey: { id: 'a@example.com' }, roles: [{ name: 'MEMBER', expiryDetail: { expireTime: '2020-01-01T00:00:00Z' } }] }),
        await call('GET', `/v1/${name}/memberships?pageToken=garbage`),
        await call('GET', `/v1/${name}/memberships?view=FULL&pageSize=501`),
      ];
      for (const r of refusals) expect(r).toEqual({ status: 400, body: { error: { code: 400, status: 'INVALID_ARGUMENT', message: expect.any(String) } } });
      const unauthenticated = await fetch(`${env.simulator.endpoint}/v1/groups:lookup?groupKey.id=${group}`);
      expect(unauthenticated.status).toBe(401);
    });
  });
});
