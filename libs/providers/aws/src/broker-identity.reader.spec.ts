import { parseIdentity } from './broker-identity.reader';

describe('parseIdentity', () => {
  it('should recognise role sessions, whatever issued them, and nothing else', () => {
    expect(parseIdentity('arn:aws:sts::123456789012:assumed-role/jit-broker/i-0abc', '123456789012')).toMatchObject({ roleSession: true, partition: 'aws' });
    expect(parseIdentity('arn:aws-cn:sts::123456789012:assumed-role/AWSReservedSSO_Admin_1/alice', '123456789012')).toMatchObject({ roleSession: true, partition: 'aws-cn' });
    expect(parseIdentity('arn:aws:iam::123456789012:user/jit-broker', '123456789012')).toMatchObject({ roleSession: false });
    expect(parseIdentity('arn:aws:sts::123456789012:federated-user/bob', '123456789012')).toMatchObject({ roleSession: false });
  });
});
