import { RequesterClaims } from '@jit/domain';
import { Actor } from './actor';

/**
 * The claims of a pipeline's OIDC token that say which run asked, recorded with the request
 * (`grant.requested` data `requester`): GitHub Actions', GitLab CI's and the token's subject.
 * Only these, and only plain values: the log keeps what identifies the run, not a whole token
 * (an email or a group list is the rules' business, not the record's).
 */
export const RUN_CLAIMS = [
  'sub',
  // GitHub Actions (docs.github.com, "About security hardening with OpenID Connect").
  'repository',
  'repository_id',
  'repository_owner',
  'repository_owner_id',
  'ref',
  'ref_type',
  'sha',
  'workflow',
  'workflow_ref',
  'job_workflow_ref',
  'run_id',
  'run_number',
  'run_attempt',
  'event_name',
  'environment',
  'actor',
  'runner_environment',
  // GitLab CI (docs.gitlab.com, "ID token authentication").
  'project_path',
  'project_id',
  'namespace_path',
  'pipeline_id',
  'pipeline_source',
  'job_id',
  'user_login',
  'ref_protected',
] as const;

/** The run claims of an OIDC actor (none for a static token, which has no claims). */
export function requesterClaimsOf(actor: Actor): RequesterClaims | undefined {
  if (!actor.issuer || !actor.claims) return undefined;
  const claims: RequesterClaims['claims'] = {};
  for (const name of RUN_CLAIMS) {
    const value = actor.claims[name];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') claims[name] = value;
  }
  return { issuer: actor.issuer, claims };
}
