import { DomainError, parseGrantRequest } from '@jit/domain';
import { targetKinds } from '@jit/testing';
import { wordedIssues } from './issue-wording';

const body = {
  cloud: 'aws',
  principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/ci-deployer' },
  target: { kind: 'aws.iam-policy', actions: ['s3:PutObject'], resources: ['arn:aws:s3:::artifacts/*'] },
  duration: 'PT8H1S',
};

function errorFor(b: unknown): DomainError {
  try {
    parseGrantRequest(b, { minSeconds: 60, maxSeconds: 8 * 3600 }, targetKinds);
  } catch (e) {
    return e as DomainError;
  }
  throw new Error('expected a validation error');
}

describe(wordedIssues.name, () => {
  it('should name the settings behind a duration bound, in the detail and the field issue, as the API always has', () => {
    const worded = wordedIssues(errorFor(body));
    expect(worded.detail).toBe('duration: must be between 60s and 28800s (JIT_MIN_DURATION, JIT_MAX_DURATION)');
    // Exactly these keys, in this order: the problem document is unchanged.
    expect(JSON.stringify(worded.issues)).toBe('[{"field":"duration","message":"must be between 60s and 28800s (JIT_MIN_DURATION, JIT_MAX_DURATION)"}]');
  });

  it('should leave other issues as the domain words them', () => {
    const e = errorFor({ ...body, duration: 'PT20M', ticket: 'CHG\n1' });
    expect(wordedIssues(e)).toEqual({ detail: e.message, issues: e.issues });
  });
});
