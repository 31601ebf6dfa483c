/**
 * One resilience module for every outbound call: jittered exponential backoff (`backoffMs`),
 * the `Retry-After` header (`parseRetryAfter`, `retryAfterFromHeaders`), a retry policy that
 * honours a failure's Retry-After (`withRetry`, on cockatiel 3) and a timeout that cancels
 * through an `AbortSignal` (`withTimeout`), and the scope that carries a
 * caller's signal down to an adapter's SDK calls (`SignalScope`). Used by the lifecycle's cloud
 * calls (libs/grants), the webhook relay (libs/notifications) and the cloud adapters
 * (libs/providers/*). Imports nothing in the repo; of packages only cockatiel
 * (docs/architecture.md).
 */
export * from './backoff';
export * from './retry-after';
export * from './resilience.policy';
export * from './signal.scope';
