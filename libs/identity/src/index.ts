/**
 * Identity: who is calling. Verifies OIDC tokens from the issuers a rules file names
 * (discovery, JWKS, audience, claims) into `<issuer>:<subject>` subjects; static tokens
 * are the app's. Imports domain; may also import config (docs/architecture.md).
 */
export * from './oidc-issuer.config';
export * from './oidc-token.verifier';
