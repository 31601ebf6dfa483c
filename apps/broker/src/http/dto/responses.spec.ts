import Ajv2020 from 'ajv/dist/2020';
import { AuditEvent, Grant, GrantDecision } from '@jit/domain';
import { LocalCloudProvider } from '@jit/provider-local';
import { grantRow, targetKinds } from '@jit/testing';
import { toAuditResponse } from './audit-event.response';
import { toGrantResponse } from './grant.response';
import { responseComponents } from './openapi-components';

/** The serialisers' output checked against the schemas the API document publishes (not only their types): no field undocumented, none of another type. */
describe('response serialisers against the document\'s schemas', () => {
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema({ components: { schemas: responseComponents() } }, 'doc');
  const check = (name: string, value: unknown) => {
    const validate = ajv.getSchema(`doc#/components/schemas/${name}`)!;
    return validate(JSON.parse(JSON.stringify(value))) ? null : validate.errors;
  };

  const aws = new LocalCloudProvider('aws', targetKinds);
  const base = grantRow(aws, {
    state: 'active',
    principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/ci-deployer' },
    target: { kind: 'aws.iam-policy', actions: ['s3:PutObject'], resources: ['arn:aws:s3:::artifacts/*'] },
    expiresAt: new Date('2026-12-05T10:00:00.000Z'),
  });
  const decision: GrantDecision = { rule: 'two-sre', mode: 'approvals', required: 2, groups: ['sre'], steps: [{ required: 2, groups: ['sre'] }], policyVersion: 'a'.repeat(64) };
  const at = new Date('2026-12-05T09:00:00.000Z');
  const grants: [string, Grant, Record<string, string> | undefined][] = [
    ['active, with credentials', base, { AWS_ACCESS_KEY_ID: 'AKIA0000', AWS_SECRET_ACCESS_KEY: 'secret' }],
    ['pending approval, one approval in', { ...base, state: 'pending_approval', startsAt: null, providerRef: null, decision, approvals: [{ approver: 'dave', decision: 'approved', at: at.toISOString(), groups: ['sre'] }], approvalDeadline: at }, undefined],
    ['denied before it started', { ...base, state: 'denied', startsAt: null, endedAt: at, endReason: 'denied', approvals: [{ approver: 'dave', decision: 'denied', comment: 'no', at: at.toISOString() }] }, undefined],
    ['provisioning with a revoke recorded', { ...base, state: 'provisioning', revokeRequest: { at, by: 'alice', reason: 'done' } }, undefined],
    ['revoke_failed, retrying', { ...base, state: 'revoke_failed', attempts: 5, nextAttemptAt: at, lastError: 'throttled' }, undefined],
    ['expired', { ...base, state: 'expired', endedAt: at, endReason: 'expired', decision: { rule: 'auto', mode: 'auto', required: 0, groups: [], policyVersion: 'b'.repeat(64) } }, undefined],
  ];

  it.each(grants)('should serialise a grant %s as the Grant schema says', (_what, grant, credentials) => {
    expect(check('Grant', toGrantResponse(grant, credentials))).toBeNull();
  });

  it('should refuse what the schema does not describe (the check can fail)', () => {
    expect(check('Grant', { ...toGrantResponse(base), secretField: 1 })).not.toBeNull();
    expect(check('Grant', { ...toGrantResponse(base), expiresAt: 'tomorrow' })).not.toBeNull();
  });

  it('should serialise an audit event as the AuditEvent schema says', () => {
    const event: AuditEvent = {
      seq: 7,
      id: '5b0c3f0e-3d0a-4c8e-9a51-0c1e2f3a4b5c',
      occurredAt: at,
      type: 'grant.requested',
      grantId: base.id,
      cloud: 'aws',
      principal: base.principal.id,
      actor: 'alice',
      data: { duration: 'PT10M' },
      prevHash: '0'.repeat(64),
      hash: 'c'.repeat(64),
    };
    expect(check('AuditEvent', toAuditResponse(event))).toBeNull();
    expect(check('AuditPage', { items: [toAuditResponse(event)], nextCursor: null })).toBeNull();
  });
});
