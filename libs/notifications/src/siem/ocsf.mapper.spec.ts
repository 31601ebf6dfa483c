import { AUDIT_EVENT_TYPES, AuditEvent, AuditEventType } from '@jit/domain';
import { auditEventFromSiemRecord, OCSF_CLASSES, OCSF_MAPPING, OcsfRecord, toOcsf } from './ocsf.mapper';
import { octetFrame, syslogMessage } from './syslog.destination';

function event(type: AuditEventType, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    seq: 42,
    id: '0b9c7a52-4f7e-4d59-9a0e-3f3b1d2c4e5f',
    occurredAt: new Date('2026-12-05T08:00:00.123Z'),
    type,
    grantId: 'c0ffee00-0000-4000-8000-000000000001',
    cloud: 'aws',
    principal: 'arn:aws:iam::123456789012:role/ci-deployer',
    actor: 'sandbox-pipeline',
    data: { kind: 'aws.iam-policy', principalType: 'workload', target: { kind: 'aws.iam-policy', actions: ['s3:PutObject'], resources: ['arn:aws:s3:::a/*'] } },
    prevHash: 'a'.repeat(64),
    hash: 'b'.repeat(64),
    ...overrides,
  };
}

/**
 * The attributes OCSF 1.3 requires of every event (base event, classification and occurrence
 * traits, metadata and its product) and of the two classes used: User Access Management (3005)
 * requires `user`, Entity Management (3004) requires `entity`.
 */
function missingRequired(r: OcsfRecord): string[] {
  const missing: string[] = [];
  for (const key of ['activity_id', 'category_uid', 'class_uid', 'type_uid', 'severity_id', 'time', 'metadata'] as const) {
    if (r[key] === undefined || r[key] === null) missing.push(key);
  }
  if (!r.metadata?.version) missing.push('metadata.version');
  if (!r.metadata?.product) missing.push('metadata.product');
  if (r.class_uid === 3005 && !r.user?.uid) missing.push('user');
  if (r.class_uid === 3004 && !r.entity?.uid) missing.push('entity');
  return missing;
}

describe('toOcsf', () => {
  it.each(AUDIT_EVENT_TYPES)('should map %s to a class with every required attribute and a consistent type_uid', (type) => {
    const r = toOcsf(event(type));
    expect(missingRequired(r)).toEqual([]);
    expect([3004, 3005]).toContain(r.class_uid);
    expect(r.category_uid).toBe(3);
    expect(r.type_uid).toBe(r.class_uid * 100 + r.activity_id);
    const cls = Object.values(OCSF_CLASSES).find((c) => c.uid === r.class_uid)!;
    expect(r.activity_name).toBe(OCSF_MAPPING[type].activityName ?? (cls.activities as Record<number, string>)[r.activity_id]);
    expect(r.time).toBe(Date.parse('2026-12-05T08:00:00.123Z'));
  });

  it('should keep the chain fields and the event as exported, so the SIEM copy can be verified', () => {
    const e = event('grant.activated');
    const r = toOcsf(e);
    expect(r.metadata.sequence).toBe(42);
    expect(r.metadata.uid).toBe(e.id);
    expect(r.unmapped.jit).toMatchObject({ seq: 42, hash: e.hash, prevHash: e.prevHash });
    expect(r.unmapped.jit.event).toEqual(JSON.parse(JSON.stringify(e)));
    expect(r).toMatchObject({ class_uid: 3005, activity_id: 1, user: { uid: e.principal, type: 'workload' }, privileges: ['s3:PutObject'] });
  });

  it('should mark refusals and failed revocations as failures, break-glass as high', () => {
    expect(toOcsf(event('policy.denied'))).toMatchObject({ class_uid: 3005, activity_id: 1, status_id: 2 });
    expect(toOcsf(event('grant.revoke_failed'))).toMatchObject({ class_uid: 3005, activity_id: 2, status_id: 2, severity_id: 4 });
    expect(toOcsf(event('policy.break_glass'))).toMatchObject({ severity_id: 4 });
    expect(toOcsf(event('policy.loaded', { grantId: null, principal: null, cloud: null }))).toMatchObject({ class_uid: 3004, entity: { type: 'jit-access-rules' } });
  });
});

describe('auditEventFromSiemRecord', () => {
  const e = event('grant.expired');
  const exported = JSON.parse(JSON.stringify(e));

  it('should find the event in a bare record, a Splunk event, an Elastic hit and a syslog line', () => {
    const r = toOcsf(e);
    expect(auditEventFromSiemRecord(r)).toEqual(exported);
    expect(auditEventFromSiemRecord({ time: 1, host: 'h', event: r })).toEqual(exported);
    expect(auditEventFromSiemRecord({ result: { _raw: JSON.stringify(r) } })).toEqual(exported);
    expect(auditEventFromSiemRecord({ _index: 'x', _source: { '@timestamp': 'now', ...r } })).toEqual(exported);
    expect(auditEventFromSiemRecord(syslogMessage(e, { facility: 13, hostname: 'h', appName: 'jit-broker', sdId: 'jit@32473' }))).toEqual(exported);
    expect(auditEventFromSiemRecord({ something: 'else' })).toBeNull();
  });
});

describe('syslogMessage', () => {
  it('should write an RFC 5424 line with the chain in structured data, escaped, and frame it by its byte length', () => {
    const e = event('grant.revoke_failed', { id: 'id-with-"quote]' });
    const line = syslogMessage(e, { facility: 13, hostname: 'broker-1', appName: 'jit-broker', sdId: 'jit@32473' });
    // PRI = 13 * 8 + 4 (warning: OCSF severity high)
    expect(line).toMatch(
      /^<108>1 2026-12-05T08:00:00\.123Z broker-1 jit-broker - grant\.revoke_failed \[jit@32473 seq="42" hash="b{64}" prevHash="a{64}" eventId="id-with-\\"quote\\]"\] \{/,
    );
    expect(JSON.parse(line.slice(line.indexOf('] {') + 2))).toMatchObject({ class_uid: 3005, metadata: { sequence: 42 } });
    const framed = octetFrame(`${line}é`);
    const space = framed.indexOf(0x20);
    expect(Number(framed.subarray(0, space).toString())).toBe(framed.length - space - 1);
  });
});
