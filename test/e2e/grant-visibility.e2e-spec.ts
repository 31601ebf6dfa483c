import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalOidcIssuer, startLocalOidcIssuer } from '@jit/testing';
import { TestBroker, TOKENS, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

/**
 * Issue 10 point 4: approvers read only the grants their groups could decide, and never the
 * rules file; requesters their own; admins and auditors everything. Static tokens and OIDC
 * approver tokens (an issuer with `roles: [approver]`, as any pipeline could hold).
 */
function rulesFile(issuer: string): string {
  return `
version: 1
approvalTimeout: PT1H
groups:
  sre: []
  dba: [erin-approver]
  developers: []
  "ci:sre": []
  "ci:dba": []
issuers:
  - name: ci
    issuer: ${issuer}
    audience: jit-broker
    groupsClaim: groups
    roles: [approver]
rules:
  - name: deploys
    requesters:
      - subjects: [alice, bob, frank]
    targets:
      - { kind: aws.iam-policy, actions: ["s3:PutObject"], resources: ["arn:aws:s3:::artifacts/*"] }
    maxDuration: PT1H
    approval: auto
  - name: storage
    requesters:
      - subjects: [alice, bob, frank]
    targets:
      - { kind: gcp.iam-binding, roles: ["roles/storage.*"], resources: ["projects/acme-prod"] }
    maxDuration: PT1H
    approval: { approvals: 1, from: [sre, "ci:sre"] }
  - name: databases
    requesters:
      - subjects: [alice, bob, frank]
    targets:
      - { kind: gcp.iam-binding, roles: ["roles/cloudsql.*"], resources: ["projects/acme-prod"] }
    maxDuration: PT1H
    approval: { approvals: 1, from: [dba, "ci:dba"] }
`;
}

type Who = keyof typeof TOKENS;

describe('who reads which grants and the rules over HTTP', () => {
  let t: TestBroker;
  let oidc: LocalOidcIssuer;
  const ids: Record<string, string> = {};

  const gcp = (role: string) => ({
    cloud: 'gcp',
    principal: { type: 'user', id: 'user:someone@acme.com' },
    target: { kind: 'gcp.iam-binding', resource: 'projects/acme-prod', role },
    duration: 'PT30M',
    justification: 'on call',
  });
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const ciApprover = (groups?: string[]) => oidc.sign({ sub: 'repo:anyone/anything:ref:refs/heads/main', repository: 'anyone/anything', ...(groups && { groups }) });
  const listAs = async (auth: { Authorization: string }, query = '') =>
    ((await t.http.get(`/v1/grants?limit=500${query}`).set(auth).expect(200)).body.items as { id: string }[]).map((g) => g.id).sort();
  const named = (...names: string[]) => names.map((n) => ids[n]).sort();

  beforeAll(async () => {
    oidc = await startLocalOidcIssuer();
    const policyPath = join(mkdtempSync(join(tmpdir(), 'jit-visibility-')), 'rules.yaml');
    writeFileSync(policyPath, rulesFile(oidc.issuer));
    t = await startTestBroker({ JIT_POLICY_FILE: policyPath, JIT_POLICY_RELOAD_INTERVAL: 'PT1H' });
    const create = async (name: string, who: Who, body: object, status: number) => {
      ids[name] = (await t.http.post('/v1/grants').set(t.as(who)).send(body).expect(status)).body.id;
    };
    await create('aliceDeploy', 'alice', awsPolicyGrant({ duration: 'PT30M' }), 201);
    await create('bobDeploy', 'bob', awsPolicyGrant({ duration: 'PT30M' }), 201);
    await create('frankDeploy', 'frank', awsPolicyGrant({ duration: 'PT30M' }), 201);
    for (const n of ['aliceStorage1', 'aliceStorage2', 'aliceStorage3']) await create(n, 'alice', gcp('roles/storage.objectViewer'), 202);
    await create('bobStorage', 'bob', gcp('roles/storage.objectAdmin'), 202);
    await create('frankStorage', 'frank', gcp('roles/storage.objectViewer'), 202);
    await create('aliceDb', 'alice', gcp('roles/cloudsql.viewer'), 202);
    // Decided grants stay readable by the groups that could decide them.
    await t.http.post(`/v1/grants/${ids.aliceStorage3}/approve`).set(t.as('approver')).send({}).expect(200);
  });
  afterAll(async () => {
    await t?.close();
    await oidc?.close();
  });

  const storage = ['aliceStorage1', 'aliceStorage2', 'aliceStorage3', 'bobStorage', 'frankStorage'];

  describe('static approver tokens', () => {
    it('should list for an approver only the grants whose rule names one of their groups, in any state', async () => {
      expect(await listAs(t.as('approver'))).toEqual(named(...storage));
      // erin is in sre by her token and in dba by the rules file.
      expect(await listAs(t.as('approver2'))).toEqual(named(...storage, 'aliceDb'));
    });

    it('should fill every page from the database, so paging one by one walks exactly the visible grants', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 20; page++) {
        const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await t.http
          .get(`/v1/grants?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
          .set(t.as('approver'))
          .expect(200);
        expect(res.body.items).toHaveLength(1);
        seen.push(res.body.items[0].id);
        cursor = res.body.nextCursor;
        if (!cursor) break;
      }
      expect(seen.sort()).toEqual(named(...storage));
    });

    it('should answer 404 to an approver reading, approving or denying a grant outside their groups, and leave it untouched', async () => {
      // A hidden grant must answer exactly what an id that was never issued answers (the id aside),
      // so the body cannot tell an approver that the grant exists, let alone what it targets.
      const absent = '00000000-0000-4000-8000-000000000000';
      const asIfAbsent = (body: unknown, id: string) => JSON.parse(JSON.stringify(body).split(id).join(absent));
      const never = (await t.http.get(`/v1/grants/${absent}`).set(t.as('approver')).expect(404)).body;
      expect(never.type).toBe('urn:jit-broker:problem:not_found');
      for (const name of ['aliceDeploy', 'bobDeploy', 'aliceDb']) {
        const res = await t.http.get(`/v1/grants/${ids[name]}`).set(t.as('approver')).expect(404);
        expect(asIfAbsent(res.body, ids[name])).toEqual(never);
      }
      await t.http.get(`/v1/grants/${ids.bobStorage}`).set(t.as('approver')).expect(200);
      const neverApprove = (await t.http.post(`/v1/grants/${absent}/approve`).set(t.as('approver')).send({}).expect(404)).body;
      const approve = await t.http.post(`/v1/grants/${ids.aliceDb}/approve`).set(t.as('approver')).send({}).expect(404);
      expect(asIfAbsent(approve.body, ids.aliceDb)).toEqual(neverApprove);
      await t.http.post(`/v1/grants/${ids.aliceDb}/deny`).set(t.as('approver')).send({ comment: 'no' }).expect(404);
      expect((await t.http.get(`/v1/grants/${ids.aliceDb}`).set(t.as('admin')).expect(200)).body).toMatchObject({ state: 'pending_approval', approvals: [] });
    });

    it('should let an approver narrow by requester within what they may read', async () => {
      expect(await listAs(t.as('approver'), '&requester=alice')).toEqual(named('aliceStorage1', 'aliceStorage2', 'aliceStorage3'));
      expect(await listAs(t.as('approver'), '&requester=bob')).toEqual(named('bobStorage'));
      expect(await listAs(t.as('approver'), `&principal=${encodeURIComponent('arn:aws:iam::123456789012:role/ci-deployer')}`)).toEqual([]);
    });

    it('should show a requester who is also an approver the union: their own grants and their groups\u2019', async () => {
      expect(await listAs(t.as('frank'))).toEqual(named('frankDeploy', ...storage));
      await t.http.get(`/v1/grants/${ids.frankDeploy}`).set(t.as('frank')).expect(200);
      await t.http.get(`/v1/grants/${ids.aliceDeploy}`).set(t.as('frank')).expect(404);
      await t.http.get(`/v1/grants/${ids.aliceDb}`).set(t.as('frank')).expect(404);
    });

    it('should show a requester their own grants only, and admins and auditors every grant', async () => {
      expect(await listAs(t.as('alice'))).toEqual(named('aliceDeploy', 'aliceStorage1', 'aliceStorage2', 'aliceStorage3', 'aliceDb'));
      await t.http.get('/v1/grants?requester=bob').set(t.as('alice')).expect(403);
      const all = named(...Object.keys(ids));
      expect(await listAs(t.as('auditor'))).toEqual(all);
      expect(await listAs(t.as('admin'))).toEqual(all);
    });

    it('should refuse the rules document to approvers and requesters, and show it to admins and auditors', async () => {
      for (const who of ['approver', 'approver2', 'frank', 'alice'] as const) {
        const res = await t.http.get('/v1/policy').set(t.as(who)).expect(403);
        expect(res.body.type).toBe('urn:jit-broker:problem:forbidden');
        expect(JSON.stringify(res.body)).not.toMatch(/ci:sre|erin-approver|databases/);
        await t.http.post('/v1/policy/reload').set(t.as(who)).expect(403);
      }
      for (const who of ['auditor', 'admin'] as const) {
        const res = await t.http.get('/v1/policy').set(t.as(who)).expect(200);
        expect(res.body.rules.map((r: { name: string }) => r.name)).toEqual(['deploys', 'storage', 'databases']);
      }
    });
  });

  describe('OIDC approver tokens', () => {
    it('should list for a token only the grants whose rule names its issuer-prefixed groups, and nothing without groups', async () => {
      expect(await listAs(bearer(await ciApprover(['sre'])))).toEqual(named(...storage));
      expect(await listAs(bearer(await ciApprover(['dba'])))).toEqual(named('aliceDb'));
      expect(await listAs(bearer(await ciApprover(['other'])))).toEqual([]);
      expect(await listAs(bearer(await ciApprover()))).toEqual([]);
      // A requester filter does not widen it.
      expect(await listAs(bearer(await ciApprover()), '&requester=alice')).toEqual([]);
    });

    it('should answer 404 for a grant outside the token\u2019s groups, on read and on approve', async () => {
      const sre = bearer(await ciApprover(['sre']));
      for (const name of ['aliceDeploy', 'aliceDb']) await t.http.get(`/v1/grants/${ids[name]}`).set(sre).expect(404);
      await t.http.get(`/v1/grants/${ids.aliceStorage1}`).set(sre).expect(200);
      await t.http.get(`/v1/grants/${ids.aliceStorage1}`).set(bearer(await ciApprover())).expect(404);
      await t.http.post(`/v1/grants/${ids.aliceDb}/approve`).set(sre).send({}).expect(404);
      expect((await t.http.get(`/v1/grants/${ids.aliceDb}`).set(t.as('admin')).expect(200)).body.state).toBe('pending_approval');
    });

    it('should refuse the rules document, with or without groups', async () => {
      for (const groups of [undefined, ['sre'], ['dba']]) {
        const token = bearer(await ciApprover(groups));
        const res = await t.http.get('/v1/policy').set(token).expect(403);
        expect(JSON.stringify(res.body)).not.toContain(oidc.issuer);
        await t.http.post('/v1/policy/reload').set(token).expect(403);
      }
    });

    it('should still let a token decide a grant its groups may decide', async () => {
      const res = await t.http.post(`/v1/grants/${ids.aliceDb}/deny`).set(bearer(await ciApprover(['dba']))).send({ comment: 'not today' }).expect(200);
      expect(res.body).toMatchObject({ state: 'denied', approvals: [expect.objectContaining({ approver: 'ci:repo:anyone/anything:ref:refs/heads/main' })] });
    });
  });
});
