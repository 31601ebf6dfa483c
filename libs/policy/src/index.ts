/**
 * Access rules: the YAML rules file parsed into an immutable `AccessPolicy` (deny-list,
 * rules, approval modes, break-glass, OIDC issuers), its evaluation of a request, target
 * matching, and the offline rules test (`npm run rules`). Imports domain, config, identity
 * (docs/architecture.md).
 */
export * from './access-policy';
export * from './access-policy.loader';
export * from './access-policy.schema';
export * from './target.matcher';
export * from './policy-cases';
