import { PolicySeed } from '@jit/sim-gcp';
import { discoveryValidator } from './discovery-schema.validator';
import { CONTRACT_ROLE, GcpContractEnv, startGcpContractEnv } from './gcp-contract.env';

const discovery = discoveryValidator();
const SEED: PolicySeed = {
  bindings: [{ role: 'roles/browser', members: ['user:someone@example.com'] }],
  auditConfigs: [{ service: 'storage.googleapis.com', auditLogConfigs: [{ logType: 'DATA_WRITE' }, { logType: 'DATA_READ', exemptedMembers: ['user:someone@example.com'] }] }],
};
const CONDITION = { title: 'temp', expression: 'request.time < timestamp("2030-01-01T00:00:00Z")' };

describe('GCP wire format against the Resource Manager v3 discovery document', () => {
  let env: GcpContractEnv;
  let raw: (path: string, body: unknown, headers?: Record<string, string>) => Promise<{ status: number; body: any }>;

  beforeAll(async () => {
    env = await startGcpContractEnv();
    raw = async (path, body, headers = { authorization: 'Bearer contract-token' }) => {
      const res = await fetch(`${env.simulator.endpoint}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      return { status: res.status, body: await res.json() };
    };
  });
  afterAll(() => env.close());

  it('should have a validator that catches wrong names, types and enum values', () => {
    expect(discovery.validate('Policy', { version: '3', etag: 'not base64!', bindings: [{ role: 'r', member: ['x'] }] })).toHaveLength(3);
    expect(discovery.validate('Policy', { auditConfigs: [{ service: 's', auditLogConfigs: [{ logType: 2 }] }] })).toHaveLength(1);
    expect(discovery.validate('Policy', { auditConfigs: [{ service: 's', auditLogConfigs: [{ logType: 'DATA_WRITE' }] }] })).toEqual([]);
    expect(discovery.validate('SetIamPolicyRequest', { policy: {}, updateMask: { paths: ['bindings'] } })).toHaveLength(1);
  });

  describe('what the adapter sends and what the simulator answers', () => {
    it('should conform to the discovery document on every call of a full grant lifecycle', async () => {
      const resources = [env.simulator.createProject('wire-project', SEED), env.simulator.createFolder(42, SEED), env.simulator.createOrganization(7, SEED)];
      const provider = env.provider({ reconcileResources: resources });
      env.simulator.resetTraffic();
      for (const resource of resources) {
        const spec = env.spec(resource);
        env.simulator.inject({ conflict: 1 });
        await provider.grant(spec, { overlapping: [] });
        await provider.status(spec);
        for await (const owned of provider.listOwned()) void owned;
        await provider.revoke(spec, { overlapping: [], early: true });
      }
      await provider.healthCheck();
      await provider.grant(env.spec('projects/missing-project'), { overlapping: [] }).catch(() => undefined);
      // A project requested by its number is looked up (projects.get) before the rules see it.
      const number = env.simulator.projectNumber('wire-project');
      await provider.canonicalTarget({ kind: 'gcp.iam-binding', resource: `projects/${number}`, role: 'roles/viewer' });
      await provider.canonicalTarget({ kind: 'gcp.iam-binding', resource: 'projects/999999999999', role: 'roles/viewer' }).catch(() => undefined);

      const traffic = env.simulator.traffic();
      const rpcs = new Set(traffic.map((t) => t.rpc));
      expect(rpcs).toEqual(new Set(['getIamPolicy', 'setIamPolicy', 'testIamPermissions', 'getProject']));
      expect(traffic.filter((t) => t.status === 409)).toHaveLength(3);
      expect(traffic.filter((t) => t.status === 403)).toHaveLength(2);
      for (const t of traffic) {
        const method = discovery.method(t.method, t.path);
        expect(method).toBeDefined();
        expect(t.authorization).toMatch(/^Bearer \S+$/);
        const numericEnums = new URLSearchParams(t.query).get('$alt') === 'json;enum-encoding=int';
        expect(numericEnums).toBe(true);
        if (method!.request) {
          expect(t.contentType).toBe('application/json');
          expect(discovery.validate(method!.request.$ref, t.requestBody, { numericEnums })).toEqual([]);
        } else {
          // projects.get: a GET with the name in the path and no body.
          expect([t.method, t.requestBody]).toEqual(['GET', '']);
        }
        if (t.status === 200) expect(discovery.validate(method!.response!.$ref, t.responseBody, { numericEnums })).toEqual([]);
        else expect(t.responseBody).toEqual({ error: { code: t.status, message: expect.any(String), status: expect.stringMatching(/^[A-Z_]+$/) } });
      }
      const writes = traffic.filter((t) => t.rpc === 'setIamPolicy').map((t) => t.requestBody as { policy: { version: number; etag?: string; auditConfigs?: unknown }; updateMask: string });
      expect(writes.length).toBeGreaterThanOrEqual(6);
      for (const w of writes) {
        expect(w.policy.version).toBe(3);
        expect(w.policy.etag).toMatch(/^[A-Za-z0-9+/]+=*$/);
        expect(w.updateMask).toBe('bindings,etag');
      }
      for (const t of traffic.filter((t) => t.rpc === 'getIamPolicy')) expect(t.requestBody).toEqual({ options: { requestedPolicyVersion: 3 } });
    });
  });

  describe('what the simulator rejects, as GCP does', () => {
    let seq = 0;
    const project = (seed?: PolicySeed) => env.simulator.createProject(`rules-${++seq}-proj`, seed);
    const read = async (resource: string, version = 3) => (await raw(`/v3/${resource}:getIamPolicy`, { options: { requestedPolicyVersion: version } })).body;

    it('should answer an empty project with version 1 and the empty-policy etag, ignoring the $alt query otherwise', async () => {
      const resource = project();
      const res = await raw(`/v3/${resource}:getIamPolicy?$alt=json%3Benum-encoding=int&$prettyPrint=0`, {});
      expect(res).toEqual({ status: 200, body: { version: 1, etag: 'ACAB' } });
      expect(discovery.validate('Policy', res.body)).toEqual([]);
    });

    it('should give enums as names without enum-encoding=int and as numbers with it', async () => {
      const resource = project(SEED);
      const plain = await read(resource);
      expect(plain.auditConfigs[0].auditLogConfigs.map((l: { logType: unknown }) => l.logType)).toEqual(['DATA_WRITE', 'DATA_READ']);
      expect(discovery.validate('Policy', plain)).toEqual([]);
      const numeric = (await raw(`/v3/${resource}:getIamPolicy?$alt=json%3Benum-encoding=int`, {})).body;
      expect(numeric.auditConfigs[0].auditLogConfigs.map((l: { logType: unknown }) => l.logType)).toEqual([2, 3]);
    });

    it('should refuse a stale etag with 409 ABORTED and change the etag on every write', async () => {
      const resource = project(SEED);
      const first = await read(resource);
      const written = await raw(`/v3/${resource}:setIamPolicy`, { policy: { ...first, version: 3, bindings: [...first.bindings, { role: CONTRACT_ROLE, members: ['user:x@example.com'], condition: CONDITION }] } });
      expect(written.status).toBe(200);
      expect(written.body.etag).not.toBe(first.etag);
      expect(discovery.validate('Policy', written.body)).toEqual([]);
      const again = await raw(`/v3/${resource}:setIamPolicy`, { policy: { ...first, version: 3 } });
      expect(again).toEqual({
        status: 409,
        body: { error: { code: 409, message: 'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.', status: 'ABORTED' } },
      });
      const unchanged = await raw(`/v3/${resource}:setIamPolicy`, { policy: { ...written.body } });
      expect(unchanged.status).toBe(200);
      expect(unchanged.body.etag).not.toBe(written.body.etag);
    });

    it('should refuse a condition in a version 1 write, and downgrade a conditional policy read as version 1', async () => {
      const resource = project(SEED);
      const p = await read(resource);
      const v1 = await raw(`/v3/${resource}:setIamPolicy`, { policy: { ...p, version: 1, bindings: [{ role: CONTRACT_ROLE, members: ['user:x@example.com'], condition: CONDITION }] } });
      expect(v1.status).toBe(400);
      expect(v1.body.error.status).toBe('INVALID_ARGUMENT');
      await raw(`/v3/${resource}:setIamPolicy`, { policy: { ...p, version: 3, bindings: [...p.bindings, { role: CONTRACT_ROLE, members: ['user:x@example.com'], condition: CONDITION }] } });
      const asV1 = await read(resource, 1);
      expect(asV1.version).toBe(1);
      expect(asV1.bindings.map((b: { role: string }) => b.role)).toEqual(['roles/browser', expect.stringMatching(/^roles\/storage\.objectViewer_withcond_[0-9a-f]+$/)]);
      expect(asV1.bindings.some((b: { condition?: unknown }) => b.condition)).toBe(false);
      expect((await read(resource, 3)).version).toBe(3);
      expect((await raw(`/v3/${resource}:getIamPolicy`, { options: { requestedPolicyVersion: 2 } })).status).toBe(400);
    });

    it.each([
      ['a condition on a basic role', { role: 'roles/viewer', members: ['user:x@example.com'], condition: CONDITION }],
      ['a condition on allAuthenticatedUsers', { role: CONTRACT_ROLE, members: ['allAuthenticatedUsers'], condition: CONDITION }],
      ['allUsers on a project', { role: CONTRACT_ROLE, members: ['allUsers'] }],
      ['a member without a type', { role: CONTRACT_ROLE, members: ['x@example.com'] }],
      ['a malformed role', { role: 'storage.admin', members: ['user:x@example.com'] }],
      ['a condition without a title', { role: CONTRACT_ROLE, members: ['user:x@example.com'], condition: { expression: CONDITION.expression } }],
      ['a timestamp that is not RFC 3339', { role: CONTRACT_ROLE, members: ['user:x@example.com'], condition: { ...CONDITION, expression: 'request.time < timestamp("2030-01-01")' } }],
    ])('should refuse %s with 400 INVALID_ARGUMENT', async (_, binding) => {
      const resource = project();
      const p = await read(resource);
      const res = await raw(`/v3/${resource}:setIamPolicy`, { policy: { ...p, version: 3, bindings: [binding] } });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 400, status: 'INVALID_ARGUMENT' });
      expect((await read(resource)).etag).toBe(p.etag);
    });

    it('should enforce 1,500 principals and 20 bindings per role and member', async () => {
      const resource = project();
      const p = await read(resource);
      const many = Array.from({ length: 1501 }, (_, i) => `user:m${i}@example.com`);
      const tooMany = await raw(`/v3/${resource}:setIamPolicy`, { policy: { ...p, bindings: [{ role: CONTRACT_ROLE, members: many }] } });
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.error.message).toMatch(/1,?500/);
      const repeated = (n: number) => Array.from({ length: n }, (_, i) => ({ role: CONTRACT_ROLE, members: ['user:x@example.com'], condition: { ...CONDITION, title: `t${i}` } }));
      expect((await raw(`/v3/${resource}:setIamPolicy`, { policy: { ...p, version: 3, bindings: repeated(21) } })).status).toBe(400);
      expect((await raw(`/v3/${resource}:setIamPolicy`, { policy: { ...p, version: 3, bindings: repeated(20) } })).status).toBe(200);
    });

    it('should answer auth, unknown-field, unknown-project and unknown-route errors in Google\'s envelope', async () => {
      const resource = project();
      expect(await raw(`/v3/${resource}:getIamPolicy`, {}, {})).toMatchObject({ status: 401, body: { error: { code: 401, status: 'UNAUTHENTICATED' } } });
      expect(await raw(`/v3/${resource}:getIamPolicy`, {}, { authorization: 'Bearer wrong' })).toMatchObject({ status: 401 });
      expect(await raw(`/v3/${resource}:getIamPolicy`, { option: {} })).toMatchObject({ status: 400, body: { error: { status: 'INVALID_ARGUMENT', message: expect.stringContaining('Unknown name "option"') } } });
      expect(await raw('/v3/projects/not-there:getIamPolicy', {})).toMatchObject({ status: 403, body: { error: { code: 403, status: 'PERMISSION_DENIED' } } });
      expect(await raw(`/v3/${resource}:deleteIamPolicy`, {})).toMatchObject({ status: 404, body: { error: { code: 404, status: 'NOT_FOUND' } } });
      env.simulator.inject({ throttle: 1 });
      expect(await raw(`/v3/${resource}:getIamPolicy`, {})).toMatchObject({ status: 429, body: { error: { code: 429, status: 'RESOURCE_EXHAUSTED' } } });
      env.simulator.inject({ serverError: 1 });
      expect(await raw(`/v3/${resource}:getIamPolicy`, {})).toMatchObject({ status: 503, body: { error: { code: 503, status: 'UNAVAILABLE' } } });
    });
  });
});
