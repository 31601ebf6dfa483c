import { requesterClaimsOf } from './requester-claims';

describe('requesterClaimsOf', () => {
  it('should keep the run claims of an OIDC token and leave out the rest', () => {
    const recorded = requesterClaimsOf({
      subject: 'ci:repo:acme/app:ref:refs/heads/main',
      roles: ['requester'],
      issuer: 'ci',
      claims: {
        sub: 'repo:acme/app:ref:refs/heads/main',
        repository: 'acme/app',
        ref: 'refs/heads/main',
        run_id: '4711',
        run_attempt: '2',
        job_workflow_ref: 'acme/app/.github/workflows/deploy.yml@refs/heads/main',
        email: 'someone@example.com',
        groups: ['sre'],
        aud: 'jit-broker',
        exp: 1,
      },
    });
    expect(recorded).toEqual({
      issuer: 'ci',
      claims: {
        sub: 'repo:acme/app:ref:refs/heads/main',
        repository: 'acme/app',
        ref: 'refs/heads/main',
        run_id: '4711',
        run_attempt: '2',
        job_workflow_ref: 'acme/app/.github/workflows/deploy.yml@refs/heads/main',
      },
    });
  });

  it('should record nothing for a static token', () => {
    expect(requesterClaimsOf({ subject: 'alice', roles: ['requester'] })).toBeUndefined();
  });

  it('should leave out a run claim that is not a plain value', () => {
    expect(requesterClaimsOf({ subject: 'ci:x', roles: ['requester'], issuer: 'ci', claims: { repository: { nested: true }, ref: 'main' } })).toEqual({
      issuer: 'ci',
      claims: { ref: 'main' },
    });
  });
});
