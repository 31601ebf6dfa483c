import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestBroker, startTestBroker } from '../setup/test-broker';

/**
 * Production storage needs one approval from SRE *and* one from Security. dave is SRE, frank is
 * SRE (and may approve), erin is SRE by her token and Security by this file: one person in both
 * groups, who must never fill both steps alone.
 */
const RULES = `
version: 1
groups:
  sre: []
  security: [erin-approver]
rules:
  - name: prod-storage-two-teams
    requesters:
      - subjects: [alice, bob]
    targets:
      - { kind: gcp.iam-binding, roles: ["roles/storage.*"], resources: ["projects/acme-prod"] }
    maxDuration: PT4H
    approval:
      allOf:
        - { approvals: 1, from: [sre] }
        - { approvals: 1, from: [security] }
      timeout: PT1H
`;

describe('approval steps: N from one set of groups and M from another', () => {
  let t: TestBroker;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-steps-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    t = await startTestBroker({ JIT_POLICY_FILE: join(dir, 'rules.yaml') });
  });
  afterAll(async () => {
    await t.close();
  });

  const request = () => ({
    cloud: 'gcp',
    principal: { type: 'user', id: 'user:alice@acme.com' },
    target: { kind: 'gcp.iam-binding', resource: 'projects/acme-prod', role: 'roles/storage.objectAdmin' },
    duration: 'PT1H',
    justification: 'restore a deleted object',
  });
  const approve = (id: string, who: 'approver' | 'approver2' | 'frank') => t.http.post(`/v1/grants/${id}/approve`).set(t.as(who)).send({});
  const awaiting = async (who: 'approver' | 'approver2' | 'frank') =>
    ((await t.http.get('/v1/grants?awaiting=me').set(t.as(who)).expect(200)).body.items as { id: string }[]).map((g) => g.id);

  it('should show the steps, wait for both teams, and refuse a second approver from a team already heard', async () => {
    const created = await t.http.post('/v1/grants').set(t.as('alice')).send(request()).expect(202);
    expect(created.body.decision).toMatchObject({
      rule: 'prod-storage-two-teams',
      approvalsRequired: 2,
      approverGroups: ['sre', 'security'],
      approvalSteps: [
        { approvalsRequired: 1, approverGroups: ['sre'] },
        { approvalsRequired: 1, approverGroups: ['security'] },
      ],
    });
    const id = created.body.id as string;

    const first = await approve(id, 'approver').expect(200);
    expect(first.body.state).toBe('pending_approval');
    expect(first.body.approvals).toEqual([expect.objectContaining({ approver: 'dave-approver', groups: ['sre'] })]);
    // SRE has spoken: another SRE approver adds nothing, and does not see it as waiting for them.
    expect(await awaiting('frank')).not.toContain(id);
    expect(await awaiting('approver2')).toContain(id);
    const again = await approve(id, 'frank').expect(409);
    expect(again.body.detail).toBe('the approvals your groups can give are already in; still needed: 1 from security');

    const done = await approve(id, 'approver2').expect(200);
    expect(done.body.state).toBe('active');
    expect(done.body.approvals.map((a: { approver: string }) => a.approver)).toEqual(['dave-approver', 'erin-approver']);
    expect(t.clouds.gcp.holds({ artifactName: done.body.providerRef.artifact }, new Date())).toBe(true);
  });

  it('should let someone in both groups count once, for whichever step the others leave open', async () => {
    const id = (await t.http.post('/v1/grants').set(t.as('bob')).send(request()).expect(202)).body.id as string;
    // erin (SRE and Security) approves first: one approval, not two.
    expect((await approve(id, 'approver2').expect(200)).body.state).toBe('pending_approval');
    // frank is SRE only; with erin counted for Security, his approval completes the request.
    expect((await approve(id, 'frank').expect(200)).body.state).toBe('active');
  });

  it('should answer a dry run with the steps', async () => {
    const dry = await t.http.post('/v1/policy/evaluate').set(t.as('alice')).send(request()).expect(200);
    expect(dry.body).toMatchObject({
      effect: 'allow',
      mode: 'approvals',
      approvalsRequired: 2,
      approvalSteps: [
        { approvalsRequired: 1, approverGroups: ['sre'] },
        { approvalsRequired: 1, approverGroups: ['security'] },
      ],
    });
  });
});
