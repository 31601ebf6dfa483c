import { GrantSpec, ProviderError } from '@jit/domain';
import { AwsTargetOf, awsTarget } from './aws-kinds';
import { INLINE_BUDGET, POLICY_VERSION, policySize, serialize } from './broker-policy.document';
import { STS_GRANT_MIN_SECONDS, STS_MAX_SECONDS, STS_MIN_SECONDS, grantStatement, sessionPolicy } from './aws-statement.builder';
import { entityFromArn } from './iam-entity';

/**
 * STS refuses session policies over 2,048 plaintext characters (the model's `sessionPolicyDocumentType`
 * max, cloud-apis.md B2). Its separate packed-size limit (`PackedPolicyTooLarge`) depends on an
 * unpublished compression and is only known from STS's answer.
 */
export const SESSION_POLICY_PLAINTEXT_MAX = 2_048;
/** `Policy` and `PolicyDocument` accept tab, LF, CR and U+0020–U+00FF only (service-2.json patterns). */
const POLICY_TEXT = /^[\u0009\u000A\u000D\u0020-\u00FF]+$/;

const fmt = (n: number) => n.toLocaleString('en-US');

/** Checks what needs no cloud call; throws `ProviderError` 'invalid' or 'limit' naming the field and limit. */
export function validateAwsGrant(spec: GrantSpec): void {
  if (!(spec.expiresAt.getTime() > spec.startsAt.getTime())) {
    throw new ProviderError('invalid', 'expiresAt must be after startsAt', { field: 'expiresAt' });
  }
  const target = awsTarget(spec.target);
  switch (target.kind) {
    case 'aws.iam-policy':
    case 'aws.assume-role': {
      const entity = entityFromArn(spec.principal.id);
      const alone = serialize({ Version: POLICY_VERSION, Statement: [grantStatement(spec.grantId, target, spec.expiresAt)] });
      if (!POLICY_TEXT.test(alone)) {
        throw new ProviderError('invalid', 'IAM policy documents accept only characters U+0009, U+000A, U+000D and U+0020–U+00FF', { field: 'target' });
      }
      const budget = INLINE_BUDGET[entity.kind];
      if (policySize(alone) > budget) {
        throw new ProviderError(
          'limit',
          `this grant's policy needs ${fmt(policySize(alone))} characters; the aggregate inline policy size per IAM ${entity.kind} is ${fmt(budget)} (whitespace not counted)`,
          { field: 'target', code: 'LimitExceeded' },
        );
      }
      return;
    }
    case 'aws.sts-credentials':
      return validateSession(spec, target);
    default:
      throw new ProviderError('invalid', `${spec.target.kind} is not an AWS target kind`, { field: 'target.kind' });
  }
}

function validateSession(spec: GrantSpec, target: AwsTargetOf<'aws.sts-credentials'>): void {
  entityFromArn(target.roleArn, 'target.roleArn');
  const seconds = (spec.expiresAt.getTime() - spec.startsAt.getTime()) / 1000;
  if (seconds < STS_GRANT_MIN_SECONDS || seconds > STS_MAX_SECONDS) {
    throw new ProviderError(
      'limit',
      `aws.sts-credentials grants last ${fmt(STS_GRANT_MIN_SECONDS)} to ${fmt(STS_MAX_SECONDS)} seconds: STS sessions last at least ${fmt(STS_MIN_SECONDS)} ` +
        `(AssumeRole DurationSeconds, at most the role's MaxSessionDuration), and the margin above that lets a session issued after the request still end by expiresAt; this grant asks for ${fmt(seconds)}`,
      { field: 'duration', code: 'DurationSeconds' },
    );
  }
  const given = target.sessionPolicy as { Statement?: unknown } | undefined;
  if (given && (typeof given.Statement !== 'object' || given.Statement === null)) {
    throw new ProviderError('invalid', 'a session policy needs a Statement (an object or a list)', { field: 'target.sessionPolicy' });
  }
  const text = serialize(sessionPolicy(target, spec.expiresAt));
  if (!POLICY_TEXT.test(text)) {
    throw new ProviderError('invalid', 'session policies accept only characters U+0009, U+000A, U+000D and U+0020–U+00FF', { field: 'target.sessionPolicy' });
  }
  if (text.length > SESSION_POLICY_PLAINTEXT_MAX) {
    throw new ProviderError(
      'limit',
      `the session policy, with the broker's expiry condition added, is ${fmt(text.length)} characters; ` +
        `STS accepts at most ${fmt(SESSION_POLICY_PLAINTEXT_MAX)} characters of plaintext session policy`,
      { field: 'target.sessionPolicy', code: 'SessionPolicyPlaintextLength' },
    );
  }
}
