import { KeyObject, createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import canonicalize from 'canonicalize';
import { AuditCheckpoint } from '@jit/domain';

/** What a checkpoint signature covers: RFC 8785 JSON of these fields, UTF-8. */
function statement(c: Pick<AuditCheckpoint, 'seq' | 'hash' | 'signedAt' | 'keyId'>): Buffer {
  return Buffer.from(
    canonicalize({ type: 'jit-broker.audit-checkpoint.v1', seq: c.seq, hash: c.hash, signedAt: c.signedAt.toISOString(), keyId: c.keyId })!,
    'utf8',
  );
}

/** SHA-256 of the public key's SubjectPublicKeyInfo (DER), hex: names a key without revealing anything. */
export function checkpointKeyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** Signs checkpoints with an Ed25519 private key (PKCS#8 PEM) that is kept outside the database. */
export class CheckpointSigner {
  readonly keyId: string;
  readonly publicKeyPem: string;

  private constructor(private readonly key: KeyObject) {
    const publicKey = createPublicKey(key);
    this.keyId = checkpointKeyId(publicKey);
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** `source` names the key in errors (a file path), never its content. */
  static fromPem(pem: string, source: string): CheckpointSigner {
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch {
      throw new Error(`${source}: not a PEM private key (generate one with: openssl genpkey -algorithm ed25519 -out ${source})`);
    }
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new Error(`${source}: the audit signing key must be Ed25519, not ${key.asymmetricKeyType ?? 'unknown'}`);
    }
    return new CheckpointSigner(key);
  }

  sign(seq: number, hash: string, signedAt: Date): AuditCheckpoint {
    const unsigned = { seq, hash, signedAt, keyId: this.keyId };
    return { ...unsigned, signature: sign(null, statement(unsigned), this.key).toString('base64url') };
  }
}

/** The public keys checkpoints may be signed with: the current one and any retired ones. */
export class CheckpointKeyring {
  private readonly keys = new Map<string, KeyObject>();

  constructor(publicKeysPem: readonly string[]) {
    for (const pem of publicKeysPem) {
      const key = createPublicKey(pem);
      if (key.asymmetricKeyType !== 'ed25519') throw new Error(`checkpoint keys must be Ed25519, not ${key.asymmetricKeyType ?? 'unknown'}`);
      this.keys.set(checkpointKeyId(key), key);
    }
  }

  get size(): number {
    return this.keys.size;
  }

  keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /** Null when the checkpoint is signed by a known key; otherwise why not. */
  check(c: AuditCheckpoint): string | null {
    const key = this.keys.get(c.keyId);
    if (!key) return `signed by an unknown key ${c.keyId.slice(0, 16)}…`;
    let signature: Buffer;
    try {
      signature = Buffer.from(c.signature, 'base64url');
    } catch {
      return 'signature is not base64url';
    }
    return verify(null, statement(c), key, signature) ? null : 'signature does not verify (forged or altered checkpoint)';
  }
}

/** A checkpoint as JSON (API, sinks, files). */
export function checkpointToJson(c: AuditCheckpoint): { seq: number; hash: string; signedAt: string; keyId: string; signature: string } {
  return { seq: c.seq, hash: c.hash, signedAt: c.signedAt.toISOString(), keyId: c.keyId, signature: c.signature };
}

/** Reads a checkpoint from JSON; throws naming the field that is wrong. */
export function checkpointFromJson(value: unknown): AuditCheckpoint {
  const o = value as Record<string, unknown>;
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new Error('a checkpoint must be a JSON object');
  if (!Number.isSafeInteger(o.seq) || (o.seq as number) < 1) throw new Error('seq: must be a positive integer');
  if (typeof o.hash !== 'string' || !/^[0-9a-f]{64}$/.test(o.hash)) throw new Error('hash: must be 64 lowercase hex digits');
  if (typeof o.signedAt !== 'string' || Number.isNaN(Date.parse(o.signedAt))) throw new Error('signedAt: must be an RFC 3339 date-time');
  if (typeof o.keyId !== 'string' || !/^[0-9a-f]{64}$/.test(o.keyId)) throw new Error('keyId: must be 64 lowercase hex digits');
  if (typeof o.signature !== 'string' || !/^[A-Za-z0-9_-]{1,200}$/.test(o.signature)) throw new Error('signature: must be base64url');
  return { seq: o.seq as number, hash: o.hash, signedAt: new Date(o.signedAt), keyId: o.keyId, signature: o.signature };
}

/** Checkpoints from several places, each distinct one judged once by the keyring. */
export function sortCheckpoints(
  keyring: CheckpointKeyring,
  sources: readonly { name: string; items: readonly AuditCheckpoint[] }[],
): { valid: AuditCheckpoint[]; invalid: { seq: number; reason: string }[]; total: number } {
  const seen = new Set<string>();
  const valid: AuditCheckpoint[] = [];
  const invalid: { seq: number; reason: string }[] = [];
  for (const source of sources) {
    for (const c of source.items) {
      const key = `${c.seq}:${c.hash}:${c.signature}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const problem = keyring.check(c);
      if (problem) invalid.push({ seq: c.seq, reason: `checkpoint for event ${c.seq} in ${source.name}: ${problem}` });
      else valid.push(c);
    }
  }
  return { valid, invalid, total: seen.size };
}
