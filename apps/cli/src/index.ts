/**
 * apps/cli: the `jit` command (main.ts, commands/*), a remote client of the broker's HTTP API.
 * It owns argument parsing, output for people and scripts, exit codes, and the reusable core
 * below, which other clients of this repository (the MCP server in src/mcp, the GitHub Action
 * in integrations/) import: none of it writes to the console or exits the process.
 *
 * - settings, token-source: broker URL and token from flags, environment or config file;
 *   GitHub Actions' and GitLab CI's OIDC tokens (no stored secret).
 * - broker-api, http-broker: the broker's operations, failures as BrokerError (problem+json).
 * - request-body: a grant request from flags or a YAML/JSON file.
 * - request-access, await-grant: request, wait while approvals arrive (progress callback), revoke.
 * - aws-credentials: STS credentials to a child's AWS_* environment or credential_process JSON.
 * - child-supervisor, propagation: `jit exec`'s command supervision and propagation delays.
 *
 * It imports no persistence, provider, policy or use-case code (docs/architecture.md); `jit rules`
 * runs the broker's own checker in a child process for that reason.
 */
export * from './core/aws-credentials';
export * from './core/await-grant';
export * from './core/broker-api';
export * from './core/child-supervisor';
export * from './core/grant';
export * from './core/http-broker';
export * from './core/propagation';
export * from './core/request-access';
export * from './core/request-body';
export * from './core/settings';
export * from './core/token-source';
export { CliError, EXIT } from './exit-codes';
