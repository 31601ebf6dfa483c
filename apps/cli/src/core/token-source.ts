import { readFileSync } from 'node:fs';
import { CliError, EXIT } from '../exit-codes';

/** Where the bearer token comes from; `describe` names it in errors (never the token itself). */
export interface TokenSource {
  readonly describe: string;
  /** The token to send now; a source that can mint a fresh one (GitHub Actions) does so when the last is about to expire. */
  getToken(): Promise<string>;
}

/** The audience a pipeline's OIDC token is minted for when nothing else says: the one the example rules files expect. */
export const DEFAULT_OIDC_AUDIENCE = 'jit-broker';
/** The GitLab CI variable that holds the job's ID token (`id_tokens: { JIT_ID_TOKEN: { aud: jit-broker } }`). */
export const DEFAULT_GITLAB_TOKEN_VAR = 'JIT_ID_TOKEN';
/** A minted token is fetched again when it has less than this left, so a revoke at the end of a long job still authenticates. */
const REFRESH_MARGIN_SECONDS = 60;

export function staticToken(token: string, describe: string): TokenSource {
  const value = token.trim();
  if (!value) throw new CliError(`${describe} is empty`, EXIT.auth);
  return { describe, getToken: async () => value };
}

/** Read on every call: a file a sidecar rotates (Kubernetes projected tokens) is picked up. */
export function tokenFile(path: string, describe: string): TokenSource {
  return {
    describe,
    async getToken() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        throw new CliError(`${describe}: cannot read ${path}: ${(e as Error).message}`, EXIT.auth);
      }
      const value = text.trim();
      if (!value) throw new CliError(`${describe}: ${path} is empty`, EXIT.auth);
      return value;
    },
  };
}

/**
 * GitHub Actions' OIDC token for this job (`permissions: id-token: write`), minted for
 * `audience` from ACTIONS_ID_TOKEN_REQUEST_URL with ACTIONS_ID_TOKEN_REQUEST_TOKEN, and
 * minted again shortly before it expires.
 */
export function githubActionsToken(requestUrl: string, requestToken: string, audience: string, fetchImpl: typeof fetch = fetch): TokenSource {
  let cached: { token: string; exp: number } | null = null;
  const describe = `the GitHub Actions OIDC token (audience ${audience})`;
  return {
    describe,
    async getToken() {
      if (cached && cached.exp - REFRESH_MARGIN_SECONDS > Date.now() / 1000) return cached.token;
      let url: URL;
      try {
        url = new URL(requestUrl);
      } catch {
        throw new CliError('ACTIONS_ID_TOKEN_REQUEST_URL is not a URL', EXIT.auth);
      }
      url.searchParams.set('audience', audience);
      let res: Response;
      try {
        res = await fetchImpl(url, { headers: { Authorization: `Bearer ${requestToken}`, Accept: 'application/json' } });
      } catch (e) {
        throw new CliError(`${describe}: the token endpoint did not answer: ${(e as Error).message}`, EXIT.auth);
      }
      const body = (await res.json().catch(() => null)) as { value?: unknown } | null;
      if (!res.ok || typeof body?.value !== 'string' || !body.value) {
        throw new CliError(`${describe}: the token endpoint answered ${res.status}`, EXIT.auth, [
          'does the job have `permissions: id-token: write`?',
        ]);
      }
      cached = { token: body.value, exp: jwtExpiry(body.value) ?? 0 };
      return body.value;
    },
  };
}

/** A JWT's `exp` (seconds), without verifying it: only to know when to mint a new one. */
function jwtExpiry(jwt: string): number | null {
  try {
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp : null;
  } catch {
    return null;
  }
}
