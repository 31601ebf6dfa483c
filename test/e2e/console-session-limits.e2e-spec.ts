import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdpSimulator } from '@jit/sim-idp';
import { LocalOidcIssuer, ManualClock, startLocalOidcIssuer } from '@jit/testing';
import { ConsoleSessionStore } from '../../apps/broker/src/console/console-session.store';
import { CONSOLE_AUTH_LIMIT } from '../../apps/broker/src/console/console-client-limiter';
import { sha256Hex } from '../../apps/broker/src/http/auth/token-registry';
import { TestBroker, TOKENS, startTestBroker } from '../setup/test-broker';
import { openTestDatabase } from '../setup/test-database';

/** Rules trusting `issuer` as `corp` (requesters), audience jit-console unless told otherwise. */
function rulesFile(issuer: string, extra: { audience?: string; maxTokenAge?: string; groupRoles?: string } = {}): string {
  return `
version: 1
issuers:
  - name: corp
    issuer: ${issuer}
    audience: ${extra.audience ?? 'jit-console'}
    groupsClaim: groups
    roles: [requester]
${extra.maxTokenAge ? `    maxTokenAge: ${extra.maxTokenAge}\n` : ''}${extra.groupRoles ? `    groupRoles: ${extra.groupRoles}\n` : ''}rules:
  - name: nothing
    requesters:
      - subjects: [nobody]
    targets:
      - { kind: aws.iam-policy, actions: ["s3:GetObject"], resources: ["*"] }
    maxDuration: PT1H
    approval: auto
`;
}

const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' };

function sessionCookie(response: Response): string {
  const line = response.headers.getSetCookie().find((c) => c.startsWith('jit_session='));
  if (!line) throw new Error(`no session cookie in ${JSON.stringify(response.headers.getSetCookie())}`);
  return line.split(';')[0];
}

/**
 * A console session is never worth more than its token: it ends with the id_token's exp (or its
 * issuer's maximum age), when the issuer's URL or audience changes under its name, when token
 * sign-in is turned off or the static token leaves the tokens file. And the unauthenticated
 * sign-in routes are bounded: per client address, in rows of sign-ins, and to same-origin callers.
 */
describe('console sessions: what ends them, and limits on sign-in (e2e)', () => {
  let oidc: LocalOidcIssuer;
  let other: LocalOidcIssuer;
  let clock: ManualClock;
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let t: TestBroker;
  let base: string;
  let rulesPath: string;

  beforeAll(async () => {
    oidc = await startLocalOidcIssuer();
    other = await startLocalOidcIssuer();
    rulesPath = join(mkdtempSync(join(tmpdir(), 'jit-console-limits-')), 'rules.yaml');
    writeFileSync(rulesPath, rulesFile(oidc.issuer));
    clock = new ManualClock(new Date());
    database = await openTestDatabase();
    t = await startTestBroker({ JIT_POLICY_FILE: rulesPath, JIT_CONSOLE_TOKEN_SIGN_IN: 'true' }, { database, clock });
    base = t.broker.url!;
  });
  afterAll(async () => {
    await t?.close();
    await database?.close();
    await oidc?.close();
    await other?.close();
  });
  afterEach(async () => {
    writeFileSync(rulesPath, rulesFile(oidc.issuer));
    await reload();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers, redirect: 'manual' });
  const reload = async () => expect((await fetch(`${base}/v1/policy/reload`, { method: 'POST', headers: t.as('admin') })).status).toBe(200);
  const corpToken = (expiresInSeconds = 3600) => oidc.sign({ sub: 'alice', groups: ['developers'] }, { audience: 'jit-console', expiresInSeconds });

  async function signIn(token: string, url = base, headers: Record<string, string> = SAME_ORIGIN): Promise<string> {
    const response = await fetch(`${url}/console/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ token }) });
    expect(response.status).toBe(204);
    return sessionCookie(response);
  }

  it('should end a pasted id_token\'s session at the token\'s exp, as the API refuses the token then', async () => {
    clock.set(new Date());
    const token = await corpToken(120);
    const cookie = await signIn(token);
    const session = (await (await get('/console/session', { cookie })).json()) as { expiresAt: string };
    const exp = (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number }).exp;
    expect(new Date(session.expiresAt).getTime()).toBe(exp * 1000);
    expect((await get('/v1/grants', { cookie })).status).toBe(200);

    clock.advance(200_000);
    expect((await get('/v1/grants', { authorization: `Bearer ${token}` })).status).toBe(401);
    expect((await get('/v1/grants', { cookie })).status).toBe(401);
    expect((await get('/console/session', { cookie })).status).toBe(401);
  });

  it('should end a session at its issuer\'s maximum token age, which a rules reload may set', async () => {
    clock.set(new Date());
    const cookie = await signIn(await corpToken(3600));
    writeFileSync(rulesPath, rulesFile(oidc.issuer, { maxTokenAge: 'PT10M' }));
    await reload();
    expect((await get('/v1/grants', { cookie })).status).toBe(200);
    clock.advance(11 * 60_000);
    expect((await get('/v1/grants', { cookie })).status).toBe(401);
    clock.set(new Date());
    // A session started under the rule ends by it.
    const fresh = (await (await get('/console/session', { cookie: await signIn(await corpToken(3600)) })).json()) as { expiresAt: string };
    expect(new Date(fresh.expiresAt).getTime()).toBeLessThanOrEqual(Date.now() + 10 * 60_000 + 1000);
  });

  it('should end sessions when the issuer\'s name points at another URL, or no longer accepts their audience', async () => {
    clock.set(new Date());
    const moved = await signIn(await corpToken());
    const narrowed = await signIn(await corpToken());
    expect((await get('/v1/grants', { cookie: moved })).status).toBe(200);

    writeFileSync(rulesPath, rulesFile(other.issuer));
    await reload();
    expect((await get('/v1/grants', { cookie: moved })).status).toBe(401);

    writeFileSync(rulesPath, rulesFile(oidc.issuer, { audience: 'another-client' }));
    await reload();
    expect((await get('/v1/grants', { cookie: narrowed })).status).toBe(401);
    // Ended for good: the old rules back do not revive either.
    writeFileSync(rulesPath, rulesFile(oidc.issuer));
    await reload();
    expect((await get('/v1/grants', { cookie: moved })).status).toBe(401);
    expect((await get('/v1/grants', { cookie: narrowed })).status).toBe(401);
  });

  it('should end token sessions when token sign-in is turned off, and a static token\'s when it leaves the tokens file', async () => {
    clock.set(new Date());
    const alice = await signIn(TOKENS.alice);
    const bob = await signIn(TOKENS.bob);
    expect((await get('/v1/grants', { cookie: alice })).status).toBe(200);

    // Another replica on the same database, started with token sign-in off.
    const off = await startTestBroker({ JIT_POLICY_FILE: rulesPath }, { database, clock });
    try {
      expect((await fetch(`${off.broker.url}/v1/grants`, { headers: { cookie: alice } })).status).toBe(401);
    } finally {
      await off.close();
    }

    // One whose tokens file no longer lists bob's token.
    const tokensFile = join(mkdtempSync(join(tmpdir(), 'jit-tokens-')), 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify({ tokens: [{ subject: 'alice', roles: ['requester'], sha256: sha256Hex(TOKENS.alice) }] }));
    const fewer = await startTestBroker({ JIT_POLICY_FILE: rulesPath, JIT_CONSOLE_TOKEN_SIGN_IN: 'true', JIT_TOKENS_FILE: tokensFile }, { database, clock });
    try {
      expect((await fetch(`${fewer.broker.url}/v1/grants`, { headers: { cookie: bob } })).status).toBe(401);
    } finally {
      await fewer.close();
    }
    expect((await get('/v1/grants', { cookie: bob })).status).toBe(401);
  });

  it('should make a token in a groupRoles group an auditor, as a bearer and as a session, which follows the rules in force', async () => {
    clock.set(new Date());
    writeFileSync(rulesPath, rulesFile(oidc.issuer, { groupRoles: '{ auditor: [audit] }' }));
    await reload();
    const dave = await oidc.sign({ sub: 'dave', groups: ['audit'] }, { audience: 'jit-console' });
    const alice = await corpToken();
    expect((await get('/v1/audit', { authorization: `Bearer ${dave}` })).status).toBe(200);
    expect((await get('/v1/audit', { authorization: `Bearer ${alice}` })).status).toBe(403);

    const cookie = await signIn(dave);
    expect(await (await get('/console/session', { cookie })).json()).toMatchObject({ subject: 'corp:dave', roles: ['requester', 'auditor'], groups: ['corp:audit'] });
    expect((await get('/v1/audit', { cookie })).status).toBe(200);
    writeFileSync(rulesPath, rulesFile(oidc.issuer));
    await reload();
    expect(await (await get('/console/session', { cookie })).json()).toMatchObject({ roles: ['requester'] });
    expect((await get('/v1/audit', { cookie })).status).toBe(403);
  });

  it('should refuse token sign-in and sign-out from another site, or from a caller that names no origin', async () => {
    for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'https://evil.example' }, {}] as Record<string, string>[]) {
      const refused = await fetch(`${base}/console/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ token: TOKENS.alice }) });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.headers.getSetCookie()).toEqual([]);
    }
    // An older browser without Sec-Fetch-* still names the broker's own origin.
    const cookie = await signIn(TOKENS.alice, base, { origin: base });
    const csrf = ((await (await get('/console/session', { cookie })).json()) as { csrfToken: string }).csrfToken;
    const crossSite = await fetch(`${base}/console/auth/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    expect((await get('/console/session', { cookie })).status).toBe(200);
    expect((await fetch(`${base}/console/auth/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, ...SAME_ORIGIN } })).status).toBe(204);
  });

  it('should keep at most the given number of sign-ins in progress, deleting expired ones as it stores one', async () => {
    const store = new ConsoleSessionStore(database.dataSource);
    await database.dataSource.query('DELETE FROM console_sign_ins');
    const now = new Date();
    const signIn = (i: number) => ({ state: `s${i}`, nonce: `n${i}`, codeVerifier: `v${i}`, returnTo: '/console/' });
    const later = new Date(now.getTime() + 600_000);
    for (let i = 0; i < 3; i++) expect(await store.createSignIn(`cap-${i}`, signIn(i), later, now, 3)).toBe(true);
    expect(await store.createSignIn('cap-3', signIn(3), later, now, 3)).toBe(false);
    const count = async () => Number((await database.dataSource.query<{ n: string }[]>('SELECT count(*) AS n FROM console_sign_ins'))[0].n);
    expect(await count()).toBe(3);
    // Once the three expired, the next one is stored and they are gone.
    expect(await store.createSignIn('cap-4', signIn(4), new Date(later.getTime() + 600_000), later, 3)).toBe(true);
    expect(await count()).toBe(1);
  });
});

describe('console sign-in routes per client address (e2e)', () => {
  let idp: IdpSimulator;
  let t: TestBroker;

  beforeAll(async () => {
    idp = await IdpSimulator.start({ users: [{ username: 'alice', name: 'Alice', groups: [] }], clients: [{ clientId: 'jit-console', redirectUris: [] }] });
    const rulesPath = join(mkdtempSync(join(tmpdir(), 'jit-console-rate-')), 'rules.yaml');
    writeFileSync(rulesPath, rulesFile(idp.issuer));
    t = await startTestBroker({ JIT_POLICY_FILE: rulesPath, JIT_CONSOLE_OIDC_ISSUER: idp.issuer, JIT_CONSOLE_TOKEN_SIGN_IN: 'true' });
  });
  afterAll(async () => {
    await t?.close();
    await idp?.close();
  });

  it(`should answer the ${CONSOLE_AUTH_LIMIT.points + 1}th sign-in from one address in a window with a 429 and Retry-After`, async () => {
    const base = t.broker.url!;
    for (let i = 0; i < CONSOLE_AUTH_LIMIT.points; i++) {
      expect((await fetch(`${base}/console/auth/login`, { redirect: 'manual' })).status).toBe(303);
    }
    const refused = await fetch(`${base}/console/auth/login`, { redirect: 'manual' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(CONSOLE_AUTH_LIMIT.seconds);
    expect(refused.headers.getSetCookie()).toEqual([]);
    // The other sign-in routes share the budget; the v1 API (authenticated) does not.
    expect((await fetch(`${base}/console/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json', ...SAME_ORIGIN }, body: '{"token":"x"}' })).status).toBe(429);
    expect((await fetch(`${base}/v1/grants`, { headers: t.as('alice') })).status).toBe(200);
  });
});
