import { ProviderError } from '@jit/domain';
import { parseLocator } from './standing-assignment.writer';
import { allowedActions, decodePolicy, externalTrust, reachesService, roleIsHuman } from './standing-policy';

const doc = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });

describe('standing-policy', () => {
  describe('allowedActions', () => {
    it('should take Action and NotAction of Allow statements only, a single statement object included', () => {
      const text = doc(
        { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: '*' },
        { Effect: 'Deny', Action: 'iam:*', Resource: '*' },
        { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' },
      );
      expect(allowedActions(text)).toEqual({ actions: ['s3:GetObject', 's3:PutObject'], notActions: ['iam:*'] });
      expect(allowedActions(JSON.stringify({ Statement: { Effect: 'Allow', Action: '*', Resource: '*' } }))).toEqual({ actions: ['*'], notActions: [] });
    });

    it('should read the URL-encoded form IAM returns', () => {
      const text = doc({ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' });
      expect(decodePolicy(encodeURIComponent(text))).toBe(text);
      expect(allowedActions(encodeURIComponent(text)).actions).toEqual(['ec2:Describe*']);
    });
  });

  describe('reachesService', () => {
    it('should match services by the action prefix, wildcards included', () => {
      expect(reachesService({ actions: ['s3:Get*'], notActions: [] }, 's3')).toBe(true);
      expect(reachesService({ actions: ['s3:Get*'], notActions: [] }, 'ec2')).toBe(false);
      expect(reachesService({ actions: ['*'], notActions: [] }, 'kms')).toBe(true);
      expect(reachesService({ actions: ['cloud*:List*'], notActions: [] }, 'cloudtrail')).toBe(true);
    });

    it('should treat NotAction as everything but the services it excludes whole', () => {
      const power = { actions: [], notActions: ['iam:*', 'organizations:*'] };
      expect(reachesService(power, 'ec2')).toBe(true);
      expect(reachesService(power, 'iam')).toBe(false);
      expect(reachesService({ actions: [], notActions: ['iam:CreateUser'] }, 'iam')).toBe(true);
    });
  });

  describe('roleIsHuman', () => {
    const trust = (principal: object, action = 'sts:AssumeRole') => doc({ Effect: 'Allow', Principal: principal, Action: action });
    it('should count Identity Center and SAML roles as people', () => {
      expect(roleIsHuman({ name: 'AWSReservedSSO_Admin_0123', path: '/aws-reserved/sso.amazonaws.com/' }, undefined)).toBe(true);
      expect(roleIsHuman({ name: 'okta-admin', path: '/' }, trust({ Federated: 'arn:aws:iam::123456789012:saml-provider/Okta' }, 'sts:AssumeRoleWithSAML'))).toBe(true);
    });

    it('should count service and web-identity roles as workloads, and leave roles other principals assume undecided', () => {
      expect(roleIsHuman({ name: 'lambda', path: '/' }, trust({ Service: 'lambda.amazonaws.com' }))).toBe(false);
      expect(roleIsHuman({ name: 'gha', path: '/' }, trust({ Federated: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com' }, 'sts:AssumeRoleWithWebIdentity'))).toBe(false);
      expect(roleIsHuman({ name: 'AWSServiceRoleForSupport', path: '/aws-service-role/support.amazonaws.com/' }, undefined)).toBe(false);
      expect(roleIsHuman({ name: 'cross', path: '/' }, trust({ AWS: 'arn:aws:iam::210987654321:root' }))).toBeNull();
      expect(roleIsHuman({ name: 'broken', path: '/' }, '{not json')).toBeNull();
    });
  });

  describe('externalTrust', () => {
    const trust = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
    it('should name principals outside the account and anyone, and leave out the account itself and services', () => {
      const policy = trust(
        { Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::123456789012:root', '999999999999', 'arn:aws:iam::222222222222:role/ci'] }, Action: 'sts:AssumeRole' },
        { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        { Effect: 'Deny', Principal: { AWS: '333333333333' }, Action: 'sts:AssumeRole' },
      );
      expect(externalTrust(policy, '123456789012')).toEqual(['999999999999', 'arn:aws:iam::222222222222:role/ci']);
      expect(externalTrust(trust({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }), '123456789012')).toEqual(['*']);
      expect(externalTrust(trust({ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' }), '123456789012')).toEqual(['*']);
      expect(externalTrust(encodeURIComponent(trust({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:user/me' }, Action: 'sts:AssumeRole' })), '123456789012')).toEqual([]);
      expect(externalTrust(undefined, '123456789012')).toEqual([]);
    });
  });

  describe('parseLocator', () => {
    it('should accept what the inventory writes and refuse anything else naming the locator', () => {
      const ids = { userId: 'AIDAEXAMPLE0000000001', groupId: 'AGPAEXAMPLE0000000001' };
      expect(parseLocator({ mechanism: 'membership', account: '123456789012', userName: 'bob', groupName: 'Admins', ...ids })).toMatchObject({ mechanism: 'membership' });
      // Without the ids the scan read, remove and restore could act on a principal recreated under the name.
      expect(() => parseLocator({ mechanism: 'membership', account: '123456789012', userName: 'bob', groupName: 'Admins' })).toThrow(ProviderError);
      expect(() => parseLocator({ mechanism: 'managed', account: '123456789012', principalKind: 'user', principalName: 'bob', policyArn: 'arn:aws:s3:::x' })).toThrow(ProviderError);
      expect(() => parseLocator({ principalArn: 'arn:aws:iam::123456789012:role/x', sid: 'Jit1' })).toThrow(expect.objectContaining({ kind: 'invalid', options: expect.objectContaining({ field: 'locator' }) }));
    });
  });
});
