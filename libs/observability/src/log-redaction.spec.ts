import { LogRedactor, REDACTED } from './log-redaction';

describe(LogRedactor.name, () => {
  describe('scrub', () => {
    it('should replace a registered secret wherever it appears, raw, JSON-escaped or percent-encoded', () => {
      const secret = 'p@ss"word\\with/odd chars';
      const r = new LogRedactor().add(secret);
      expect(r.scrub(`message ${secret} end`)).toBe(`message ${REDACTED} end`);
      expect(r.scrub(JSON.stringify({ msg: `failed: ${secret}` }))).toBe(JSON.stringify({ msg: `failed: ${REDACTED}` }));
      expect(r.scrub(`?q=${encodeURIComponent(secret)}&x=1`)).toBe(`?q=${REDACTED}&x=1`);
    });

    it('should replace the longer of two secrets whole when one contains the other', () => {
      const r = new LogRedactor().add('abcdefgh', 'abcdefgh-ijklmnop');
      expect(r.scrub('abcdefgh-ijklmnop')).toBe(REDACTED);
    });

    it('should ignore empty and very short values, which would blank ordinary words', () => {
      const r = new LogRedactor().add('', undefined, null, 'abc');
      expect(r.scrub('abc def')).toBe('abc def');
    });

    it('should take the password out of a URL, registered or not', () => {
      const r = new LogRedactor().addUrlPassword('postgres://jit:s3cr%40t-pw@db:5432/jit');
      expect(r.scrub('connect s3cr@t-pw failed')).toBe(`connect ${REDACTED} failed`);
      expect(r.scrub('to https://user:other-password@example.com/x')).toBe(`to https://user:${REDACTED}@example.com/x`);
    });

    it('should redact bearer tokens and credential-named fields in text and in JSON', () => {
      const r = new LogRedactor();
      expect(r.scrub('Authorization: Bearer eyJhbGciOi.x.y')).toBe(`Authorization: Bearer ${REDACTED}`);
      expect(r.scrub(JSON.stringify({ SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG', SessionToken: 'FwoGZXIvYXdzE' }))).toBe(
        JSON.stringify({ SecretAccessKey: REDACTED, SessionToken: REDACTED }),
      );
      expect(r.scrub(JSON.stringify({ msg: 'body {"client_secret":"abc123456"}' }))).toBe(JSON.stringify({ msg: `body {"client_secret":"${REDACTED}"}` }));
      expect(r.scrub('grant_type=x&client_secret=abc123456&scope=y')).toBe(`grant_type=x&client_secret=${REDACTED}&scope=y`);
    });

    it('should leave ordinary lines alone', () => {
      const line = JSON.stringify({ level: 'info', msg: 'POST /v1/grants 201', reqId: 'e2e-1', grantId: '0b1c', actor: 'dev', tokenSubject: 'x' });
      expect(new LogRedactor().add('some-long-secret').scrub(line)).toBe(line);
    });
  });
});
