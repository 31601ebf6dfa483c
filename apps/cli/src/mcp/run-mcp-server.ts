import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Readable, Writable } from 'node:stream';
import { TokenSource, httpGrantsApi } from './grants-api';
import { JitMcpOptions, createJitMcpServer } from './jit-mcp.server';

export interface RunMcpServerOptions extends JitMcpOptions {
  /** The broker's base URL (`JIT_URL`). */
  url: string;
  /** The agent's bearer token, or a function fetching a fresh OIDC token (as the CLI acquires it). */
  token: TokenSource;
  /** stdio by default; a test can pass its own streams. */
  stdin?: Readable;
  stdout?: Writable;
}

/**
 * `jit mcp`: serves the tools on stdio until the client closes the connection. Nothing but
 * MCP messages may go to stdout, so nothing here logs there.
 */
export async function runMcpServer(options: RunMcpServerOptions): Promise<void> {
  const server = createJitMcpServer(httpGrantsApi(options.url, options.token), options);
  const transport = new StdioServerTransport(options.stdin, options.stdout);
  const closed = new Promise<void>((resolve) => (transport.onclose = resolve));
  await server.connect(transport);
  const stdin = options.stdin ?? process.stdin;
  stdin.once('end', () => void server.close());
  await closed;
}
