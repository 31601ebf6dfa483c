/**
 * apps/cli/src/mcp: the MCP server of `jit mcp` (issue 14 point 6). Owns the tools an AI agent
 * uses to request, read, wait for, list and revoke grants through the broker's API with its own
 * token (the CLI core's BrokerApi), their wording for a model, and the rule that secret values
 * stay out of the model's context (docs/clients.md). A remote client: the broker decides,
 * audits and enforces; nothing here does.
 */
export { mcpCommand } from './mcp.command';
export { runMcpServer } from './run-mcp-server';
export type { RunMcpServerOptions } from './run-mcp-server';
export { createJitMcpServer } from './jit-mcp.server';
export type { JitMcpOptions } from './jit-mcp.server';
