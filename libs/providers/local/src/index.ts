/**
 * The in-memory cloud: a `CloudAccessProvider` for one cloud name that holds grants in
 * memory, with injectable faults. For tests, benchmarks and the sandbox only, never the
 * production broker (docs/architecture.md).
 */
export * from './local-cloud.provider';
export * from './local-standing.inventory';
