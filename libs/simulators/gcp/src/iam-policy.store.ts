import { createHash, randomBytes } from 'node:crypto';
import { CONCURRENT_CHANGE_MESSAGE, GoogleApiError } from './google-api.error';
import { evaluateCondition, parseCondition } from './iam-condition.evaluator';
import { checkPolicy, normalizeBindings } from './iam-policy.rules';
import { AuditConfig, Binding, LOG_TYPES, PolicySeed, ResourceType, StoredPolicy } from './iam-policy.types';
import { PolicyInput } from './proto-json.parser';

/** The etag GCP reports for a policy nobody has written yet. */
const EMPTY_POLICY_ETAG = Buffer.from('ACAB', 'base64');
const UPDATE_MASK_PATHS = new Set(['bindings', 'etag', 'auditConfigs', 'audit_configs', 'version']);

export interface PolicyView {
  version: number;
  etag: string;
  bindings?: unknown[];
  auditConfigs?: unknown[];
}

const clone = <T>(value: T): T => structuredClone(value);

function freshEtag(previous: Buffer): Buffer {
  // 8 bytes with a leading 0x07, like the etags GCP hands out; never equal to the previous one.
  for (;;) {
    const etag = Buffer.concat([Buffer.from([0x07]), randomBytes(7)]);
    if (!etag.equals(previous)) return etag;
  }
}

/** The stored allow policies and the read/write rules of Resource Manager v3 (cloud-apis.md C1). */
export class IamPolicyStore {
  private readonly policies = new Map<string, StoredPolicy>();

  create(resource: string, seed: PolicySeed = {}): void {
    const type = resource.split('/')[0] as ResourceType;
    const bindings = normalizeBindings(clone(seed.bindings ?? []));
    const auditConfigs = clone(seed.auditConfigs ?? []);
    const hasConditions = bindings.some((b) => b.condition);
    checkPolicy(type, hasConditions ? 3 : 1, bindings, auditConfigs);
    const empty = bindings.length === 0 && auditConfigs.length === 0;
    this.policies.set(resource, { bindings, auditConfigs, etag: empty ? EMPTY_POLICY_ETAG : freshEtag(EMPTY_POLICY_ETAG) });
  }

  has(resource: string): boolean {
    return this.policies.has(resource);
  }

  raw(resource: string): StoredPolicy | undefined {
    const p = this.policies.get(resource);
    return p && clone(p);
  }

  /** A write by someone else (a console user, Terraform): new etag, as any write. */
  mutate(resource: string, change: (policy: { bindings: Binding[]; auditConfigs: AuditConfig[] }) => void): void {
    const p = this.require(resource);
    change(p);
    p.bindings = normalizeBindings(p.bindings);
    p.etag = freshEtag(p.etag);
  }

  get(resource: string, requestedVersion: number, numericEnums: boolean): PolicyView {
    if (![0, 1, 3].includes(requestedVersion)) {
      throw GoogleApiError.invalid(`Invalid requested policy version ${requestedVersion}: valid values are 0, 1 and 3.`);
    }
    return this.view(this.require(resource), requestedVersion, numericEnums);
  }

  set(resource: string, policy: PolicyInput, updateMask: string[] | null, numericEnums: boolean): PolicyView {
    const stored = this.require(resource);
    const mask = new Set(updateMask ?? ['bindings', 'etag']);
    for (const path of mask) if (!UPDATE_MASK_PATHS.has(path)) throw GoogleApiError.invalid(`Invalid update_mask path "${path}".`);
    const bindings = normalizeBindings(policy.bindings);
    checkPolicy(resource.split('/')[0] as ResourceType, policy.version, bindings, policy.auditConfigs);
    if (policy.etag && !policy.etag.equals(stored.etag)) throw new GoogleApiError('ABORTED', CONCURRENT_CHANGE_MESSAGE);
    if (policy.etag && policy.version < 3 && stored.bindings.some((b) => b.condition)) {
      throw GoogleApiError.invalid('The policy contains conditional role bindings: a write must specify policy version 3.');
    }
    if (mask.has('bindings')) stored.bindings = bindings;
    if (mask.has('auditConfigs') || mask.has('audit_configs')) stored.auditConfigs = policy.auditConfigs;
    stored.etag = freshEtag(stored.etag);
    return this.view(stored, 3, numericEnums);
  }

  /** Whether `member` holds `role` directly on `resource` at `at`, conditions evaluated. */
  holds(resource: string, member: string, role: string, at: Date): boolean {
    const p = this.policies.get(resource);
    if (!p) return false;
    return p.bindings.some(
      (b) => b.role === role && b.members.includes(member) && (!b.condition || evaluateCondition(parseCondition(b.condition.expression), at)),
    );
  }

  private require(resource: string): StoredPolicy {
    const p = this.policies.get(resource);
    // Resource Manager answers 403, not 404, for a resource that does not exist (discovery doc).
    if (!p) throw new GoogleApiError('PERMISSION_DENIED', `The caller does not have permission`);
    return p;
  }

  private view(p: StoredPolicy, requestedVersion: number, numericEnums: boolean): PolicyView {
    const conditional = p.bindings.some((b) => b.condition);
    const asV3 = conditional && requestedVersion === 3;
    const bindings = p.bindings.map((b) => {
      if (!b.condition || asV3) return clone(b);
      // A conditional binding read as version 1 loses its condition and gets a marked role name.
      const hash = createHash('sha256').update(JSON.stringify(b.condition)).digest('hex').slice(0, 16);
      return { role: `${b.role}_withcond_${hash}`, members: [...b.members] };
    });
    const auditConfigs = p.auditConfigs.map((a) => ({
      ...clone(a),
      ...(a.auditLogConfigs && {
        auditLogConfigs: a.auditLogConfigs.map((l) => ({ ...clone(l), ...(l.logType && { logType: numericEnums ? LOG_TYPES.indexOf(l.logType) : l.logType }) })),
      }),
    }));
    return {
      version: asV3 ? 3 : 1,
      etag: p.etag.toString('base64'),
      ...(bindings.length > 0 && { bindings }),
      ...(auditConfigs.length > 0 && { auditConfigs }),
    };
  }
}
