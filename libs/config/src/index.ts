export * from './broker-config';
export * from './yaml-file';
