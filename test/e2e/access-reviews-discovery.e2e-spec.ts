import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StandingAssignment } from '@jit/domain';
import { parseCsv } from '../setup/csv.util';
import { pollUntil } from '../setup/poll-until.util';
import { TestBroker, startTestBroker } from '../setup/test-broker';

/**
 * Access reviews on discovery's own findings and removals (no stand-in ports): the in-memory AWS
 * cloud holds two standing admin assignments, a scan finds them, a campaign puts them before the
 * SRE reviewers, a removal decided there goes through discovery's approval, is applied in the
 * cloud, and the review, the removal and the report all show it.
 */

const DAY = 86_400_000;

const REVIEWS = `version: 1
campaigns:
  - name: standing-admins
    duration: P7D
    remindBefore: P1D
    scope: { standing: { clouds: [aws] } }
    reviewers: { groups: [sre] }
`;

function admin(key: string, user: string): StandingAssignment {
  return {
    cloud: 'aws',
    key,
    principal: { id: `arn:aws:iam::111122223333:user/${user}`, kind: 'user', human: true, displayName: user },
    scope: 'aws:111122223333',
    access: { type: 'aws.managed-policy', name: 'AdministratorAccess', id: 'arn:aws:iam::aws:policy/AdministratorAccess', actions: ['*'] },
    since: new Date(Date.now() - 400 * DAY),
    lastUsedAt: new Date(Date.now() - 200 * DAY),
    brokerOwned: false,
    removable: true,
    locator: { key },
  };
}

describe('access reviews on discovery (e2e)', () => {
  let t: TestBroker;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-reviews-discovery-'));
    writeFileSync(join(dir, 'reviews.yaml'), REVIEWS);
    writeFileSync(join(dir, 'rules.yaml'), 'version: 1\ngroups:\n  sre: [dave-approver, erin-approver]\n');
    t = await startTestBroker({ JIT_REVIEWS_FILE: join(dir, 'reviews.yaml'), JIT_POLICY_FILE: join(dir, 'rules.yaml') });
    t.clouds.aws.inventory.seed(admin('aws:111122223333:user/mallory:AdministratorAccess', 'mallory'), admin('aws:111122223333:user/erin-approver:AdministratorAccess', 'erin-approver'));
  });
  afterAll(async () => t?.close());

  it('should apply a reviewer\'s removal in the cloud through discovery\'s approval, audited, and report it', async () => {
    const scan = await t.http.post('/v1/discovery/scans').set(t.as('auditor')).expect(202);
    await pollUntil(async () => ((await t.http.get(`/v1/discovery/scans/${scan.body.id}`).set(t.as('auditor')).expect(200)).body.state === 'running' ? undefined : true), 20_000);

    const campaign = (await t.http.post('/v1/reviews/campaigns/standing-admins/start').set(t.as('admin')).expect(201)).body;
    expect(campaign.counts.total).toBe(2);
    const items = (await t.http.get(`/v1/reviews/campaigns/${campaign.id}/items`).set(t.as('approver')).expect(200)).body.items as Record<string, any>[];
    const mallory = items.find((i) => i.principal.endsWith('/mallory'))!;
    const erin = items.find((i) => i.principal.endsWith('/erin-approver'))!;
    expect(mallory).toMatchObject({ access: 'AdministratorAccess', privileged: true, lastUsedAt: expect.any(String) });
    // erin reviews mallory's access, not her own.
    await t.http.post(`/v1/reviews/items/${erin.id}/decision`).set(t.as('approver2')).send({ decision: 'keep', justification: 'mine' }).expect(403);
    await t.http.post(`/v1/reviews/items/${erin.id}/decision`).set(t.as('approver')).send({ decision: 'keep', justification: 'on-call lead' }).expect(200);
    const removed = await t.http.post(`/v1/reviews/items/${mallory.id}/decision`).set(t.as('approver2')).send({ decision: 'remove', justification: 'left the company' }).expect(200);
    expect(removed.body.applied).toMatch(/^removal:/);
    const removalId = removed.body.applied.slice('removal:'.length);

    // Discovery's removal: pending until an admin (not its requester) approves; then gone from the cloud.
    const pending = (await t.http.get(`/v1/discovery/removals/${removalId}`).set(t.as('admin')).expect(200)).body;
    expect(pending).toMatchObject({ state: 'pending_approval', requestedBy: 'erin-approver', origin: `review:${campaign.id}` });
    expect(t.clouds.aws.inventory.has('aws:111122223333:user/mallory:AdministratorAccess')).toBe(true);
    await t.http.post(`/v1/discovery/removals/${removalId}/approve`).set(t.as('admin')).send({ comment: 'per the access review' }).expect(200);
    expect(t.clouds.aws.inventory.has('aws:111122223333:user/mallory:AdministratorAccess')).toBe(false);
    expect(t.clouds.aws.inventory.has('aws:111122223333:user/erin-approver:AdministratorAccess')).toBe(true);

    // The audit log: the review's decision and what it applied, and discovery's removal with the review as origin.
    const audit = (await t.http.get('/v1/audit').query({ principal: 'arn:aws:iam::111122223333:user/mallory', limit: 100 }).set(t.as('auditor')).expect(200)).body.items as {
      type: string;
      actor: string;
      data: Record<string, unknown>;
    }[];
    const types = audit.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['review.item_decided', 'review.item_applied', 'discovery.removal_requested', 'discovery.removal_applied']));
    expect(audit.find((e) => e.type === 'review.item_decided')).toMatchObject({ actor: 'erin-approver', data: { decision: 'remove', justification: 'left the company' } });

    // The report says who decided what and that the removal was applied.
    const csv = parseCsv((await t.http.get(`/v1/reviews/campaigns/${campaign.id}/report`).query({ format: 'csv' }).set(t.as('auditor')).expect(200)).text);
    const row = csv.find((r) => r.itemId === mallory.id)!;
    expect(row).toMatchObject({ decision: 'remove', decidedBy: 'erin-approver', applied: `removal:${removalId}`, removalState: 'applied' });
    expect(csv.find((r) => r.itemId === erin.id)).toMatchObject({ decision: 'keep', decidedBy: 'dave-approver', applied: 'none' });
  });
});
