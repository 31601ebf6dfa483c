import { Command, CommanderError } from 'commander';
import { auditCommand } from './commands/audit.command';
import { credentialProcessCommand } from './commands/credential-process.command';
import { execCommand } from './commands/exec.command';
import { approveCommand, denyCommand, listCommand, revokeCommand, showCommand } from './commands/grants.command';
import { requestCommand } from './commands/request.command';
import { reviewsCommand } from './commands/reviews.command';
import { discoveryCommand } from './commands/discovery.command';
import { mcpCommand } from './mcp/mcp.command';
import { rulesCommand } from './commands/rules.command';
import { reportOf } from './error-report';
import { EXIT } from './exit-codes';

/** The `jit` program: global flags, then one subcommand per operation (docs/clients.md). */
export function buildProgram(): Command {
  const program = new Command('jit')
    .description('the jit-broker command line: request, approve and revoke just-in-time cloud access, and run a command with it')
    .option('--url <url>', 'broker URL (else JIT_URL, else the config file)')
    .option('--token <token>', 'bearer token, seen by others in ps: prefer JIT_TOKEN_FILE (else --token-file, JIT_TOKEN, JIT_TOKEN_FILE, CI OIDC, the config file)')
    .option('--token-file <path>', 'read the bearer token from a file')
    .option('--audience <aud>', 'audience of the GitHub Actions OIDC token (else JIT_OIDC_AUDIENCE, default jit-broker)')
    .option('--config <path>', 'config file (else JIT_CONFIG, else ~/.config/jit/config.yaml)')
    .option('--json', 'machine-readable output on stdout')
    .option('--debug', 'stack traces on errors')
    .showHelpAfterError()
    .exitOverride();
  for (const cmd of [
    requestCommand(),
    execCommand(),
    listCommand(),
    showCommand(),
    approveCommand(),
    denyCommand(),
    revokeCommand(),
    auditCommand(),
    rulesCommand(),
    reviewsCommand(),
    discoveryCommand(),
    credentialProcessCommand(),
    mcpCommand(),
  ]) {
    program.addCommand(cmd);
  }
  // Every subcommand exits through main's handler too (usage errors: 2).
  const override = (c: Command) => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  return program;
}

/** Runs `jit` with `argv` (without node and the script) and resolves with the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are not errors; commander has printed the message already.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const flags = program.opts<{ json?: boolean; debug?: boolean }>();
    const report = reportOf(e, Boolean(flags.debug));
    for (const line of report.lines) process.stderr.write(`jit: ${line}\n`);
    if (flags.json) process.stdout.write(`${JSON.stringify(report.json)}\n`);
    return report.code;
  }
}

/**
 * Exits with `code` once stdout and stderr have taken everything written, so no idle handle
 * (a pooled keep-alive socket, a library's timer) holds the process open after the revoke
 * while a CI runner counts down to SIGKILL.
 */
export function exitWith(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then(exitWith);
}
