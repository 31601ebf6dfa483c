import { AUDIT_EVENT_TYPES, AuditEvent, AuditEventType, CloudName } from '@jit/domain';

/** The OCSF schema version the records claim (metadata.version). */
export const OCSF_VERSION = '1.3.0';

const IAM_CATEGORY = { uid: 3, name: 'Identity & Access Management' } as const;

/** The two OCSF classes our events fall into (category 3, Identity & Access Management). */
export const OCSF_CLASSES = {
  /** A change to a user's privileges: a grant's access given, refused or taken away in the cloud. */
  userAccess: { uid: 3005, name: 'User Access Management', activities: { 1: 'Assign Privileges', 2: 'Revoke Privileges' } },
  /** The grant as a managed entity: its request and the decisions and steps on its way. */
  entity: { uid: 3004, name: 'Entity Management', activities: { 1: 'Create', 3: 'Update', 99: 'Other' } },
} as const;

type ClassKey = keyof typeof OCSF_CLASSES;

export interface OcsfMapping {
  class: ClassKey;
  activityId: 1 | 2 | 3 | 99;
  /** Our name for activity 99 (Other). */
  activityName?: string;
  statusId: 1 | 2 | 99;
  /** 1 Informational, 3 Medium, 4 High. */
  severityId: 1 | 3 | 4;
}

/**
 * Each audit event type's OCSF class and activity (docs/siem.md has the same table). The cloud
 * access itself (given, refused, removed) is User Access Management (3005): privileges on a user
 * that exists, which is what a grant is; Account Change (3001) is about the account's lifecycle
 * (create, enable, password), and its Attach/Detach Policy would fit AWS inline policies only. The
 * steps of the request are Entity Management (3004) on the grant.
 */
export const OCSF_MAPPING: Record<AuditEventType, OcsfMapping> = {
  'grant.requested': { class: 'entity', activityId: 1, statusId: 1, severityId: 1 },
  'grant.approved': { class: 'entity', activityId: 3, statusId: 1, severityId: 1 },
  'grant.denied': { class: 'entity', activityId: 3, statusId: 2, severityId: 1 },
  'grant.provisioned': { class: 'entity', activityId: 3, statusId: 1, severityId: 1 },
  'grant.activated': { class: 'userAccess', activityId: 1, statusId: 1, severityId: 1 },
  'grant.revoke_requested': { class: 'entity', activityId: 3, statusId: 1, severityId: 1 },
  'grant.expired': { class: 'userAccess', activityId: 2, statusId: 1, severityId: 1 },
  'grant.revoked': { class: 'userAccess', activityId: 2, statusId: 1, severityId: 1 },
  'grant.failed': { class: 'userAccess', activityId: 1, statusId: 2, severityId: 3 },
  'grant.revoke_failed': { class: 'userAccess', activityId: 2, statusId: 2, severityId: 4 },
  'grant.revoke_retried': { class: 'entity', activityId: 3, statusId: 1, severityId: 1 },
  'policy.denied': { class: 'userAccess', activityId: 1, statusId: 2, severityId: 1 },
  'policy.break_glass': { class: 'userAccess', activityId: 1, statusId: 1, severityId: 4 },
  'policy.loaded': { class: 'entity', activityId: 3, statusId: 1, severityId: 1 },
  'reconcile.orphan_found': { class: 'entity', activityId: 99, activityName: 'Orphan Found', statusId: 1, severityId: 3 },
  'reconcile.orphan_removed': { class: 'userAccess', activityId: 2, statusId: 1, severityId: 3 },
  'discovery.scan_completed': { class: 'entity', activityId: 99, activityName: 'Scan Completed', statusId: 1, severityId: 1 },
  'discovery.removal_requested': { class: 'entity', activityId: 1, statusId: 1, severityId: 1 },
  'discovery.removal_approved': { class: 'entity', activityId: 3, statusId: 1, severityId: 1 },
  'discovery.removal_denied': { class: 'entity', activityId: 3, statusId: 2, severityId: 1 },
  'discovery.removal_applied': { class: 'userAccess', activityId: 2, statusId: 1, severityId: 3 },
  'discovery.removal_failed': { class: 'userAccess', activityId: 2, statusId: 2, severityId: 4 },
  'discovery.restored': { class: 'userAccess', activityId: 1, statusId: 1, severityId: 3 },
  'review.campaign_started': { class: 'entity', activityId: 1, statusId: 1, severityId: 1 },
  'review.item_decided': { class: 'entity', activityId: 3, statusId: 1, severityId: 1 },
  'review.reminder_sent': { class: 'entity', activityId: 99, activityName: 'Reminder Sent', statusId: 1, severityId: 1 },
  'review.item_escalated': { class: 'entity', activityId: 99, activityName: 'Escalated', statusId: 1, severityId: 3 },
  'review.item_applied': { class: 'userAccess', activityId: 2, statusId: 1, severityId: 3 },
  'review.campaign_closed': { class: 'entity', activityId: 3, statusId: 1, severityId: 1 },
};

const SEVERITY = { 1: 'Informational', 3: 'Medium', 4: 'High' } as const;
const STATUS = { 1: 'Success', 2: 'Failure', 99: 'Other' } as const;
const CLOUD_PROVIDER: Record<CloudName, string> = { aws: 'AWS', azure: 'Azure', gcp: 'GCP' };

/** The audit event exactly as `GET /v1/audit?format=jsonl` exports it (its hash covers these fields). */
export type ExportedAuditEvent = Omit<AuditEvent, 'occurredAt'> & { occurredAt: string };

/** Where every record keeps the broker's copy: `unmapped.jit`. */
export interface JitChainFields {
  seq: number;
  hash: string;
  prevHash: string;
  /** The event as exported: what `npm run siem-to-jsonl` gives back to `npm run audit-verify`. */
  event: ExportedAuditEvent;
}

export interface OcsfRecord {
  class_uid: number;
  class_name: string;
  category_uid: number;
  category_name: string;
  activity_id: number;
  activity_name: string;
  type_uid: number;
  type_name: string;
  severity_id: number;
  severity: string;
  status_id: number;
  status: string;
  time: number;
  message: string;
  metadata: {
    version: string;
    product: { name: string; vendor_name: string };
    uid: string;
    sequence: number;
    event_code: string;
    log_name: string;
    original_time: string;
    correlation_uid?: string;
    profiles?: string[];
  };
  actor: { user: { uid: string; name: string } };
  user?: { uid: string; name: string; type?: string };
  entity?: { uid: string; name: string; type: string };
  privileges?: string[];
  resources?: { uid: string; type?: string }[];
  cloud?: { provider: string };
  unmapped: { jit: JitChainFields };
}

export interface OcsfOptions {
  /** metadata.product.name and vendor_name. */
  product?: string;
}

export function exportedEvent(e: AuditEvent): ExportedAuditEvent {
  return JSON.parse(JSON.stringify(e)) as ExportedAuditEvent;
}

/** One audit event as an OCSF record of its class, with the chain's seq, hash and prevHash and the event itself. */
export function toOcsf(e: AuditEvent, options: OcsfOptions = {}): OcsfRecord {
  const m = OCSF_MAPPING[e.type];
  const cls = OCSF_CLASSES[m.class];
  const activityName = m.activityName ?? (cls.activities as Record<number, string>)[m.activityId];
  const product = options.product ?? 'jit-broker';
  const record: OcsfRecord = {
    class_uid: cls.uid,
    class_name: cls.name,
    category_uid: IAM_CATEGORY.uid,
    category_name: IAM_CATEGORY.name,
    activity_id: m.activityId,
    activity_name: activityName,
    type_uid: cls.uid * 100 + m.activityId,
    type_name: `${cls.name}: ${activityName}`,
    severity_id: m.severityId,
    severity: SEVERITY[m.severityId],
    status_id: m.statusId,
    status: STATUS[m.statusId],
    time: e.occurredAt.getTime(),
    message: e.type,
    metadata: {
      version: OCSF_VERSION,
      product: { name: product, vendor_name: product },
      uid: e.id,
      sequence: e.seq,
      event_code: e.type,
      log_name: 'audit',
      original_time: e.occurredAt.toISOString(),
      ...(e.grantId && { correlation_uid: e.grantId }),
      ...(e.cloud && { profiles: ['cloud'] }),
    },
    actor: { user: { uid: e.actor, name: e.actor } },
    ...(e.cloud && { cloud: { provider: CLOUD_PROVIDER[e.cloud] } }),
    unmapped: { jit: { seq: e.seq, hash: e.hash, prevHash: e.prevHash, event: exportedEvent(e) } },
  };
  if (m.class === 'userAccess') {
    // `user` is required: the principal given or refused the access (the requester when none is named).
    const principal = e.principal ?? e.actor;
    const type = typeof e.data.principalType === 'string' ? e.data.principalType : undefined;
    record.user = { uid: principal, name: principal, ...(type && { type }) };
    const privileges = privilegesOf(e.data.target);
    if (privileges.length) record.privileges = privileges;
    const resources = [
      ...(e.grantId ? [{ uid: e.grantId, type: 'jit-grant' }] : []),
      ...(typeof e.data.kind === 'string' && typeof e.data.target === 'object' ? [{ uid: JSON.stringify(e.data.target), type: e.data.kind }] : []),
    ];
    if (resources.length) record.resources = resources;
  } else {
    record.entity = e.grantId
      ? { uid: e.grantId, name: e.grantId, type: 'jit-grant' }
      : { uid: e.id, name: e.type === 'policy.loaded' ? 'access rules' : e.type, type: e.type === 'policy.loaded' ? 'jit-access-rules' : 'jit-audit-event' };
  }
  return record;
}

/** The permissions a target names: AWS actions, a role, an app role, a group access. */
function privilegesOf(target: unknown): string[] {
  if (!target || typeof target !== 'object') return [];
  const t = target as Record<string, unknown>;
  if (Array.isArray(t.actions)) return t.actions.filter((a): a is string => typeof a === 'string');
  for (const key of ['role', 'roleArn', 'roleDefinitionId', 'appRoleId', 'access']) {
    if (typeof t[key] === 'string') return [t[key]];
  }
  return [];
}

/**
 * The broker's event carried by a record as a SIEM returns it: the OCSF record itself, or wrapped
 * as Splunk (`event`, `result._raw`), Elastic (`_source`) or a syslog line (JSON after the header)
 * keep it. Null when there is none.
 */
export function auditEventFromSiemRecord(input: unknown): ExportedAuditEvent | null {
  let value = input;
  if (typeof value === 'string') {
    const brace = value.indexOf('{');
    if (brace < 0) return null;
    try {
      value = JSON.parse(value.slice(brace));
    } catch {
      return null;
    }
  }
  if (!value || typeof value !== 'object') return null;
  const o = value as Record<string, unknown>;
  const jit = (o.unmapped as { jit?: JitChainFields } | undefined)?.jit;
  if (jit?.event && typeof jit.event === 'object' && (AUDIT_EVENT_TYPES as readonly string[]).includes(jit.event.type)) return jit.event;
  for (const key of ['event', '_source', 'result', '_raw']) {
    if (o[key] !== undefined) {
      const inner = auditEventFromSiemRecord(o[key]);
      if (inner) return inner;
    }
  }
  return null;
}
