import { awsProviderOptionsFromEnv } from './aws-provider.options';

describe('awsProviderOptionsFromEnv', () => {
  it('should read member accounts and the member role, defaulting to JitBrokerMember', () => {
    expect(awsProviderOptionsFromEnv({ AWS_JIT_MEMBER_ACCOUNTS: '111111111111, 222222222222' })).toMatchObject({
      memberAccounts: ['111111111111', '222222222222'],
      memberRoleName: 'JitBrokerMember',
    });
    expect(awsProviderOptionsFromEnv({ AWS_JIT_MEMBER_ROLE: 'jit/Broker' }).memberRoleName).toBe('jit/Broker');
    expect(awsProviderOptionsFromEnv({}).memberAccounts).toEqual([]);
  });

  it('should refuse at boot what is not an account id or a role name', () => {
    expect(() => awsProviderOptionsFromEnv({ AWS_JIT_MEMBER_ACCOUNTS: '11111111111' })).toThrow('AWS_JIT_MEMBER_ACCOUNTS');
    expect(() => awsProviderOptionsFromEnv({ AWS_JIT_MEMBER_ROLE: 'arn:aws:iam::1:role/x' })).toThrow('AWS_JIT_MEMBER_ROLE');
  });
});
