import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { CliContext } from '../cli-context';
import { awaitGrant } from '../core/await-grant';
import { awsEnvironment, stsCredentialsOf } from '../core/aws-credentials';
import { BrokerError } from '../core/broker-api';
import { FORWARDED_SIGNALS, ForwardedSignal, signalExitCode, superviseChild } from '../core/child-supervisor';
import { ENDED_STATES, GrantView } from '../core/grant';
import { propagationSeconds } from '../core/propagation';
import { RequestFlags, buildRequestBody } from '../core/request-body';
import { revokeGrant } from '../core/request-access';
import { withoutVariables } from '../core/settings';
import { CliError, EXIT } from '../exit-codes';
import { reportOf } from '../error-report';
import { compactDuration } from '../output/relative-time';
import { progressPrinter } from '../output/progress';
import { addRequestOptions, addWaitOptions, durationMs } from './request-options';
import { exitCodeOfOutcome } from './request.command';

interface ExecFlags extends RequestFlags {
  timeout?: number;
  pollInterval: number;
  idempotencyKey?: string;
  /** true: the cloud's documented delay; a string: that duration. */
  propagation?: true | string;
}

/** How often the propagation countdown prints a line. */
const COUNTDOWN_EVERY_MS = 5_000;

/**
 * `jit exec`: request, wait until active, run the command with the access, revoke when it ends,
 * whatever way it ends; exit with its code (or 128 + signal; 127 or 126 when it cannot be started).
 * The command's environment is the CLI's without the CLI's own credentials. A signal before the command starts
 * withdraws or revokes the request and exits 128 + signal. SIGKILL cannot be caught: then the
 * grant's own expiry ends the access.
 */
export function execCommand(): Command {
  const cmd = new Command('exec')
    .description('request access, run a command with it, and revoke it when the command ends (exit code passed through)')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('--propagation [duration]', "after the grant is active, wait the cloud's documented propagation delay (or this long) before running the command");
  addWaitOptions(addRequestOptions(cmd));
  return cmd.action(async (argv: string[], flags: ExecFlags, command: Command) => {
    const ctx = CliContext.of(command);
    const [program, ...args] = argv;
    const body = buildRequestBody(flags);
    const propagationMs =
      flags.propagation === undefined ? 0 : flags.propagation === true ? propagationSeconds(body.cloud, body.target.kind) * 1000 : durationMs(flags.propagation);
    const say = (line: string) => {
      if (!ctx.json) ctx.err(line);
    };

    // Until the command runs, a signal stops the wait; the request is then withdrawn or revoked.
    const abort = new AbortController();
    let caught: ForwardedSignal | null = null;
    const onSignal = (signal: ForwardedSignal) => () => {
      caught ??= signal;
      abort.abort();
    };
    const listeners = FORWARDED_SIGNALS.map((s) => [s, onSignal(s)] as const);
    listeners.forEach(([s, l]) => process.on(s, l));
    const stopListening = () => listeners.forEach(([s, l]) => process.off(s, l));

    /** The grant once the broker made one; until the command has run, a failure on the way ends it unused. */
    let grant: GrantView | null = null;
    let commandRan = false;
    try {
      const { credentials, ...created } = await ctx.broker.requestGrant(body, flags.idempotencyKey);
      grant = created;
      const result = await awaitGrant(ctx.broker, created, {
        timeoutMs: flags.timeout,
        pollMs: flags.pollInterval,
        signal: abort.signal,
        onProgress: ctx.json ? undefined : progressPrinter(say, ctx.paintErr),
      });
      grant = result.grant;
      if (result.outcome !== 'active') {
        await endUnused(ctx, grant, result.outcome === 'aborted' ? `jit exec: stopped by ${caught}` : `jit exec: ${result.outcome} before the command ran`);
        process.exitCode = result.outcome === 'aborted' && caught ? signalExitCode(caught) : exitCodeOfOutcome(result.outcome);
        return;
      }
      // The command gets the grant's access, not the CLI's own: no broker token or CI OIDC token to request more with.
      const base = withoutVariables(ctx.env, ctx.settings.credentialVariables);
      const env = body.target.kind === 'aws.sts-credentials' ? awsEnvironment(stsCredentialsOf(credentials), base) : base;
      env.JIT_GRANT_ID = grant.id;
      if (grant.expiresAt) env.JIT_GRANT_EXPIRES_AT = grant.expiresAt;
      if (propagationMs > 0 && !(await countdown(propagationMs, abort.signal, say))) {
        await endUnused(ctx, grant, `jit exec: stopped by ${caught}`);
        process.exitCode = signalExitCode(caught ?? 'SIGTERM');
        return;
      }
      stopListening();
      say(`running ${program} with grant ${grant.id}\n`);
      let child;
      try {
        child = await superviseChild(program, args, env);
      } catch (e) {
        // As a shell says: 127 not found, 126 found but not runnable (the grant is revoked below either way).
        const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? EXIT.commandNotFound : EXIT.cannotExecute;
        throw new CliError(`cannot run ${program}: ${(e as Error).message}`, code);
      }
      commandRan = true;
      const how = child.signal ? `ended by ${child.signal}` : `exited with ${child.code}`;
      const revoked = await revokeAfter(ctx, grant, `jit exec: ${program} ${how}${child.received ? ` (jit got ${child.received})` : ''}`, say);
      if (ctx.json) ctx.err(`${JSON.stringify({ grantId: grant.id, exitCode: child.exitCode, signal: child.signal, revoked })}\n`);
      process.exitCode = !revoked && child.exitCode === 0 ? EXIT.api : child.exitCode;
    } catch (e) {
      // The broker failed mid-wait, the keys were missing, the command could not start: the grant is not left behind.
      if (grant && !commandRan) await endUnused(ctx, grant, `jit exec: ${(e as Error).message}`.slice(0, 500));
      throw e;
    } finally {
      stopListening();
    }
  });
}

/** Withdraws or revokes a grant the command never used (nothing to do when it already ended). */
async function endUnused(ctx: CliContext, grant: GrantView, reason: string): Promise<void> {
  if (ENDED_STATES.includes(grant.state)) return;
  await revokeAfter(ctx, grant, reason, (l) => ctx.err(l));
}

/**
 * Revokes at once; further SIGINT/SIGTERM/SIGHUP are ignored meanwhile, so a runner's second
 * signal does not cut the revoke short. False (and a message) when the broker refused it.
 */
async function revokeAfter(ctx: CliContext, grant: GrantView, reason: string, say: (line: string) => void): Promise<boolean> {
  const ignore = () => {};
  FORWARDED_SIGNALS.forEach((s) => process.on(s, ignore));
  try {
    const after = await revokeGrant(ctx.broker, grant.id, reason);
    say(`grant ${grant.id} ${after.state}\n`);
    return true;
  } catch (e) {
    if (!(e instanceof BrokerError)) throw e;
    const report = reportOf(e, false);
    ctx.err(`jit: could not revoke grant ${grant.id}; it ends at its expiry (${grant.expiresAt ?? 'unknown'}) unless revoked: ${report.lines.join('\n')}\n`);
    return false;
  } finally {
    FORWARDED_SIGNALS.forEach((s) => process.off(s, ignore));
  }
}

/** Waits `ms`, printing the time left every few seconds; false when `signal` aborted it. */
async function countdown(ms: number, signal: AbortSignal, say: (line: string) => void): Promise<boolean> {
  const end = Date.now() + ms;
  say(`waiting ${compactDuration(ms)} for the cloud to propagate the access (--propagation)\n`);
  for (let left = ms; left > 0; left = end - Date.now()) {
    try {
      await sleep(Math.min(left, COUNTDOWN_EVERY_MS), undefined, { signal });
    } catch {
      return false;
    }
    const remaining = end - Date.now();
    if (remaining > 0) say(`  ${compactDuration(remaining)} left\n`);
  }
  return true;
}
