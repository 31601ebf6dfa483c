import { ProviderError } from '@jit/domain';
import { BROKER_POLICY_NAME } from './aws-artifact.naming';
import { BrokerPolicyStore } from './broker-policy.store';
import { IamEntity } from './iam-entity';
import { InlinePolicyClient } from './inline-policy.client';

const role: IamEntity = { kind: 'role', name: 'app', arn: 'arn:aws:iam::111122223333:role/app', account: '111122223333', partition: 'aws' };
const statement = { Sid: 'JitGrant1', Effect: 'Allow' as const, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };

/** IAM as another replica keeps it: every write the store makes is overwritten before its read-back. */
class LosingIam {
  puts = 0;
  onPut: () => void = () => undefined;
  listNames = async () => [BROKER_POLICY_NAME];
  get = async () => JSON.stringify({ Version: '2012-10-17', Statement: [] });
  put = async () => {
    this.puts++;
    this.onPut();
  };
  delete = async () => undefined;
}

describe('BrokerPolicyStore contention', () => {
  it('should redo a lost write with pauses and give up transient after its rounds', async () => {
    const iam = new LosingIam();
    const store = new BrokerPolicyStore(iam as unknown as InlinePolicyClient, () => new Date());
    const error = await store.add(role, statement, 'target.role').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toBe('transient');
    expect((error as ProviderError).options.code).toBe('ConcurrentModification');
    expect(iam.puts).toBe(6);
  });

  it("should end a contention pause with the caller's AbortError when the call is cancelled", async () => {
    const iam = new LosingIam();
    const caller = new AbortController();
    iam.onPut = () => caller.abort(); // cancelled right after the first (lost) write
    const store = new BrokerPolicyStore(iam as unknown as InlinePolicyClient, () => new Date(), () => caller.signal);
    const error = await store.add(role, statement, 'target.role').catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    expect(iam.puts).toBe(1);
  });
});
