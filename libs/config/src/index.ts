/**
 * The broker's configuration: every environment variable read and validated once at boot
 * into a typed `BrokerConfig`, and the YAML reader (line-located issues) that the rules and
 * webhook files share; the documentation of every variable (`ENV_DOCS`), from which
 * docs/configuration.md is generated. Imports the domain at most (docs/architecture.md).
 */
export * from './broker-config';
export * from './provider-env';
export * from './yaml-file';
export * from './env-docs';
export * from './sandbox-env';
export * from './logging-env';
export * from './console-env';
export * from './discovery-env';
export * from './reviews-env';
