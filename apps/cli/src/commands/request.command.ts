import { Command } from 'commander';
import { CliContext } from '../cli-context';
import { AwaitOutcome } from '../core/await-grant';
import { RequestFlags, buildRequestBody } from '../core/request-body';
import { requestAccess } from '../core/request-access';
import { EXIT } from '../exit-codes';
import { grantText } from '../output/grant-text';
import { progressPrinter } from '../output/progress';
import { addRequestOptions, addWaitOptions } from './request-options';

interface RequestCommandFlags extends RequestFlags {
  wait?: boolean;
  timeout?: number;
  pollInterval: number;
  idempotencyKey?: string;
}

/** Exit codes for how a wait ended (docs/clients.md). */
export function exitCodeOfOutcome(outcome: AwaitOutcome['outcome'] | 'created'): number {
  switch (outcome) {
    case 'active':
    case 'created':
      return EXIT.ok;
    case 'denied':
      return EXIT.denied;
    case 'timeout':
      return EXIT.timeout;
    case 'ended':
      return EXIT.failed;
    case 'aborted':
      return EXIT.failed;
  }
}

export function requestCommand(): Command {
  const cmd = new Command('request').description('request a grant; with --wait, wait until it is active (progress on stderr)');
  addWaitOptions(addRequestOptions(cmd)).option('-w, --wait', 'wait while approvals arrive; non-zero exit on denial, failure or --timeout');
  return cmd.action(async (flags: RequestCommandFlags, command: Command) => {
    const ctx = CliContext.of(command);
    const body = buildRequestBody(flags);
    const result = await requestAccess(ctx.broker, body, {
      wait: Boolean(flags.wait),
      timeoutMs: flags.timeout,
      pollMs: flags.pollInterval,
      idempotencyKey: flags.idempotencyKey,
      onProgress: ctx.json ? undefined : progressPrinter((l) => ctx.err(l), ctx.paintErr),
    });
    const code = exitCodeOfOutcome(result.outcome);
    if (ctx.json) {
      // Credentials are printed only when asked for as JSON: a script that wants them takes them from stdout.
      ctx.outJson({ outcome: result.outcome, grant: result.grant, ...(result.credentials ? { credentials: result.credentials } : {}) });
    } else {
      ctx.out(grantText(result.grant, ctx.paintOut));
      if (result.credentials) ctx.err('credentials were issued; they are printed only with --json (or use `jit exec`, which hands them to a command)\n');
      if (result.outcome === 'timeout') ctx.err(`gave up waiting; the request is still ${result.grant.state} (jit show ${result.grant.id})\n`);
    }
    process.exitCode = code;
  });
}
