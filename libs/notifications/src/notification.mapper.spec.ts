import { AuditEvent, AuditEventType } from '@jit/domain';
import { auditTypesFor } from './notification';
import { jsonPayload, summarize, toNotification } from './notification.mapper';

const GRANT = '3b2f0a4e-6c1d-4e8f-9a7b-5c4d3e2f1a0b';
const ROLE = 'arn:aws:iam::123456789012:role/ci-deployer';

function event(type: AuditEventType, data: Record<string, unknown>, actor = 'broker'): AuditEvent {
  return {
    seq: 42,
    id: '9d7c1f7e-0a51-4b1e-8f0e-1c2d3e4f5a6b',
    occurredAt: new Date('2030-01-01T10:00:00.000Z'),
    type,
    grantId: GRANT,
    cloud: 'aws',
    principal: ROLE,
    actor,
    data,
    prevHash: '0'.repeat(64),
    hash: '1'.repeat(64),
  };
}

const approval = (mode: string) => ({ mode, rule: 'prod-write', required: 2, groups: ['sre', 'security'], deadline: '2030-01-01T12:00:00.000Z' });
const approved = (mode: string, final: boolean) => ({ rule: 'prod-write', mode, by: 'dave', comment: null, received: 2, required: 2, final });

describe('toNotification', () => {
  it.each([
    ['grant.requested', { approval: approval('approvals') }, 'approval.needed', 'info'],
    ['grant.approved', approved('approvals', true), 'approval.decided', 'info'],
    ['grant.denied', { reason: 'denied', comment: null }, 'approval.decided', 'info'],
    ['grant.denied', { reason: 'timeout', comment: null }, 'approval.decided', 'info'],
    ['grant.activated', { expiresAt: '2030-01-01T11:00:00.000Z' }, 'grant.granted', 'info'],
    ['grant.revoke_failed', { severity: 'high', error: 'AccessDenied', attempt: 6 }, 'grant.revoke_failed', 'high'],
    ['policy.break_glass', { severity: 'high' }, 'break_glass.used', 'high'],
  ] as const)('should map %s %j to %s (%s)', (type, data, expected, severity) => {
    expect(toNotification(event(type, data))).toEqual({ type: expected, severity, event: expect.objectContaining({ type }) });
  });

  it.each([
    ['grant.requested', { approval: approval('auto') }],
    ['grant.requested', { approval: approval('break_glass') }],
    ['grant.requested', {}],
    ['grant.approved', approved('approvals', false)],
    ['grant.approved', approved('auto', true)],
    ['grant.provisioned', {}],
    ['grant.expired', {}],
    ['grant.revoke_retried', { attempt: 2 }],
    ['policy.denied', {}],
  ] as const)('should not notify %s %j', (type, data) => {
    expect(toNotification(event(type, data))).toBeNull();
  });

  it('should read only the audit types that can become the wanted notifications', () => {
    expect(auditTypesFor(['approval.decided']).sort()).toEqual(['grant.approved', 'grant.denied']);
    expect(auditTypesFor(['grant.granted', 'break_glass.used']).sort()).toEqual(['grant.activated', 'policy.break_glass']);
  });
});

describe('summarize', () => {
  const summary = (type: AuditEventType, data: Record<string, unknown>, actor?: string) => summarize(toNotification(event(type, data, actor))!);

  it('should say who asked, what is needed from whom and by when', () => {
    expect(summary('grant.requested', { kind: 'aws.iam-policy', approval: approval('approvals') }, 'alice')).toBe(
      `alice requested aws.iam-policy access for ${ROLE} (grant ${GRANT}); it needs 2 approvals from sre or security under rule prod-write before 2030-01-01T12:00:00.000Z.`,
    );
  });

  it('should spell out approval steps, so a second approver from a team already heard does not try', () => {
    const steps = { ...approval('approvals'), steps: [{ required: 1, groups: ['sre'] }, { required: 2, groups: ['security', 'audit'] }] };
    expect(summary('grant.requested', { kind: 'aws.iam-policy', approval: steps }, 'alice')).toBe(
      `alice requested aws.iam-policy access for ${ROLE} (grant ${GRANT}); it needs 1 approval from sre and 2 from security or audit (different people) under rule prod-write before 2030-01-01T12:00:00.000Z.`,
    );
  });

  it('should name the final approver and the count', () => {
    expect(summary('grant.approved', approved('approvals', true), 'dave')).toBe(`dave approved grant ${GRANT} for ${ROLE} (2 of 2 approvals, rule prod-write).`);
  });

  it.each([
    ['denied', 'erin', `erin denied grant ${GRANT} for ${ROLE}.`],
    ['timeout', 'broker', `Grant ${GRANT} for ${ROLE} was denied: no decision before the approval deadline.`],
    ['withdrawn', 'alice', `alice withdrew grant ${GRANT} for ${ROLE}.`],
    ['policy changed', 'broker', `Grant ${GRANT} for ${ROLE} was denied (policy changed).`],
  ])('should explain a denial for reason %s', (reason, actor, expected) => {
    expect(summary('grant.denied', { reason, comment: null }, actor)).toBe(expected);
  });

  it('should shorten a long revoke error', () => {
    const text = summary('grant.revoke_failed', { severity: 'high', error: 'x'.repeat(5000), attempt: 6 });
    expect(text).toMatch(new RegExp(`^Revoking grant ${GRANT} for .* failed after 6 attempts: x{200}…; the access may still be in place\\.$`));
  });
});

describe('jsonPayload', () => {
  it('should carry the event id, the event and a link to the grant', () => {
    const n = toNotification(event('grant.activated', { expiresAt: '2030-01-01T11:00:00.000Z' }))!;
    expect(jsonPayload(n, 'https://jit.example.com/')).toEqual({
      id: n.event.id,
      type: 'grant.granted',
      severity: 'info',
      occurredAt: '2030-01-01T10:00:00.000Z',
      grantId: GRANT,
      cloud: 'aws',
      principal: ROLE,
      actor: 'broker',
      summary: `${ROLE} now has aws access (grant ${GRANT}) until 2030-01-01T11:00:00.000Z.`,
      event: { seq: 42, type: 'grant.activated', data: { expiresAt: '2030-01-01T11:00:00.000Z' } },
      links: { grant: `https://jit.example.com/v1/grants/${GRANT}` },
    });
  });

  it('should leave the link out without a public URL', () => {
    expect(jsonPayload(toNotification(event('grant.activated', {}))!).links).toEqual({});
  });
});

describe('jsonPayload with user-supplied text', () => {
  it('should carry values exactly as given, for the receiver to treat as text (no markup added or removed)', () => {
    const hostile = '*x* <https://evil.example|click> <!here> =HYPERLINK("a") &amp;';
    const e = { ...event('grant.activated', {}, hostile), principal: hostile };
    const body = JSON.parse(JSON.stringify(jsonPayload(toNotification(e)!)));
    expect(body.actor).toBe(hostile);
    expect(body.principal).toBe(hostile);
    expect(body.summary).toBe(`${hostile} now has aws access (grant ${GRANT}).`);
  });
});
