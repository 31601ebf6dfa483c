/**
 * The audit trail: one builder per event type (`AuditTrail`), the audit log that stages events
 * in the state change's unit of work, chains them (hashes, `seq`) right after it commits, and
 * reads them back (`AuditLog`, on the
 * domain's `UnitOfWork` and `AuditChainStore` ports, which persistence implements), the hash
 * (`hashEvent`) and the verifier that walks a chain, and signed checkpoints of its head
 * (Ed25519 keyring, the checkpointer, and the file and webhook sinks that publish them).
 * Imports domain; may also import config and observability (docs/architecture.md).
 */
export * from './chain-verifier';
export * from './event-hash';
export * from './audit-log';
export * from './audit-trail';
export * from './audit-checkpoint';
export * from './audit-checkpointer';
export * from './checkpoint.sink';
export * from './jsonl-file.checkpoint-sink';
export * from './webhook.checkpoint-sink';
