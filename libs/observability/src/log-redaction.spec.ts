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

    describe('credential names (review finding 5)', () => {
      const r = new LogRedactor();
      it.each([
        ['a bare token parameter', 'GET /x?token=abcdef123&y=1', `GET /x?token=${REDACTED}&y=1`],
        ['an environment variable with a prefix', 'JIT_WEBHOOK_SECRET=whs_0123456789 started', `JIT_WEBHOOK_SECRET=${REDACTED} started`],
        ['a camelCase JSON field', '{"webhookSecret":"whs_0123456789"}', `{"webhookSecret":"${REDACTED}"}`],
        ['a snake_case token field', 'hec_token: 1234-5678-abcd', `hec_token: ${REDACTED}`],
        ['an API key header', 'X-Api-Key: k3y-value-1234', `X-Api-Key: ${REDACTED}`],
        ['an api_key parameter', 'api_key=k3y-value-1234', `api_key=${REDACTED}`],
        ['a JSON-escaped field inside a message', '{"msg":"body {\\"id_token\\":\\"eyJabc.def\\"}"}', `{"msg":"body {\\"id_token\\":\\"${REDACTED}\\"}"}`],
        ['Authorization with the Token scheme', 'Authorization: Token 0123456789abcdef', `Authorization: Token ${REDACTED}`],
        ['Authorization with no scheme', 'authorization=0123456789abcdef', `authorization=${REDACTED}`],
        ['a JSON Authorization header', '{"authorization":"Bearer eyJhbGciOi.x.y"}', `{"authorization":"Bearer ${REDACTED}"}`],
      ])('should redact %s', (_what, line, expected) => {
        expect(r.scrub(line)).toBe(expected);
      });

      it('should leave JSON literals so a line stays valid JSON', () => {
        const line = JSON.stringify({ token: null, webhookSecret: false });
        expect(r.scrub(line)).toBe(line);
      });

      it('should leave names that only start with a credential word', () => {
        const line = 'tokenSubject=dev secretsManagerRegion=eu-west-1 passwordPolicy: strict';
        expect(r.scrub(line)).toBe(line);
      });
    });

    describe('PEM blocks', () => {
      const body = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7';
      const pem = `-----BEGIN PRIVATE KEY-----\n${body}\n${body}\n-----END PRIVATE KEY-----`;

      it('should redact the whole block, body included, in text', () => {
        const out = new LogRedactor().scrub(`loaded key ${pem} from file`);
        expect(out).toBe(`loaded key ${REDACTED} from file`);
      });

      it('should redact the whole block when JSON-escaped in a log line', () => {
        const out = new LogRedactor().scrub(JSON.stringify({ msg: 'bad key', privateKey: pem, level: 30 }));
        expect(out).not.toContain(body);
        expect(JSON.parse(out)).toEqual({ msg: 'bad key', privateKey: REDACTED, level: 30 });
      });

      it('should redact to the end of the line when the END line is missing', () => {
        const out = new LogRedactor().scrub(`-----BEGIN EC PRIVATE KEY-----\n${body} truncated`);
        expect(out).toBe(REDACTED);
      });
    });

    it('should leave ordinary lines alone', () => {
      const line = JSON.stringify({ level: 'info', msg: 'POST /v1/grants 201', reqId: 'e2e-1', grantId: '0b1c', actor: 'dev', tokenSubject: 'x' });
      expect(new LogRedactor().add('some-long-secret').scrub(line)).toBe(line);
    });
  });
});
