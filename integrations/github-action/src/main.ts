import { setTimeout as sleep } from 'node:timers/promises';
import { awaitGrant } from '../../../apps/cli/src/core/await-grant';
import { stsCredentialsOf } from '../../../apps/cli/src/core/aws-credentials';
import { propagationSeconds } from '../../../apps/cli/src/core/propagation';
import { buildRequestBody } from '../../../apps/cli/src/core/request-body';
import { error, exportVariable, info, input, inputLines, mask, saveState, setOutput } from './actions-runtime';
import { brokerFromInputs } from './action-broker';
import { secondsInput } from './duration-input';
import { describeFailure } from './failure';

/** The pause between two reads of a grant waiting for approvers. */
const POLL_MS = 2_000;

/**
 * The action's main step: request the grant, save its id for the post step at once (so a
 * failed or cancelled wait is still cleaned up), wait for approvals within `wait-timeout`,
 * export STS credentials masked, and wait for propagation when asked.
 */
async function main(): Promise<number> {
  const broker = brokerFromInputs();
  const body = buildRequestBody({
    file: input('request-file') || undefined,
    kind: input('kind') || undefined,
    cloud: input('cloud') || undefined,
    principal: input('principal') || undefined,
    target: inputLines('target'),
    duration: input('duration') || undefined,
    justification: input('justification') || undefined,
    ticket: input('ticket') || undefined,
  });
  const timeoutMs = secondsInput('wait-timeout', '15m') * 1000;
  // A re-run of the same job attempt gets the grant it already made instead of a second one.
  const { GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_JOB, GITHUB_ACTION } = process.env;
  const idempotencyKey = GITHUB_RUN_ID ? `gha:${GITHUB_REPOSITORY}:${GITHUB_RUN_ID}:${GITHUB_RUN_ATTEMPT}:${GITHUB_JOB}:${GITHUB_ACTION}` : undefined;

  const { credentials, ...created } = await broker.requestGrant(body, idempotencyKey);
  // Masked before anything else is written: the runner hides them in every later log line.
  for (const value of Object.values(credentials ?? {})) mask(value);
  saveState('grant-id', created.id);
  setOutput('grant-id', created.id);
  info(`grant ${created.id}: ${created.state}`);

  const result = await awaitGrant(broker, created, {
    timeoutMs,
    pollMs: POLL_MS,
    onProgress: (p) => {
      if (p.type === 'approvals') info(`approvals: ${p.received} of ${p.required} (from ${p.grant.decision?.approverGroups.join(', ') ?? '?'})`);
      if (p.type === 'state' && p.previous) info(`grant ${p.grant.id}: ${p.previous} -> ${p.grant.state}`);
    },
  });
  setOutput('state', result.grant.state);
  if (result.grant.expiresAt) setOutput('expires-at', result.grant.expiresAt);
  if (result.outcome !== 'active') {
    const why =
      result.outcome === 'timeout'
        ? `still ${result.grant.state} after ${timeoutMs / 1000} s (wait-timeout); the post step withdraws it`
        : `${result.grant.state}${result.grant.endReason ? ` (${result.grant.endReason})` : ''}`;
    error(`grant ${result.grant.id} is not active: ${why}`);
    return 1;
  }

  if (credentials && input('export-credentials') !== 'false') {
    const c = stsCredentialsOf(credentials);
    exportVariable('AWS_ACCESS_KEY_ID', c.accessKeyId);
    exportVariable('AWS_SECRET_ACCESS_KEY', c.secretAccessKey);
    exportVariable('AWS_SESSION_TOKEN', c.sessionToken);
    if (c.expiration) exportVariable('AWS_CREDENTIAL_EXPIRATION', c.expiration);
    info('exported AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (masked) to the following steps');
  }

  const propagation = input('propagation') || 'false';
  const waitS = propagation === 'true' ? propagationSeconds(body.cloud, body.target.kind) : propagation === 'false' ? 0 : secondsInput('propagation', '0');
  if (waitS > 0) {
    info(`waiting ${waitS} s for ${body.cloud} to apply the access everywhere`);
    await sleep(waitS * 1000);
  }
  info(`grant ${result.grant.id} is active until ${result.grant.expiresAt}`);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    error(describeFailure(e));
    process.exitCode = 1;
  },
);
