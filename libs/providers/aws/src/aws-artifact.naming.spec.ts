import { denySid, grantIdFromSid, grantSid, isBrokerSid, sessionName } from './aws-artifact.naming';

describe('aws artifact naming', () => {
  const id = '3f2a9c1e-0b4d-4e6f-8a7b-1c2d3e4f5a6b';

  it('should derive alphanumeric Sids from a grant id and read the id back', () => {
    expect(grantSid(id)).toBe('Jit3f2a9c1e0b4d4e6f8a7b1c2d3e4f5a6b');
    expect(grantIdFromSid(grantSid(id))).toBe(id);
    expect(grantIdFromSid(denySid(id))).toBe(id);
    expect(grantIdFromSid(grantSid('abc123'))).toBe('abc123');
  });

  it('should hash ids that cannot appear in a Sid and report them as unparseable', () => {
    const sid = grantSid('grant/with:odd chars');
    expect(sid).toMatch(/^JitH[0-9a-f]{32}$/);
    expect(grantIdFromSid(sid)).toBeNull();
  });

  it('should recognise only broker Sids', () => {
    expect(isBrokerSid(grantSid(id))).toBe(true);
    expect(isBrokerSid('CustomerStatement')).toBe(false);
    expect(isBrokerSid(undefined)).toBe(false);
  });

  it('should make session names that satisfy RoleSessionName and SourceIdentity (2-64, [\\w+=,.@-])', () => {
    for (const grantId of [id, 'x', 'a'.repeat(200), 'spaces and/slashes']) {
      expect(sessionName(grantId)).toMatch(/^[\w+=,.@-]{2,64}$/);
    }
  });
});
