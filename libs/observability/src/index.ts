/**
 * Observability: the broker's Prometheus metrics on a registry of its own (grant
 * transitions, revocation lag, provider calls, policy decisions, notifications, audit
 * checkpoints, rate limiting); its logs (pino: JSON lines, a scope per request that carries
 * the request id, grant and actor, secrets scrubbed from every line, a pretty format for
 * people); and its tracing spans on `@opentelemetry/api` only (cloud calls, database
 * transactions), a no-op unless the app registers an SDK. Imports the domain at most
 * (docs/architecture.md).
 */
export * from './broker-metrics';
export * from './broker-logger';
export * from './log-redaction';
export * from './tracing';
