import { Command } from 'commander';
import { CliContext } from '../cli-context';

/** `jit mcp`: the MCP server on stdio, for an agent's host to start (docs/clients.md). */
export function mcpCommand(): Command {
  return new Command('mcp')
    .description('serve the Model Context Protocol on stdio: tools for an AI agent to request, check, list and revoke its grants')
    .option('--allow-secrets', 'put aws.sts-credentials keys into tool results (default: refuse such requests; see docs/clients.md)')
    .action(async (flags: { allowSecrets?: boolean }, command: Command) => {
      const ctx = CliContext.of(command);
      // Required here and only here: the MCP SDK costs every other jit command 0.4-0.7 s of start-up.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { runMcpServer } = require('./run-mcp-server') as typeof import('./run-mcp-server');
      await runMcpServer({ broker: ctx.broker, allowSecrets: Boolean(flags.allowSecrets) });
    });
}
