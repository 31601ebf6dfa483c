import { randomUUID } from 'node:crypto';
import { GrantSpec, Principal, ProviderError, Target } from '@jit/domain';
import { AwsIamStsProvider } from '@jit/provider-aws';
import { AwsSimulator } from '@jit/sim-aws';
import { awsTestProvider } from './aws-test-provider';

/**
 * `aws.permission-set` (issue 19, AWS) against the simulated Identity Center, Identity Store and
 * Organizations, through the real SDK clients: assignments across accounts, asynchronous status,
 * partial failure, overlap per account, reconciliation and the limits checked before any call.
 */
describe('aws.permission-set: Identity Center account assignments', () => {
  let sim: AwsSimulator;
  let provider: AwsIamStsProvider;
  let ou: string;
  let nested: string;
  let accounts: string[];
  let groupId: string;
  let readOnly: string;
  const platform: Principal = { type: 'group', id: 'Platform' };

  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
    ou = sim.organization.createOrganizationalUnit('Workloads');
    nested = sim.organization.createOrganizationalUnit('Sandbox', ou);
    accounts = [
      sim.organization.createAccount({ name: 'dev', id: '111111111111', parentId: ou }),
      sim.organization.createAccount({ name: 'staging', id: '222222222222', parentId: ou }),
      sim.organization.createAccount({ name: 'play', id: '333333333333', parentId: nested }),
    ];
    sim.organization.createAccount({ name: 'closed', id: '444444444444', parentId: ou, status: 'SUSPENDED' });
    sim.organization.createAccount({ name: 'prod', id: '555555555555' });
    groupId = sim.identityCenter.createGroup({ displayName: 'Platform' });
    const alice = sim.identityCenter.createUser({ userName: 'alice', email: 'alice@example.com' });
    sim.identityCenter.createUser({ userName: 'bob@example.com', email: 'bob@example.com' });
    sim.identityCenter.addToGroup(groupId, alice);
    readOnly = sim.identityCenter.createPermissionSet({ name: 'ReadOnly', sessionDuration: 'PT1H', managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] });
    sim.identityCenter.createPermissionSet({ name: 'Admin', sessionDuration: 'PT8H' });
  });
  afterAll(() => sim.close());

  beforeEach(() => {
    sim.identityCenter.setTiming({ polls: 1, ms: 1_000 });
    sim.identityCenter.failNext([]);
    provider = awsTestProvider(sim, {
      ssoAdminEndpoint: sim.endpoint,
      identityStoreEndpoint: sim.endpoint,
      organizationsEndpoint: sim.endpoint,
      ssoAssignmentWaitMs: 5_000,
    });
  });

  const held = (principalId = groupId) =>
    sim.identityCenter
      .assignments()
      .filter((a) => a.principalId === principalId && a.permissionSetArn === readOnly)
      .map((a) => a.accountId)
      .sort();

  async function spec(principal: Principal, given: Target, hours = 1): Promise<GrantSpec> {
    await provider.verifyPrincipal(principal, given);
    const target = await provider.canonicalTarget(given);
    const grantId = randomUUID();
    const startsAt = new Date();
    return {
      grantId,
      principal,
      target,
      startsAt,
      expiresAt: new Date(startsAt.getTime() + hours * 3_600_000),
      requestedBy: 'aws-contract',
      justification: null,
      artifactName: provider.artifactName(grantId, target),
    };
  }

  async function refusal(promise: Promise<unknown>): Promise<ProviderError> {
    const e = await promise.then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(ProviderError);
    return e as ProviderError;
  }

  /** The spec as the lifecycle passes it once the grant is provisioned: with the providerRef it stored. */
  const stored = (s: GrantSpec, outcome: { providerRef: Record<string, unknown> }): GrantSpec => ({ ...s, providerRef: outcome.providerRef });

  const created = () => sim.identityCenter.requests().filter((r) => r.operation === 'CreateAccountAssignment').length;

  it('should resolve an OU to its active accounts (child OUs included) and the set to its ARN and name, for the rules to judge', async () => {
    const target = await provider.canonicalTarget({ kind: 'aws.permission-set', permissionSet: 'ReadOnly', organizationalUnit: ou });
    // Every OU above the accounts, for the deny-list: the requested one and the child OU holding 333333333333.
    expect(target).toEqual({
      kind: 'aws.permission-set',
      permissionSet: readOnly,
      permissionSetName: 'ReadOnly',
      accounts,
      organizationalUnit: ou,
      accountOrganizationalUnits: [ou, nested].sort(),
    });
    expect(await provider.canonicalTarget({ kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['333333333333'] })).toMatchObject({
      accountOrganizationalUnits: [ou, nested].sort(),
    });
    expect(await provider.canonicalTarget({ kind: 'aws.permission-set', permissionSet: readOnly, accounts: ['222222222222'] })).toMatchObject({
      permissionSetName: 'ReadOnly',
      accounts: ['222222222222'],
    });
    const unknownSet = await refusal(provider.canonicalTarget({ kind: 'aws.permission-set', permissionSet: 'Nope', accounts: ['111111111111'] }));
    expect(unknownSet.options).toMatchObject({ field: 'target.permissionSet', code: 'UnknownPermissionSet' });
    const stranger = await refusal(provider.canonicalTarget({ kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['111111111111', '999999999999'] }));
    expect(stranger.options).toMatchObject({ field: 'target.accounts[1]', code: 'UnknownAccount' });
    const suspended = await refusal(provider.canonicalTarget({ kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['444444444444'] }));
    expect(suspended.options).toMatchObject({ field: 'target.accounts[0]', code: 'InactiveAccount' });
  });

  it('should find the OUs above an account when ListParents answers an empty first page with a NextToken (the deny-list judges them)', async () => {
    sim.organization.emptyFirstPage('ListParents');
    try {
      // A fresh adapter: nothing cached from the test above.
      const fresh = awsTestProvider(sim, { ssoAdminEndpoint: sim.endpoint, identityStoreEndpoint: sim.endpoint, organizationsEndpoint: sim.endpoint });
      expect(await fresh.canonicalTarget({ kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['333333333333'] })).toMatchObject({
        accountOrganizationalUnits: [ou, nested].sort(),
      });
    } finally {
      sim.organization.emptyFirstPage('ListParents', false);
    }
  });

  it('should resolve users by user name, groups by display name, and refuse an email that is not the user name', async () => {
    const t: Target = { kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['111111111111'] };
    await provider.verifyPrincipal({ type: 'user', id: 'alice' }, t);
    await provider.verifyPrincipal({ type: 'user', id: 'bob@example.com' }, t);
    const byEmail = await refusal(provider.verifyPrincipal({ type: 'user', id: 'alice@example.com' }, t));
    expect(byEmail.options).toMatchObject({ field: 'principal.id', code: 'NotTheUserName' });
    expect(byEmail.message).toMatch(/user alice: request it by its user name/);
    const notAUser = await refusal(provider.verifyPrincipal({ type: 'user', id: 'Platform' }, t));
    expect(notAUser.options).toMatchObject({ field: 'principal.id', code: 'UnknownPrincipal' });
    const notAGroup = await refusal(provider.verifyPrincipal({ type: 'group', id: 'alice' }, t));
    expect(notAGroup.options).toMatchObject({ field: 'principal.id', code: 'UnknownPrincipal' });
  });

  it('should assign one permission set to a group in three accounts, following each asynchronous creation, and remove it at expiry', async () => {
    sim.identityCenter.clearRequests();
    const s = await spec(platform, { kind: 'aws.permission-set', permissionSet: 'ReadOnly', organizationalUnit: ou });
    const outcome = await provider.grant(s, { overlapping: [] });
    expect(outcome.status).toBe('active');
    expect(outcome.providerRef).toMatchObject({
      permissionSetArn: readOnly,
      principalType: 'GROUP',
      principalId: groupId,
      accounts: { '111111111111': 'created', '222222222222': 'created', '333333333333': 'created' },
      sessionDurationSeconds: 3600,
    });
    expect(outcome.notice).toMatch(/session duration \(3,600 s\)/);
    expect(held()).toEqual(accounts);
    // Each creation was followed through its status call until it SUCCEEDED.
    const polls = sim.identityCenter.requests().filter((r) => r.operation === 'DescribeAccountAssignmentCreationStatus');
    expect(polls.length).toBeGreaterThanOrEqual(3);
    expect(await provider.status(s)).toMatchObject({ status: 'active' });

    await provider.revoke(stored(s, outcome), { overlapping: [], early: false });
    expect(held()).toEqual([]);
    expect(sim.identityCenter.requests().filter((r) => r.operation === 'DescribeAccountAssignmentDeletionStatus').length).toBeGreaterThanOrEqual(3);
    expect(await provider.status(s)).toEqual({ status: 'absent' });
    // Absent is done.
    await provider.revoke(stored(s, outcome), { overlapping: [], early: false });
  });

  it('should remove every assignment on an early revoke', async () => {
    const s = await spec({ type: 'user', id: 'alice' }, { kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['111111111111', '222222222222'] });
    const outcome = await provider.grant(s, { overlapping: [] });
    const aliceId = sim.identityCenter.assignments().find((a) => a.principalType === 'USER')!.principalId;
    expect(held(aliceId)).toEqual(['111111111111', '222222222222']);
    await provider.revoke(stored(s, outcome), { overlapping: [], early: true });
    expect(held(aliceId)).toEqual([]);
  });

  it('should leave nothing behind when one account fails, and say so per account', async () => {
    sim.identityCenter.failNext({ kind: 'create-assignment', accountId: '333333333333', reason: 'Received a 404 status error: Not supported role.' });
    const s = await spec(platform, { kind: 'aws.permission-set', permissionSet: 'ReadOnly', organizationalUnit: ou });
    const e = await refusal(provider.grant(s, { overlapping: [] }));
    expect(e.message).toMatch(/failed in 1 account \(333333333333: the assignment creation in 333333333333 FAILED: Received a 404 status error: Not supported role\.\)/);
    expect(e.message).toMatch(/the assignments made in accounts 111111111111, 222222222222 were removed again, so nothing is left/);
    expect(e.options).toMatchObject({ field: 'target.accounts', code: 'AssignmentCreation' });
    expect(held()).toEqual([]);
    // The lifecycle's cleanup revoke that follows a failed grant deletes nothing more.
    sim.identityCenter.clearRequests();
    await provider.revoke(s, { overlapping: [], early: true });
    expect(sim.identityCenter.requests().filter((r) => r.operation === 'DeleteAccountAssignment')).toEqual([]);
  });

  it('should say exactly what it still holds when the rollback fails too, and the cleanup revoke remove just that', async () => {
    sim.identityCenter.failNext([
      { kind: 'create-assignment', accountId: '222222222222', reason: 'boom' },
      { kind: 'delete-assignment', accountId: '111111111111', reason: 'busy' },
    ]);
    const s = await spec(platform, { kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['111111111111', '222222222222'] });
    const e = await refusal(provider.grant(s, { overlapping: [] }));
    expect(e.message).toMatch(/the assignments made in account 111111111111 could not be removed yet and are still held/);
    expect(held()).toEqual(['111111111111']);
    await provider.revoke(s, { overlapping: [], early: true });
    expect(held()).toEqual([]);
  });

  it('should not take a FAILED deletion for an absent assignment by its wording: it looks, and a deletion that left the assignment is retried', async () => {
    const s = await spec(platform, { kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['111111111111'] });
    const outcome = await provider.grant(s, { overlapping: [] });
    // The FailureReason reads like "gone", but the assignment is still there.
    sim.identityCenter.failNext({ kind: 'delete-assignment', accountId: '111111111111', reason: 'Received a 404 status error: the account assignment does not exist.' });
    const e = await refusal(provider.revoke(stored(s, outcome), { overlapping: [], early: true }));
    expect(e.options).toMatchObject({ code: 'AssignmentDeletion' });
    expect(held()).toEqual(['111111111111']);
    await provider.revoke(stored(s, outcome), { overlapping: [], early: true });
    expect(held()).toEqual([]);
  });

  it('should revoke, and reconcile, a renamed group by the id its grant recorded, not by its name now', async () => {
    const renamedId = sim.identityCenter.createGroup({ displayName: 'Renamable' });
    const renamable = { type: 'group' as const, id: 'Renamable' };
    const s = await spec(renamable, { kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['111111111111', '222222222222'] });
    const outcome = await provider.grant(s, { overlapping: [] });
    expect(held(renamedId)).toEqual(['111111111111', '222222222222']);
    sim.identityCenter.renameGroup(renamedId, 'Renamed');
    // Reconciliation of the ended grant finds its assignment under the recorded id.
    const orphans = [];
    for await (const a of provider.listOwned(undefined, { subjects: async () => [{ principal: renamable, target: s.target, live: false, providerRefs: [outcome.providerRef] }] })) {
      orphans.push(a);
    }
    expect(orphans.map((o) => o.locator.principalId)).toEqual([renamedId, renamedId]);
    await provider.revoke(stored(s, outcome), { overlapping: [], early: true });
    expect(held(renamedId)).toEqual([]);
  });

  it('should share one assignment between overlapping grants and remove it in an account only when no live grant covers that account', async () => {
    const wide = await spec(platform, { kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['111111111111', '222222222222'] });
    const narrow = await spec(platform, { kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['222222222222'] });
    expect(provider.overlapKey(platform, wide.target)).toBe(provider.overlapKey(platform, narrow.target));
    const first = await provider.grant(wide, { overlapping: [] });
    sim.identityCenter.clearRequests();
    const second = await provider.grant(narrow, { overlapping: [wide] });
    expect(second.providerRef.accounts).toEqual({ '222222222222': 'kept' });
    expect(created()).toBe(0);
    expect(sim.identityCenter.assignments().filter((a) => a.principalId === groupId && a.accountId === '222222222222')).toHaveLength(1);

    await provider.revoke(stored(wide, first), { overlapping: [narrow], early: false });
    expect(held()).toEqual(['222222222222']);
    // 'kept': the assignment the wide grant made, which the narrow grant now removes.
    await provider.revoke(stored(narrow, second), { overlapping: [], early: false });
    expect(held()).toEqual([]);
  });

  it('should list an assignment whose grants have all ended as an orphan, and remove it', async () => {
    const s = await spec(platform, { kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['111111111111', '222222222222'] });
    const outcome = await provider.grant(s, { overlapping: [] });
    const subjects = (live: boolean) => ({ subjects: async () => [{ principal: platform, target: s.target, live, providerRefs: [outcome.providerRef] }] });

    const whileLive = await provider.listingParts(subjects(true));
    const listedLive = [];
    for (const part of whileLive) for await (const a of part.list()) listedLive.push(a);
    expect(listedLive).toEqual([]);

    const orphans = [];
    for await (const a of provider.listOwned(undefined, subjects(false))) orphans.push(a);
    expect(orphans.map((o) => o.locator)).toEqual([
      { accountId: '111111111111', permissionSetArn: readOnly, principalType: 'GROUP', principalId: groupId },
      { accountId: '222222222222', permissionSetArn: readOnly, principalType: 'GROUP', principalId: groupId },
    ]);
    expect(orphans[0].grantId).toBeNull();
    for (const o of orphans) await provider.removeOrphan(o);
    expect(held()).toEqual([]);
  });

  it('should refuse a permission set whose sessions outlive the grant too long, before any assignment', async () => {
    sim.identityCenter.clearRequests();
    const s = await spec(platform, { kind: 'aws.permission-set', permissionSet: 'Admin', accounts: ['111111111111'] });
    // validate() already knows the set from canonicalTarget: the request is refused before it is stored.
    expect(() => provider.validate(s)).toThrow(/SessionDuration of PT8H/);
    const e = await refusal(provider.grant(s, { overlapping: [] }));
    expect(e.kind).toBe('limit');
    expect(e.options).toMatchObject({ field: 'target.permissionSet', code: 'SessionDuration' });
    expect(created()).toBe(0);
    // An eight-hour grant may use it.
    const long = await spec(platform, { kind: 'aws.permission-set', permissionSet: 'Admin', accounts: ['111111111111'] }, 8);
    expect(() => provider.validate(long)).not.toThrow();
  });

  it('should refuse, before any call that writes, an account at its quota of provisioned permission sets, and a standing assignment', async () => {
    const full = awsTestProvider(sim, {
      ssoAdminEndpoint: sim.endpoint,
      identityStoreEndpoint: sim.endpoint,
      organizationsEndpoint: sim.endpoint,
      ssoPermissionSetsPerAccount: 1,
    });
    const billing = sim.identityCenter.createPermissionSet({ name: 'Billing' });
    const carol = sim.identityCenter.createUser({ userName: 'carol' });
    sim.identityCenter.assign({ accountId: '555555555555', permissionSetArn: billing, principalType: 'USER', principalId: carol });
    sim.identityCenter.clearRequests();
    await full.verifyPrincipal(platform, { kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['555555555555'] });
    const target = await full.canonicalTarget({ kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['555555555555'] });
    const grantId = randomUUID();
    const quota = await refusal(
      full.grant(
        { grantId, principal: platform, target, startsAt: new Date(), expiresAt: new Date(Date.now() + 3_600_000), requestedBy: 'c', justification: null, artifactName: grantId },
        { overlapping: [] },
      ),
    );
    expect(quota.kind).toBe('limit');
    expect(quota.options).toMatchObject({ field: 'target.accounts', code: 'PermissionSetsPerAccount' });
    expect(quota.message).toMatch(/account 555555555555 already has 1 permission sets provisioned/);
    expect(created()).toBe(0);

    // The group holds ReadOnly in 111111111111 outside the broker: the broker does not take it over.
    sim.identityCenter.assign({ accountId: '111111111111', permissionSetArn: readOnly, principalType: 'GROUP', principalId: groupId });
    sim.identityCenter.clearRequests();
    const s = await spec(platform, { kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['111111111111', '222222222222'] });
    const standing = await refusal(provider.grant(s, { overlapping: [] }));
    expect(standing.options).toMatchObject({ field: 'target.accounts', code: 'StandingAssignment' });
    expect(created()).toBe(0);
    // The cleanup revoke after the refusal leaves the standing assignment alone.
    await provider.revoke(s, { overlapping: [], early: true });
    expect(held()).toEqual(['111111111111']);
    // So does reconciliation: the refused grant (like a pending or denied one) made nothing, so it makes nothing an orphan.
    const listed = [];
    for await (const a of provider.listOwned(undefined, { subjects: async () => [{ principal: platform, target: s.target, live: false, providerRefs: [] }] })) listed.push(a);
    expect(listed).toEqual([]);
    // A revoke on another replica, or after a crash, with no record of what the grant made: nothing is deleted.
    await awsTestProvider(sim, { ssoAdminEndpoint: sim.endpoint, identityStoreEndpoint: sim.endpoint, organizationsEndpoint: sim.endpoint }).revoke(s, {
      overlapping: [],
      early: true,
    });
    expect(held()).toEqual(['111111111111']);
    sim.identityCenter.clearRequests();
  });

  it('should grant one request for an OU of 40 accounts within one provider call, and remove all 40', async () => {
    const big = sim.organization.createOrganizationalUnit('Fleet');
    const fleet = Array.from({ length: 40 }, (_, i) => sim.organization.createAccount({ name: `fleet-${i}`, id: String(600000000000 + i), parentId: big }));
    // Each creation and deletion settles at its second status poll (the simulator's default: IN_PROGRESS once, or a second).
    const s = await spec(platform, { kind: 'aws.permission-set', permissionSet: 'ReadOnly', organizationalUnit: big });
    expect(s.target.accounts).toEqual([...fleet].sort());
    const started = Date.now();
    const outcome = await provider.grant(s, { overlapping: [] });
    const grantMs = Date.now() - started;
    expect(Object.values(outcome.providerRef.accounts as Record<string, string>)).toEqual(Array(40).fill('created'));
    expect(held().filter((a) => fleet.includes(a))).toHaveLength(40);
    const revokeStarted = Date.now();
    await provider.revoke(stored(s, outcome), { overlapping: [], early: true });
    const revokeMs = Date.now() - revokeStarted;
    expect(held().filter((a) => fleet.includes(a))).toEqual([]);
    // Well inside JIT_PROVIDER_TIMEOUT's default of 30 s, eight assignments at a time.
    expect(grantMs).toBeLessThan(20_000);
    expect(revokeMs).toBeLessThan(20_000);
    process.stdout.write(`aws.permission-set, 40 accounts: grant ${grantMs} ms, revoke ${revokeMs} ms\n`);
  }, 60_000);

  it('should ride out throttling and server errors of Identity Center with its retries', async () => {
    const s = await spec(platform, { kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['222222222222', '333333333333'] });
    sim.identityCenter.clearRequests();
    sim.inject({ throttle: 2, serverError: 1 });
    const outcome = await provider.grant(s, { overlapping: [] });
    const these = () => held().filter((a) => a === '222222222222' || a === '333333333333');
    expect(these()).toEqual(['222222222222', '333333333333']);
    // The first three calls were refused (two ThrottlingException, one 500) and repeated.
    expect(sim.identityCenter.requests().filter((r) => r.status >= 400).map((r) => [r.status, r.errorCode])).toEqual([
      [400, 'ThrottlingException'],
      [400, 'ThrottlingException'],
      [500, 'InternalServerException'],
    ]);
    sim.inject({ throttle: 2 });
    await provider.revoke(stored(s, outcome), { overlapping: [], early: true });
    expect(these()).toEqual([]);
  });
});
