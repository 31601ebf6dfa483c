/**
 * Observability: the broker's Prometheus metrics on a registry of its own (grant
 * transitions, revocation lag, provider calls, policy decisions, notifications, audit
 * checkpoints, rate limiting). Imports the domain at most (docs/architecture.md).
 */
export * from './broker-metrics';
