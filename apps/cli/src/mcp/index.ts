/**
 * apps/cli/src/mcp: the MCP server of `jit mcp` (issue 14 point 6). Owns the tools an AI agent
 * uses to request, read, wait for, list and revoke grants through the broker's API with its own
 * token, and the rule that secret values stay out of the model's context (docs/clients.md).
 * It is a remote client: the broker decides, audits and enforces; nothing here does.
 */
export { runMcpServer } from './run-mcp-server';
export type { RunMcpServerOptions } from './run-mcp-server';
export { createJitMcpServer } from './jit-mcp.server';
export type { JitMcpOptions } from './jit-mcp.server';
export { BrokerProblem, httpGrantsApi } from './grants-api';
export type { GrantView, GrantsApi, TokenSource } from './grants-api';
