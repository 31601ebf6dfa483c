import { DataSource } from 'typeorm';

/** Who a session is: a static token by its SHA-256, or an OIDC identity by issuer name and verified claims. */
export type SessionIdentity = { method: 'token'; tokenSha256: string } | { method: 'oidc'; issuer: string; claims: Record<string, unknown> };

export type StoredSession = SessionIdentity & { subject: string; csrfToken: string; expiresAt: Date };

export interface StoredSignIn {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
}

interface SessionRow {
  method: 'token' | 'oidc';
  subject: string;
  token_sha256: string | null;
  issuer: string | null;
  claims: Record<string, unknown> | null;
  csrf_token: string;
  expires_at: Date;
}

/** Expired rows removed per sign-in: enough to keep up with sign-ins, bounded so one sign-in stays cheap. */
const SWEEP_BATCH = 100;

/**
 * The console's sessions and sign-in attempts in the broker's database (migration
 * 1764350000000-CreateConsoleSessions), keyed by the SHA-256 of the cookie value.
 */
export class ConsoleSessionStore {
  constructor(private readonly db: DataSource) {}

  async createSession(idHash: string, session: StoredSession, now: Date): Promise<void> {
    await this.sweep('console_sessions', now);
    await this.db.query(
      `INSERT INTO console_sessions (id_hash, method, subject, token_sha256, issuer, claims, csrf_token, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        idHash,
        session.method,
        session.subject,
        session.method === 'token' ? session.tokenSha256 : null,
        session.method === 'oidc' ? session.issuer : null,
        session.method === 'oidc' ? JSON.stringify(session.claims) : null,
        session.csrfToken,
        now,
        session.expiresAt,
      ],
    );
  }

  /** The session, unless it is unknown, ended or expired. */
  async findSession(idHash: string, now: Date): Promise<StoredSession | undefined> {
    const rows: SessionRow[] = await this.db.query(
      `SELECT method, subject, token_sha256, issuer, claims, csrf_token, expires_at FROM console_sessions WHERE id_hash = $1 AND expires_at > $2`,
      [idHash, now],
    );
    const row = rows[0];
    if (!row) return undefined;
    const common = { subject: row.subject, csrfToken: row.csrf_token, expiresAt: new Date(row.expires_at) };
    return row.method === 'token'
      ? { ...common, method: 'token', tokenSha256: row.token_sha256! }
      : { ...common, method: 'oidc', issuer: row.issuer!, claims: row.claims! };
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.db.query(`DELETE FROM console_sessions WHERE id_hash = $1`, [idHash]);
  }

  /**
   * Stores a sign-in attempt unless `max` unexpired ones exist already (false then); the expired
   * ones are deleted by the same statement, so the table never holds more than `max` live rows
   * plus those that expired since the previous sign-in.
   */
  async createSignIn(idHash: string, signIn: StoredSignIn, expiresAt: Date, now: Date, max: number): Promise<boolean> {
    const result: unknown[] = await this.db.query(
      `WITH swept AS (DELETE FROM console_sign_ins WHERE expires_at <= $7)
       INSERT INTO console_sign_ins (id_hash, state, nonce, code_verifier, return_to, expires_at)
       SELECT $1, $2, $3, $4, $5, $6 WHERE (SELECT count(*) FROM console_sign_ins WHERE expires_at > $7) < $8
       RETURNING id_hash`,
      [idHash, signIn.state, signIn.nonce, signIn.codeVerifier, signIn.returnTo, expiresAt, now, max],
    );
    // TypeORM answers [rows, count] for some drivers' data-modifying statements, the rows for others.
    const rows = Array.isArray(result[0]) ? (result[0] as unknown[]) : result;
    return rows.length === 1;
  }

  /** Removes the attempt and returns it if it had not expired: each attempt is used at most once. */
  async takeSignIn(idHash: string, now: Date): Promise<StoredSignIn | undefined> {
    // TypeORM answers a DELETE with [rows, count].
    const [rows]: [{ state: string; nonce: string; code_verifier: string; return_to: string; expires_at: Date }[], number] = await this.db.query(
      `DELETE FROM console_sign_ins WHERE id_hash = $1 RETURNING state, nonce, code_verifier, return_to, expires_at`,
      [idHash],
    );
    const row = rows[0];
    if (!row || new Date(row.expires_at) <= now) return undefined;
    return { state: row.state, nonce: row.nonce, codeVerifier: row.code_verifier, returnTo: row.return_to };
  }

  private async sweep(table: 'console_sessions' | 'console_sign_ins', now: Date): Promise<void> {
    await this.db.query(`DELETE FROM ${table} WHERE id_hash IN (SELECT id_hash FROM ${table} WHERE expires_at <= $1 LIMIT ${SWEEP_BATCH})`, [now]);
  }
}
