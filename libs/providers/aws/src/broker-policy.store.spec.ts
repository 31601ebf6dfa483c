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

describe('BrokerPolicyStore and statements it did not write', () => {
  it('should drop a planted statement (even one with a copied broker Sid) on its next write, and say so without the statement body', async () => {
    const planted = [
      { Sid: 'Planted', Effect: 'Allow', Action: '*', Resource: '*' },
      { Sid: 'Jit0123456789abcdef0123456789abcdef', Effect: 'Allow', Action: 'iam:*', Resource: '*' },
    ];
    const written: string[] = [];
    const iam = {
      listNames: async () => [BROKER_POLICY_NAME],
      get: async () => written.at(-1) ?? JSON.stringify({ Version: '2012-10-17', Statement: planted }),
      put: async (_e: unknown, _n: string, text: string) => void written.push(text),
      delete: async () => undefined,
    };
    const warnings: string[] = [];
    const store = new BrokerPolicyStore(iam as unknown as InlinePolicyClient, () => new Date(), () => undefined, (m) => warnings.push(m));
    const mine = { ...statement, Sid: 'Jitfedcba9876543210fedcba9876543210', Condition: { DateLessThan: { 'aws:CurrentTime': '2099-01-01T00:00:00Z' } } };
    await store.add(role, mine, 'target.role');
    expect((JSON.parse(written[0]) as { Statement: unknown[] }).Statement).toEqual([mine]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"Planted"');
    expect(warnings[0]).not.toContain('iam:*');
  });
});
