/**
 * The audit trail: one builder per event type (`AuditTrail`), the hash that chains events
 * (`hashEvent`) and the verifier that walks a chain, and signed checkpoints of its head
 * (Ed25519 keyring, the checkpointer, and the file and webhook sinks that publish them).
 * Stores nothing itself: persistence appends the events in the state change's transaction.
 * Imports domain, config, observability (docs/architecture.md).
 */
export * from './audit-event';
export * from './audit-trail';
export * from './audit-checkpoint';
export * from './audit-checkpointer';
export * from './checkpoint.sink';
export * from './jsonl-file.checkpoint-sink';
export * from './webhook.checkpoint-sink';
