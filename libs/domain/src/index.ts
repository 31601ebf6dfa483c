/**
 * The domain: grants and their state machine (the Grant aggregate), target kinds and
 * principals (the TargetKinds registry of the kinds the provider libs describe, and the
 * matching helpers their rule matchers share), grant requests, durations, domain errors with codes,
 * audit event shapes, and the ports the adapters implement (CloudAccessProvider,
 * GrantRepository, WorkQueue, AuditChainStore and the UnitOfWork they share, Clock,
 * AuditCheckpointStore, NotificationCursorStore, GrantStatsReader, and for discovery and reviews
 * StandingAccessInventory, DiscoveryFindingsReader, StandingRemovals, and the DiscoveryStore discovery keeps its scans in). Pure TypeScript: imports nothing in the repo,
 * and of packages only zod and tinyduration (docs/architecture.md).
 */
export * from './cloud';
export * from './duration';
export * from './grant';
export * from './approval-openings';
export * from './grant-aggregate';
export * from './grant-event';
export * from './grant-window';
export * from './grant.exception';
export * from './grant-request';
export * from './target';
export * from './target-kind';
export * from './target-matching';
export * from './glob';
export * from './ports/cloud-access.provider.port';
export * from './ports/clock.port';
export * from './audit-event';
export * from './ports/grant.repository.port';
export * from './ports/work-queue.port';
export * from './ports/audit-chain.store.port';
export * from './ports/unit-of-work.port';
export * from './ports/audit-checkpoint.store.port';
export * from './ports/notification-cursor.store.port';
export * from './ports/grant-stats.reader.port';
export * from './ports/standing-access.port';
export * from './ports/discovery.store.port';
export * from './ports/review.store.port';
