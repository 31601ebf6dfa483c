export * from './notification';
export * from './notification.mapper';
export * from './notification-cursor.store.port';
export * from './notification.relay';
export * from './notifications.config';
export * from './webhook.signer';
export * from './slack-message.mapper';
