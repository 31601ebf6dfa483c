import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ILL_FORMED, isWellFormed } from '@jit/domain';
import { Actor, ROLES } from '@jit/grants';

/** Subjects and groups are stored and hashed in the audit log, so no lone surrogate (`\ud800` in JSON). */
const wellFormed = z.string().min(1).refine(isWellFormed, ILL_FORMED);

const tokensFileSchema = z.object({
  tokens: z.array(
    z.strictObject({
      // ':' is reserved for OIDC subjects (<issuer>:<sub>), so no static token can pose as a pipeline.
      subject: wellFormed.max(256).regex(/^[^:\s]+$/, 'must not contain ":" (reserved for OIDC subjects) or spaces'),
      roles: z.array(z.enum(ROLES)).min(1),
      groups: z.array(wellFormed.max(80)).max(100).optional(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/i, 'must be the hex SHA-256 of the token, never the token itself'),
    }),
  ),
});

export function sha256Hex(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Bearer tokens by their SHA-256: the broker never holds a token in clear, only its hash.
 * A lookup hashes the presented token, so timing reveals nothing about stored tokens.
 */
export class TokenRegistry {
  private readonly byHash = new Map<string, Actor>();

  add(hash: string, actor: Actor): void {
    if (this.byHash.has(hash.toLowerCase())) throw new Error(`token for ${actor.subject} is listed twice`);
    this.byHash.set(hash.toLowerCase(), actor);
  }

  resolve(token: string): Actor | undefined {
    return this.byHash.get(sha256Hex(token));
  }

  /** The actor of the token with this SHA-256 (a console session holds the hash, never the token). */
  resolveHash(hash: string): Actor | undefined {
    return this.byHash.get(hash.toLowerCase());
  }

  get size(): number {
    return this.byHash.size;
  }

  static load(tokensFile: string | undefined, adminToken: string | undefined): TokenRegistry {
    const registry = new TokenRegistry();
    if (tokensFile) {
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(tokensFile, 'utf8'));
      } catch (e) {
        throw new Error(`JIT_TOKENS_FILE ${tokensFile}: ${(e as Error).message}`);
      }
      const parsed = tokensFileSchema.safeParse(raw);
      if (!parsed.success) {
        throw new Error(
          `JIT_TOKENS_FILE ${tokensFile}: ` + parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        );
      }
      for (const t of parsed.data.tokens) registry.add(t.sha256, { subject: t.subject, roles: t.roles, ...(t.groups ? { groups: t.groups } : {}) });
    }
    if (adminToken) registry.add(sha256Hex(adminToken), { subject: 'admin', roles: ['admin'] });
    return registry;
  }
}
