import { parseCsv } from '../setup/csv.util';
import { pollUntil } from '../setup/poll-until.util';
import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

interface GrantBody {
  id: string;
  state: string;
  cloud: string;
  principal: { id: string };
  requestedBy: string;
  createdAt: string;
  expiresAt: string;
}
interface EventBody {
  seq: number;
  id: string;
  type: string;
  grantId: string | null;
  cloud: string | null;
  principal: string | null;
  actor: string;
  occurredAt: string;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** Issue 2 items 1 and 4: keyset paging and filters, streamed exports, metrics and the OpenAPI document. */
describe('listing, audit export, metrics and docs over HTTP', () => {
  let t: TestBroker;
  const created: GrantBody[] = [];
  let revokedId: string;
  let startedAt: string;

  const gcpGrant = (i: number) => ({
    cloud: 'gcp',
    principal: { type: 'workload', id: `serviceAccount:job${i}@proj-123456.iam.gserviceaccount.com` },
    target: { kind: 'gcp.iam-binding', resource: 'projects/proj-123456', role: 'roles/storage.objectViewer' },
    duration: 'PT30M',
  });
  const azureGrant = (i: number) => ({
    cloud: 'azure',
    principal: { type: 'workload', id: `6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a${String(i).padStart(2, '0')}` },
    target: { kind: 'azure.app-role', resourceServicePrincipalId: '11111111-2222-4333-8444-555555555555', appRoleId: '00000000-0000-4000-8000-000000000001' },
    duration: 'PT30M',
  });

  beforeAll(async () => {
    t = await startTestBroker();
    startedAt = new Date().toISOString();
    // 23 grants: 9 aws by alice, 8 gcp by bob, 6 azure by alice; sequential so createdAt is ordered.
    for (let i = 0; i < 23; i++) {
      const [who, body] =
        i % 3 === 0
          ? (['alice', awsPolicyGrant({ principal: { type: 'workload', id: `arn:aws:iam::123456789012:role/job${i}` } })] as const)
          : i % 3 === 1
            ? (['bob', gcpGrant(i)] as const)
            : (['alice', azureGrant(i)] as const);
      created.push((await t.http.post('/v1/grants').set(t.as(who)).send(body).expect(201)).body);
    }
    revokedId = created[4].id;
    await t.http.post(`/v1/grants/${revokedId}/revoke`).set(t.as('bob')).send({ reason: 'done, with "quotes", commas\nand a newline' }).expect(200);
  });
  afterAll(async () => {
    await t.close();
  });

  async function allPages<T>(path: string, limit: number, startCursor: string | null = null): Promise<{ items: T[]; pages: number }> {
    const items: T[] = [];
    let cursor: string | null = startCursor;
    let pages = 0;
    do {
      const sep: string = path.includes('?') ? '&' : '?';
      const url: string = `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await t.http.get(url).set(t.as('admin')).expect(200);
      expect(res.body.items.length).toBeLessThanOrEqual(limit);
      if (res.body.nextCursor) expect(res.body.items).toHaveLength(limit);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
      pages++;
      if (pages > 1000) throw new Error('paging does not end');
    } while (cursor);
    return { items, pages };
  }

  describe('grants', () => {
    it('should page through every grant newest first, without duplicates or gaps', async () => {
      const { items, pages } = await allPages<GrantBody>('/v1/grants', 5);
      expect(pages).toBe(5);
      expect(items.map((g) => g.id)).toEqual(created.map((g) => g.id).reverse());
      expect(new Set(items.map((g) => g.id)).size).toBe(23);
    });

    it('should page stably while new grants are created between pages', async () => {
      const first = await t.http.get('/v1/grants?limit=10').set(t.as('admin')).expect(200);
      const extra = await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant()).expect(201);
      const rest = await allPages<GrantBody>('/v1/grants', 10, first.body.nextCursor);
      const seen = [...first.body.items, ...rest.items].map((g: GrantBody) => g.id);
      expect(seen).not.toContain(extra.body.id);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(created.map((g) => g.id).reverse());
      await t.http.post(`/v1/grants/${extra.body.id}/revoke`).set(t.as('alice')).send({}).expect(200);
    });

    it.each([
      ['cloud=gcp', (g: GrantBody) => g.cloud === 'gcp'],
      ['cloud=azure', (g: GrantBody) => g.cloud === 'azure'],
      ['requester=bob', (g: GrantBody) => g.requestedBy === 'bob'],
    ])('should filter by %s across pages', async (query, keep) => {
      const { items } = await allPages<GrantBody>(`/v1/grants?${query}`, 3);
      const expected = created.filter(keep).map((g) => g.id).reverse();
      expect(expected.length).toBeGreaterThan(0);
      expect(items.map((g) => g.id)).toEqual(expected);
    });

    it('should filter by state and principal', async () => {
      const revoked = await t.http.get('/v1/grants?state=revoked').set(t.as('admin')).expect(200);
      expect(revoked.body.items.map((g: GrantBody) => g.id)).toContain(revokedId);
      expect(revoked.body.items.every((g: GrantBody) => g.state === 'revoked')).toBe(true);
      const active = await allPages<GrantBody>('/v1/grants?state=active', 50);
      expect(active.items.map((g) => g.id)).not.toContain(revokedId);
      expect(active.items).toHaveLength(22);
      const p = created[7].principal.id;
      const byPrincipal = await t.http.get(`/v1/grants?principal=${encodeURIComponent(p)}`).set(t.as('admin')).expect(200);
      expect(byPrincipal.body.items.map((g: GrantBody) => g.id)).toEqual([created[7].id]);
    });

    it('should filter by creation time, from inclusive and to exclusive', async () => {
      const from = created[10].createdAt;
      const to = created[15].createdAt;
      const { items } = await allPages<GrantBody>(`/v1/grants?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, 2);
      const expected = created.filter((g) => g.createdAt >= from && g.createdAt < to).map((g) => g.id).reverse();
      expect(expected).toContain(created[10].id);
      expect(expected).not.toContain(created[15].id);
      expect(items.map((g) => g.id)).toEqual(expected);
      const none = await t.http.get(`/v1/grants?to=${encodeURIComponent(startedAt)}&from=${encodeURIComponent('2000-01-01T00:00:00Z')}`).set(t.as('admin')).expect(200);
      expect(none.body).toEqual({ items: [], nextCursor: null });
    });
  });

  describe('audit', () => {
    let all: EventBody[];
    beforeAll(async () => {
      all = (await allPages<EventBody>('/v1/audit', 1000)).items;
    });

    it('should page through the audit log in seq order, each page continuing the last', async () => {
      const { items, pages } = await allPages<EventBody>('/v1/audit', 7);
      expect(pages).toBe(Math.ceil(all.length / 7));
      expect(items.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
      for (let i = 1; i < items.length; i++) expect(items[i].prevHash).toBe(items[i - 1].hash);
      // policy.loaded at start + 23 grants * (requested, approved, provisioned, activated) + the revoked one's 2 + the extra grant's 6
      expect(items[0].type).toBe('policy.loaded');
      expect(items.length).toBe(1 + 23 * 4 + 2 + 6);
    });

    it.each([
      ['type=grant.revoke_requested', (e: EventBody) => e.type === 'grant.revoke_requested'],
      ['cloud=azure', (e: EventBody) => e.cloud === 'azure'],
      ['actor=bob', (e: EventBody) => e.actor === 'bob'],
      ['actor=broker&type=grant.activated', (e: EventBody) => e.actor === 'broker' && e.type === 'grant.activated'],
    ])('should filter by %s across pages', async (query, keep) => {
      const { items } = await allPages<EventBody>(`/v1/audit?${query}`, 4);
      const expected = all.filter(keep);
      expect(expected.length).toBeGreaterThan(0);
      expect(items.map((e) => e.seq)).toEqual(expected.map((e) => e.seq));
    });

    it('should filter by principal and grantId', async () => {
      const g = created[5];
      const byPrincipal = await allPages<EventBody>(`/v1/audit?principal=${encodeURIComponent(g.principal.id)}`, 100);
      expect(byPrincipal.items.map((e) => e.type)).toEqual(['grant.requested', 'grant.approved', 'grant.provisioned', 'grant.activated']);
      expect(byPrincipal.items.every((e) => e.grantId === g.id)).toBe(true);
      const byGrant = await allPages<EventBody>(`/v1/audit?grantId=${revokedId}`, 2);
      expect(byGrant.items.map((e) => e.type)).toEqual([
        'grant.requested',
        'grant.approved',
        'grant.provisioned',
        'grant.activated',
        'grant.revoke_requested',
        'grant.revoked',
      ]);
    });

    it('should filter by occurrence time, from inclusive and to exclusive', async () => {
      const from = all[20].occurredAt;
      const to = all[60].occurredAt;
      const { items } = await allPages<EventBody>(`/v1/audit?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, 9);
      const expected = all.filter((e) => e.occurredAt >= from && e.occurredAt < to);
      expect(expected.length).toBeGreaterThan(0);
      expect(items.map((e) => e.seq)).toEqual(expected.map((e) => e.seq));
    });

    it('should stream every event as JSON lines, identical to the paged list', async () => {
      const res = await t.http.get('/v1/audit?format=jsonl').set(t.as('auditor')).buffer(true).parse((r, cb) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (text += c));
        r.on('end', () => cb(null, text));
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
      const text = res.body as string;
      expect(text.endsWith('\n')).toBe(true);
      const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as EventBody);
      expect(lines.length).toBeGreaterThanOrEqual(all.length);
      expect(lines.slice(0, all.length)).toEqual(all);
    });

    it('should stream a filtered JSON-lines export', async () => {
      const res = await t.http.get(`/v1/audit?format=jsonl&grantId=${revokedId}`).set(t.as('auditor')).buffer(true).parse((r, cb) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (text += c));
        r.on('end', () => cb(null, text));
      });
      const lines = (res.body as string).trimEnd().split('\n').map((l) => JSON.parse(l) as EventBody);
      expect(lines.map((e) => e.type)).toEqual(all.filter((e) => e.grantId === revokedId).map((e) => e.type));
    });

    it('should stream every event as CSV with a header, quoting data that holds commas, quotes and newlines', async () => {
      const res = await t.http.get('/v1/audit?format=csv').set(t.as('auditor')).buffer(true).parse((r, cb) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (text += c));
        r.on('end', () => cb(null, text));
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      expect(res.headers['content-disposition']).toMatch(/attachment/);
      const records = parseCsv(res.body as string);
      expect(Object.keys(records[0])).toEqual(['seq', 'id', 'occurredAt', 'type', 'grantId', 'cloud', 'principal', 'actor', 'data', 'prevHash', 'hash']);
      expect(records.length).toBeGreaterThanOrEqual(all.length);
      records.slice(0, all.length).forEach((r, i) => {
        const e = all[i];
        expect({ ...r, seq: Number(r.seq), data: JSON.parse(r.data) }).toEqual({
          ...e,
          grantId: e.grantId ?? '',
          cloud: e.cloud ?? '',
          principal: e.principal ?? '',
        });
      });
      const revokeRequested = records.find((r) => r.type === 'grant.revoke_requested' && r.grantId === revokedId)!;
      expect(JSON.parse(revokeRequested.data)).toEqual({ reason: 'done, with "quotes", commas\nand a newline' });
    });

    it('should stream a large export in several database pages (more than 1000 events)', async () => {
      // 250 grants * 4 events + what is already there crosses the 1000-event page of the exporter.
      await Promise.all(
        Array.from({ length: 250 }, (_, i) =>
          t.http
            .post('/v1/grants')
            .set(t.as('alice'))
            .send(awsPolicyGrant({ principal: { type: 'workload', id: `arn:aws:iam::123456789012:role/bulk${i}` } }))
            .expect(201),
        ),
      );
      const head = (await t.http.get('/v1/audit/verify').set(t.as('auditor')).expect(200)).body;
      expect(head.ok).toBe(true);
      const res = await t.http.get('/v1/audit?format=jsonl').set(t.as('auditor')).buffer(true).parse((r, cb) => {
        let text = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (text += c));
        r.on('end', () => cb(null, text));
      });
      const seqs = (res.body as string).trimEnd().split('\n').map((l) => (JSON.parse(l) as EventBody).seq);
      expect(seqs.length).toBeGreaterThan(1000);
      expect(seqs.slice(0, head.head.seq)).toEqual(Array.from({ length: head.head.seq }, (_, i) => i + 1));
    });
  });

  describe('verify with anchors', () => {
    const firstHash = async () => (await t.http.get('/v1/audit?limit=1').set(t.as('auditor')).expect(200)).body.items[0].hash as string;

    it('should check heads recorded earlier, given as anchor=<seq>:<hash>, and name a malformed one', async () => {
      const earlier = (await t.http.get('/v1/audit/verify').set(t.as('auditor')).expect(200)).body.head as { seq: number; hash: string };
      await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant()).expect(201);
      const ok = await t.http.get(`/v1/audit/verify?anchor=${earlier.seq}:${earlier.hash}&anchor=1:${(await firstHash())}`).set(t.as('auditor')).expect(200);
      expect(ok.body).toMatchObject({ ok: true, anchors: 2, firstBroken: null });
      expect(ok.body.head.seq).toBeGreaterThan(earlier.seq);
      const wrong = await t.http.get(`/v1/audit/verify?anchor=${earlier.seq}:${'f'.repeat(64)}`).set(t.as('auditor')).expect(200);
      expect(wrong.body).toMatchObject({ ok: false, firstBroken: { seq: earlier.seq, reason: expect.stringMatching(/anchored hash/) } });
      for (const bad of ['12', `0:${earlier.hash}`, `3:${earlier.hash.slice(1)}`, `x:${earlier.hash}`]) {
        const res = await t.http.get(`/v1/audit/verify?anchor=${bad}`).set(t.as('auditor')).expect(400);
        expect(res.body.errors).toEqual([expect.objectContaining({ field: 'anchor' })]);
      }
      const notBoolean = await t.http.get('/v1/audit/verify?full=yes').set(t.as('auditor')).expect(400);
      expect(notBoolean.body.errors).toEqual([expect.objectContaining({ field: 'full', message: expect.stringMatching(/true or false/) })]);
      const full = await t.http.get('/v1/audit/verify?full=true').set(t.as('auditor')).expect(200);
      expect(full.body).toMatchObject({ ok: true, walk: { mode: 'full', afterSeq: 0, from: 'genesis' } });
    });
  });

  describe('metrics', () => {
    it('should show grants per state and the revocation lag histogram once a grant expired', async () => {
      const short = await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant({ duration: 'PT1S' })).expect(201);
      await pollUntil(async () => {
        const g = await t.http.get(`/v1/grants/${short.body.id}`).set(t.as('alice')).expect(200);
        return g.body.state === 'expired' ? g.body : undefined;
      }, 6000);
      const res = await t.http.get('/metrics').set(t.as('auditor')).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const value = (line: RegExp) => {
        const m = res.text.split('\n').find((l) => line.test(l));
        return m === undefined ? undefined : Number(m.split(' ').pop());
      };
      const counts = (await allPages<GrantBody>('/v1/grants', 500)).items.reduce<Record<string, number>>((acc, g) => {
        acc[g.state] = (acc[g.state] ?? 0) + 1;
        return acc;
      }, {});
      expect(counts.expired).toBe(1);
      // Open grants from the database; ended ones only accumulate, and are no longer counted at each scrape.
      for (const state of ['pending_approval', 'provisioning', 'active', 'revoking', 'revoke_failed']) {
        expect(value(new RegExp(`^jit_grants\\{state="${state}"\\} `))).toBe(counts[state] ?? 0);
      }
      for (const state of ['expired', 'revoked', 'denied', 'failed']) {
        expect(value(new RegExp(`^jit_grants\\{state="${state}"\\} `))).toBeUndefined();
      }
      expect(res.text).toMatch(/^# TYPE jit_revocation_lag_seconds histogram$/m);
      expect(value(/^jit_revocation_lag_seconds_count\{cloud="aws",kind="aws\.iam-policy"/)).toBe(1);
      expect(value(/^jit_revocation_lag_seconds_bucket\{le="\+Inf",cloud="aws",kind="aws\.iam-policy"/)).toBe(1);
      expect(value(/^jit_revocation_lag_seconds_sum\{cloud="aws",kind="aws\.iam-policy"/)).toBeGreaterThanOrEqual(0);
    });
  });

  describe('docs', () => {
    it('should return an OpenAPI document listing every path of the API', async () => {
      const res = await t.http.get('/docs').set(t.as('alice')).expect(200);
      expect(res.headers['content-type']).toMatch(/json/);
      expect(res.body.openapi).toMatch(/^3\./);
      expect(Object.keys(res.body.paths)).toEqual(
        expect.arrayContaining(['/v1/grants', '/v1/grants/{id}', '/v1/grants/{id}/revoke', '/v1/audit', '/v1/audit/verify', '/health', '/metrics', '/docs']),
      );
      expect(Object.keys(res.body.paths['/v1/grants'])).toEqual(expect.arrayContaining(['get', 'post']));
      expect(res.body.components.securitySchemes).toBeDefined();
      const params = res.body.paths['/v1/audit'].get.parameters.map((p: { name: string }) => p.name);
      expect(params).toEqual(expect.arrayContaining(['grantId', 'cloud', 'principal', 'actor', 'type', 'from', 'to', 'limit', 'cursor', 'format']));
    });
  });
});
