export * from './audit-event';
export * from './audit-trail';
export * from './audit-checkpoint';
export * from './audit-checkpointer';
export * from './checkpoint.sink';
export * from './jsonl-file.checkpoint-sink';
export * from './webhook.checkpoint-sink';
