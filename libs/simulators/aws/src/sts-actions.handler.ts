import { deflateRawSync } from 'node:zlib';
import { AwsSimError } from './aws-sim.error';
import { IamEntity, IamStore } from './iam.store';
import { STS_RULES, member, required } from './member.constraints';
import { parseIdentityPolicy, parseTrustPolicy } from './policy-document.validator';
import { evaluateTrust } from './policy.evaluator';
import { XmlValue } from './query-protocol.codec';
import { BROKER_IDENTITY, Caller, callerAccount, callerArn } from './request.caller';
import { StsSession, StsSessionStore, newAccessKeyId, newSecret, newSessionToken } from './sts-session.store';

type Handler = (params: Record<string, string>, caller: Caller) => XmlValue | undefined;
/** Role chaining caps the session at one hour (cloud-apis.md B2). */
const CHAINED_MAX_SECONDS = 3600;
const DEFAULT_DURATION_SECONDS = 3600;

/**
 * STS packs session policies into an unpublished compressed binary form with its own limit,
 * reported as `PackedPolicySize` (a percentage) and refused above 100 % with
 * `PackedPolicyTooLarge`. The simulator's documented, deterministic stand-in: the raw DEFLATE
 * (level 9) size of the policy text without whitespace, against 768 bytes. Repetitive policies
 * pack small (60 near-identical S3 ARNs, 2,000 characters: about 40 %); some with varied
 * names exceed it well under the 2,048-character plaintext limit (30 random 40-hex bucket
 * names, 1,906 characters: 115 %), as reported for the real service.
 */
export const PACKED_POLICY_LIMIT_BYTES = 768;

export function packedPolicyPercent(policyText: string): number {
  const packed = deflateRawSync(Buffer.from(policyText.replace(/\s/g, ''), 'latin1'), { level: 9 }).length;
  return Math.ceil((packed * 100) / PACKED_POLICY_LIMIT_BYTES);
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The role's trust policy must allow the caller `action`, as STS checks it: `sts:AssumeRole`
 * always, `sts:SetSourceIdentity` whenever the new session carries a source identity (set now
 * or carried over from the caller's session). The caller's own identity policies are not evaluated.
 */
function requireTrust(role: IamEntity, caller: Caller, action: string, sourceIdentity: string | undefined, at: Date): void {
  const arns = caller.session ? [caller.session.assumedRoleArn, caller.session.roleArn] : [BROKER_IDENTITY.arn];
  const context = {
    'aws:currenttime': at.toISOString(),
    'aws:principalarn': caller.session?.roleArn ?? BROKER_IDENTITY.arn,
    'aws:principalaccount': callerAccount(caller),
    'aws:sourceidentity': caller.session?.sourceIdentity,
    'sts:sourceidentity': sourceIdentity,
  };
  if (evaluateTrust(parseTrustPolicy(role.trustPolicy!), { arns, account: callerAccount(caller) }, action, context) !== 'allow') {
    throw AwsSimError.accessDenied(`User: ${callerArn(caller)} is not authorized to perform: ${action} on resource: ${role.arn}`);
  }
}

export function stsHandlers(iam: IamStore, sessions: StsSessionStore, now: () => Date): Record<string, Handler> {
  return {
    GetCallerIdentity: (_p, caller) =>
      caller.session
        ? { UserId: caller.session.userId, Account: caller.session.accountId, Arn: caller.session.assumedRoleArn }
        : { UserId: BROKER_IDENTITY.userId, Account: BROKER_IDENTITY.account, Arn: BROKER_IDENTITY.arn },

    AssumeRole: (p, caller) => {
      const roleArn = required(p, 'RoleArn', STS_RULES.RoleArn);
      const sessionName = required(p, 'RoleSessionName', STS_RULES.RoleSessionName);
      const duration = Number(member(p, 'DurationSeconds', STS_RULES.DurationSeconds) ?? DEFAULT_DURATION_SECONDS);
      const policyText = member(p, 'Policy', STS_RULES.Policy);
      const sourceIdentity = member(p, 'SourceIdentity', STS_RULES.SourceIdentity);
      member(p, 'ExternalId', STS_RULES.ExternalId);
      if (sourceIdentity?.toLowerCase().startsWith('aws:')) {
        throw AwsSimError.validation('SourceIdentity must not begin with the reserved prefix "aws:".');
      }
      const role = iam.byArn(roleArn);
      if (!role || role.kind !== 'role') {
        throw AwsSimError.accessDenied(`User: ${callerArn(caller)} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
      }
      requireTrust(role, caller, 'sts:AssumeRole', sourceIdentity, now());
      // SourceIdentity persists across role chaining and cannot be changed once set.
      if (caller.session?.sourceIdentity && sourceIdentity && sourceIdentity !== caller.session.sourceIdentity) {
        throw AwsSimError.accessDenied(`User: ${callerArn(caller)} is not authorized to change the source identity ${caller.session.sourceIdentity} of its session`);
      }
      const newSourceIdentity = sourceIdentity ?? caller.session?.sourceIdentity;
      if (newSourceIdentity) requireTrust(role, caller, 'sts:SetSourceIdentity', newSourceIdentity, now());
      if (duration > role.maxSessionDuration) {
        throw AwsSimError.validation('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
      }
      if (caller.session && duration > CHAINED_MAX_SECONDS) {
        throw AwsSimError.validation('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
      }
      const packed = policyText === undefined ? undefined : packedPolicyPercent(policyText);
      if (packed !== undefined && packed > 100) {
        throw new AwsSimError('PackedPolicyTooLarge', 400, `Packed policy consumes ${packed}% of allotted space, please use smaller policy for this request.`);
      }
      const issuedAt = now();
      const session: StsSession = {
        accessKeyId: newAccessKeyId(),
        secretAccessKey: newSecret(),
        sessionToken: newSessionToken(),
        roleArn: role.arn,
        roleName: role.name,
        accountId: role.accountId,
        assumedRoleArn: `arn:aws:sts::${role.accountId}:assumed-role/${role.name}/${sessionName}`,
        userId: `${role.id}:${sessionName}`,
        sourceIdentity: newSourceIdentity,
        issuedAt,
        expiration: new Date(Math.floor(issuedAt.getTime() / 1000) * 1000 + duration * 1000),
        sessionPolicy: policyText === undefined ? undefined : parseIdentityPolicy(policyText),
      };
      sessions.add(session);
      return {
        Credentials: {
          AccessKeyId: session.accessKeyId,
          SecretAccessKey: session.secretAccessKey,
          SessionToken: session.sessionToken,
          Expiration: iso(session.expiration),
        },
        AssumedRoleUser: { AssumedRoleId: session.userId, Arn: session.assumedRoleArn },
        PackedPolicySize: packed,
        SourceIdentity: session.sourceIdentity,
      };
    },
  };
}
