/**
 * Notifications: the audit log relayed to receivers outside the broker. The relay (`AuditRelay`:
 * a cursor and a lease per destination, in seq order, at least once, batched; the cursor store's
 * port is in the domain, persistence implements it) carries two kinds of destination: webhooks for
 * what needs a human (signed JSON or Slack messages, one event each) and SIEMs that get every
 * event as OCSF (Splunk HEC, Elastic bulk, JSON lines, syslog over TLS; docs/siem.md). Imports
 * domain, config and resilience (the deliveries' backoff and Retry-After); may also import
 * observability (docs/architecture.md).
 */
export * from './notification';
export * from './notification.mapper';
export * from './audit-relay';
export * from './notification.relay';
export * from './notifications.config';
export * from './webhook.signer';
export * from './slack-message.mapper';
export * from './siem/ocsf.mapper';
export * from './siem/siem.config';
export * from './siem/siem-destination';
export * from './siem/http-collector.destination';
export * from './siem/syslog.destination';
export * from './siem/siem-destinations';
