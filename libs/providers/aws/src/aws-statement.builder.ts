import { AwsTarget, AwsTargetOf } from './aws-kinds';
import { denySid, grantSid, sessionName } from './aws-artifact.naming';
import { Condition, POLICY_VERSION, PolicyDocument, Statement, isoSeconds, oneOrMany } from './broker-policy.document';

/**
 * Margin added to the early-revoke deny's bounds for clock skew between the broker and AWS:
 * the deny must outlast every session of the grant, whichever clock is ahead.
 */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** STS's shortest session: a session issued near expiry still lives this long. */
export const STS_MIN_SECONDS = 900;
export const STS_MAX_SECONDS = 43_200;
/**
 * The shortest `aws.sts-credentials` grant: STS's 900 s floor plus a minute, so a session issued
 * up to a minute after the request (approval, retries) is still no longer than the grant and its
 * STS expiry, not only its session policy, falls by `expiresAt`.
 */
export const STS_GRANT_MIN_SECONDS = STS_MIN_SECONDS + 60;

/** The Allow statement of an `aws.iam-policy` or `aws.assume-role` grant, ending at `expiresAt` in the cloud. */
export function grantStatement(grantId: string, target: AwsTarget, expiresAt: Date): Statement {
  const until = { 'aws:CurrentTime': isoSeconds(expiresAt) };
  if (target.kind === 'aws.assume-role') {
    return { Sid: grantSid(grantId), Effect: 'Allow', Action: 'sts:AssumeRole', Resource: target.roleArn, Condition: { DateLessThan: until } };
  }
  if (target.kind !== 'aws.iam-policy') throw new Error(`${target.kind} has no identity-policy statement`);
  const condition: Condition = { ...(target.conditions ?? {}) };
  condition.DateLessThan = { ...(condition.DateLessThan ?? {}), ...until };
  return {
    Sid: grantSid(grantId),
    Effect: 'Allow',
    Action: oneOrMany(target.actions),
    Resource: oneOrMany(target.resources),
    Condition: condition,
  };
}

/**
 * The deny an early revoke of an `aws.sts-credentials` grant puts on its role: every session of
 * that grant (its `SourceIdentity`) issued before now, until no such session can still be valid.
 * A session is issued no later than now and lives max(expiresAt, issue + 900 s).
 */
export function sessionDenyStatement(grantId: string, expiresAt: Date, now: Date): Statement {
  const issuedBefore = new Date(now.getTime() + CLOCK_SKEW_MS);
  const validUntil = new Date(Math.max(expiresAt.getTime(), now.getTime() + STS_MIN_SECONDS * 1000) + CLOCK_SKEW_MS);
  return {
    Sid: denySid(grantId),
    Effect: 'Deny',
    Action: '*',
    Resource: '*',
    Condition: {
      StringEquals: { 'aws:SourceIdentity': sessionName(grantId) },
      DateLessThan: { 'aws:TokenIssueTime': isoSeconds(issuedBefore), 'aws:CurrentTime': isoSeconds(validUntil) },
    },
  };
}

function earlier(a: string | string[] | undefined, b: string): string {
  const t = typeof a === 'string' ? Date.parse(a) : NaN;
  return !Number.isNaN(t) && t < Date.parse(b) ? (a as string) : b;
}

/**
 * The session policy sent with `AssumeRole`: the requester's policy (or allow-all) with every
 * Allow cut off at `expiresAt`, so a session that STS must keep for its 900 s minimum, or that
 * outlives the grant by rounding, is useless after the grant ends.
 */
export function sessionPolicy(target: AwsTargetOf<'aws.sts-credentials'>, expiresAt: Date): PolicyDocument {
  const cutoff = isoSeconds(expiresAt);
  const given = target.sessionPolicy as { Statement?: Statement | Statement[] } | undefined;
  const statements: Statement[] = given?.Statement === undefined
    ? [{ Effect: 'Allow', Action: '*', Resource: '*' }]
    : Array.isArray(given.Statement) ? given.Statement : [given.Statement];
  return {
    Version: POLICY_VERSION,
    Statement: statements.map((s) => {
      if (s.Effect !== 'Allow') return s;
      const lessThan = s.Condition?.DateLessThan ?? {};
      return { ...s, Condition: { ...s.Condition, DateLessThan: { ...lessThan, 'aws:CurrentTime': earlier(lessThan['aws:CurrentTime'], cutoff) } } };
    }),
  };
}
