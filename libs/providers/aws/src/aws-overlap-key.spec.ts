import { Principal, Target } from '@jit/domain';
import { AwsIamStsProvider } from './aws-iam-sts.provider';

// Overlap keys are stored on grant rows: a key written before an upgrade must equal the one
// computed after it, or overlapping grants would stop seeing each other.
describe(`${AwsIamStsProvider.name} overlapKey`, () => {
  const provider = new AwsIamStsProvider({
    region: 'us-east-1',
    iamEndpoint: 'http://127.0.0.1:9',
    stsEndpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'not-a-secret' },
  });
  const principal: Principal = { type: 'workload', id: 'arn:aws:iam::123456789012:role/ci-deployer' };

  it('should keep the exact text stored by earlier versions', () => {
    const target = { kind: 'aws.iam-policy', resources: ['arn:aws:s3:::b/*', 'arn:aws:s3:::a/*'], actions: ['s3:PutObject', 's3:GetObject'] } as Target;
    expect(provider.overlapKey(principal, target)).toBe(
      'aws.iam-policy|arn:aws:iam::123456789012:role/ci-deployer|{"actions":["s3:GetObject","s3:PutObject"],"resources":["arn:aws:s3:::a/*","arn:aws:s3:::b/*"]}',
    );
  });

  it('should not depend on the order of fields, of list items, or on absent fields', () => {
    const a = { kind: 'aws.iam-policy', actions: ['s3:GetObject', 's3:PutObject'], resources: ['arn:aws:s3:::a/*'], region: undefined } as unknown as Target;
    const b = { resources: ['arn:aws:s3:::a/*'], actions: ['s3:PutObject', 's3:GetObject'], kind: 'aws.iam-policy' } as Target;
    expect(provider.overlapKey(principal, a)).toBe(provider.overlapKey(principal, b));
  });

  it('should keep the text of a role target', () => {
    const target = { kind: 'aws.sts-credentials', roleArn: 'arn:aws:iam::123456789012:role/deploy' } as Target;
    expect(provider.overlapKey(principal, target)).toBe('aws.sts-credentials|arn:aws:iam::123456789012:role/ci-deployer|{"roleArn":"arn:aws:iam::123456789012:role/deploy"}');
  });
});
