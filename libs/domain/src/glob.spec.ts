import { globCovers, globsOverlap } from './glob';

describe('globCovers', () => {
  it.each([
    ['s3:Get*', 's3:GetObject', true],
    ['s3:Get*', 's3:PutObject', false],
    ['s3:*', 's3:Get*', true],
    ['s3:Get*', 's3:*', false],
    ['s3:Get*', 's3:Get*', true],
    ['a?c', 'a*c', false],
    ['a?c', 'a?c', true],
    ['a*c', 'a?c', true],
    ['arn:aws:s3:::artifacts/*', 'arn:aws:s3:::artifacts/builds/1.zip', true],
    ['arn:aws:s3:::artifacts/*', 'arn:aws:s3:::artifacts-evil/x', false],
    ['arn:aws:s3:::artifacts/*', 'arn:aws:s3:::*', false],
    ['*', '*', true],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
  ])('should decide %s covers %s: %s', (p, v, expected) => {
    expect(globCovers(p, v)).toBe(expected);
  });

  it('should match case-insensitively when asked (IAM actions)', () => {
    expect(globCovers('S3:getobject', 's3:GetObject', true)).toBe(true);
    expect(globCovers('S3:getobject', 's3:GetObject')).toBe(false);
  });
});

describe('globsOverlap', () => {
  it.each([
    ['iam:*', 'iam:PassRole', true],
    ['iam:PassRole', '*', true],
    ['iam:Pass*', 'iam:*Role', true],
    ['s3:Get*', 's3:Put*', false],
    ['a?c', 'abc', true],
    ['a?c', 'abbc', false],
    ['*x', 'y*', true],
    ['ab', 'ab*', true],
    ['abc', 'abd', false],
  ])('should decide %s and %s overlap: %s', (a, b, expected) => {
    expect(globsOverlap(a, b)).toBe(expected);
    expect(globsOverlap(b, a)).toBe(expected);
  });
});
