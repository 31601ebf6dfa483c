export * from './local-cloud.provider';
