import { DEFAULT_ACCOUNT_ID } from './iam.store';
import { StsSession } from './sts-session.store';

/** The identity long-term keys are taken to belong to: an IAM user in the default account. */
export const BROKER_IDENTITY = { arn: `arn:aws:iam::${DEFAULT_ACCOUNT_ID}:user/jit-broker`, userId: 'AIDAJITBROKERSIMULATOR', account: DEFAULT_ACCOUNT_ID };

/** Who signed the request: an STS session of this simulator, or the broker's long-term key. */
export interface Caller {
  accessKeyId: string;
  session?: StsSession;
}

/** The account a request acts in: IAM calls address entities by name within the caller's account. */
export function callerAccount(caller: Caller): string {
  return caller.session?.accountId ?? BROKER_IDENTITY.account;
}

/** The ARN STS reports for the caller (and names in `AccessDenied` messages). */
export function callerArn(caller: Caller): string {
  return caller.session?.assumedRoleArn ?? BROKER_IDENTITY.arn;
}
