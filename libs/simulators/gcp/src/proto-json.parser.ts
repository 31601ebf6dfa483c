import { GoogleApiError } from './google-api.error';
import { AuditConfig, AuditLogConfig, Binding, Expr, LOG_TYPES, LogType } from './iam-policy.types';

/**
 * Strict proto3-JSON reading of the request messages, the way Google's front end reads them:
 * unknown field names are a 400, both lowerCamelCase and the proto's snake_case names are
 * accepted, int32 may arrive as a number or a numeric string, enums as their name or number.
 */
type Json = Record<string, unknown>;

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function message(value: unknown, path: string, fields: readonly string[]): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw GoogleApiError.invalid(`Invalid JSON payload received. Expected an object at '${path || '(root)'}'.`);
  }
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) {
    const field = fields.find((f) => f === key || snake(f) === key);
    if (!field) {
      throw GoogleApiError.invalid(`Invalid JSON payload received. Unknown name "${key}" at '${path || '(root)'}': Cannot find field.`);
    }
    if (v !== null) out[field] = v;
  }
  return out;
}

function str(value: unknown, path: string): string {
  if (typeof value !== 'string') throw GoogleApiError.invalid(`Invalid value at '${path}' (TYPE_STRING), ${JSON.stringify(value)}`);
  return value;
}

function int32(value: unknown, path: string): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) {
    throw GoogleApiError.invalid(`Invalid value at '${path}' (TYPE_INT32), ${JSON.stringify(value)}`);
  }
  return n;
}

function list<T>(value: unknown, path: string, item: (v: unknown, p: string) => T): T[] {
  if (!Array.isArray(value)) throw GoogleApiError.invalid(`Invalid value at '${path}', expected a list`);
  return value.map((v, i) => item(v, `${path}[${i}]`));
}

function bytes(value: unknown, path: string): Buffer {
  const s = str(value, path);
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) throw GoogleApiError.invalid(`Invalid value at '${path}' (TYPE_BYTES), Base64 decoding failed for "${s}"`);
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

function logType(value: unknown, path: string): LogType {
  if (typeof value === 'number' && LOG_TYPES[value]) return LOG_TYPES[value];
  if (typeof value === 'string' && (LOG_TYPES as readonly string[]).includes(value)) return value as LogType;
  throw GoogleApiError.invalid(`Invalid value at '${path}' (type.googleapis.com/google.iam.v1.AuditLogConfig.LogType), ${JSON.stringify(value)}`);
}

function expr(value: unknown, path: string): Expr {
  const m = message(value, path, ['expression', 'title', 'description', 'location']);
  const out: Expr = { expression: m.expression === undefined ? '' : str(m.expression, `${path}.expression`) };
  // proto3 strings have no presence: "" is the same as unset (the Node client sends location: "").
  for (const f of ['title', 'description', 'location'] as const) {
    const v = m[f] === undefined ? '' : str(m[f], `${path}.${f}`);
    if (v !== '') out[f] = v;
  }
  return out;
}

function binding(value: unknown, path: string): Binding {
  const m = message(value, path, ['role', 'members', 'condition']);
  const out: Binding = {
    role: m.role === undefined ? '' : str(m.role, `${path}.role`),
    members: m.members === undefined ? [] : list(m.members, `${path}.members`, str),
  };
  if (m.condition !== undefined) out.condition = expr(m.condition, `${path}.condition`);
  return out;
}

function auditLogConfig(value: unknown, path: string): AuditLogConfig {
  const m = message(value, path, ['logType', 'exemptedMembers']);
  const out: AuditLogConfig = {};
  if (m.logType !== undefined) out.logType = logType(m.logType, `${path}.log_type`);
  if (m.exemptedMembers !== undefined) out.exemptedMembers = list(m.exemptedMembers, `${path}.exempted_members`, str);
  return out;
}

function auditConfig(value: unknown, path: string): AuditConfig {
  const m = message(value, path, ['service', 'auditLogConfigs']);
  const out: AuditConfig = { service: m.service === undefined ? '' : str(m.service, `${path}.service`) };
  if (m.auditLogConfigs !== undefined) out.auditLogConfigs = list(m.auditLogConfigs, `${path}.audit_log_configs`, auditLogConfig);
  return out;
}

export interface PolicyInput {
  version: number;
  etag: Buffer | null;
  bindings: Binding[];
  auditConfigs: AuditConfig[];
}

export function parsePolicy(value: unknown, path: string): PolicyInput {
  const m = message(value, path, ['version', 'etag', 'bindings', 'auditConfigs']);
  const etag = m.etag === undefined ? null : bytes(m.etag, `${path}.etag`);
  return {
    version: m.version === undefined ? 0 : int32(m.version, `${path}.version`),
    etag: etag && etag.length > 0 ? etag : null,
    bindings: m.bindings === undefined ? [] : list(m.bindings, `${path}.bindings`, binding),
    auditConfigs: m.auditConfigs === undefined ? [] : list(m.auditConfigs, `${path}.audit_configs`, auditConfig),
  };
}

export function parseSetIamPolicyRequest(body: unknown): { policy: PolicyInput | null; updateMask: string[] | null } {
  const m = message(body, '', ['policy', 'updateMask']);
  const mask = m.updateMask === undefined ? null : str(m.updateMask, 'update_mask').split(',').map((p) => p.trim()).filter(Boolean);
  return { policy: m.policy === undefined ? null : parsePolicy(m.policy, 'policy'), updateMask: mask };
}

export function parseGetIamPolicyRequest(body: unknown): { requestedPolicyVersion: number } {
  const m = message(body, '', ['options']);
  if (m.options === undefined) return { requestedPolicyVersion: 0 };
  const o = message(m.options, 'options', ['requestedPolicyVersion']);
  return { requestedPolicyVersion: o.requestedPolicyVersion === undefined ? 0 : int32(o.requestedPolicyVersion, 'options.requested_policy_version') };
}

export function parseTestIamPermissionsRequest(body: unknown): { permissions: string[] } {
  const m = message(body, '', ['permissions']);
  return { permissions: m.permissions === undefined ? [] : list(m.permissions, 'permissions', str) };
}
