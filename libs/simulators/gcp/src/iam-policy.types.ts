/**
 * Resource Manager v3 allow-policy shapes as they travel in proto3 JSON (field names and
 * enums from the discovery document, specs/gcp/cloudresourcemanager/v3: Policy, Binding,
 * Expr, AuditConfig, AuditLogConfig).
 */
export interface Expr {
  expression: string;
  title?: string;
  description?: string;
  location?: string;
}

export interface Binding {
  role: string;
  members: string[];
  condition?: Expr;
}

export const LOG_TYPES = ['LOG_TYPE_UNSPECIFIED', 'ADMIN_READ', 'DATA_WRITE', 'DATA_READ'] as const;
export type LogType = (typeof LOG_TYPES)[number];

export interface AuditLogConfig {
  logType?: LogType;
  exemptedMembers?: string[];
}

export interface AuditConfig {
  service: string;
  auditLogConfigs?: AuditLogConfig[];
}

/** A policy as stored by the simulator: canonical (camelCase, string enums), etag as bytes. */
export interface StoredPolicy {
  bindings: Binding[];
  auditConfigs: AuditConfig[];
  etag: Buffer;
}

/** What seeding accepts: the same shape a test would read back, without the etag. */
export interface PolicySeed {
  bindings?: Binding[];
  auditConfigs?: AuditConfig[];
}

export const RESOURCE_TYPES = ['projects', 'folders', 'organizations'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];
