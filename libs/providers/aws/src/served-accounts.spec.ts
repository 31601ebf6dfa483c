import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { ProviderError } from '@jit/domain';
import { BrokerIdentityReader, parseIdentity } from './broker-identity.reader';
import { ServedAccounts } from './served-accounts';

describe(ServedAccounts.name, () => {
  const ownIam = new IAMClient({ region: 'us-east-1' });
  const make = (known: boolean) => {
    const identity = { known: () => (known ? parseIdentity('arn:aws:iam::123456789012:user/jit-broker', '123456789012') : undefined) } as unknown as BrokerIdentityReader;
    return new ServedAccounts({ memberAccounts: ['111111111111'], memberRoleName: 'JitBrokerMember', iamConfig: { region: 'us-east-1' } }, identity, ownIam, {} as STSClient, (_o, call) => call(new AbortController().signal), () => new Date());
  };

  describe('iamFor', () => {
    it('should give the broker its own client only for its own account, and a member client for a member', () => {
      const accounts = make(true);
      expect(accounts.iamFor('123456789012')).toBe(ownIam);
      const member = accounts.iamFor('111111111111');
      expect(member).not.toBe(ownIam);
      expect(accounts.iamFor('111111111111')).toBe(member);
    });

    it('should fail closed for an account it does not serve, and for a member while its own identity is unknown', () => {
      expect(() => make(true).iamFor('222222222222')).toThrow(ProviderError);
      expect(() => make(true).iamFor('222222222222')).toThrow('not served');
      expect(() => make(false).iamFor('111111111111')).toThrow('not known yet');
      expect(() => make(false).iamFor('123456789012')).toThrow(ProviderError);
    });
  });
});
