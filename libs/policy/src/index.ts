export * from './access-policy';
export * from './access-policy.loader';
export * from './access-policy.schema';
export * from './glob';
export * from './target.matcher';
export * from './policy-cases';
