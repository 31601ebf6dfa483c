import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StandingAssignment } from '@jit/domain';
import { parseAccessPolicy } from '@jit/policy';
import { targetKinds } from '@jit/testing';
import { sha256Hex } from '../../apps/broker/src/http/auth/token-registry';
import { parseCsv } from '../setup/csv.util';
import { pollUntil } from '../setup/poll-until.util';
import { TestBroker, TOKENS, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

/**
 * Discovery through the HTTP API with the in-memory clouds seeded with standing access, as a new
 * user would walk it: a scan finds every privileged assignment and none of the broker's own, flags
 * the unused ones, proposes rules the rules checker accepts, and a removal asked by one admin is
 * approved by another, applied, audited and restored.
 */
const DAY = 86_400_000;
const ADMIN2 = 'tok-second-admin-0000000000000000';
const REQUESTER = 'tok-discovery-requester-000000000';

function standing(cloud: StandingAssignment['cloud'], key: string, over: Partial<StandingAssignment>): StandingAssignment {
  return {
    cloud,
    key,
    principal: { id: key, kind: 'user', human: true },
    scope: '',
    access: { type: 'x', name: 'x' },
    since: new Date(Date.now() - 400 * DAY),
    lastUsedAt: null,
    brokerOwned: false,
    removable: true,
    locator: { key },
    ...over,
  };
}

const SEED = {
  aws: [
    standing('aws', 'aws:111122223333:role/deployer:AdministratorAccess', {
      principal: { id: 'arn:aws:iam::111122223333:role/deployer', kind: 'role', human: null },
      scope: 'aws:111122223333',
      access: { type: 'aws.managed-policy', name: 'AdministratorAccess', id: 'arn:aws:iam::aws:policy/AdministratorAccess', actions: ['*'] },
      lastUsedAt: new Date(Date.now() - 200 * DAY),
      usage: { granted: ['s3', 'ec2', 'iam'], used: ['s3'], periodDays: 400 },
    }),
    standing('aws', 'aws:111122223333:user/ci:inline:pass', {
      principal: { id: 'arn:aws:iam::111122223333:user/ci', kind: 'user', human: false },
      scope: 'aws:111122223333',
      access: { type: 'aws.inline-policy', name: 'ci-deploy', actions: ['iam:PassRole', 'lambda:UpdateFunctionConfiguration'] },
      lastUsedAt: new Date(Date.now() - 1 * DAY),
    }),
    standing('aws', 'aws:111122223333:user/reader:ReadOnly', {
      principal: { id: 'arn:aws:iam::111122223333:user/reader', kind: 'user', human: true },
      scope: 'aws:111122223333',
      access: { type: 'aws.managed-policy', name: 'ReadOnlyAccess', actions: ['s3:Get*'] },
    }),
    // Named like the broker's own artifact, claiming a grant the broker never made: anyone who can
    // write IAM can forge the name, so it is reported (and judged) like any other assignment.
    standing('aws', 'aws:111122223333:role/x:jit-grant', {
      principal: { id: 'arn:aws:iam::111122223333:role/x', kind: 'role', human: null },
      scope: 'aws:111122223333',
      access: { type: 'aws.inline-policy', name: 'jit-0b7f0f5e-0000-4000-8000-000000000000', actions: ['*'] },
      brokerOwned: true,
      brokerGrantIds: ['0b7f0f5e-0000-4000-8000-000000000000'],
    }),
  ],
  azure: [
    standing('azure', 'azure:ra:owner', {
      principal: { id: '6f1c0e5e-0000-4000-8000-000000000001', kind: 'user', human: true, displayName: 'Alice' },
      scope: '/subscriptions/00000000-0000-0000-0000-000000000001',
      access: { type: 'azure.role-assignment', name: 'Owner', id: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635' },
      neverUsed: true,
    }),
    standing('azure', 'azure:dir:ga', {
      principal: { id: '6f1c0e5e-0000-4000-8000-000000000002', kind: 'user', human: true },
      scope: '/',
      access: { type: 'azure.directory-role', name: 'Global Administrator', id: '62e90394-69f5-4237-9190-012177145e10' },
      lastUsedAt: new Date(Date.now() - 2 * DAY),
    }),
  ],
  gcp: [
    standing('gcp', 'gcp:projects/demo-project:roles/editor:sa', {
      principal: { id: 'serviceAccount:ci@demo-project.iam.gserviceaccount.com', kind: 'service_account', human: false },
      scope: 'projects/demo-project',
      access: { type: 'gcp.role-binding', name: 'roles/editor' },
      lastUsedAt: new Date(Date.now() - 120 * DAY),
    }),
    standing('gcp', 'gcp:projects/demo-project:roles/viewer:bob', {
      principal: { id: 'user:bob@example.com', kind: 'user', human: true },
      scope: 'projects/demo-project',
      access: { type: 'gcp.role-binding', name: 'roles/viewer' },
    }),
  ],
};
const PRIVILEGED_KEYS = [
  'aws:111122223333:role/deployer:AdministratorAccess',
  'aws:111122223333:role/x:jit-grant',
  'aws:111122223333:user/ci:inline:pass',
  'azure:ra:owner',
  'azure:dir:ga',
  'gcp:projects/demo-project:roles/editor:sa',
].sort();

interface Finding {
  id: string;
  key: string;
  cloud: string;
  privileged: boolean;
  status: string;
  reasons: string[];
}

describe('discovery (e2e)', () => {
  let t: TestBroker;
  const admin2 = { Authorization: `Bearer ${ADMIN2}` };
  const requester = { Authorization: `Bearer ${REQUESTER}` };

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-discovery-'));
    const tokensFile = join(dir, 'tokens.json');
    writeFileSync(
      tokensFile,
      JSON.stringify({
        tokens: [
          { subject: 'admin-two', roles: ['admin'], sha256: sha256Hex(ADMIN2) },
          { subject: 'carol-auditor', roles: ['auditor'], sha256: sha256Hex(TOKENS.auditor) },
          { subject: 'rita', roles: ['requester'], sha256: sha256Hex(REQUESTER) },
        ],
      }),
    );
    t = await startTestBroker({ JIT_TOKENS_FILE: tokensFile });
    t.clouds.aws.inventory.seed(...SEED.aws);
    t.clouds.azure.inventory.seed(...SEED.azure);
    t.clouds.gcp.inventory.seed(...SEED.gcp);
  });
  afterAll(async () => t?.close());

  async function scanToEnd(): Promise<{ id: string; state: string; clouds: { cloud: string; parts: number; partsDone: number; assignments: number }[] }> {
    const started = await t.http.post('/v1/discovery/scans').set(t.as('auditor')).expect(202);
    expect(started.body).toMatchObject({ state: 'running', trigger: 'manual', requestedBy: 'carol-auditor' });
    return pollUntil(
      async () => {
        const res = await t.http.get(`/v1/discovery/scans/${started.body.id}`).set(t.as('auditor')).expect(200);
        return res.body.state === 'running' ? undefined : res.body;
      },
      20_000,
    );
  }

  async function allFindings(query = ''): Promise<Finding[]> {
    const items: Finding[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: Finding[]; nextCursor: string | null } } = await t.http.get(`/v1/discovery/findings?limit=3${query}${cursor ? `&cursor=${cursor}` : ''}`).set(t.as('auditor')).expect(200);
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    return items;
  }

  it('should refuse discovery to requesters and bad input with problems naming the field', async () => {
    await t.http.post('/v1/discovery/scans').set(requester).expect(403);
    await t.http.get('/v1/discovery/findings').set(requester).expect(403);
    await t.http.get('/v1/discovery/findings').expect(401);
    for (const [query, field] of [
      ['unusedFor=abc', 'unusedFor'],
      ['privileged=yes', 'privileged'],
      ['cloud=ibm', 'cloud'],
      ['principalType=robot', 'principalType'],
      ['cursor=nope', 'cursor'],
      ['format=xml', 'format'],
      ['color=red', 'color'],
    ]) {
      const res = await t.http.get(`/v1/discovery/findings?${query}`).set(t.as('auditor')).expect(400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    const bad = await t.http.get('/v1/discovery/scans/not-a-uuid').set(t.as('auditor')).expect(400);
    expect(bad.body.errors[0].field).toBe('id');
    await t.http.get('/v1/discovery/scans/0b7f0f5e-0000-4000-8000-000000000000').set(t.as('auditor')).expect(404);
  });

  it('should find every seeded privileged assignment across the three clouds, none of the broker\'s own, and flag the unused', async () => {
    // A grant through the broker: its artifact is listed by the local cloud as the broker's own.
    await t.http.post('/v1/grants').set(t.as('admin')).send(awsPolicyGrant()).expect(201);
    const scan = await scanToEnd();
    expect(scan.state).toBe('completed');
    expect(scan.clouds.map((c) => c.cloud).sort()).toEqual(['aws', 'azure', 'gcp']);
    for (const c of scan.clouds) expect(c.partsDone).toBe(c.parts);

    const findings = await allFindings();
    expect(findings.filter((f) => f.privileged).map((f) => f.key).sort()).toEqual(PRIVILEGED_KEYS);
    // The broker's grant, claimed by the local cloud's listing and live in the database, is left out; the forged claim is not.
    expect(findings.some((f) => f.key.startsWith('broker:'))).toBe(false);
    expect(findings.find((f) => f.key === 'aws:111122223333:role/x:jit-grant')!.reasons[0]).toBe(
      "claims to be the broker's (grant 0b7f0f5e-0000-4000-8000-000000000000) but no live grant matches",
    );
    expect(findings).toHaveLength(8);

    const unused = await allFindings('&privileged=true&unusedFor=90');
    expect(unused.map((f) => f.key).sort()).toEqual(['aws:111122223333:role/deployer:AdministratorAccess', 'azure:ra:owner', 'gcp:projects/demo-project:roles/editor:sa']);
    expect((await allFindings('&principalType=workload')).map((f) => f.key).sort()).toEqual(['aws:111122223333:user/ci:inline:pass', 'gcp:projects/demo-project:roles/editor:sa']);
    expect((await allFindings('&cloud=azure&scope=/subscriptions/*')).map((f) => f.key)).toEqual(['azure:ra:owner']);

    const summary = await t.http.get('/v1/discovery/summary').set(t.as('admin')).expect(200);
    expect(summary.body.unusedDays).toBe(90);
    expect(summary.body.lastScan.id).toBe(scan.id);
    expect(summary.body.clouds).toEqual([
      { cloud: 'aws', open: 4, privileged: 3, privilegedUnused: 1, privilegedHumans: 0, privilegedWorkloads: 1, privilegedUnknown: 2, eligiblePrivileged: 0 },
      { cloud: 'azure', open: 2, privileged: 2, privilegedUnused: 1, privilegedHumans: 2, privilegedWorkloads: 0, privilegedUnknown: 0, eligiblePrivileged: 0 },
      { cloud: 'gcp', open: 2, privileged: 1, privilegedUnused: 1, privilegedHumans: 0, privilegedWorkloads: 1, privilegedUnknown: 0, eligiblePrivileged: 0 },
    ]);
    const metrics = await t.http.get('/metrics').set(t.as('admin')).expect(200);
    expect(metrics.text).toMatch(/jit_discovery_standing_privileged\{cloud="aws"\} 3/);
    expect(metrics.text).toMatch(/jit_discovery_standing_privileged_unused\{cloud="gcp"\} 1/);
    expect(metrics.text).toMatch(/jit_discovery_standing_privileged_holders\{cloud="azure",holder="human"\} 2/);
  });

  it('should propose for each finding a rule the rules checker accepts, narrowed where usage says', async () => {
    for (const f of await allFindings()) {
      const res = await t.http.get(`/v1/discovery/findings/${f.id}`).set(t.as('auditor')).expect(200);
      const { proposedRule } = res.body;
      expect(proposedRule).toMatchObject({ accepted: true, issues: [] });
      // The same file through the checker here too, as `npm run rules` would load it.
      expect(() => parseAccessPolicy(proposedRule.file, 'proposal', new Date(), targetKinds)).not.toThrow();
      expect(res.body.history[0]).toMatchObject({ change: 'opened' });
      if (f.key === 'aws:111122223333:role/deployer:AdministratorAccess') {
        expect(proposedRule.narrowed).toBe(true);
        expect(proposedRule.rule.targets[0]).toMatchObject({ kind: 'aws.iam-policy', actions: ['s3:*'], principals: ['arn:aws:iam::111122223333:role/deployer'] });
        expect(res.body.finding.usage.unused).toEqual(['ec2', 'iam']);
        expect(res.body.finding.unusedDays).toBe(200);
      }
    }
  });

  it('should export the findings as CSV and JSON lines', async () => {
    const csv = await t.http.get('/v1/discovery/findings?format=csv&privileged=true').set(t.as('auditor')).expect(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(parseCsv(csv.text).map((r) => r.key).sort()).toEqual(PRIVILEGED_KEYS);
    const jsonl = await t.http.get('/v1/discovery/findings?format=jsonl').set(t.as('auditor')).buffer(true).parse((res, cb) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => cb(null, text));
    });
    expect(jsonl.status).toBe(200);
    expect((jsonl.body as string).trim().split('\n').map((l) => JSON.parse(l).key)).toHaveLength(8);
  });

  it('should remove a standing assignment once a second admin approves, audit it, and restore it', async () => {
    const [owner] = await allFindings('&cloud=azure&access=Owner');
    await t.http.post(`/v1/discovery/findings/${owner.id}/removal`).set(t.as('auditor')).send({ justification: 'x' }).expect(403);
    const noReason = await t.http.post(`/v1/discovery/findings/${owner.id}/removal`).set(t.as('admin')).send({}).expect(400);
    expect(noReason.body.errors[0].field).toBe('justification');
    const asked = await t.http.post(`/v1/discovery/findings/${owner.id}/removal`).set(t.as('admin')).send({ justification: 'never used; make it just-in-time' }).expect(202);
    expect(asked.body).toMatchObject({ state: 'pending_approval', requestedBy: 'admin', required: 1, origin: 'discovery' });
    const self = await t.http.post(`/v1/discovery/removals/${asked.body.id}/approve`).set(t.as('admin')).send({}).expect(403);
    expect(self.body.detail ?? self.body.title).toMatch(/own/);
    expect(t.clouds.azure.inventory.has('azure:ra:owner')).toBe(true);
    const approved = await t.http.post(`/v1/discovery/removals/${asked.body.id}/approve`).set(admin2).send({ comment: 'agreed' }).expect(200);
    expect(approved.body).toMatchObject({ state: 'applied', decidedBy: 'admin-two' });
    expect(t.clouds.azure.inventory.has('azure:ra:owner')).toBe(false);
    expect((await t.http.get(`/v1/discovery/findings/${owner.id}`).set(t.as('auditor')).expect(200)).body.finding.status).toBe('removed');

    // A later scan does not reopen it: it is gone from the cloud.
    await scanToEnd();
    expect((await t.http.get(`/v1/discovery/findings/${owner.id}`).set(t.as('auditor')).expect(200)).body.finding.status).toBe('removed');

    await t.http.post(`/v1/discovery/removals/${asked.body.id}/restore`).set(t.as('auditor')).send({}).expect(403);
    const restored = await t.http.post(`/v1/discovery/removals/${asked.body.id}/restore`).set(admin2).send({ justification: 'still needed' }).expect(200);
    expect(restored.body.state).toBe('restored');
    expect(t.clouds.azure.inventory.has('azure:ra:owner')).toBe(true);
    await t.http.post(`/v1/discovery/removals/${asked.body.id}/restore`).set(admin2).send({}).expect(409);

    const audit = await t.http.get('/v1/audit?limit=1000').set(t.as('auditor')).expect(200);
    const discovery = (audit.body.items as { type: string; actor: string; principal: string; data: { removalId?: string } }[]).filter(
      (e) => e.type.startsWith('discovery.') && e.data.removalId === asked.body.id,
    );
    expect(discovery.map((e) => [e.type, e.actor])).toEqual([
      ['discovery.removal_requested', 'admin'],
      ['discovery.removal_approved', 'admin-two'],
      ['discovery.removal_applied', 'admin-two'],
      ['discovery.restored', 'admin-two'],
    ]);
    expect(audit.body.items.some((e: { type: string }) => e.type === 'discovery.scan_completed')).toBe(true);
    const detail = await t.http.get(`/v1/discovery/findings/${owner.id}`).set(t.as('auditor')).expect(200);
    expect(detail.body.history.map((h: { change: string }) => h.change)).toEqual(['opened', 'removed', 'restored']);
    expect(detail.body.removals[0]).toMatchObject({ id: asked.body.id, state: 'restored' });
  });

  it('should mark a finding resolved when a later scan no longer lists it', async () => {
    const [viewer] = await allFindings('&cloud=gcp&access=roles/viewer');
    t.clouds.gcp.inventory.unseed('gcp:projects/demo-project:roles/viewer:bob');
    await scanToEnd();
    const res = await t.http.get(`/v1/discovery/findings/${viewer.id}`).set(t.as('auditor')).expect(200);
    expect(res.body.finding).toMatchObject({ status: 'resolved', resolvedAt: expect.any(String) });
    expect((await allFindings('&status=resolved')).map((f) => f.id)).toEqual([viewer.id]);
  });
});
