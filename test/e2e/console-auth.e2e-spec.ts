import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdpSimulator } from '@jit/sim-idp';
import { TestBroker, TOKENS, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

/** Rules with the simulated company IdP as issuer `corp`: its `sre` group approves. */
function rulesFile(issuer: string): string {
  return `
version: 1
groups:
  sre: []
  "corp:sre": []
issuers:
  - name: corp
    issuer: ${issuer}
    audience: jit-console
    groupsClaim: groups
    roles: [requester, approver]
rules:
  - name: needs-one-approval
    requesters:
      - subjects: [alice, "corp:alice"]
    targets:
      - { kind: aws.iam-policy, actions: ["s3:*"], resources: ["*"] }
    maxDuration: PT1H
    approval: { approvals: 1, from: [sre, "corp:sre"] }
`;
}

/** The name=value of a Set-Cookie header, and its attributes lower-cased. */
function cookieOf(response: Response, name: string): { pair: string; attributes: string[] } {
  const line = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  if (!line) throw new Error(`no Set-Cookie ${name} in ${JSON.stringify(response.headers.getSetCookie())}`);
  const [pair, ...attributes] = line.split(';').map((p) => p.trim());
  return { pair, attributes: attributes.map((a) => a.toLowerCase()) };
}

describe('console sign-in and sessions (e2e)', () => {
  let idp: IdpSimulator;
  let t: TestBroker;
  let base: string;
  let consoleDir: string;
  let rulesPath: string;

  beforeAll(async () => {
    idp = await IdpSimulator.start({
      users: [
        { username: 'alice', name: 'Alice Requester', groups: ['developers'] },
        { username: 'bob', name: 'Bob Approver', groups: ['sre'] },
      ],
      clients: [{ clientId: 'jit-console', redirectUris: [] }],
    });
    const dir = mkdtempSync(join(tmpdir(), 'jit-console-e2e-'));
    rulesPath = join(dir, 'rules.yaml');
    writeFileSync(rulesPath, rulesFile(idp.issuer));
    consoleDir = join(dir, 'console');
    mkdirSync(join(consoleDir, 'assets'), { recursive: true });
    writeFileSync(join(consoleDir, 'index.html'), '<!doctype html><title>JIT console</title><script type="module" src="/console/assets/app-1a2b3c.js"></script>');
    writeFileSync(join(consoleDir, 'assets', 'app-1a2b3c.js'), 'console.log(1)');
    t = await startTestBroker({
      JIT_POLICY_FILE: rulesPath,
      JIT_CONSOLE_DIR: consoleDir,
      JIT_CONSOLE_OIDC_ISSUER: idp.issuer,
      JIT_CONSOLE_TOKEN_SIGN_IN: 'true',
    });
    base = t.broker.url!;
    idp.addRedirectUri('jit-console', `${base}/console/auth/callback`);
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers, redirect: 'manual' });
  // As the console's own pages send them: a browser adds Sec-Fetch-Site to every fetch.
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin', ...headers }, body: JSON.stringify(body), redirect: 'manual' });

  async function tokenSession(token: string): Promise<{ cookie: string; csrf: string; response: Response }> {
    const response = await post('/console/auth/token', { token });
    expect(response.status).toBe(204);
    const cookie = cookieOf(response, 'jit_session').pair;
    const session = await get('/console/session', { cookie });
    expect(session.status).toBe(200);
    return { cookie, csrf: ((await session.json()) as { csrfToken: string }).csrfToken, response };
  }

  /** The whole OIDC sign-in as `username` at the IdP: the login redirect, the IdP's form, the callback. */
  async function oidcSignIn(username: string): Promise<{ cookie: string }> {
    const login = await get('/console/auth/login?returnTo=/console/inbox');
    const authorize = new URL(login.headers.get('location')!);
    const signInCookie = cookieOf(login, 'jit_sign_in').pair;
    const form = new URLSearchParams(authorize.searchParams);
    form.set('username', username);
    const back = await fetch(`${idp.issuer}/authorize`, { method: 'POST', body: form, redirect: 'manual' });
    const callback = new URL(back.headers.get('location')!);
    const done = await fetch(callback, { headers: { cookie: signInCookie }, redirect: 'manual' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/console/inbox');
    return { cookie: cookieOf(done, 'jit_session').pair };
  }

  describe('OIDC sign-in', () => {
    it('should redirect to the issuer with PKCE S256, state and nonce, binding the attempt to the browser', async () => {
      const login = await get('/console/auth/login');
      expect(login.status).toBe(303);
      const location = new URL(login.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).toBe(`${idp.issuer}/authorize`);
      const q = location.searchParams;
      expect(q.get('response_type')).toBe('code');
      expect(q.get('client_id')).toBe('jit-console');
      expect(q.get('redirect_uri')).toBe(`${base}/console/auth/callback`);
      expect(q.get('code_challenge_method')).toBe('S256');
      expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(q.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(q.get('scope')!.split(' ')).toEqual(expect.arrayContaining(['openid', 'groups']));
      const cookie = cookieOf(login, 'jit_sign_in');
      expect(cookie.attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=lax', 'path=/console/auth/callback']));
      expect(cookie.attributes).not.toContain('secure');
    });

    it('should sign in through the IdP as the actor its id_token is: subject, roles and prefixed groups', async () => {
      const { cookie } = await oidcSignIn('bob');
      const session = await get('/console/session', { cookie });
      expect(session.headers.get('cache-control')).toBe('no-store');
      expect(await session.json()).toMatchObject({ subject: 'corp:bob', roles: ['requester', 'approver'], groups: ['corp:sre'], method: 'oidc', name: 'Bob Approver' });
    });

    it('should refuse a callback whose state is not the one this browser was given, and spend the attempt', async () => {
      const login = await get('/console/auth/login');
      const authorize = new URL(login.headers.get('location')!);
      const signInCookie = cookieOf(login, 'jit_sign_in').pair;
      const form = new URLSearchParams(authorize.searchParams);
      form.set('username', 'alice');
      const back = await fetch(`${idp.issuer}/authorize`, { method: 'POST', body: form, redirect: 'manual' });
      const callback = new URL(back.headers.get('location')!);
      const forged = new URL(callback);
      forged.searchParams.set('state', 'attacker-state-000000000000');

      const refused = await fetch(forged, { headers: { cookie: signInCookie }, redirect: 'manual' });
      expect(refused.status).toBe(400);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(((await refused.json()) as { detail: string }).detail).toMatch(/^state: /);
      expect(refused.headers.getSetCookie().some((c) => c.startsWith('jit_session='))).toBe(false);

      const replay = await fetch(callback, { headers: { cookie: signInCookie }, redirect: 'manual' });
      expect(replay.status).toBe(400);
    });

    it('should refuse a callback from a browser that did not start the sign-in', async () => {
      const login = await get('/console/auth/login');
      const form = new URLSearchParams(new URL(login.headers.get('location')!).searchParams);
      form.set('username', 'alice');
      const back = await fetch(`${idp.issuer}/authorize`, { method: 'POST', body: form, redirect: 'manual' });
      const callback = new URL(back.headers.get('location')!);
      // The callback reached without the sign-in cookie: a link someone else started, sent to the victim.
      const refused = await fetch(callback, { redirect: 'manual' });
      expect(refused.status).toBe(400);
    });
  });

  describe('sessions on the v1 API', () => {
    it('should set the session cookie HttpOnly, SameSite=Strict, Path=/, not Secure over plain HTTP', async () => {
      const { response } = await tokenSession(TOKENS.alice);
      const cookie = cookieOf(response, 'jit_session');
      expect(cookie.attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=strict', 'path=/']));
      expect(cookie.attributes).not.toContain('secure');
      expect(cookie.pair.length).toBeGreaterThan('jit_session='.length + 40);
    });

    it('should make the cookie Secure and __Host- prefixed behind a TLS proxy', async () => {
      const response = await post('/console/auth/token', { token: TOKENS.alice }, { 'x-forwarded-proto': 'https' });
      const cookie = cookieOf(response, '__Host-jit_session');
      expect(cookie.attributes).toEqual(expect.arrayContaining(['httponly', 'samesite=strict', 'path=/', 'secure']));
    });

    it('should refuse a write with the cookie but without the CSRF header, or with another session\'s', async () => {
      const alice = await tokenSession(TOKENS.alice);
      const other = await tokenSession(TOKENS.alice);
      for (const headers of [{ cookie: alice.cookie }, { cookie: alice.cookie, 'x-csrf-token': other.csrf }] as Record<string, string>[]) {
        const refused = await post('/v1/grants', awsPolicyGrant(), headers);
        expect(refused.status).toBe(403);
        expect(refused.headers.get('content-type')).toContain('application/problem+json');
        expect(((await refused.json()) as { detail: string }).detail).toContain('X-CSRF-Token');
      }
      expect((await get('/v1/grants', { cookie: alice.cookie })).status).toBe(200);
    });

    it('should not let a requester\'s session approve, and let an approver\'s IdP session approve', async () => {
      const alice = await tokenSession(TOKENS.alice);
      const requested = await post('/v1/grants', awsPolicyGrant(), { cookie: alice.cookie, 'x-csrf-token': alice.csrf });
      expect(requested.status).toBe(202);
      const grant = (await requested.json()) as { id: string; requestedBy: string };
      expect(grant.requestedBy).toBe('alice');

      const own = await post(`/v1/grants/${grant.id}/approve`, { comment: 'self' }, { cookie: alice.cookie, 'x-csrf-token': alice.csrf });
      expect(own.status).toBe(403);
      expect(own.headers.get('content-type')).toContain('application/problem+json');

      const bob = await oidcSignIn('bob');
      const csrf = ((await (await get('/console/session', { cookie: bob.cookie })).json()) as { csrfToken: string }).csrfToken;
      const inbox = (await (await get('/v1/grants?awaiting=me', { cookie: bob.cookie })).json()) as { items: { id: string }[] };
      expect(inbox.items.map((g) => g.id)).toContain(grant.id);
      const approved = await post(`/v1/grants/${grant.id}/approve`, { comment: 'ok' }, { cookie: bob.cookie, 'x-csrf-token': csrf });
      expect(approved.status).toBe(200);
      expect(((await approved.json()) as { approvals: { approver: string }[] }).approvals.map((a) => a.approver)).toEqual(['corp:bob']);
    });

    it('should end the session on the server at sign-out', async () => {
      const alice = await tokenSession(TOKENS.alice);
      expect((await post('/console/auth/logout', {}, { cookie: alice.cookie })).status).toBe(403);
      const out = await post('/console/auth/logout', {}, { cookie: alice.cookie, 'x-csrf-token': alice.csrf });
      expect(out.status).toBe(204);
      expect(cookieOf(out, 'jit_session').attributes).toContain('max-age=0');
      // The old cookie, kept by a copy of the browser, is worth nothing now.
      expect((await get('/v1/grants', { cookie: alice.cookie })).status).toBe(401);
      const session = await get('/console/session', { cookie: alice.cookie });
      expect(session.status).toBe(401);
      expect(await session.json()).toMatchObject({ signIn: { oidc: true, token: true } });
    });

    it('should follow the rules in force: an issuer whose roles shrink takes them from open sessions at once', async () => {
      const bob = await oidcSignIn('bob');
      expect((await get('/v1/grants?awaiting=me', { cookie: bob.cookie })).status).toBe(200);
      const reload = () => fetch(`${base}/v1/policy/reload`, { method: 'POST', headers: t.as('admin') });
      writeFileSync(rulesPath, rulesFile(idp.issuer).replace('roles: [requester, approver]', 'roles: [requester]'));
      expect((await reload()).status).toBe(200);
      try {
        expect((await get('/v1/grants?awaiting=me', { cookie: bob.cookie })).status).toBe(403);
        expect(await (await get('/console/session', { cookie: bob.cookie })).json()).toMatchObject({ subject: 'corp:bob', roles: ['requester'] });
      } finally {
        writeFileSync(rulesPath, rulesFile(idp.issuer));
        expect((await reload()).status).toBe(200);
      }
    });

    it('should refuse an unknown token and a body without one, naming the field', async () => {
      expect((await post('/console/auth/token', { token: 'tok-nobody-000000000000000000000' })).status).toBe(401);
      const bad = await post('/console/auth/token', { tokn: 'x' });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(expect.arrayContaining(['token']));
    });
  });

  describe('static files', () => {
    it('should serve the console with a strict CSP, cache headers and the SPA fallback', async () => {
      const page = await get('/console/');
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('JIT console');
      const csp = page.headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain(`form-action 'self' ${idp.issuer}`);
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');

      const asset = await get('/console/assets/app-1a2b3c.js');
      expect(asset.status).toBe(200);
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');

      const deep = await get('/console/grants/0192f0c4-0000-7000-8000-000000000000');
      expect(deep.status).toBe(200);
      expect(await deep.text()).toContain('JIT console');
      expect((await get('/console/assets/gone-000.js')).status).toBe(404);
      expect((await get('/console')).headers.get('location')).toBe('/console/');
    });
  });
});
