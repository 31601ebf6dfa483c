export * from './provider-contract.suite';
export * from './local-oidc-issuer';
