import { randomUUID } from 'node:crypto';
import { CloudAccessProvider, GrantSpec, GrantState, SystemClock, TERMINAL_STATES, Target } from '@jit/domain';
import { CloudProviderRegistry, ReconcileOrphansUseCase, ReconcileRetry } from '@jit/grants';
import { BrokerMetrics } from '@jit/observability';
import { AwsIamStsProvider } from '@jit/provider-aws';
import { LocalCloudProvider } from '@jit/provider-local';
import { AwsSimulator } from '@jit/sim-aws';
import { grantRow } from '@jit/testing';
import { ReconcileMetricsHooks } from '../../apps/broker/src/reconcile-metrics.hooks';
import { awsGrantSpec } from '../contract/aws/aws-grant-spec';
import { awsTestProvider } from '../contract/aws/aws-test-provider';
import { startGcpContractEnv } from '../contract/gcp/gcp-contract.env';
import { MECHANISMS, specFactory } from '../contract/azure/azure-harness.factory';
import { providerFor, startSeededSimulator } from '../contract/azure/azure-world.fixture';
import { openTestDatabase } from '../setup/test-database';
import { PostgresStores, postgresStores } from '../setup/postgres-stores';

/** Two attempts per step and millisecond waits, so that a fault's count decides exactly which step fails. */
const RETRY: ReconcileRetry = { maxAttempts: 2, backoff: { baseMs: 1, capMs: 2, jitter: 'full' }, maxRetryAfterMs: 1_000 };
/** The adapter's own attempts per IAM call, also two: a part fails for good after 2 x 2 throttled calls. */
const ADAPTER_RETRY = { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 };

/**
 * Reconciliation with the real adapters on the cloud simulators and a real database (issue 11
 * point 6f, issue 12 point 4): where to look comes from the grant rows, so a fresh adapter after a
 * restart finds what an earlier process wrote; a throttled part (an AWS principal, a GCP
 * resource, an Azure mechanism) or a failing cloud is retried, counted in the metrics and
 * skipped, and the pass goes on with the others.
 */
describe('ReconcileOrphansUseCase on the cloud simulators', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let store: PostgresStores;
  let sim: AwsSimulator;
  /** Each grant reads its own objects, so one grant's access is never mistaken for another's. */
  const target = (): Target => ({ kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: [`arn:aws:s3:::reconcile/${randomUUID()}/*`] });

  beforeAll(async () => {
    db = await openTestDatabase();
    store = postgresStores(db.dataSource, new SystemClock(), 'replica-a');
    sim = await AwsSimulator.start({ port: 0 });
  });
  afterAll(async () => {
    await sim.close();
    await db.close();
  });
  afterEach(() => sim.inject({ throttle: 0, serverError: 0 }));

  /** A grant row for `principalArn` in `state` (ended now if terminal), as the broker writes it before its cloud call. */
  async function stored(provider: CloudAccessProvider, principalArn: string, state: GrantState, t: Target = target()): Promise<GrantSpec> {
    const spec = awsGrantSpec(provider, principalArn, t);
    const row = grantRow(provider, { id: spec.grantId, state, principal: spec.principal, target: t, expiresAt: spec.expiresAt, durationSeconds: 3600, providerRef: null });
    await store.insert({ ...row, endedAt: TERMINAL_STATES.includes(state) ? new Date() : null }, null, [], null);
    return spec;
  }

  const holds = (spec: GrantSpec) => {
    const [resource] = (spec.target as unknown as { resources: string[] }).resources;
    return sim.isAllowed(spec.principal.id, 's3:GetObject', resource.replace('*', 'key.txt'), new Date());
  };

  function reconciler(providers: CloudAccessProvider[], metrics = new BrokerMetrics()) {
    return new ReconcileOrphansUseCase(store.grants, store.audit, new CloudProviderRegistry(providers), { retry: RETRY, hooks: new ReconcileMetricsHooks(metrics) });
  }

  async function counted(metrics: BrokerMetrics, name: string): Promise<Record<string, number>> {
    const { values } = await metrics.registry.getSingleMetric(name)!.get();
    return Object.fromEntries(values.map((v) => [Object.values(v.labels).join('/'), v.value]));
  }

  it('should find, with a fresh adapter after a restart, what the earlier process wrote for grants in the database', async () => {
    const before = awsTestProvider(sim);
    const role = sim.createRole('restart-ci');
    const ended = await stored(before, role, 'failed');
    const live = await stored(before, role, 'active');
    for (const spec of [ended, live]) await before.grant(spec, { overlapping: [] });

    // A new process: no principal configured, nothing remembered.
    const after: AwsIamStsProvider = awsTestProvider(sim);
    const report = await reconciler([after]).execute();

    expect(report).toMatchObject({ found: 1, removed: 1, failed: 0, unlisted: [] });
    expect(holds(ended)).toBe(false);
    expect(holds(live)).toBe(true);
    await store.audit.chained();
    const events = (await store.audit.list({}, 100, null)).items.filter((e) => e.type.startsWith('reconcile.'));
    expect(events.map((e) => [e.type, e.grantId])).toEqual([
      ['reconcile.orphan_found', ended.grantId],
      ['reconcile.orphan_removed', ended.grantId],
    ]);
  });

  it('should scan, for an aws.sts-credentials grant, the role the session deny is written on', async () => {
    const provider = awsTestProvider(sim);
    const vended = sim.createRole('vended');
    const spec = { ...awsGrantSpec(provider, vended, { kind: 'aws.sts-credentials', roleArn: vended }), principal: { type: 'workload' as const, id: 'pipeline:release' } };
    const subjects = [{ principal: spec.principal, target: spec.target }];
    const parts = await provider.listingParts({ subjects: async () => subjects });
    expect(parts.map((p) => p.name)).toEqual([vended]);
  });

  it('should go on past a principal whose listing stays throttled, count it, and remove its orphan on the next pass', async () => {
    const [a, b, c] = ['throttled-a', 'fine-b', 'fine-c'].map((name) => sim.createRole(name));
    // `a` is configured, so its part is listed first and takes every throttled answer.
    const provider = awsTestProvider(sim, { reconcilePrincipals: [a], retry: ADAPTER_RETRY });
    const orphans = [];
    for (const role of [a, b, c]) orphans.push(await stored(provider, role, 'expired'));
    for (const spec of orphans) await provider.grant(spec, { overlapping: [] });
    const metrics = new BrokerMetrics();

    sim.inject({ throttle: 4 });
    const report = await reconciler([provider], metrics).execute();

    expect(report).toMatchObject({ found: 2, removed: 2, failed: 0 });
    expect(report.unlisted).toHaveLength(1);
    expect(report.unlisted[0]).toContain(`aws ${a} (list)`);
    expect(orphans.map(holds)).toEqual([true, false, false]);
    expect(await counted(metrics, 'jit_reconcile_errors_total')).toEqual({ 'aws/list/retried': 1, 'aws/list/gave_up': 1 });
    expect(await counted(metrics, 'jit_reconcile_artifacts_total')).toMatchObject({ 'aws/removed': 2 });

    const next = await reconciler([provider]).execute();
    expect(next).toMatchObject({ found: 1, removed: 1, unlisted: [] });
    expect(holds(orphans[0])).toBe(false);
  });

  it('should retry a throttled listing within the pass and finish it', async () => {
    const role = sim.createRole('briefly-throttled');
    const provider = awsTestProvider(sim, { reconcilePrincipals: [role], retry: ADAPTER_RETRY });
    const orphan = await stored(provider, role, 'revoked');
    await provider.grant(orphan, { overlapping: [] });
    const metrics = new BrokerMetrics();

    sim.inject({ throttle: 3 });
    const report = await reconciler([provider], metrics).execute();

    expect(report).toMatchObject({ found: 1, removed: 1, failed: 0, unlisted: [] });
    expect(holds(orphan)).toBe(false);
    expect(await counted(metrics, 'jit_reconcile_errors_total')).toEqual({ 'aws/list/retried': 1 });
  });

  it('should reconcile the clouds after one that fails throughout, and stop asking the failing one after three parts in a row', async () => {
    const roles = ['down-1', 'down-2', 'down-3', 'down-4'].map((name) => sim.createRole(name));
    const aws = awsTestProvider(sim, { reconcilePrincipals: roles, retry: ADAPTER_RETRY });
    const gcp: CloudAccessProvider = new LocalCloudProvider('gcp');
    const gcpTarget: Target = { kind: 'gcp.iam-binding', resource: 'projects/reconcile', role: 'roles/viewer' };
    const stray = randomUUID();
    await gcp.grant(
      { grantId: stray, principal: { type: 'user', id: 'user:dev@example.com' }, target: gcpTarget, startsAt: new Date(), expiresAt: new Date(Date.now() + 3_600_000), requestedBy: 'alice', justification: null, artifactName: gcp.artifactName(stray, gcpTarget) },
      { overlapping: [] },
    );
    await aws.verifyPrincipal({ type: 'workload', id: roles[0] }, target()); // the broker's identity, read once per process
    const metrics = new BrokerMetrics();
    sim.clearRequests();

    sim.inject({ serverError: 1_000 });
    const report = await reconciler([aws, gcp], metrics).execute();

    expect(report.found).toBe(1);
    expect(report.removed).toBe(1);
    expect([...(await collect(gcp.listOwned()))]).toEqual([]);
    const failedParts = report.unlisted.filter((u) => u.includes('(list)'));
    expect(failedParts).toHaveLength(3);
    expect(report.unlisted.at(-1)).toMatch(/^aws: \d+ more parts not listed after 3 failed in a row$/);
    // Three parts, two attempts each (the use case's), two calls per attempt (the adapter's); nothing asked of the fourth.
    expect(sim.requests()).toHaveLength(12);
    expect(await counted(metrics, 'jit_reconcile_errors_total')).toEqual({ 'aws/list/retried': 3, 'aws/list/gave_up': 3 });
    expect(await counted(metrics, 'jit_reconcile_artifacts_total')).toEqual({ 'gcp/removed': 1 });
  });

  it('should list each GCP resource on its own, the grants table naming them, and go on past one whose policy read stays throttled', async () => {
    const env = await startGcpContractEnv();
    try {
      const [configured, fromRows] = ['reconcile-one', 'reconcile-two'].map((id) => env.simulator.createProject(id));
      const gcp = env.provider({ reconcileResources: [configured], retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
      const orphans = [env.spec(configured), env.spec(fromRows)];
      for (const spec of orphans) {
        const row = grantRow(gcp, { id: spec.grantId, state: 'expired', principal: spec.principal, target: spec.target, expiresAt: spec.expiresAt, durationSeconds: 3600, providerRef: null });
        await store.insert({ ...row, endedAt: new Date() }, null, [], null);
        await gcp.grant(spec, { overlapping: [] });
      }
      const held = (spec: GrantSpec) => env.simulator.holds((spec.target as unknown as { resource: string }).resource, spec.principal.id, 'roles/storage.objectViewer', new Date());
      expect(orphans.map(held)).toEqual([true, true]);
      const metrics = new BrokerMetrics();

      env.simulator.inject({ throttle: 4 });
      const report = await reconciler([gcp], metrics).execute();

      expect(report).toMatchObject({ found: 1, removed: 1, failed: 0 });
      expect(report.unlisted).toHaveLength(1);
      expect(report.unlisted[0]).toContain(`gcp ${configured} (list)`);
      expect(orphans.map(held)).toEqual([true, false]);
      expect(await counted(metrics, 'jit_reconcile_errors_total')).toEqual({ 'gcp/list/retried': 1, 'gcp/list/gave_up': 1 });
    } finally {
      await env.close();
    }
  });

  it('should list each Azure mechanism on its own and go on past one whose listing stays throttled', async () => {
    const azureSim = await startSeededSimulator();
    try {
      const azure = providerFor(azureSim);
      const orphan = specFactory(azure, MECHANISMS.appRole)({ variant: 1 });
      await azure.grant(orphan, { overlapping: [] });
      const listed = async () => (await collect(azure.listOwned())).filter((a) => a.grantId === orphan.grantId);
      expect(await listed()).toHaveLength(1);

      // The first part (Graph PIM directory roles) gets both throttled answers: its listing makes one call, the use case two attempts.
      azureSim.inject({ throttle: 2 });
      const report = await reconciler([azure]).execute();

      expect(report).toMatchObject({ found: 1, removed: 1, failed: 0 });
      expect(report.unlisted).toHaveLength(1);
      expect(report.unlisted[0]).toContain('azure directoryRole (list)');
      expect(await listed()).toHaveLength(0);
    } finally {
      await azureSim.close();
    }
  });

  it('should read the scope from open grants and those ended within the look-back, each subject once, and look grants up in one query', async () => {
    const azure = new LocalCloudProvider('azure');
    const t: Target = { kind: 'azure.group-membership', groupId: '00000000-0000-0000-0000-0000000000aa', access: 'member' };
    const who = (id: string) => ({ type: 'user' as const, id });
    const row = (state: GrantState, principal: string, endedAgoMs: number | null) =>
      grantRow(azure, {
        state,
        principal: who(principal),
        target: t,
        expiresAt: new Date(Date.now() - (endedAgoMs ?? -3_600_000)),
        durationSeconds: 600,
      });
    const rows = [
      row('active', 'live@example.com', null),
      row('active', 'live@example.com', null),
      row('pending_approval', 'pending@example.com', null),
      row('revoke_failed', 'stuck@example.com', null),
      row('expired', 'recent@example.com', 60_000),
      row('expired', 'old@example.com', 2 * 3_600_000),
      row('denied', 'old-denied@example.com', 2 * 3_600_000),
    ];
    for (const r of rows) {
      const ended = TERMINAL_STATES.includes(r.state);
      const deadline = r.state === 'pending_approval' ? { approvalDeadline: new Date(Date.now() + 3_600_000) } : {};
      await store.insert({ ...r, ...deadline, endedAt: ended ? r.expiresAt : null }, null, [], null);
    }

    const subjects = await store.grants.subjectsOf('azure', new Date(Date.now() - 3_600_000));

    expect(subjects.map((s) => s.principal.id).sort()).toEqual(['live@example.com', 'pending@example.com', 'recent@example.com', 'stuck@example.com']);
    expect(subjects.every((s) => s.principal.type === 'user' && s.target.kind === t.kind)).toBe(true);
    // Whether a grant of the subject is live, and its latest expiry: how a shared artifact without a grant id is judged.
    const live = Object.fromEntries(subjects.map((s) => [s.principal.id, s.live]));
    expect(live).toEqual({ 'live@example.com': true, 'pending@example.com': false, 'recent@example.com': false, 'stuck@example.com': true });
    expect(subjects.find((s) => s.principal.id === 'recent@example.com')!.lastExpiresAt).toEqual(rows[4].expiresAt);
    const found = await store.grants.findByIds([rows[0].id, rows[5].id, randomUUID(), rows[0].id]);
    expect(found.map((g) => g.id).sort()).toEqual([rows[0].id, rows[5].id].sort());
    expect(await store.grants.findByIds([])).toEqual([]);
  });

  it('should give a subject whose grant was revoked early the time it ended, not its later expiry, as when its last grant ended (lastEndedAt)', async () => {
    const azure = new LocalCloudProvider('azure');
    const t: Target = { kind: 'azure.group-membership', groupId: '00000000-0000-0000-0000-0000000000ab', access: 'member' };
    const endedAt = new Date(Date.now() - 10 * 60_000);
    const early = grantRow(azure, { state: 'revoked', principal: { type: 'user', id: 'early@example.com' }, target: t, expiresAt: new Date(Date.now() + 3_600_000), durationSeconds: 7200 });
    await store.insert({ ...early, endedAt, endReason: 'revoked' }, null, [], null);
    const subjects = await store.grants.subjectsOf('azure', new Date(Date.now() - 3_600_000));
    const subject = subjects.find((s) => s.principal.id === 'early@example.com')!;
    expect(subject).toMatchObject({ live: false, lastExpiresAt: early.expiresAt, lastEndedAt: endedAt });
  });

  it('should give each subject the providerRefs its grants were provisioned with, and none for a grant never provisioned', async () => {
    const aws = new LocalCloudProvider('aws');
    const t: Target = { kind: 'aws.permission-set', permissionSet: 'arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd', accounts: ['111111111111'] };
    const ref = { principalType: 'GROUP', principalId: 'g-1', accounts: { '111111111111': 'created' } };
    const made = grantRow(aws, { state: 'expired', principal: { type: 'group', id: 'made' }, target: t, expiresAt: new Date(Date.now() - 60_000), durationSeconds: 600 });
    const refused = grantRow(aws, { state: 'failed', principal: { type: 'group', id: 'refused' }, target: t, expiresAt: new Date(Date.now() - 60_000), durationSeconds: 600 });
    await store.insert({ ...made, providerRef: ref, endedAt: made.expiresAt }, null, [], null);
    await store.insert({ ...refused, endedAt: refused.expiresAt }, null, [], null);
    const subjects = await store.grants.subjectsOf('aws', new Date(Date.now() - 3_600_000));
    expect(subjects.find((s) => s.principal.id === 'made')!.providerRefs).toEqual([ref]);
    expect(subjects.find((s) => s.principal.id === 'refused')!.providerRefs).toEqual([]);
  });

  it('should remove a Google group membership the broker set once no live grant covers it, and leave live and permanent members', async () => {
    const env = await startGcpContractEnv();
    try {
      const gcp = env.provider();
      const group = 'reconcile-team@example.com';
      env.simulator.groups.createGroup(group, { members: [{ email: 'carol@example.com' }] });
      const t: Target = { kind: 'gcp.group-membership', group };
      const expiresAt = new Date(Date.now() + 3_600_000);
      const row = async (member: string, state: GrantState) => {
        const principal = { type: 'user' as const, id: `user:${member}` };
        const r = grantRow(gcp, { state, principal, target: t, expiresAt, durationSeconds: 3600, providerRef: null });
        await store.insert({ ...r, endedAt: TERMINAL_STATES.includes(state) ? new Date() : null }, null, [], null);
        const spec: GrantSpec = { grantId: r.id, principal, target: t, startsAt: r.createdAt, expiresAt, requestedBy: 'alice', justification: null, artifactName: r.artifactName };
        return spec;
      };
      // alice's grant was revoked in the database but its membership stayed (the process died in between).
      for (const spec of [await row('alice@example.com', 'revoked'), await row('bob@example.com', 'active')]) await gcp.grant(spec, { overlapping: [] });
      await row('carol@example.com', 'expired');

      const report = await reconciler([gcp]).execute();

      expect(report).toMatchObject({ found: 1, removed: 1, failed: 0 });
      expect(env.simulator.groups.members(group).map((m) => m.memberId).sort()).toEqual(['bob@example.com', 'carol@example.com']);
      await store.audit.chained();
      const events = (await store.audit.list({}, 500, null)).items.filter((e) => e.type.startsWith('reconcile.') && JSON.stringify(e.data).includes(group));
      expect(events.map((e) => [e.type, e.grantId])).toEqual([
        ['reconcile.orphan_found', null],
        ['reconcile.orphan_removed', null],
      ]);
    } finally {
      await env.close();
    }
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
