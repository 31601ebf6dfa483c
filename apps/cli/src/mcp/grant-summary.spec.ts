import type { GrantView } from '../core/grant';
import { stateLine, summarize } from './grant-summary';

const grant = (over: Partial<GrantView> = {}): GrantView => ({
  id: '6f1c7c1e-1b0a-4c3e-9a3e-1f2d3c4b5a69',
  state: 'active',
  cloud: 'aws',
  principal: { type: 'workload', id: 'agent-session' },
  target: { kind: 'aws.sts-credentials', roleArn: 'arn:aws:iam::123456789012:role/reader' },
  requestedBy: 'agents:claude',
  justification: 'list the bucket',
  ticket: null,
  duration: 'PT900S',
  createdAt: '2026-01-01T00:00:00.000Z',
  startsAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2026-01-01T00:15:00.000Z',
  endedAt: null,
  endReason: null,
  approvals: [],
  providerRef: null,
  lastError: null,
  decision: { rule: 'r', mode: 'auto', approvalsRequired: 0, approverGroups: [], policyVersion: 'sha256:0' },
  ...over,
});

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('summarize', () => {
  it('should withhold credential values from the model, keeping their names', () => {
    const { text, structured } = summarize(grant({ credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: SECRET } }));
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('ASIAEXAMPLE');
    expect(text).toContain('jit exec');
    expect(structured.credentials).toEqual({ accessKeyId: '(withheld)', secretAccessKey: '(withheld)' });
  });

  it('should show them when the server allows secrets', () => {
    const { text } = summarize(grant({ credentials: { secretAccessKey: SECRET } }), true);
    expect(text).toContain(SECRET);
  });
});

describe('stateLine', () => {
  it('should count approvals received of those required and name who must act', () => {
    const line = stateLine(
      grant({
        state: 'pending_approval',
        approvals: [{ approver: 'dave', decision: 'approved', at: '2026-01-01T00:01:00.000Z' }],
        decision: { rule: 'r', mode: 'approvals', approvalsRequired: 2, approverGroups: ['sre', 'security'], policyVersion: 'sha256:0' },
        approvalDeadline: '2026-01-01T04:00:00.000Z',
      }),
    );
    expect(line).toContain('Pending approval: 1 of 2 approvals from group(s) sre, security');
    expect(line).toContain('jit approve 6f1c7c1e-1b0a-4c3e-9a3e-1f2d3c4b5a69');
    expect(line).toContain('denied if not approved by 2026-01-01T04:00:00.000Z');
  });

  it('should tell the agent not to retry a denied request', () => {
    expect(stateLine(grant({ state: 'denied', endReason: 'timeout' }))).toMatch(/^Denied: .*\(timeout\)\. Do not retry/);
  });

  it('should say an expired grant has ended', () => {
    expect(stateLine(grant({ state: 'expired', endedAt: '2026-01-01T00:15:00.000Z' }))).toMatch(/^Expired: .* has ended at 2026-01-01T00:15:00\.000Z/);
  });
});
