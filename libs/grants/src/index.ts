/**
 * The use cases: request, approve, deny, revoke, process a due grant, reconcile orphans,
 * read grants, the audit log and their aggregates (`GrantStatsUseCase`), with the lifecycle they share (provider calls, retries,
 * transitions and their audit events) and the cloud provider registry. Reaches the
 * database and the clouds only through domain ports. Imports domain, policy, audit and
 * resilience (the cloud calls' backoff and retry) (docs/architecture.md).
 */
export * from './actor';
export * from './audit-log.use-case';
export * from './cloud-provider.registry';
export * from './grant-audit';
export * from './grant-lifecycle';
export * from './grant-transitions';
export * from './lifecycle-hooks';
export * from './next-work-at';
export * from './process-due-grant.use-case';
export * from './get-grant.use-case';
export * from './list-grants.use-case';
export * from './grant-stats.use-case';
export * from './reconcile-hooks';
export * from './reconcile-orphans.use-case';
export * from './retry-schedules';
export * from './request-grant.use-case';
export * from './revoke-grant.use-case';
export * from './approval-eligibility';
export * from './approve-grant.use-case';
export * from './deny-grant.use-case';
export * from './pending-timeout';
export * from './provider-failure';
