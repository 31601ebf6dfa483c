import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Readable, Writable } from 'node:stream';
import type { BrokerApi } from '../core/broker-api';
import { JitMcpOptions, createJitMcpServer } from './jit-mcp.server';

export interface RunMcpServerOptions extends JitMcpOptions {
  /** The broker, reached with the agent's own token (the CLI's `httpBroker` from its settings). */
  broker: BrokerApi;
  /** stdio by default. */
  stdin?: Readable;
  stdout?: Writable;
}

/**
 * `jit mcp`: serves the tools on stdio until the client closes the connection (its end of
 * stdin). Nothing but MCP messages may go to stdout, so nothing here writes there.
 */
export async function runMcpServer(options: RunMcpServerOptions): Promise<void> {
  const server = createJitMcpServer(options.broker, options);
  const stdin = options.stdin ?? process.stdin;
  const transport = new StdioServerTransport(stdin, options.stdout);
  const closed = new Promise<void>((resolve) => (transport.onclose = resolve));
  await server.connect(transport);
  stdin.once('end', () => void server.close());
  await closed;
}
