import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '../setup/poll-until.util';
import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

/** bob's requests wait for one approval that never comes; everyone else is granted at once. */
const RULES = `
version: 1
groups:
  sre: []
rules:
  - name: bob-needs-approval
    requesters:
      - subjects: [bob]
    targets:
      - { kind: aws.iam-policy, actions: ["*"], resources: ["*"] }
    maxDuration: PT1H
    approval: { approvals: 1, from: [sre], timeout: PT2S }
  - name: others-auto
    requesters:
      - subjects: ["*"]
    targets:
      - { kind: aws.iam-policy, actions: ["*"], resources: ["*"] }
    maxDuration: PT1H
    approval: auto
`;

/** Far longer than any wait below: whatever happens in these tests was not the poll's doing. */
const POLL = 'PT120S';
const WAIT_MS = 20_000;

/**
 * The sweeper's timers (design.md section 5): with the periodic poll out of reach, every kind of
 * due work still happens when it is due, because the replica that wrote it arms a timer for it.
 * Before this, a revocation retry or an approval timeout waited for the next poll.
 */
describe('sweeper wake-ups without the periodic poll', () => {
  let t: TestBroker;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-wakeups-'));
    const rules = join(dir, 'rules.yaml');
    writeFileSync(rules, RULES);
    t = await startTestBroker({ JIT_SWEEP_INTERVAL: POLL, JIT_POLICY_FILE: rules });
  });
  afterAll(async () => {
    await t.close();
  });

  const settled = (id: string, states: string[]) =>
    pollUntil(async () => {
      const g = (await t.http.get(`/v1/grants/${id}`).set(t.as('admin')).expect(200)).body;
      return states.includes(g.state) ? g : undefined;
    }, WAIT_MS, 100);
  const auditTypes = async (id: string) =>
    ((await t.http.get(`/v1/audit?grantId=${id}`).set(t.as('auditor')).expect(200)).body.items as { type: string }[]).map((e) => e.type);

  it('should expire a grant at its expiresAt', async () => {
    const { body } = await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant({ duration: 'PT2S' })).expect(201);
    const ended = await settled(body.id, ['expired']);
    expect(ended.endReason).toBe('expired');
    expect(Date.parse(ended.endedAt)).toBeGreaterThanOrEqual(Date.parse(body.expiresAt));
  });

  it('should retry a failed revocation at its scheduled time, twice, then finish the expiry', async () => {
    // Long enough that the faults are in place before the expiry, even on a loaded machine.
    const { body } = await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant({ duration: 'PT3S' })).expect(201);
    t.clouds.aws.inject({ transient: 2 });
    const ended = await settled(body.id, ['expired', 'revoke_failed']);
    expect(ended.state).toBe('expired');
    expect(await auditTypes(body.id)).toEqual([
      'grant.requested',
      'grant.approved',
      'grant.provisioned',
      'grant.activated',
      'grant.revoke_retried',
      'grant.revoke_retried',
      'grant.expired',
    ]);
    expect(t.clouds.aws.calls.filter((c) => c.grantId === body.id && c.op === 'revoke')).toHaveLength(3);
  });

  it('should deny a request nobody approved when its approval deadline passes', async () => {
    const { body } = await t.http.post('/v1/grants').set(t.as('bob')).send(awsPolicyGrant({ duration: 'PT10M' })).expect(202);
    expect(body.state).toBe('pending_approval');
    const denied = await settled(body.id, ['denied']);
    expect(denied.endReason).toBe('timeout');
    expect(t.clouds.aws.calls.filter((c) => c.grantId === body.id)).toEqual([]);
  });

  it('should retry a failed early revocation at its scheduled time and leave nothing in the cloud', async () => {
    const { body } = await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant({ duration: 'PT10M' })).expect(201);
    t.clouds.aws.inject({ transient: 1 });
    const res = await t.http.post(`/v1/grants/${body.id}/revoke`).set(t.as('alice')).send({});
    expect(res.body.state).toBe('revoking');
    expect(t.clouds.aws.holds({ artifactName: `jit-${body.id}` }, new Date())).toBe(true);
    const ended = await settled(body.id, ['revoked', 'revoke_failed']);
    expect(ended.state).toBe('revoked');
    expect(t.clouds.aws.holds({ artifactName: `jit-${body.id}` }, new Date())).toBe(false);
  });
});
