export * from './oidc-issuer.config';
export * from './oidc-token.verifier';
