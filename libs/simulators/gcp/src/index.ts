export { GcpSimulator } from './gcp.simulator';
export type { SimulatorStats, TrafficEntry } from './gcp.simulator';
export type { FaultPlan } from './fault.injector';
export type { AuditConfig, AuditLogConfig, Binding, Expr, PolicySeed } from './iam-policy.types';
export { MAX_BINDINGS_PER_ROLE_AND_MEMBER, MAX_GROUPS_AND_DOMAINS, MAX_PRINCIPALS } from './iam-policy.rules';
