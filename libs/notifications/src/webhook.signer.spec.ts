import { signWebhook, verifyWebhookSignature } from './webhook.signer';

const SECRET = 'whsec-0123456789abcdef';
const BODY = '{"id":"9d7c1f7e","type":"grant.granted"}';
const NOW = 1_900_000_000;

describe('verifyWebhookSignature', () => {
  const header = signWebhook(SECRET, BODY, NOW);

  it('should produce t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">', () => {
    // printf '%s' '1900000000.<body>' | openssl dgst -sha256 -hmac <secret>
    expect(header).toBe('t=1900000000,v1=bd912231c227485d4c3c6a235e4eaa178574d96c7c9b4dca1c443edfa96a0fe0');
  });

  it('should accept the untouched body within the tolerance', () => {
    expect(verifyWebhookSignature(SECRET, header, BODY, NOW + 299, 300)).toBe(true);
  });

  it('should reject a tampered body', () => {
    expect(verifyWebhookSignature(SECRET, header, BODY.replace('granted', 'revoked'), NOW, 300)).toBe(false);
  });

  it('should reject another secret', () => {
    expect(verifyWebhookSignature('whsec-another-secret-000', header, BODY, NOW, 300)).toBe(false);
  });

  it('should reject a stale or future timestamp (replay)', () => {
    expect(verifyWebhookSignature(SECRET, header, BODY, NOW + 301, 300)).toBe(false);
    expect(verifyWebhookSignature(SECRET, header, BODY, NOW - 301, 300)).toBe(false);
  });

  it('should reject a signature moved to another timestamp', () => {
    const v1 = header.split('v1=')[1];
    expect(verifyWebhookSignature(SECRET, `t=${NOW + 10},v1=${v1}`, BODY, NOW + 10, 300)).toBe(false);
  });

  it('should reject missing or malformed headers', () => {
    for (const h of [undefined, '', 'v1=abc', `t=${NOW}`, `t=${NOW},v1=zz`, 'garbage']) {
      expect(verifyWebhookSignature(SECRET, h, BODY, NOW, 300)).toBe(false);
    }
  });

  it('should accept any matching v1 entry, for secret rotation', () => {
    const old = signWebhook('whsec-old-secret-0000000', BODY, NOW).split(',')[1];
    expect(verifyWebhookSignature(SECRET, `${header},${old}`, BODY, NOW, 300)).toBe(true);
    expect(verifyWebhookSignature(SECRET, `t=${NOW},${old}`, BODY, NOW, 300)).toBe(false);
  });
});
