import { revokeGrant } from '../../../apps/cli/src/core/request-access';
import { error, getState, info } from './actions-runtime';
import { brokerFromInputs } from './action-broker';
import { describeFailure } from './failure';

/**
 * The action's post step (`post-if: always()`): revokes the grant the main step saved in its
 * state, whatever way the job went; a pending request is withdrawn, an ended grant left as it is.
 */
async function post(): Promise<number> {
  const grantId = getState('grant-id');
  if (!grantId) {
    info('no grant was requested: nothing to revoke');
    return 0;
  }
  const { GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_JOB } = process.env;
  const grant = await revokeGrant(brokerFromInputs(), grantId, `job ended: ${GITHUB_REPOSITORY ?? '?'} run ${GITHUB_RUN_ID ?? '?'} job ${GITHUB_JOB ?? '?'}`);
  info(`grant ${grant.id}: ${grant.state}${grant.endReason ? ` (${grant.endReason})` : ''}`);
  return 0;
}

post().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    error(`revoking the grant failed: ${describeFailure(e)}; it still ends at its expiry`);
    process.exitCode = 1;
  },
);
