/**
 * Notifications: webhooks for what needs a human. Maps audit events to signed JSON or
 * Slack messages, and relays them from the audit log with a per-webhook cursor (the
 * cursor store's port is in the domain, beside the other store ports; persistence implements
 * it). Imports domain, config and resilience (the deliveries' backoff and Retry-After); may
 * also import observability (docs/architecture.md).
 */
export * from './notification';
export * from './notification.mapper';
export * from './notification.relay';
export * from './notifications.config';
export * from './webhook.signer';
export * from './slack-message.mapper';
