/**
 * The console's only way to the broker: the typed client (@jit/client) on the public v1 API,
 * authenticated by the console's session cookie (HttpOnly, set by the broker's /console/auth/*
 * routes), never by a token the page holds. Unsafe methods carry the session's CSRF token as
 * `X-CSRF-Token`, read once from GET /console/session (see session.ts).
 */
import { createJitClient, JitApiError, type JitClient } from '@jit/client';

/** The broker's console routes (apps/broker/src/console): the session, sign-in and sign-out. */
export const CONSOLE_ROUTES = {
  /** GET: 200 ConsoleSession, 401 when signed out. */
  session: '/console/session',
  /** GET: redirects to the configured OIDC issuer (authorization code + PKCE); `?returnTo=/console/...`. */
  login: '/console/auth/login',
  /** POST { token }: a sandbox/API token exchanged for a session cookie (paste-a-token sign-in). */
  token: '/console/auth/token',
  /** POST with X-CSRF-Token: ends the session on the server and clears the cookie. */
  logout: '/console/auth/logout',
} as const;

/** What GET /console/session answers for a signed-in user: the same actor the token would give. */
export interface ConsoleSession {
  subject: string;
  roles: string[];
  groups: string[];
  csrfToken: string;
  /** When the session ends (RFC 3339), if the broker says. */
  expiresAt?: string | null;
  /** How the user signed in: 'oidc' or 'token'. */
  method?: string;
  /** Display name from the id_token, if any. */
  name?: string | null;
}

let csrfToken: string | null = null;

/** Called by the session query when it reads the session, and with null on sign-out. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export const api: JitClient = createJitClient({
  baseUrl: window.location.origin,
  session: {
    csrfToken: () => {
      if (csrfToken === null) throw new Error('not signed in: no CSRF token');
      return csrfToken;
    },
  },
});

/** The sign-in methods the broker offers (its 401 from /console/session says). */
export interface SignInMethods {
  oidc: boolean;
  token: boolean;
}

export interface SessionState {
  session: ConsoleSession | null;
  /** When signed out: which sign-in methods the broker offers. */
  signIn: SignInMethods;
}

/** GET /console/session: the session, or null with the sign-in methods when signed out (401). */
export async function fetchSession(signal?: AbortSignal): Promise<SessionState> {
  const response = await fetch(CONSOLE_ROUTES.session, { credentials: 'same-origin', headers: { Accept: 'application/json' }, signal });
  if (response.status === 401) {
    const body = (await response.json().catch(() => ({}))) as { signIn?: Partial<SignInMethods> };
    return { session: null, signIn: { oidc: body.signIn?.oidc ?? true, token: body.signIn?.token ?? true } };
  }
  if (!response.ok) throw await JitApiError.fromResponse(response);
  return { session: (await response.json()) as ConsoleSession, signIn: { oidc: false, token: false } };
}

/** Paste-a-token sign-in: the broker checks the token and answers with the session cookie. */
export async function signInWithToken(token: string): Promise<void> {
  const response = await fetch(CONSOLE_ROUTES.token, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (!response.ok) throw await JitApiError.fromResponse(response);
}

export async function signOut(): Promise<void> {
  const response = await fetch(CONSOLE_ROUTES.logout, {
    method: 'POST',
    credentials: 'same-origin',
    headers: csrfToken === null ? {} : { 'X-CSRF-Token': csrfToken },
  });
  setCsrfToken(null);
  if (!response.ok && response.status !== 401) throw await JitApiError.fromResponse(response);
}

/** The URL of an audit export (CSV or JSONL) of exactly these filters: a same-origin GET the browser downloads with the cookie. */
export function auditExportUrl(format: 'csv' | 'jsonl', filters: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
  params.set('format', format);
  return `/v1/audit?${params.toString()}`;
}
