import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The web console's server-side sessions and sign-in attempts, in the database so that every
 * replica knows a session and sign-out ends it everywhere. Rows are keyed by the SHA-256 of the
 * cookie's random value, never the value itself. A session holds who signed in: a static token's
 * SHA-256 (the tokens file holds the same) or the verified id_token's issuer name and claims, from
 * which each request derives the actor under the rules in force; never a token in clear. A sign-in
 * attempt (OIDC state, nonce and PKCE verifier) lives ten minutes and is deleted when used.
 */
export class CreateConsoleSessions1764350000000 implements MigrationInterface {
  name = 'CreateConsoleSessions1764350000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE console_sessions (
      id_hash text PRIMARY KEY,
      method text NOT NULL CHECK (method IN ('oidc', 'token')),
      subject text NOT NULL,
      token_sha256 text,
      issuer text,
      claims jsonb,
      csrf_token text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      CHECK ((method = 'token') = (token_sha256 IS NOT NULL)),
      CHECK ((method = 'oidc') = (issuer IS NOT NULL AND claims IS NOT NULL))
    )`);
    await q.query(`CREATE INDEX "IDX_console_sessions_expires_at" ON console_sessions (expires_at)`);
    await q.query(`CREATE TABLE console_sign_ins (
      id_hash text PRIMARY KEY,
      state text NOT NULL,
      nonce text NOT NULL,
      code_verifier text NOT NULL,
      return_to text NOT NULL,
      expires_at timestamptz NOT NULL
    )`);
    await q.query(`CREATE INDEX "IDX_console_sign_ins_expires_at" ON console_sign_ins (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE console_sign_ins`);
    await q.query(`DROP TABLE console_sessions`);
  }
}
