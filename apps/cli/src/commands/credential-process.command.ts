import { Command } from 'commander';
import { CliContext } from '../cli-context';
import { credentialProcessJson, stsCredentialsOf } from '../core/aws-credentials';
import { RequestFlags, buildRequestBody } from '../core/request-body';
import { requestAccess } from '../core/request-access';
import { CliError, EXIT } from '../exit-codes';
import { exitCodeOfOutcome } from './request.command';
import { addRequestOptions } from './request-options';

/**
 * `credential_process = jit credential-process -f sts-request.yaml` in an AWS profile: each
 * time the SDK or CLI wants credentials (at start, and again when they expire) this requests a
 * new `aws.sts-credentials` grant and prints its keys as the Version 1 JSON. It cannot hand out
 * an existing grant's keys again: the broker returns them once, in the response that creates the
 * grant. These grants end at their expiry; nothing revokes them when the tool exits (use
 * `jit exec` for that).
 */
export function credentialProcessCommand(): Command {
  const cmd = new Command('credential-process').description(
    'request new aws.sts-credentials and print them as credential_process JSON (Version 1), for an AWS profile',
  );
  addRequestOptions(cmd);
  return cmd.action(async (flags: RequestFlags & { idempotencyKey?: string }, command: Command) => {
    const ctx = CliContext.of(command);
    const body = buildRequestBody(flags);
    if (body.target.kind !== 'aws.sts-credentials') throw new CliError('credential-process needs a request of kind aws.sts-credentials', EXIT.usage);
    const result = await requestAccess(ctx.broker, body, { wait: false, idempotencyKey: flags.idempotencyKey });
    if (result.grant.state !== 'active') {
      throw new CliError(`grant ${result.grant.id} is ${result.grant.state}, not active`, result.grant.state === 'denied' ? EXIT.denied : exitCodeOfOutcome('ended'));
    }
    ctx.out(`${credentialProcessJson(stsCredentialsOf(result.credentials))}\n`);
  });
}
