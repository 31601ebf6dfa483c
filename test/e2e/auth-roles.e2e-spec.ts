import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

/** Issue 2, "roles enforced": authentication on every route but /health, and what each role may read and write. */
describe('authentication and roles over HTTP', () => {
  let t: TestBroker;
  let alicesGrant: string;
  let bobsGrant: string;

  beforeAll(async () => {
    t = await startTestBroker();
    alicesGrant = (await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant()).expect(201)).body.id;
    bobsGrant = (
      await t.http
        .post('/v1/grants')
        .set(t.as('bob'))
        .send(awsPolicyGrant({ principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/bobs-job' } }))
        .expect(201)
    ).body.id;
  });
  afterAll(async () => {
    await t.close();
  });

  const problem = (res: { status: number; headers: Record<string, string>; body: { status?: number; type?: string } }, status: number) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.status).toBe(status);
  };

  describe('authentication', () => {
    const protectedRoutes: [string, string][] = [
      ['get', '/v1/grants'],
      ['get', '/v1/grants/0b7e6a52-3f4d-4c1a-9e2b-8d7c6b5a4f3e'],
      ['post', '/v1/grants'],
      ['post', '/v1/grants/0b7e6a52-3f4d-4c1a-9e2b-8d7c6b5a4f3e/revoke'],
      ['get', '/v1/audit'],
      ['get', '/v1/audit?format=jsonl'],
      ['get', '/v1/audit/verify'],
      ['get', '/metrics'],
      ['get', '/docs'],
    ];
    const badHeaders: [string, string | undefined][] = [
      ['no Authorization header', undefined],
      ['an unknown token', 'Bearer tok-nobody-has-this-token-000000'],
      ['a token differing in one character', 'Bearer tok-alice-requester-000000000001'],
      ['Basic instead of Bearer', `Basic ${Buffer.from('alice:secret').toString('base64')}`],
      ['Bearer without a token', 'Bearer '],
      ['the bare token without a scheme', 'tok-alice-requester-000000000000'],
      ['a token with a space in it', 'Bearer tok-alice requester'],
    ];
    const cases = protectedRoutes.flatMap(([method, path]) => badHeaders.map(([what, header]) => [method, path, what, header] as const));

    it.each(cases)('%s %s with %s -> 401 with WWW-Authenticate', async (method, path, _what, header) => {
      let req = method === 'get' ? t.http.get(path) : t.http.post(path).send(awsPolicyGrant());
      if (header !== undefined) req = req.set('Authorization', header);
      const res = await req;
      problem(res, 401);
      expect(res.body.type).toBe('urn:jit-broker:problem:unauthenticated');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    });

    it('should refuse every route the OpenAPI document lists, but /health, without a token', async () => {
      const doc = (await t.http.get('/docs').set(t.as('admin')).expect(200)).body as { paths: Record<string, Record<string, unknown>> };
      const routes = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => [m, path.replace(/\{[^}]+\}/g, '0b7e6a52-3f4d-4c1a-9e2b-8d7c6b5a4f3e')] as const));
      // The document is complete enough to mean something: grants, decisions, audit, rules.
      expect(routes.map(([m, p]) => `${m} ${p}`)).toEqual(
        expect.arrayContaining(['post /v1/grants/0b7e6a52-3f4d-4c1a-9e2b-8d7c6b5a4f3e/approve', 'post /v1/policy/evaluate', 'post /v1/policy/reload', 'get /v1/audit/verify']),
      );
      for (const [method, path] of routes.filter(([, p]) => p !== '/health')) {
        const res = await (method === 'get' ? t.http.get(path) : t.http.post(path).send(awsPolicyGrant()));
        expect([method, path, res.status]).toEqual([method, path, 401]);
      }
    });

    it('should leave nothing behind when an unauthenticated request tries to create a grant', async () => {
      const before = (await t.http.get('/v1/audit/verify').set(t.as('admin')).expect(200)).body.head.seq;
      await t.http.post('/v1/grants').send(awsPolicyGrant()).expect(401);
      const after = (await t.http.get('/v1/audit/verify').set(t.as('admin')).expect(200)).body.head.seq;
      expect(after).toBe(before);
    });

    it('should answer /health without a token, and with one', async () => {
      const res = await t.http.get('/health').expect(200);
      expect(res.body).toEqual({ status: 'ok' });
      await t.http.get('/health').set('Authorization', 'Bearer garbage-garbage-garbage').expect(200);
    });

    it('should answer an unknown route with a 404 problem that reveals nothing', async () => {
      const res = await t.http.get('/v1/secrets');
      problem(res, 404);
      expect(JSON.stringify(res.body)).not.toMatch(/grant|audit/i);
    });
  });

  describe('requester', () => {
    it('should see its own grant and get 404 for another requester’s, as if it did not exist', async () => {
      await t.http.get(`/v1/grants/${alicesGrant}`).set(t.as('alice')).expect(200);
      const res = await t.http.get(`/v1/grants/${bobsGrant}`).set(t.as('alice'));
      problem(res, 404);
      const missing = await t.http.get('/v1/grants/0b7e6a52-3f4d-4c1a-9e2b-8d7c6b5a4f3e').set(t.as('alice'));
      expect(missing.body.type).toBe(res.body.type);
    });

    it('should list only its own grants, and be refused requester=<someone else> with 403', async () => {
      const mine = await t.http.get('/v1/grants?limit=500').set(t.as('alice')).expect(200);
      expect(mine.body.items.length).toBeGreaterThan(0);
      expect(mine.body.items.every((g: { requestedBy: string }) => g.requestedBy === 'alice')).toBe(true);
      expect(mine.body.items.map((g: { id: string }) => g.id)).not.toContain(bobsGrant);
      const self = await t.http.get('/v1/grants?requester=alice').set(t.as('alice')).expect(200);
      expect(self.body.items.map((g: { id: string }) => g.id)).toContain(alicesGrant);
      // Filtering by bob's principal still only shows alice's grants: none.
      const byPrincipal = await t.http
        .get(`/v1/grants?principal=${encodeURIComponent('arn:aws:iam::123456789012:role/bobs-job')}`)
        .set(t.as('alice'))
        .expect(200);
      expect(byPrincipal.body.items).toEqual([]);
      const other = await t.http.get('/v1/grants?requester=bob').set(t.as('alice'));
      problem(other, 403);
      expect(other.body.errors).toContainEqual(expect.objectContaining({ field: 'requester' }));
    });

    it.each([
      ['/v1/audit'],
      ['/v1/audit?format=jsonl'],
      ['/v1/audit?format=csv'],
      ['/v1/audit/verify'],
      ['/metrics'],
    ])('should be refused %s with 403', async (path) => {
      const res = await t.http.get(path).set(t.as('alice'));
      problem(res, 403);
      expect(res.body.type).toBe('urn:jit-broker:problem:forbidden');
    });

    it('should read /docs with any valid token', async () => {
      await t.http.get('/docs').set(t.as('alice')).expect(200);
    });

    it('should not revoke another requester’s grant, and the grant stays active', async () => {
      const res = await t.http.post(`/v1/grants/${bobsGrant}/revoke`).set(t.as('alice')).send({ reason: 'mine now' });
      // A requester cannot see bob's grant at all, so it is "not found" rather than "forbidden".
      problem(res, 404);
      const g = await t.http.get(`/v1/grants/${bobsGrant}`).set(t.as('bob')).expect(200);
      expect(g.body.state).toBe('active');
      const events = await t.http.get(`/v1/grants/${bobsGrant}`).set(t.as('auditor')).expect(200);
      expect(events.body.endedAt).toBeNull();
      const audit = await t.http.get(`/v1/audit?grantId=${bobsGrant}&type=grant.revoke_requested`).set(t.as('auditor')).expect(200);
      expect(audit.body.items).toEqual([]);
    });
  });

  describe('auditor', () => {
    it('should read every grant, the audit log, its exports, verify and metrics', async () => {
      const all = await t.http.get('/v1/grants?limit=500').set(t.as('auditor')).expect(200);
      const ids = all.body.items.map((g: { id: string }) => g.id);
      expect(ids).toEqual(expect.arrayContaining([alicesGrant, bobsGrant]));
      await t.http.get(`/v1/grants/${bobsGrant}`).set(t.as('auditor')).expect(200);
      await t.http.get('/v1/grants?requester=bob').set(t.as('auditor')).expect(200);
      const audit = await t.http.get('/v1/audit').set(t.as('auditor')).expect(200);
      expect(audit.body.items.length).toBeGreaterThan(0);
      await t.http.get('/v1/audit?format=jsonl').set(t.as('auditor')).expect(200);
      await t.http.get('/v1/audit/verify').set(t.as('auditor')).expect(200);
      const metrics = await t.http.get('/metrics').set(t.as('auditor')).expect(200);
      expect(metrics.text).toMatch(/jit_grants/);
    });

    it('should not create a grant (403) and nothing is written', async () => {
      const before = (await t.http.get('/v1/audit/verify').set(t.as('auditor')).expect(200)).body.head.seq;
      const res = await t.http.post('/v1/grants').set(t.as('auditor')).send(awsPolicyGrant());
      problem(res, 403);
      const after = (await t.http.get('/v1/audit/verify').set(t.as('auditor')).expect(200)).body.head.seq;
      expect(after).toBe(before);
    });

    it('should not revoke a grant (403) and the grant stays active', async () => {
      const res = await t.http.post(`/v1/grants/${alicesGrant}/revoke`).set(t.as('auditor')).send({ reason: 'audit' });
      problem(res, 403);
      expect((await t.http.get(`/v1/grants/${alicesGrant}`).set(t.as('auditor')).expect(200)).body.state).toBe('active');
    });
  });

  describe('approver', () => {
    it('should not read grants no rule asked its groups to decide (404, as if absent), nor the rules, nor the audit log', async () => {
      // Every grant here was allowed automatically: no approver group could decide it.
      problem(await t.http.get(`/v1/grants/${bobsGrant}`).set(t.as('approver')), 404);
      expect((await t.http.get('/v1/grants?limit=500').set(t.as('approver')).expect(200)).body.items).toEqual([]);
      problem(await t.http.get('/v1/policy').set(t.as('approver')), 403);
      problem(await t.http.get('/v1/audit').set(t.as('approver')), 403);
    });

    it('should neither create nor revoke', async () => {
      problem(await t.http.post('/v1/grants').set(t.as('approver')).send(awsPolicyGrant()), 403);
      problem(await t.http.post(`/v1/grants/${bobsGrant}/revoke`).set(t.as('approver')).send({}), 403);
    });
  });

  describe('admin', () => {
    it('should revoke another requester’s grant, recorded with the admin as actor', async () => {
      const created = await t.http
        .post('/v1/grants')
        .set(t.as('bob'))
        .send(awsPolicyGrant({ principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/bobs-other-job' } }))
        .expect(201);
      const res = await t.http.post(`/v1/grants/${created.body.id}/revoke`).set(t.as('admin')).send({ reason: 'incident 42' }).expect(200);
      expect(res.body).toMatchObject({ state: 'revoked', endReason: 'revoked', requestedBy: 'bob' });
      const audit = await t.http.get(`/v1/audit?grantId=${created.body.id}&type=grant.revoke_requested`).set(t.as('admin')).expect(200);
      expect(audit.body.items).toEqual([expect.objectContaining({ actor: 'admin', data: { reason: 'incident 42' } })]);
    });

    it('should create grants, read everything and scrape metrics', async () => {
      await t.http.post('/v1/grants').set(t.as('admin')).send(awsPolicyGrant()).expect(201);
      await t.http.get('/v1/grants?requester=alice').set(t.as('admin')).expect(200);
      await t.http.get('/v1/audit').set(t.as('admin')).expect(200);
      await t.http.get('/metrics').set(t.as('admin')).expect(200);
    });
  });

  describe('Idempotency-Key', () => {
    const body = () => awsPolicyGrant({ principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/idem' }, ticket: 'CHG-7' });

    it('should answer a replay of the same key and body with the same grant and 200, and write nothing more', async () => {
      const first = await t.http.post('/v1/grants').set(t.as('alice')).set('Idempotency-Key', 'deploy-77').send(body()).expect(201);
      const seq = (await t.http.get('/v1/audit/verify').set(t.as('admin')).expect(200)).body.head.seq;
      // Same body with keys in another order is the same request.
      const reordered = Object.fromEntries(Object.entries(body()).reverse());
      const again = await t.http.post('/v1/grants').set(t.as('alice')).set('Idempotency-Key', 'deploy-77').send(reordered).expect(200);
      expect(again.body.id).toBe(first.body.id);
      expect(again.body.expiresAt).toBe(first.body.expiresAt);
      expect((await t.http.get('/v1/audit/verify').set(t.as('admin')).expect(200)).body.head.seq).toBe(seq);
      const requested = await t.http.get(`/v1/audit?grantId=${first.body.id}&type=grant.requested`).set(t.as('admin')).expect(200);
      expect(requested.body.items).toHaveLength(1);
      expect(requested.body.items[0].data.idempotencyKey).toBe('deploy-77');
    });

    it('should refuse the same key with another body with 409 naming the key and the existing grant', async () => {
      const first = await t.http.post('/v1/grants').set(t.as('alice')).set('Idempotency-Key', 'deploy-78').send(body()).expect(201);
      const res = await t.http
        .post('/v1/grants')
        .set(t.as('alice'))
        .set('Idempotency-Key', 'deploy-78')
        .send({ ...body(), duration: 'PT30M' });
      problem(res, 409);
      expect(res.body.type).toBe('urn:jit-broker:problem:idempotency_conflict');
      expect(res.body.grantId).toBe(first.body.id);
      expect(res.body.errors).toContainEqual(expect.objectContaining({ field: 'Idempotency-Key' }));
    });

    it('should keep keys per requester: bob using alice’s key gets a grant of his own', async () => {
      const a = await t.http.post('/v1/grants').set(t.as('alice')).set('Idempotency-Key', 'shared-key').send(body()).expect(201);
      const b = await t.http.post('/v1/grants').set(t.as('bob')).set('Idempotency-Key', 'shared-key').send(body()).expect(201);
      expect(b.body.id).not.toBe(a.body.id);
      expect(b.body.requestedBy).toBe('bob');
      // ...and bob's key with another body conflicts only with bob's own grant.
      await t.http.post('/v1/grants').set(t.as('bob')).set('Idempotency-Key', 'shared-key').send(body()).expect(200);
      await t.http.post('/v1/grants').set(t.as('alice')).set('Idempotency-Key', 'shared-key').send(body()).expect(200);
    });

    it('should create exactly one grant when the same key is sent concurrently', async () => {
      const responses = await Promise.all(
        Array.from({ length: 5 }, () => t.http.post('/v1/grants').set(t.as('alice')).set('Idempotency-Key', 'race-1').send(body())),
      );
      const ids = new Set(responses.filter((r) => r.status < 300).map((r) => r.body.id));
      expect(ids.size).toBe(1);
      for (const r of responses) expect([200, 201, 409]).toContain(r.status);
      expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
      expect(responses.every((r) => r.status !== 500)).toBe(true);
    });
  });
});
