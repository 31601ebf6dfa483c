import { ProviderError } from '@jit/domain';
import { GcpIamBindingProvider } from '@jit/provider-gcp';
import { Binding, PolicySeed } from '@jit/sim-gcp';
import { CONTRACT_ROLE, GcpContractEnv, startGcpContractEnv } from './gcp-contract.env';

const alone = { overlapping: [] };
const now = () => new Date();
const member = (i: number) => `user:burst-${i}@example.com`;

async function providerError(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

/** Everyone else's part of a project policy: what must survive every broker write. */
const SEED: PolicySeed = {
  bindings: [
    { role: 'roles/owner', members: ['user:owner@example.com'] },
    { role: CONTRACT_ROLE, members: ['user:standing@example.com', 'group:readers@example.com'] },
    {
      role: 'roles/logging.viewer',
      members: ['user:contractor@example.com'],
      // Looks like the broker's title but is not the broker's expression: must never be touched.
      condition: { title: 'jit-broker grant not-ours', description: 'set by hand', expression: 'request.time < timestamp("2031-01-01T00:00:00Z")' },
    },
  ],
  auditConfigs: [
    { service: 'allServices', auditLogConfigs: [{ logType: 'DATA_READ', exemptedMembers: ['user:owner@example.com'] }, { logType: 'ADMIN_READ' }] },
  ],
};

const foreign = (bindings: Binding[]) => bindings.filter((b) => !/^jit-broker grant [\w-]+$/.test(b.condition?.title ?? '') || b.condition?.title === 'jit-broker grant not-ours');

describe('gcp.iam-binding on the Resource Manager simulator', () => {
  let env: GcpContractEnv;
  let provider: GcpIamBindingProvider;
  let projectSeq = 0;
  const newProject = (seed?: PolicySeed) => env.simulator.createProject(`proj-${String(++projectSeq).padStart(4, '0')}`, seed);

  beforeAll(async () => {
    env = await startGcpContractEnv();
    provider = env.provider();
  });
  afterAll(() => env.close());
  afterEach(() => env.simulator.inject({ throttle: 0, serverError: 0, conflict: 0, latencyMs: 0 }));

  describe('expiry and ownership', () => {
    it('should end access at expiresAt in the cloud itself, without any revoke', async () => {
      const resource = newProject();
      const spec = env.spec(resource, { expiresAt: new Date(Date.now() + 10 * 60_000) });
      const outcome = await provider.grant(spec, alone);
      expect(outcome.notice).toMatch(/tokens .* stay valid until they expire/);
      const at = (ms: number) => env.simulator.holds(resource, spec.principal.id, CONTRACT_ROLE, new Date(spec.expiresAt.getTime() + ms));
      expect(at(-1)).toBe(true);
      expect(at(0)).toBe(false);
      expect(at(1000)).toBe(false);
      expect(env.simulator.policy(resource)!.bindings).toEqual([
        {
          role: CONTRACT_ROLE,
          members: [spec.principal.id],
          condition: {
            title: `jit-broker grant ${spec.grantId}`,
            description: expect.stringContaining(spec.grantId),
            expression: `request.time < timestamp("${spec.expiresAt.toISOString()}")`,
          },
        },
      ]);
    });

    it('should leave other bindings, look-alike bindings and audit configs exactly as they were', async () => {
      const resource = newProject(SEED);
      const before = env.simulator.policy(resource)!;
      const specs = [env.spec(resource), env.spec(resource, { member: 'user:standing@example.com' }), env.spec(resource, { role: 'roles/logging.viewer', member: 'user:contractor@example.com' })];
      for (const s of specs) await provider.grant(s, alone);
      for (const s of specs) await provider.revoke(s, { overlapping: [], early: true });
      const after = env.simulator.policy(resource)!;
      expect(after.bindings).toEqual(before.bindings);
      expect(after.auditConfigs).toEqual(before.auditConfigs);
      expect(foreign(after.bindings)).toEqual(SEED.bindings);
      // The standing, unconditional binding still gives access after the broker's grant for the same member ended.
      expect(env.simulator.holds(resource, 'user:standing@example.com', CONTRACT_ROLE, new Date())).toBe(true);
      const owned = [];
      for await (const a of env.provider({ reconcileResources: [resource] }).listOwned()) owned.push(a);
      expect(owned).toEqual([]);
    });

    it('should purge expired broker bindings on the next write so they never pile up', async () => {
      const resource = newProject(SEED);
      const early = env.provider({ now });
      const specs = Array.from({ length: 20 }, () => env.spec(resource, { expiresAt: new Date(Date.now() + 60_000) }));
      await Promise.all(specs.map((s) => early.grant(s, alone)));
      const later = env.provider({ now: () => new Date(Date.now() + 2 * 60_000) });
      await expect(providerError(early.grant(env.spec(resource), alone))).resolves.toMatchObject({ kind: 'limit', options: { code: 'gcp.max-bindings-per-role-and-member' } });
      const fresh = env.spec(resource);
      await later.grant(fresh, alone);
      const titles = env.simulator.policy(resource)!.bindings.map((b) => b.condition?.title).filter((t) => t && t !== 'jit-broker grant not-ours');
      expect(titles).toEqual([`jit-broker grant ${fresh.grantId}`]);
      expect(foreign(env.simulator.policy(resource)!.bindings)).toEqual(SEED.bindings);
      // The sweeper's later revoke of an already purged grant is simply done.
      await later.revoke(specs[0], { overlapping: [], early: false });
      expect((await later.status(specs[0])).status).toBe('absent');
    });

    it('should grant on folders and organizations as on projects', async () => {
      for (const resource of [env.simulator.createFolder(1234567890), env.simulator.createOrganization(987654321)]) {
        const spec = env.spec(resource, { role: 'roles/resourcemanager.folderViewer' });
        await provider.grant(spec, alone);
        expect(env.simulator.holds(resource, spec.principal.id, 'roles/resourcemanager.folderViewer', new Date())).toBe(true);
        await provider.revoke(spec, { overlapping: [], early: true });
        expect(env.simulator.holds(resource, spec.principal.id, 'roles/resourcemanager.folderViewer', new Date())).toBe(false);
      }
    });
  });

  describe('concurrency', () => {
    it('should re-read and keep the other writer\'s change when the policy changed between read and write', async () => {
      const resource = newProject(SEED);
      env.simulator.beforeNextWrite((r) =>
        env.simulator.writeAsAnotherClient(r, (p) => void p.bindings.push({ role: 'roles/monitoring.viewer', members: ['user:terraform@example.com'] })),
      );
      const spec = env.spec(resource);
      await provider.grant(spec, alone);
      expect(env.simulator.stats(resource).aborted).toBe(1);
      expect(env.simulator.holds(resource, spec.principal.id, CONTRACT_ROLE, new Date())).toBe(true);
      expect(env.simulator.holds(resource, 'user:terraform@example.com', 'roles/monitoring.viewer', new Date())).toBe(true);
    });

    it('should report a policy that keeps changing under it as transient, having written nothing', async () => {
      const resource = newProject();
      env.simulator.inject({ conflict: 100 });
      const error = await providerError(provider.grant(env.spec(resource), alone));
      expect(error.kind).toBe('transient');
      expect(error.options.code).toBe('ABORTED');
      expect(env.simulator.stats(resource).setIamPolicy).toBe(0);
    });

    it('should land every grant of two broker replicas writing the same policy at once', async () => {
      const resource = newProject(SEED);
      const [a, b] = [env.provider(), env.provider()];
      const specs = Array.from({ length: 40 }, (_, i) => env.spec(resource, { member: member(i) }));
      await Promise.all(specs.map((s, i) => (i % 2 ? a : b).grant(s, alone)));
      for (const s of specs) expect(env.simulator.holds(resource, s.principal.id, CONTRACT_ROLE, new Date())).toBe(true);
      expect(foreign(env.simulator.policy(resource)!.bindings)).toEqual(SEED.bindings);
    });

    it('should coalesce a burst of 1,000 grants and then 1,000 revocations on one project into a few writes', async () => {
      const resource = newProject(SEED);
      const burst = env.provider();
      env.simulator.inject({ latencyMs: 5 });
      const specs = Array.from({ length: 1000 }, (_, i) => env.spec(resource, { member: member(i) }));
      await Promise.all(specs.map((s) => burst.grant(s, alone)));
      const grantWrites = env.simulator.stats(resource).setIamPolicy;
      for (const s of specs) expect(env.simulator.holds(resource, s.principal.id, CONTRACT_ROLE, new Date())).toBe(true);
      await Promise.all(specs.map((s) => burst.revoke(s, { overlapping: [], early: true })));
      const revokeWrites = env.simulator.stats(resource).setIamPolicy - grantWrites;
      for (const s of specs) expect(env.simulator.holds(resource, s.principal.id, CONTRACT_ROLE, new Date())).toBe(false);
      expect(foreign(env.simulator.policy(resource)!.bindings)).toEqual(SEED.bindings);
      process.stdout.write(`gcp burst: 1000 grants -> ${grantWrites} setIamPolicy, 1000 revocations -> ${revokeWrites} setIamPolicy, ${env.simulator.stats(resource).aborted} conflicts\n`);
      expect(grantWrites).toBeLessThanOrEqual(2);
      expect(revokeWrites).toBeLessThanOrEqual(2);
    });
  });

  describe('limits, checked before any write', () => {
    it('should refuse a grant past 1,500 principals with a limit error and write nothing', async () => {
      const members = Array.from({ length: 1500 }, (_, i) => `user:seat-${i}@example.com`);
      const resource = newProject({ bindings: [{ role: 'roles/browser', members }] });
      const error = await providerError(provider.grant(env.spec(resource), alone));
      expect(error).toMatchObject({ kind: 'limit', options: { code: 'gcp.max-principals-per-policy' } });
      expect(error.message).toContain('1500');
      expect(env.simulator.stats(resource).setIamPolicy).toBe(0);
    });

    it('should allow 20 overlapping grants for one member and role, refuse the 21st, and let one revoke leave the rest', async () => {
      const resource = newProject();
      const specs = Array.from({ length: 20 }, (_, i) => env.spec(resource, { expiresAt: new Date(Date.now() + (i + 1) * 60_000) }));
      await Promise.all(specs.map((s) => provider.grant(s, { overlapping: specs.filter((o) => o !== s) })));
      const error = await providerError(provider.grant(env.spec(resource), alone));
      expect(error).toMatchObject({ kind: 'limit', options: { code: 'gcp.max-bindings-per-role-and-member' } });
      await provider.revoke(specs[19], { overlapping: specs.slice(0, 19), early: true });
      const m = specs[0].principal.id;
      expect(env.simulator.holds(resource, m, CONTRACT_ROLE, new Date())).toBe(true);
      // Access now ends with the latest remaining grant, not the revoked one.
      expect(env.simulator.holds(resource, m, CONTRACT_ROLE, new Date(specs[18].expiresAt.getTime() - 1))).toBe(true);
      expect(env.simulator.holds(resource, m, CONTRACT_ROLE, specs[18].expiresAt)).toBe(false);
    });

    it.each([
      ['a basic role', { role: 'roles/editor' }, 'limit', 'gcp.no-condition-on-basic-role'],
      ['allUsers', { member: 'allUsers' }, 'limit', 'gcp.no-condition-on-public-member'],
      ['a member without a type prefix', { member: 'alice@example.com' }, 'invalid', 'gcp.principal-id'],
      ['a malformed role', { role: 'storage.objectViewer' }, 'invalid', 'gcp.target-role'],
    ])('should refuse %s before calling GCP', async (_, override, kind, code) => {
      const resource = newProject();
      env.simulator.resetTraffic();
      const spec = env.spec(resource, override);
      expect(() => provider.validate(spec)).toThrow(ProviderError);
      await expect(providerError(provider.grant(spec, alone))).resolves.toMatchObject({ kind, options: { code } });
      expect(env.simulator.traffic()).toHaveLength(0);
    });
  });

  describe('faults', () => {
    it('should ride out throttling on the read and on the write', async () => {
      const resource = newProject();
      const spec = env.spec(resource);
      env.simulator.inject({ throttle: 2 });
      await provider.grant(spec, alone);
      expect(env.simulator.holds(resource, spec.principal.id, CONTRACT_ROLE, new Date())).toBe(true);
    });

    it('should report repeated 500s as transient after a bounded number of calls', async () => {
      const resource = newProject();
      env.simulator.resetTraffic();
      env.simulator.inject({ serverError: 100, serverErrorStatus: 500 });
      const error = await providerError(provider.grant(env.spec(resource), alone));
      expect(error).toMatchObject({ kind: 'transient', options: { code: 'INTERNAL' } });
      expect(env.simulator.traffic()).toHaveLength(3);
    });

    it('should work through latency and report a call slower than its deadline as transient', async () => {
      const resource = newProject();
      env.simulator.inject({ latencyMs: 20 });
      const specs = Array.from({ length: 50 }, (_, i) => env.spec(resource, { member: member(i) }));
      await Promise.all(specs.map((s) => provider.grant(s, alone)));
      for (const s of specs) expect(env.simulator.holds(resource, s.principal.id, CONTRACT_ROLE, new Date())).toBe(true);
      env.simulator.inject({ latencyMs: 2000 });
      const impatient = env.provider({ callTimeoutMs: 50, retry: { attempts: 1 } });
      await expect(providerError(impatient.grant(env.spec(resource), alone))).resolves.toMatchObject({ kind: 'transient' });
    });

    it('should treat PERMISSION_DENIED as terminal at once, without retries', async () => {
      const resource = newProject();
      env.simulator.denyCaller(resource);
      env.simulator.resetTraffic();
      const error = await providerError(provider.grant(env.spec(resource), alone));
      expect(error).toMatchObject({ kind: 'terminal', options: { code: 'PERMISSION_DENIED' } });
      expect(env.simulator.traffic()).toHaveLength(1);
      await expect(providerError(env.provider({ reconcileResources: [resource] }).healthCheck())).resolves.toMatchObject({ kind: 'terminal' });
    });

    it('should treat an unknown project as terminal (Resource Manager answers 403 for it)', async () => {
      const error = await providerError(provider.grant(env.spec('projects/never-created'), alone));
      expect(error).toMatchObject({ kind: 'terminal', options: { code: 'PERMISSION_DENIED' } });
    });

    it('should pass its health check where it may read and write the policy', async () => {
      const resource = newProject();
      await env.provider({ reconcileResources: [resource] }).healthCheck();
      await env.provider({ reconcileResources: [] }).healthCheck();
    });
  });

  describe('a project named by its number', () => {
    it('should resolve projects/<number> to projects/<id> with projects.get, once, and leave other names alone', async () => {
      const resource = newProject();
      const id = resource.slice('projects/'.length);
      const number = env.simulator.projectNumber(id);
      const fresh = env.provider();
      env.simulator.resetTraffic();
      const target = { kind: 'gcp.iam-binding' as const, resource: `projects/${number}`, role: CONTRACT_ROLE };
      expect(await fresh.canonicalTarget(target)).toEqual({ ...target, resource });
      // Numbers and ids never change: the second lookup is answered from memory.
      expect(await fresh.canonicalTarget(target)).toEqual({ ...target, resource });
      expect(env.simulator.traffic().map((t) => [t.method, t.rpc, t.resource])).toEqual([['GET', 'getProject', `projects/${number}`]]);
      // Ids, folders and organizations have one name: no call.
      for (const other of [resource, 'folders/42', 'organizations/7']) {
        expect(await fresh.canonicalTarget({ ...target, resource: other })).toEqual({ ...target, resource: other });
      }
      expect(env.simulator.traffic()).toHaveLength(1);
    });

    it('should reach the same policy by number as by id, as GCP does', async () => {
      const resource = newProject(SEED);
      const number = env.simulator.projectNumber(resource.slice('projects/'.length));
      const spec = env.spec(`projects/${number}`);
      await provider.grant(spec, alone);
      expect(env.simulator.holds(resource, spec.principal.id, CONTRACT_ROLE, new Date())).toBe(true);
      await provider.revoke(spec, { ...alone, early: true });
      expect(env.simulator.holds(resource, spec.principal.id, CONTRACT_ROLE, new Date())).toBe(false);
    });

    it('should refuse a number it cannot resolve with an invalid error naming target.resource, without retries', async () => {
      env.simulator.resetTraffic();
      const error = await providerError(env.provider().canonicalTarget({ kind: 'gcp.iam-binding', resource: 'projects/999999999999', role: CONTRACT_ROLE }));
      expect(error).toMatchObject({ kind: 'invalid', options: { field: 'target.resource', code: 'gcp.unknown-project' } });
      expect(error.message).toMatch(/projects\/999999999999 .*request it by project id/);
      expect(env.simulator.traffic()).toHaveLength(1);
      expect(env.simulator.traffic()[0]).toMatchObject({ status: 403, responseBody: { error: { status: 'PERMISSION_DENIED' } } });

      // A project the broker may not read is indistinguishable from one that does not exist.
      const hidden = newProject();
      env.simulator.denyCaller(hidden);
      const number = env.simulator.projectNumber(hidden.slice('projects/'.length));
      await expect(providerError(env.provider().canonicalTarget({ kind: 'gcp.iam-binding', resource: `projects/${number}`, role: CONTRACT_ROLE }))).resolves.toMatchObject({
        kind: 'invalid',
        options: { field: 'target.resource' },
      });
    });

    it('should ride out throttling on the lookup, and report an outage as transient', async () => {
      const resource = newProject();
      const number = env.simulator.projectNumber(resource.slice('projects/'.length));
      const target = { kind: 'gcp.iam-binding' as const, resource: `projects/${number}`, role: CONTRACT_ROLE };
      env.simulator.inject({ throttle: 2 });
      expect(await env.provider().canonicalTarget(target)).toEqual({ ...target, resource });
      env.simulator.inject({ serverError: 100 });
      await expect(providerError(env.provider().canonicalTarget(target))).resolves.toMatchObject({ kind: 'transient' });
    });
  });

  describe('crash between the cloud call and the database write', () => {
    it('should let a restarted broker see the grant, re-grant without a second binding or write, and revoke it', async () => {
      const resource = newProject(SEED);
      const spec = env.spec(resource);
      await provider.grant(spec, alone);
      const writes = env.simulator.stats(resource).setIamPolicy;
      const restarted = env.provider();
      expect(await restarted.status(spec)).toMatchObject({ status: 'active', providerRef: { resource, expiresAt: spec.expiresAt.toISOString() } });
      await restarted.grant(spec, alone);
      expect(env.simulator.stats(resource).setIamPolicy).toBe(writes);
      expect(env.simulator.policy(resource)!.bindings.filter((b) => b.condition?.title === spec.artifactName)).toHaveLength(1);
      await restarted.revoke(spec, { overlapping: [], early: false });
      // The first instance's revoke, replayed after its own crash, finds nothing to do.
      await provider.revoke(spec, { overlapping: [], early: false });
      expect(env.simulator.stats(resource).setIamPolicy).toBe(writes + 1);
      expect(foreign(env.simulator.policy(resource)!.bindings)).toEqual(SEED.bindings);
    });
  });
});
