import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Command } from 'commander';
import { CliError, EXIT } from '../exit-codes';

/**
 * The broker's own rules checker (apps/broker/src/cli/rules.ts, `npm run rules`), run as it
 * is: the same parser, target kinds and case runner the broker loads rules with. It runs in a
 * child process because the CLI is a remote client that imports no policy or provider code
 * (docs/architecture.md); its exit codes are the checker's (0 good, 1 invalid or a case failed, 2 misuse).
 */
function runBrokerRulesChecker(args: string[]): number {
  const ext = extname(__filename);
  const entry = join(__dirname, '..', '..', '..', 'broker', 'src', 'cli', `rules${ext}`);
  if (!existsSync(entry)) throw new CliError(`the rules checker is not installed next to the CLI (${entry})`, EXIT.usage);
  const loader = ext === '.ts' ? ['-r', '@swc-node/register'] : [];
  const result = spawnSync(process.execPath, [...loader, entry, ...args], { stdio: 'inherit' });
  if (result.error) throw result.error;
  return result.status ?? EXIT.failed;
}

export function rulesCommand(): Command {
  const rules = new Command('rules').description('check an access rules file offline, with the broker\'s own checker');
  rules
    .command('check')
    .description('validate a rules file as the broker would load it')
    .argument('<rules.yaml>')
    .action((path: string) => {
      process.exitCode = runBrokerRulesChecker(['check', path]);
    });
  rules
    .command('test')
    .description("validate a rules file, then check each example request's expected decision (JIT_MIN_DURATION/JIT_MAX_DURATION apply)")
    .argument('<rules.yaml>')
    .argument('<cases.yaml>')
    .action((path: string, cases: string) => {
      process.exitCode = runBrokerRulesChecker(['test', path, cases]);
    });
  return rules;
}
