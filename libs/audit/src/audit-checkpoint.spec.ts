import { generateKeyPairSync } from 'node:crypto';
import { CheckpointKeyring, CheckpointSigner, checkpointFromJson, checkpointToJson } from './audit-checkpoint';

const ed25519 = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const HASH = 'a'.repeat(64);

describe(CheckpointSigner.name, () => {
  const signer = CheckpointSigner.fromPem(ed25519(), 'key.pem');
  const keyring = new CheckpointKeyring([signer.publicKeyPem]);
  const checkpoint = signer.sign(42, HASH, new Date('2026-12-05T00:00:00.000Z'));

  it('should sign a checkpoint that the keyring verifies, and that survives a JSON round trip', () => {
    expect(keyring.check(checkpoint)).toBeNull();
    expect(keyring.check(checkpointFromJson(JSON.parse(JSON.stringify(checkpointToJson(checkpoint)))))).toBeNull();
  });

  it.each([
    ['seq', { seq: 43 }],
    ['hash', { hash: 'b'.repeat(64) }],
    ['signedAt', { signedAt: new Date('2026-12-05T00:00:01.000Z') }],
  ])('should fail the signature when %s is changed', (_field, change) => {
    expect(keyring.check({ ...checkpoint, ...change })).toMatch(/does not verify/);
  });

  it('should name an unknown key, and accept it once its public key is trusted (a retired key)', () => {
    const other = CheckpointSigner.fromPem(ed25519(), 'old.pem');
    const old = other.sign(1, HASH, new Date());
    expect(keyring.check(old)).toMatch(/unknown key/);
    expect(new CheckpointKeyring([signer.publicKeyPem, other.publicKeyPem]).check(old)).toBeNull();
  });

  it('should refuse a key that is not Ed25519, or not a key, naming the file only', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => CheckpointSigner.fromPem(rsa, '/etc/jit/k.pem')).toThrow('/etc/jit/k.pem: the audit signing key must be Ed25519, not rsa');
    expect(() => CheckpointSigner.fromPem('secret-ish text', '/etc/jit/k.pem')).toThrow(/^\/etc\/jit\/k\.pem: not a PEM private key/);
  });

  it.each([
    ['seq', { seq: 0 }],
    ['hash', { hash: 'XYZ' }],
    ['signedAt', { signedAt: 'yesterday' }],
    ['keyId', { keyId: 12 }],
    ['signature', { signature: 'not base64url!' }],
  ])('should refuse a checkpoint with a bad %s when read from JSON', (field, change) => {
    expect(() => checkpointFromJson({ ...checkpointToJson(checkpoint), ...change })).toThrow(new RegExp(`^${field}:`));
  });
});
