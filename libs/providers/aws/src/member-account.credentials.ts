import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { ProviderError } from '@jit/domain';
import { errorCode } from './aws-error.classifier';
import { CallRunner } from './inline-policy.client';

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/**
 * Renew this long before the member session expires: a call signed just before expiry may
 * still be in flight (timeouts, retries) when STS stops accepting the session.
 */
export const MEMBER_REFRESH_MARGIN_MS = 5 * 60_000;
/** A held session is still used when its renewal fails, while more than this is left of it (calls in flight). */
export const MEMBER_MIN_LEFT_MS = 60_000;
/** One hour: STS's default, the most a role-chained session may last, and within any role's MaxSessionDuration. */
export const MEMBER_SESSION_SECONDS = 3_600;
/** The broker's session name in member accounts, as CloudTrail shows it there. */
export const MEMBER_SESSION_NAME = 'jit-broker';

/**
 * The broker's credentials in one member account: `AssumeRole` of the member role with the
 * broker's own credentials, cached and renewed `MEMBER_REFRESH_MARGIN_MS` before expiry; one
 * renewal at a time. (`@aws-sdk/credential-providers`' `fromTemporaryCredentials` does the same
 * but is not a dependency of this repository.) No `SourceIdentity` is set, so the member session
 * can still set the grant's on the sessions it vends.
 */
export class MemberAccountCredentials {
  private current: TemporaryCredentials | undefined;
  private renewing: Promise<TemporaryCredentials> | undefined;

  constructor(
    readonly roleArn: string,
    private readonly sts: STSClient,
    private readonly run: CallRunner,
    private readonly now: () => Date,
  ) {}

  /** An `AwsCredentialIdentityProvider` for the member account's SDK clients. */
  readonly provide = (): Promise<TemporaryCredentials> => {
    if (this.current && this.current.expiration.getTime() - this.now().getTime() > MEMBER_REFRESH_MARGIN_MS) {
      return Promise.resolve(this.current);
    }
    this.renewing ??= this.assume().finally(() => (this.renewing = undefined));
    // A renewal that fails inside the margin falls back on the session still held while it lasts.
    const held = this.current;
    return this.renewing.catch((e: unknown) => {
      if (held && held.expiration.getTime() - this.now().getTime() > MEMBER_MIN_LEFT_MS) return held;
      throw e;
    });
  };

  private async assume(): Promise<TemporaryCredentials> {
    const out = await this.run('AssumeRole', (abortSignal) =>
      this.sts.send(new AssumeRoleCommand({ RoleArn: this.roleArn, RoleSessionName: MEMBER_SESSION_NAME, DurationSeconds: MEMBER_SESSION_SECONDS }), { abortSignal }),
    ).catch((e: unknown) => {
      if (e instanceof ProviderError && errorCode(e.options.cause) === 'AccessDenied') {
        throw new ProviderError(
          'terminal',
          `the broker may not assume its member role ${this.roleArn}: that role's trust policy must name the broker (docs/providers/aws.md, "Member accounts")`,
          { code: 'AccessDenied', cause: e },
        );
      }
      throw e;
    });
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new ProviderError('terminal', `AssumeRole of ${this.roleArn} answered without credentials`);
    }
    this.current = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
    return this.current;
  }
}
