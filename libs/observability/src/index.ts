export * from './broker-metrics';
