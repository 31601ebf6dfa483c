import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CallRunner } from './inline-policy.client';

/** Who the broker's own credentials are, from `GetCallerIdentity`. */
export interface BrokerIdentity {
  arn: string;
  account: string;
  /** `aws`, `aws-cn`, `aws-us-gov`: ARNs the broker acts on must be in it. */
  partition: string;
  /**
   * True for an assumed-role session (web identity, ECS task role, instance profile, SSO):
   * every `AssumeRole` it makes is role chaining, which STS caps at one hour.
   */
  roleSession: boolean;
}

/** STS's cap on a session obtained by role chaining (cloud-apis.md B2). */
export const ROLE_CHAINING_MAX_SECONDS = 3_600;

export function parseIdentity(arn: string, account: string): BrokerIdentity {
  const m = /^arn:(aws[\w-]*):(iam|sts)::\d{12}:(.*)$/.exec(arn);
  return { arn, account, partition: m?.[1] ?? 'aws', roleSession: m?.[2] === 'sts' && (m[3] ?? '').startsWith('assumed-role/') };
}

/**
 * Reads the broker's identity once (the first successful `GetCallerIdentity`) and remembers it:
 * the credentials may be refreshed, but they stay the same principal for the life of the process.
 */
export class BrokerIdentityReader {
  private value: BrokerIdentity | undefined;
  private inflight: Promise<BrokerIdentity> | undefined;

  constructor(
    private readonly sts: STSClient,
    private readonly run: CallRunner,
  ) {}

  /** The identity if already read; synchronous callers (validate) check only what is known. */
  known(): BrokerIdentity | undefined {
    return this.value;
  }

  get(): Promise<BrokerIdentity> {
    if (this.value) return Promise.resolve(this.value);
    this.inflight ??= this.read().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** Calls `GetCallerIdentity` now (the health check) and remembers the answer. */
  async read(): Promise<BrokerIdentity> {
    const out = await this.run('GetCallerIdentity', (abortSignal) => this.sts.send(new GetCallerIdentityCommand({}), { abortSignal }));
    if (!out.Arn || !out.Account) throw new Error('GetCallerIdentity answered without Arn or Account');
    this.value = parseIdentity(out.Arn, out.Account);
    return this.value;
  }
}
