/**
 * The broker as another process embeds it: `startBroker` with the providers it is given, the
 * signal handling of `npm start`, and the two file helpers a sandbox or a test needs to seed
 * tokens and a checkpoint signing key. The sandbox app (apps/sandbox) imports it as
 * `@jit/broker`; nothing in this app imports a simulator, the in-memory cloud or libs/testing
 * (docs/architecture.md).
 */
export { startBroker } from './start-broker';
export type { RunningBroker, StartOptions } from './start-broker';
export { runUntilSignal } from './run-until-signal';
export { targetKinds } from './target-kinds';
export { sha256Hex } from './http/auth/token-registry';
export { ensureAuditSigningKey } from './audit/audit-signing-key.file';
