export * from './provider-contract.suite';
