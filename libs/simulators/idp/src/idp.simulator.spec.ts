import { createHash } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { IdpSimulator } from './idp.simulator';

const REDIRECT = 'http://127.0.0.1:1/console/auth/callback';
const VERIFIER = 'v'.repeat(43) + '-._~0123456789';
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');

describe(IdpSimulator.name, () => {
  let idp: IdpSimulator;
  let confidential: IdpSimulator;

  beforeAll(async () => {
    idp = await IdpSimulator.start({
      users: [
        { username: 'alice', name: 'Alice', email: 'alice@example.test', groups: ['developers'] },
        { username: 'bob', name: 'Bob', groups: ['sre'] },
      ],
      clients: [
        { clientId: 'jit-console', redirectUris: [REDIRECT] },
        { clientId: 'other-app', redirectUris: ['http://127.0.0.1:2/cb'] },
      ],
    });
    confidential = await IdpSimulator.start({ users: idp.users.slice(), clients: [{ clientId: 'web', redirectUris: [REDIRECT], clientSecret: 's3cret' }] });
  });
  afterAll(async () => {
    await idp.close();
    await confidential.close();
  });

  const authorizeParams = (overrides: Record<string, string | undefined> = {}) => {
    const params: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: 'jit-console',
      redirect_uri: REDIRECT,
      scope: 'openid profile email groups',
      state: 'st-1',
      nonce: 'n-1',
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
      ...overrides,
    };
    return new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined));
  };

  /** Submits the login form as `username`; the redirect's Location. */
  async function signIn(sim: IdpSimulator, username: string, overrides: Record<string, string | undefined> = {}): Promise<URL> {
    const form = authorizeParams(overrides);
    form.set('username', username);
    const response = await fetch(`${sim.issuer}/authorize`, { method: 'POST', body: form, redirect: 'manual' });
    expect(response.status).toBe(303);
    return new URL(response.headers.get('location')!);
  }

  async function token(sim: IdpSimulator, fields: Record<string, string>, headers: Record<string, string> = {}) {
    const response = await fetch(`${sim.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields),
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  }

  const exchange = (code: string, overrides: Record<string, string> = {}) =>
    token(idp, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'jit-console', code_verifier: VERIFIER, ...overrides });

  describe('with openid-client as the relying party', () => {
    it('should complete the code flow with PKCE and give an id_token with nonce and groups', async () => {
      const config = await oidc.discovery(new URL(idp.issuer), 'jit-console', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT,
        scope: 'openid profile groups',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('value="alice"');
      expect(html).toContain('value="bob"');

      const back = await signIn(idp, 'bob', Object.fromEntries(url.searchParams));
      const tokens = await oidc.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });

      const claims = tokens.claims()!;
      expect(claims).toMatchObject({ iss: idp.issuer, sub: 'bob', aud: 'jit-console', nonce, groups: ['sre'], name: 'Bob' });
      const { payload } = await jwtVerify(tokens.id_token!, createRemoteJWKSet(new URL(`${idp.issuer}/jwks`)), { issuer: idp.issuer, audience: 'jit-console' });
      expect(payload.sub).toBe('bob');
    });
  });

  describe('authorize', () => {
    it('should show an error itself, never redirecting, for an unknown client or an unregistered redirect URI', async () => {
      for (const overrides of [{ client_id: 'nobody' }, { redirect_uri: 'http://127.0.0.1:1/elsewhere' }, { client_id: 'other-app' }]) {
        const response = await fetch(`${idp.issuer}/authorize?${authorizeParams(overrides)}`, { redirect: 'manual' });
        expect(response.status).toBe(400);
        expect(response.headers.get('location')).toBeNull();
      }
    });

    it.each([
      ['no code_challenge', { code_challenge: undefined }, 'invalid_request'],
      ['the plain method', { code_challenge_method: 'plain' }, 'invalid_request'],
      ['an implicit flow', { response_type: 'id_token' }, 'unsupported_response_type'],
      ['no openid scope', { scope: 'profile' }, 'invalid_scope'],
    ])('should send the client an error for %s', async (_what, overrides, error) => {
      const response = await fetch(`${idp.issuer}/authorize?${authorizeParams(overrides)}`, { redirect: 'manual' });
      expect(response.status).toBe(303);
      const location = new URL(response.headers.get('location')!);
      expect(location.origin + location.pathname).toBe(REDIRECT);
      expect(location.searchParams.get('error')).toBe(error);
      expect(location.searchParams.get('state')).toBe('st-1');
    });
  });

  describe('token', () => {
    it('should give a code once: a second exchange is invalid_grant', async () => {
      const code = (await signIn(idp, 'alice')).searchParams.get('code')!;
      expect((await exchange(code)).status).toBe(200);
      expect(await exchange(code)).toEqual({ status: 400, body: expect.objectContaining({ error: 'invalid_grant' }) });
    });

    it.each([
      ['a wrong code_verifier', { code_verifier: 'w'.repeat(43) }],
      ['no code_verifier', { code_verifier: '' }],
      ['another redirect_uri', { redirect_uri: 'http://127.0.0.1:1/other' }],
    ])('should refuse %s, and spend the code', async (_what, overrides) => {
      const code = (await signIn(idp, 'alice')).searchParams.get('code')!;
      expect(await exchange(code, overrides)).toEqual({ status: 400, body: expect.objectContaining({ error: 'invalid_grant' }) });
      expect((await exchange(code)).status).toBe(400);
    });

    it('should refuse a code issued to another client', async () => {
      const code = (await signIn(idp, 'alice', { client_id: 'other-app', redirect_uri: 'http://127.0.0.1:2/cb' })).searchParams.get('code')!;
      const answer = await exchange(code, { redirect_uri: 'http://127.0.0.1:2/cb' });
      expect(answer).toEqual({ status: 400, body: expect.objectContaining({ error: 'invalid_grant', error_description: 'the code was issued to another client' }) });
    });

    it('should refuse an expired code', async () => {
      let now = new Date('2026-01-01T00:00:00Z');
      const sim = await IdpSimulator.start({ users: idp.users.slice(), clients: [{ clientId: 'jit-console', redirectUris: [REDIRECT] }], now: () => now });
      try {
        const code = (await signIn(sim, 'alice')).searchParams.get('code')!;
        now = new Date(now.getTime() + 61_000);
        const answer = await token(sim, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: 'jit-console', code_verifier: VERIFIER });
        expect(answer).toEqual({ status: 400, body: expect.objectContaining({ error: 'invalid_grant', error_description: 'the code has expired' }) });
      } finally {
        await sim.close();
      }
    });

    it('should authenticate a confidential client and refuse a wrong or missing secret', async () => {
      const fields = (code: string) => ({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: VERIFIER });
      const codeFor = async () => (await signIn(confidential, 'alice', { client_id: 'web' })).searchParams.get('code')!;
      const basic = (secret: string) => ({ authorization: `Basic ${Buffer.from(`web:${secret}`).toString('base64')}` });

      expect((await token(confidential, fields(await codeFor()), basic('wrong'))).status).toBe(401);
      expect((await token(confidential, { ...fields(await codeFor()), client_id: 'web' })).body.error).toBe('invalid_client');
      expect((await token(confidential, fields(await codeFor()), basic('s3cret'))).status).toBe(200);
      expect((await token(confidential, { ...fields(await codeFor()), client_id: 'web', client_secret: 's3cret' })).status).toBe(200);
    });

    it('should refuse an unknown grant type and a body that is not a form', async () => {
      expect((await token(idp, { grant_type: 'password', client_id: 'jit-console' })).body.error).toBe('unsupported_grant_type');
      const response = await fetch(`${idp.issuer}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(response.status).toBe(400);
    });
  });
});
