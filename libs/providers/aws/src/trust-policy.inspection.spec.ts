import { trustPolicyCanAllow } from './trust-policy.inspection';

const trust = (...statements: object[]) => ({ Version: '2012-10-17', Statement: statements });
const broker = { AWS: 'arn:aws:iam::123456789012:role/jit-broker' };

describe('trustPolicyCanAllow', () => {
  it('should find sts:SetSourceIdentity named, wildcarded or left out of a NotAction', () => {
    expect(trustPolicyCanAllow(trust({ Effect: 'Allow', Principal: broker, Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'] }), 'sts:SetSourceIdentity')).toBe(true);
    expect(trustPolicyCanAllow(trust({ Effect: 'Allow', Principal: broker, Action: 'sts:*' }), 'sts:SetSourceIdentity')).toBe(true);
    expect(trustPolicyCanAllow(trust({ Effect: 'Allow', Principal: broker, Action: 'STS:setsource*' }), 'sts:SetSourceIdentity')).toBe(true);
    expect(trustPolicyCanAllow(trust({ Effect: 'Allow', Principal: broker, NotAction: 'sts:TagSession' }), 'sts:SetSourceIdentity')).toBe(true);
  });

  it('should report a trust policy that allows only sts:AssumeRole', () => {
    expect(trustPolicyCanAllow(trust({ Effect: 'Allow', Principal: broker, Action: 'sts:AssumeRole' }), 'sts:SetSourceIdentity')).toBe(false);
    expect(trustPolicyCanAllow(trust({ Effect: 'Deny', Principal: broker, Action: 'sts:*' }), 'sts:SetSourceIdentity')).toBe(false);
    expect(trustPolicyCanAllow(trust({ Effect: 'Allow', Principal: broker, NotAction: 'sts:Set*' }), 'sts:SetSourceIdentity')).toBe(false);
  });

  it('should leave an unreadable trust policy to STS', () => {
    expect(trustPolicyCanAllow(undefined, 'sts:SetSourceIdentity')).toBe(true);
  });
});
