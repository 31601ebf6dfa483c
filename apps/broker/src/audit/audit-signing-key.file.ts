import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * An Ed25519 audit signing key in `dir` (`audit-signing-key.pem`, 0600), made on first use, and its
 * public half beside it (`audit-signing-key.pub.pem`) for auditors and the offline verifier. For
 * the sandbox and tests; production keys are made and kept by the operator (docs/audit.md).
 */
export function ensureAuditSigningKey(dir: string): { keyFile: string; publicKeyFile: string } {
  const keyFile = join(dir, 'audit-signing-key.pem');
  const publicKeyFile = join(dir, 'audit-signing-key.pub.pem');
  if (!existsSync(keyFile)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  }
  const publicPem = createPublicKey(readFileSync(keyFile, 'utf8')).export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(publicKeyFile, publicPem, { mode: 0o644 });
  return { keyFile, publicKeyFile };
}
