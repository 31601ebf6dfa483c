import { IAMClient, IAMClientConfig } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { ProviderError } from '@jit/domain';
import { BrokerIdentity, BrokerIdentityReader } from './broker-identity.reader';
import { CallRunner } from './inline-policy.client';
import { MemberAccountCredentials } from './member-account.credentials';

export interface ServedAccountsOptions {
  memberAccounts: readonly string[];
  memberRoleName: string;
  /** The IAM client options for member accounts, credentials aside (region, endpoint, attempts). */
  iamConfig: IAMClientConfig;
}

/**
 * The accounts the broker acts in: its own (from `GetCallerIdentity`) with its own credentials,
 * and each configured member account through the member role. An ARN in any other account, or
 * in another partition, is refused naming the field, never acted on in the wrong account.
 */
export class ServedAccounts {
  private readonly members = new Map<string, { credentials?: MemberAccountCredentials; iam?: IAMClient }>();

  constructor(
    private readonly options: ServedAccountsOptions,
    private readonly identity: BrokerIdentityReader,
    private readonly ownIam: IAMClient,
    private readonly sts: STSClient,
    private readonly run: CallRunner,
    private readonly now: () => Date,
  ) {
    for (const account of options.memberAccounts) this.members.set(account, {});
  }

  /**
   * Refuses an ARN outside the served accounts as far as is known now: before the broker's
   * identity has been read, only member accounts can be confirmed and the rest is left to `check`.
   */
  checkKnown(arn: string, account: string, partition: string, field: string): void {
    const me = this.identity.known();
    if (me) this.refuseUnserved(me, arn, account, partition, field);
  }

  /** Refuses an ARN outside the served accounts (reads the broker's identity once). */
  async check(arn: string, account: string, partition: string, field: string): Promise<void> {
    this.refuseUnserved(await this.identity.get(), arn, account, partition, field);
  }

  /** Every served account, the broker's own first. */
  async all(): Promise<string[]> {
    const me = await this.identity.get();
    return [me.account, ...[...this.members.keys()].filter((a) => a !== me.account)];
  }

  /**
   * The IAM client for an account `check` has accepted. Fails closed: an account that is neither
   * the broker's own (once known) nor a member never gets the broker's own client.
   */
  iamFor(account: string): IAMClient {
    const me = this.identity.known();
    if (me?.account === account) return this.ownIam;
    const member = this.members.get(account);
    if (!member) throw new ProviderError('invalid', `AWS account ${account} is not served by this broker`, { code: 'UnservedAccount' });
    if (!me) throw new ProviderError('transient', "the broker's own AWS identity is not known yet (GetCallerIdentity)", { code: 'IdentityUnknown' });
    if (!member.iam) {
      member.credentials = new MemberAccountCredentials(
        `arn:${me.partition}:iam::${account}:role/${this.options.memberRoleName}`,
        this.sts,
        this.run,
        this.now,
      );
      member.iam = new IAMClient({ ...this.options.iamConfig, credentials: member.credentials.provide });
    }
    return member.iam;
  }

  private refuseUnserved(me: BrokerIdentity, arn: string, account: string, partition: string, field: string): void {
    if (partition !== me.partition) {
      throw new ProviderError('invalid', `${arn} is in partition ${partition}; the broker runs in ${me.partition}`, { field, code: 'UnservedAccount' });
    }
    if (account === me.account || this.members.has(account)) return;
    const members = [...this.members.keys()].filter((a) => a !== me.account);
    throw new ProviderError(
      'invalid',
      `${arn} is in AWS account ${account}, which this broker does not serve: it serves its own account ${me.account}` +
        (members.length ? ` and the member accounts ${members.join(', ')}` : ' and no member accounts') +
        ' (JIT_AWS_MEMBER_ACCOUNTS)',
      { field, code: 'UnservedAccount' },
    );
  }
}
