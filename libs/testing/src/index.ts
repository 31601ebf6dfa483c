/**
 * Test support, imported only by tests and benchmarks: the one contract suite every cloud
 * adapter must pass, a local OIDC issuer and the one test clock (ManualClock). Imports the domain and the libs it fakes or
 * seeds (docs/architecture.md).
 */
export * from './connection-watch.proxy';
export * from './cuttable.proxy';
export * from './provider-contract.suite';
export * from './local-oidc-issuer';
export * from './manual-clock';
export * from './grant.fixture';
export * from './target-kinds';
