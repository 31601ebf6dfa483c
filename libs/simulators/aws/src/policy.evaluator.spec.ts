import { evaluate, wildcardMatch } from './policy.evaluator';
import { parseIdentityPolicy } from './policy-document.validator';

const ctx = (at: string, extra: Record<string, string> = {}) => ({ 'aws:currenttime': at, ...extra });

describe('evaluate', () => {
  const policy = parseIdentityPolicy(JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 's3:Get*', Resource: 'arn:aws:s3:::data/*', Condition: { DateLessThan: { 'aws:CurrentTime': '2026-05-01T12:00:00Z' } } },
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { StringEquals: { 'aws:SourceIdentity': 'jit-1' } } },
    ],
  }));

  it('should allow before the deadline and not at it', () => {
    expect(evaluate([policy], 's3:GetObject', 'arn:aws:s3:::data/k', ctx('2026-05-01T11:59:59Z'))).toBe('allow');
    expect(evaluate([policy], 's3:GetObject', 'arn:aws:s3:::data/k', ctx('2026-05-01T12:00:00Z'))).toBe('implicit-deny');
  });

  it('should let an explicit deny win over an allow', () => {
    expect(evaluate([policy], 's3:GetObject', 'arn:aws:s3:::data/k', ctx('2026-05-01T11:00:00Z', { 'aws:sourceidentity': 'jit-1' }))).toBe('deny');
  });

  it('should not apply a condition whose key is absent from the request', () => {
    expect(evaluate([policy], 's3:GetObject', 'arn:aws:s3:::data/k', {})).toBe('implicit-deny');
  });

  it('should match actions case-insensitively and resources case-sensitively', () => {
    expect(wildcardMatch('s3:Get*', 'S3:GETOBJECT', true)).toBe(true);
    expect(wildcardMatch('arn:aws:s3:::data/*', 'arn:aws:s3:::DATA/k', false)).toBe(false);
    expect(wildcardMatch('arn:aws:s3:::d?ta/*', 'arn:aws:s3:::data/k', false)).toBe(true);
  });
});

describe('parseIdentityPolicy', () => {
  it.each([
    ['{', 'Syntax errors'],
    ['{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Principal":"*"}]}', 'should not specify a principal'],
    ['{"Statement":[{"Sid":"a-b","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}', 'alpha-numeric'],
    ['{"Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}', 'prefaced by a vendor'],
    ['{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateLessThanish":{"aws:CurrentTime":"x"}}}]}', 'Invalid Condition type'],
    ['{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}]}', 'date'],
  ])('should reject %s as MalformedPolicyDocument', (text, message) => {
    expect(() => parseIdentityPolicy(text)).toThrow(expect.objectContaining({ code: 'MalformedPolicyDocument', message: expect.stringContaining(message) }));
  });
});
