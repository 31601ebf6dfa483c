export * from './broker-config';
