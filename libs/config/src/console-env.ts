import { z } from 'zod';
import { parseIsoDurationSeconds } from '@jit/domain';
import { ENV_DOCS } from './env-docs';

/** The web console's sign-in and sessions (docs/console.md). */
export interface ConsoleConfig {
  /** The built console (`npm run build:console`); served at /console when it exists. */
  dir: string;
  /** OIDC sign-in (authorization code + PKCE) against this issuer; unset: no OIDC sign-in. */
  oidc?: { issuer: string; clientId: string; clientSecret?: string; scopes: string };
  /** Sign in by pasting a broker token (static or OIDC), for the sandbox and tests. */
  tokenSignIn: boolean;
  /** A session ends this long after sign-in at the latest (sooner at sign-out or its id_token's expiry). */
  sessionTtlMs: number;
  /** `Secure` on the session cookie: always, never, or when the request came over TLS (`X-Forwarded-Proto: https` counts). */
  cookieSecure: 'auto' | 'always' | 'never';
}

const group = 'console' as const;

export const CONSOLE_ENV_SHAPE = {
  JIT_CONSOLE_DIR: z
    .string()
    .min(1)
    .default('dist/console')
    .register(ENV_DOCS, { group, description: 'the built web console (`npm run build:console`), served at `/console` (a 404 there when the folder is missing)', default: '`dist/console`' }),
  JIT_CONSOLE_OIDC_ISSUER: z
    .string()
    .url()
    .optional()
    .or(z.literal('').transform(() => undefined))
    .register(ENV_DOCS, {
      group,
      description:
        "the company's OIDC issuer for console sign-in (authorization code with PKCE); it must also be one of the rules file's `issuers`, with `JIT_CONSOLE_OIDC_CLIENT_ID` among its audiences, since a signed-in user is the actor its id_token would be. Redirect URI: `<JIT_PUBLIC_URL>/console/auth/callback` (the request's own origin without `JIT_PUBLIC_URL`)",
      default: '(none: no OIDC sign-in)',
    }),
  JIT_CONSOLE_OIDC_CLIENT_ID: z
    .string()
    .min(1)
    .default('jit-console')
    .register(ENV_DOCS, { group, description: "the console's client id at the issuer (the id_token's audience)", default: '`jit-console`' }),
  JIT_CONSOLE_OIDC_CLIENT_SECRET: z
    .string()
    .optional()
    .transform((v) => v || undefined)
    .register(ENV_DOCS, { group, description: 'client secret, for an issuer that registers the console as a confidential client (PKCE is used either way)', default: '(none: a public client)', secret: true }),
  JIT_CONSOLE_OIDC_SCOPES: z
    .string()
    .default('openid profile email groups')
    .refine((s) => s.split(' ').includes('openid'), 'JIT_CONSOLE_OIDC_SCOPES must include openid')
    .register(ENV_DOCS, { group, description: 'scopes asked for at sign-in (space-separated; the groups claim often needs its own scope)', default: '`openid profile email groups`' }),
  JIT_CONSOLE_TOKEN_SIGN_IN: z
    .enum(['true', 'false'], { error: 'JIT_CONSOLE_TOKEN_SIGN_IN must be true or false' })
    .default('false')
    .register(ENV_DOCS, { group, description: '`true` lets people sign in to the console by pasting a broker token (the sandbox does); the session is that token\'s actor', default: '`false`' }),
  JIT_CONSOLE_SESSION_TTL: z
    .string()
    .default('PT8H')
    .transform((v, ctx) => {
      const s = parseIsoDurationSeconds(v);
      if (s === undefined || s < 60 || s > 7 * 86_400) {
        ctx.addIssue({ code: 'custom', message: 'JIT_CONSOLE_SESSION_TTL must be an ISO-8601 duration from PT1M to P7D' });
        return z.NEVER;
      }
      return s;
    })
    .register(ENV_DOCS, { group, description: 'a console session ends this long after sign-in at the latest (sooner at sign-out, or when the id_token of an OIDC sign-in expires: no refresh tokens); sessions live in the database, so every replica sees them', default: '`PT8H`' }),
  JIT_CONSOLE_COOKIE_SECURE: z
    .enum(['auto', 'always', 'never'], { error: 'JIT_CONSOLE_COOKIE_SECURE must be auto, always or never' })
    .default('auto')
    .register(ENV_DOCS, {
      group,
      description: '`Secure` on the session cookie (then named `__Host-jit_session`): `always`, `never`, or `auto` when the request came over TLS or with `X-Forwarded-Proto: https`',
      default: '`auto`',
    }),
};

export function toConsoleConfig(e: z.output<z.ZodObject<typeof CONSOLE_ENV_SHAPE>>): ConsoleConfig {
  return {
    dir: e.JIT_CONSOLE_DIR,
    ...(e.JIT_CONSOLE_OIDC_ISSUER !== undefined && {
      oidc: {
        issuer: e.JIT_CONSOLE_OIDC_ISSUER.replace(/\/+$/, ''),
        clientId: e.JIT_CONSOLE_OIDC_CLIENT_ID,
        ...(e.JIT_CONSOLE_OIDC_CLIENT_SECRET !== undefined && { clientSecret: e.JIT_CONSOLE_OIDC_CLIENT_SECRET }),
        scopes: e.JIT_CONSOLE_OIDC_SCOPES,
      },
    }),
    tokenSignIn: e.JIT_CONSOLE_TOKEN_SIGN_IN === 'true',
    sessionTtlMs: e.JIT_CONSOLE_SESSION_TTL * 1000,
    cookieSecure: e.JIT_CONSOLE_COOKIE_SECURE,
  };
}
