import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { startLocalOidcIssuer, type LocalOidcIssuer } from '@jit/testing';
import { DEFAULT_OIDC_ALGORITHMS, oidcIssuerSchema, oidcIssuersSchema, type OidcIssuerConfig } from './oidc-issuer.config';
import { OidcAuthError, OidcTokenVerifier, type OidcTokenVerifierOptions } from './oidc-token.verifier';

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);

function issuerConfig(issuer: string, overrides: Partial<OidcIssuerConfig> = {}): OidcIssuerConfig {
  return {
    name: 'ci',
    issuer,
    audiences: ['jit-broker'],
    subjectClaim: 'sub',
    groupsClaim: 'groups',
    roles: ['requester'],
    clockSkewSeconds: 60,
    algorithms: [...DEFAULT_OIDC_ALGORITHMS],
    ...overrides,
  };
}

/** The rejection of `token`, checking it is an OidcAuthError whose reason does not quote the token. */
async function rejectionOf(verifier: OidcTokenVerifier, token: string): Promise<OidcAuthError> {
  let outcome: unknown;
  try {
    outcome = await verifier.verify(token);
  } catch (error) {
    if (!(error instanceof OidcAuthError)) throw error;
    for (const segment of token.split('.').filter((s) => s.length > 8)) expect(error.reason).not.toContain(segment);
    return error;
  }
  throw new Error(`expected the token to be rejected, got ${JSON.stringify(outcome)}`);
}

describe(OidcTokenVerifier.name, () => {
  let idp: LocalOidcIssuer;
  let verifier: OidcTokenVerifier;

  beforeAll(async () => {
    idp = await startLocalOidcIssuer();
  });
  afterAll(() => idp.close());
  beforeEach(() => {
    verifier = new OidcTokenVerifier([issuerConfig(idp.issuer)]);
  });

  it('should turn a valid token into an identity prefixed with the issuer name', async () => {
    const token = await idp.sign({ sub: 'repo:acme/infra:ref:refs/heads/main', groups: ['deployers', 42, 'ops'], repository: 'acme/infra' });

    const identity = await verifier.verify(token);

    expect(identity).toEqual({
      issuerName: 'ci',
      subject: 'ci:repo:acme/infra:ref:refs/heads/main',
      claims: expect.objectContaining({ iss: idp.issuer, aud: 'jit-broker', repository: 'acme/infra' }),
      groups: ['deployers', 'ops'],
      roles: ['requester'],
    });
  });

  it('should accept ES256 tokens and a single-string groups claim', async () => {
    const token = await idp.sign({ sub: 'pipeline-7', groups: 'deployers' }, { alg: 'ES256' });

    const identity = await verifier.verify(token);

    expect(identity.subject).toBe('ci:pipeline-7');
    expect(identity.groups).toEqual(['deployers']);
  });

  it('should use the configured subject claim', async () => {
    verifier.setIssuers([issuerConfig(idp.issuer, { subjectClaim: 'repository' })]);

    const identity = await verifier.verify(await idp.sign({ sub: 'x', repository: 'acme/infra' }));
    const missing = await rejectionOf(verifier, await idp.sign({ sub: 'x' }));
    const empty = await rejectionOf(verifier, await idp.sign({ sub: 'x', repository: '' }));

    expect(identity.subject).toBe('ci:acme/infra');
    expect(missing.reason).toBe('token lacks the required "repository" claim');
    expect(empty.reason).toBe('token claim "repository" must be a non-empty string');
  });

  it.each([
    ['sub', { sub: 'repo:acme/\ud800' }],
    ['groups[1]', { sub: 'a', groups: ['ops', '\udc00'] }],
    ['repository', { sub: 'a', repository: 'acme/app\ud800' }],
    ['x.?', { sub: 'a', x: { '\udc00': 1 } }],
  ])('should reject a token whose claim %s holds a lone surrogate, which PostgreSQL would store altered', async (claim, claims) => {
    // jose writes the payload with JSON.stringify, which escapes a lone surrogate as \ud800 text.
    const error = await rejectionOf(verifier, await idp.sign(claims));

    expect(error.status).toBe(401);
    expect(error.reason).toBe(`token claim "${claim}" must be well-formed Unicode (no lone UTF-16 surrogates)`);
  });

  it('should reject a token with a NUL character in a claim, which PostgreSQL cannot store or compare', async () => {
    const error = await rejectionOf(verifier, await idp.sign({ sub: 'a', groups: '\u0000' }));

    expect(error.reason).toBe('token claim "groups" must not contain the NUL character (U+0000)');
  });

  it('should accept claims with well-formed text beyond ASCII', async () => {
    const identity = await verifier.verify(await idp.sign({ sub: 'équipe-🚀', groups: ['opérations'] }));

    expect(identity.subject).toBe('ci:équipe-🚀');
    expect(identity.groups).toEqual(['opérations']);
  });

  it('should reject an expired token with the expiry time', async () => {
    const exp = nowSeconds() - 120;
    const token = await idp.sign({ sub: 'a', exp });

    const error = await rejectionOf(verifier, token);

    expect(error.status).toBe(401);
    expect(error.reason).toBe(`token expired at ${new Date(exp * 1000).toISOString()}`);
  });

  it('should accept a token expired by less than the clock skew', async () => {
    const token = await idp.sign({ sub: 'a' }, { expiresInSeconds: -30 });

    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'ci:a' });
    verifier.setIssuers([issuerConfig(idp.issuer, { clockSkewSeconds: 0 })]);
    expect((await rejectionOf(verifier, token)).reason).toMatch(/^token expired at /);
  });

  it('should reject a token whose nbf is further in the future than the skew', async () => {
    const early = await idp.sign({ sub: 'a' }, { notBefore: new Date(Date.now() + 120_000) });
    const slightlyEarly = await idp.sign({ sub: 'a' }, { notBefore: new Date(Date.now() + 30_000) });

    expect((await rejectionOf(verifier, early)).reason).toMatch(/^token is not valid before \d{4}-/);
    await expect(verifier.verify(slightlyEarly)).resolves.toMatchObject({ subject: 'ci:a' });
  });

  it('should reject a token issued in the future', async () => {
    const token = await idp.sign({ sub: 'a' }, { issuedAt: new Date(Date.now() + 600_000), expiresInSeconds: 900 });

    expect((await rejectionOf(verifier, token)).reason).toBe('token issued-at time (iat) is in the future');
  });

  it('should reject a token for another audience', async () => {
    const token = await idp.sign({ sub: 'a' }, { audience: ['sigstore', 'other-app'] });

    expect((await rejectionOf(verifier, token)).reason).toBe('token audience does not match');
  });

  it('should accept any one of several configured audiences', async () => {
    verifier.setIssuers([issuerConfig(idp.issuer, { audiences: ['jit-broker', 'api://jit'] })]);

    await expect(verifier.verify(await idp.sign({ sub: 'a' }, { audience: 'api://jit' }))).resolves.toMatchObject({ subject: 'ci:a' });
  });

  it('should reject a token from an issuer that is not configured, without contacting it', async () => {
    const before = { ...idp.requests };
    const token = await idp.sign({ sub: 'a' }, { issuer: 'https://evil.example.com' });

    const error = await rejectionOf(verifier, token);

    expect(error.reason).toBe('token issuer https://evil.example.com is not trusted');
    expect(idp.requests).toEqual(before);
  });

  it('should reject a token whose payload was changed after signing', async () => {
    const [header, payload, signature] = (await idp.sign({ sub: 'pipeline-a', groups: ['readers'] })).split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const tampered = `${header}.${b64url({ ...claims, sub: 'pipeline-admin' })}.${signature}`;

    expect((await rejectionOf(verifier, tampered)).reason).toBe('token signature is invalid');
  });

  it('should reject a token signed with a foreign key that claims the issuer key id', async () => {
    const forged = await idp.sign({ sub: 'a' }, { signWith: 'foreign' });
    const forgedEc = await idp.sign({ sub: 'a' }, { signWith: 'foreign', alg: 'ES256' });

    expect((await rejectionOf(verifier, forged)).reason).toBe('token signature is invalid');
    expect((await rejectionOf(verifier, forgedEc)).reason).toBe('token signature is invalid');
  });

  it('should reject an unsigned alg none token', async () => {
    const claims = { iss: idp.issuer, aud: 'jit-broker', sub: 'a', iat: nowSeconds(), exp: nowSeconds() + 300 };
    const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims)}.`;

    expect(OidcTokenVerifier.looksLikeJwt(unsigned)).toBe(true);
    expect((await rejectionOf(verifier, unsigned)).reason).toBe('token algorithm none is not allowed for issuer ci');
  });

  it('should reject an HS256 token without fetching any key', async () => {
    const before = { ...idp.requests };
    const token = await new SignJWT({ sub: 'a' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(idp.issuer)
      .setAudience('jit-broker')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('a-shared-secret-of-at-least-32-bytes!'));

    expect((await rejectionOf(verifier, token)).reason).toBe('token algorithm HS256 is not allowed for issuer ci');
    expect(idp.requests).toEqual(before);
  });

  it('should reject a token that never expires', async () => {
    const token = await idp.sign({ sub: 'a', exp: undefined });

    expect((await rejectionOf(verifier, token)).reason).toBe('token lacks the required "exp" claim');
  });

  it('should reject a token older than the maximum token age', async () => {
    verifier.setIssuers([issuerConfig(idp.issuer, { maxTokenAgeSeconds: 3600 })]);
    const old = await idp.sign({ sub: 'a' }, { issuedAt: new Date(Date.now() - 2 * 3600_000) });
    const fresh = await idp.sign({ sub: 'a' });
    const noIat = await idp.sign({ sub: 'a', iat: undefined });

    expect((await rejectionOf(verifier, old)).reason).toBe('token is older than the maximum age of 3600s');
    await expect(verifier.verify(fresh)).resolves.toMatchObject({ subject: 'ci:a' });
    expect((await rejectionOf(verifier, noIat)).reason).toBe('token lacks the required "iat" claim');
  });

  it('should reject malformed tokens as malformed', async () => {
    expect((await rejectionOf(verifier, 'not-a-jwt')).reason).toBe('token is malformed');
    expect((await rejectionOf(verifier, `${b64url({ alg: 'RS256' })}.bm90IGpzb24.c2ln`)).reason).toBe('token is malformed');
  });

  it('should tell JWTs from static bearer tokens', async () => {
    expect(OidcTokenVerifier.looksLikeJwt(await idp.sign({ sub: 'a' }))).toBe(true);
    expect(OidcTokenVerifier.looksLikeJwt('3f6c1a0e9b7d4c2a8e5f1b3d7a9c0e2f4b6d8a1c3e5f7b9d')).toBe(false);
    expect(OidcTokenVerifier.looksLikeJwt('abc.def.ghi')).toBe(false);
    expect(OidcTokenVerifier.looksLikeJwt(`${b64url({ typ: 'JWT' })}.${b64url({})}.c2ln`)).toBe(false);
  });

  it('should reject a token the issuer signed for a removed issuer after setIssuers', async () => {
    const token = await idp.sign({ sub: 'a' });
    await verifier.verify(token);

    verifier.setIssuers([]);

    expect((await rejectionOf(verifier, token)).reason).toBe(`token issuer ${idp.issuer} is not trusted`);
  });

  it('should refuse an issuer config that allows HS256 or none', () => {
    expect(() => verifier.setIssuers([issuerConfig(idp.issuer, { algorithms: ['RS256', 'HS256'] })])).toThrow(/HS256 are not allowed/);
    expect(() => new OidcTokenVerifier([issuerConfig(idp.issuer, { algorithms: ['none'] })])).toThrow(/none are not allowed/);
  });

  describe('with a dedicated issuer', () => {
    let own: LocalOidcIssuer;
    let clock: number;
    const options = (extra: OidcTokenVerifierOptions = {}): OidcTokenVerifierOptions => ({ now: () => new Date(clock), ...extra });

    beforeEach(async () => {
      own = await startLocalOidcIssuer();
      clock = Date.now();
    });
    afterEach(() => own.close());

    it('should fetch discovery and keys once for many verifications', async () => {
      const v = new OidcTokenVerifier([issuerConfig(own.issuer)], options());
      const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => own.sign({ sub: `p${i}` })));

      await Promise.all(tokens.map((t) => v.verify(t)));
      for (const t of tokens) await v.verify(t);

      expect(own.requests).toEqual({ discovery: 1, jwks: 1 });
    });

    it('should keep the caches of an issuer that stays across setIssuers', async () => {
      const v = new OidcTokenVerifier([issuerConfig(own.issuer)], options());
      await v.verify(await own.sign({ sub: 'a' }));

      v.setIssuers([issuerConfig(own.issuer, { name: 'ci-renamed', roles: ['requester', 'auditor'] })]);
      const identity = await v.verify(await own.sign({ sub: 'a' }));

      expect(identity).toMatchObject({ subject: 'ci-renamed:a', roles: ['requester', 'auditor'] });
      expect(own.requests).toEqual({ discovery: 1, jwks: 1 });
    });

    it('should rediscover once the discovery cache has expired', async () => {
      const v = new OidcTokenVerifier([issuerConfig(own.issuer)], options({ discoveryTtlMs: 60_000 }));
      const token = await own.sign({ sub: 'a' }, { expiresInSeconds: 3600 });
      await v.verify(token);

      clock += 61_000;
      await v.verify(token);

      expect(own.requests.discovery).toBe(2);
    });

    it('should skip discovery when a JWKS URL is configured', async () => {
      const v = new OidcTokenVerifier([issuerConfig(own.issuer, { jwksUri: `${own.issuer}/jwks` })], options());

      await v.verify(await own.sign({ sub: 'a' }));

      expect(own.requests).toEqual({ discovery: 0, jwks: 1 });
    });

    it('should verify tokens signed with a rotated key by refetching the JWKS', async () => {
      const v = new OidcTokenVerifier([issuerConfig(own.issuer)], options({ jwksCooldownMs: 0 }));
      const before = await own.sign({ sub: 'a' });
      await v.verify(before);

      await own.rotateKey();
      const after = await own.sign({ sub: 'a' });

      await expect(v.verify(after)).resolves.toMatchObject({ subject: 'ci:a' });
      expect(own.requests.jwks).toBe(2);
      expect((await rejectionOf(v, before)).reason).toBe('token signing key is not among the keys of issuer ci');
    });

    it('should refuse an issuer whose discovery document names another issuer, and retry only after a pause', async () => {
      const configured = `${own.issuer}/`;
      const v = new OidcTokenVerifier([issuerConfig(configured)], options());
      const token = await own.sign({ sub: 'a' }, { issuer: configured, expiresInSeconds: 3600 });

      const first = await rejectionOf(v, token);
      await rejectionOf(v, token);
      expect(own.requests.discovery).toBe(1);
      clock += 6_000;
      await rejectionOf(v, token);

      expect(first).toMatchObject({ status: 503, reason: 'OIDC discovery for issuer ci failed: the document names a different issuer' });
      expect(own.requests).toEqual({ discovery: 2, jwks: 0 });
    });

    it('should answer 503 when the issuer is unreachable', async () => {
      const token = await own.sign({ sub: 'a' });
      await own.close();
      const v = new OidcTokenVerifier([issuerConfig(own.issuer)], options({ fetchTimeoutMs: 2_000 }));

      const error = await rejectionOf(v, token);

      expect(error).toMatchObject({ status: 503, reason: 'OIDC discovery for issuer ci failed: issuer unreachable' });
      own = await startLocalOidcIssuer();
    });
  });
});

describe('OIDC discovery of a misbehaving issuer', () => {
  let server: Server;
  let issuer: string;
  let handle: (req: IncomingMessage, res: ServerResponse) => void;
  const json = (res: ServerResponse, body: unknown, type = 'application/json') => {
    res.writeHead(200, { 'content-type': type });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
  /** Discovery happens before any key is needed, so the signature does not matter here. */
  const token = () => `${b64url({ alg: 'RS256', kid: 'k1' })}.${b64url({ iss: issuer, aud: 'jit-broker', sub: 'a', exp: nowSeconds() + 300 })}.c2lnbmF0dXJl`;
  const reasonWith = async (options: OidcTokenVerifierOptions = {}) => {
    const error = await rejectionOf(new OidcTokenVerifier([issuerConfig(issuer)], options), token());
    expect(error.status).toBe(503);
    return error.reason;
  };

  beforeAll(async () => {
    server = createServer((req, res) => handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('should ask the well-known URL and accept a good document', async () => {
    const asked: string[] = [];
    handle = (req, res) => {
      asked.push(req.url ?? '');
      if (req.url === '/jwks') return json(res, { keys: [] });
      json(res, { issuer, jwks_uri: `${issuer}/jwks` });
    };

    const error = await rejectionOf(new OidcTokenVerifier([issuerConfig(issuer)]), token());

    expect(asked).toEqual(['/.well-known/openid-configuration', '/jwks']);
    expect(error.reason).toBe('token signing key is not among the keys of issuer ci');
  });

  it('should not follow a redirect', async () => {
    handle = (req, res) => {
      res.writeHead(302, { location: `${issuer}/elsewhere` });
      res.end();
    };

    expect(await reasonWith()).toBe('OIDC discovery for issuer ci failed: HTTP 302');
  });

  it('should name the HTTP status of a failed answer', async () => {
    handle = (req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{}');
    };

    expect(await reasonWith()).toBe('OIDC discovery for issuer ci failed: HTTP 500');
  });

  it('should refuse a document over 512 KiB, announced or not', async () => {
    const padding = 'x'.repeat(600 * 1024);
    handle = (req, res) => json(res, { issuer, jwks_uri: `${issuer}/jwks`, padding });
    expect(await reasonWith()).toBe('OIDC discovery for issuer ci failed: document too large');

    handle = (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.write(`{"issuer":"${issuer}","padding":"`);
      res.write(padding);
      res.end('"}');
    };
    expect(await reasonWith()).toBe('OIDC discovery for issuer ci failed: document too large');
  });

  it('should refuse a document that is not JSON', async () => {
    handle = (req, res) => json(res, '<html>sign in</html>', 'text/html');
    expect(await reasonWith()).toBe('OIDC discovery for issuer ci failed: document is not JSON (content type)');

    handle = (req, res) => json(res, '{"issuer": ');
    expect(await reasonWith()).toBe('OIDC discovery for issuer ci failed: document is not JSON');

    handle = (req, res) => json(res, { jwks_uri: `${issuer}/jwks` });
    expect(await reasonWith()).toBe('OIDC discovery for issuer ci failed: document is not valid issuer metadata');

    handle = (req, res) => json(res, [{ issuer, jwks_uri: `${issuer}/jwks` }]);
    expect(await reasonWith()).toBe('OIDC discovery for issuer ci failed: document is not valid issuer metadata');
  });

  it('should refuse a key URL that is not https off loopback', async () => {
    handle = (req, res) => json(res, { issuer, jwks_uri: 'http://keys.example.com/jwks' });
    expect(await reasonWith()).toBe('OIDC discovery for issuer ci failed: jwks_uri is missing or not https');

    handle = (req, res) => json(res, { issuer });
    expect(await reasonWith()).toBe('OIDC discovery for issuer ci failed: jwks_uri is missing or not https');
  });

  it('should give up on an issuer that does not answer', async () => {
    handle = () => undefined;

    expect(await reasonWith({ fetchTimeoutMs: 300 })).toBe('OIDC discovery for issuer ci failed: timed out');
  });
});

describe('oidcIssuerSchema', () => {
  it('should apply defaults and normalise the audience', () => {
    const parsed = oidcIssuerSchema.parse({ name: 'github', issuer: 'https://token.actions.githubusercontent.com', audience: 'jit-broker' });

    expect(parsed).toEqual({
      name: 'github',
      issuer: 'https://token.actions.githubusercontent.com',
      audiences: ['jit-broker'],
      subjectClaim: 'sub',
      roles: ['requester'],
      clockSkewSeconds: 60,
      algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'],
    });
  });

  it('should read durations, claims and lists', () => {
    const parsed = oidcIssuerSchema.parse({
      name: 'gitlab',
      issuer: 'https://gitlab.example.com',
      audience: ['https://jit.example.com', 'jit-broker'],
      jwksUri: 'https://gitlab.example.com/oauth/discovery/keys',
      subjectClaim: 'project_path',
      groupsClaim: 'groups',
      roles: ['requester', 'auditor'],
      clockSkew: 'PT2M',
      maxTokenAge: 'PT10M',
      algorithms: ['RS256'],
    });

    expect(parsed).toMatchObject({
      audiences: ['https://jit.example.com', 'jit-broker'],
      jwksUri: 'https://gitlab.example.com/oauth/discovery/keys',
      clockSkewSeconds: 120,
      maxTokenAgeSeconds: 600,
      algorithms: ['RS256'],
    });
  });

  it('should accept http only on loopback', () => {
    const base = { name: 'local', audience: 'jit-broker' };

    expect(oidcIssuerSchema.safeParse({ ...base, issuer: 'http://127.0.0.1:8080' }).success).toBe(true);
    expect(oidcIssuerSchema.safeParse({ ...base, issuer: 'http://[::1]:8080' }).success).toBe(true);
    expect(oidcIssuerSchema.safeParse({ ...base, issuer: 'http://localhost:8080' }).success).toBe(true);
    expect(oidcIssuerSchema.safeParse({ ...base, issuer: 'http://idp.example.com' }).success).toBe(false);
    expect(oidcIssuerSchema.safeParse({ ...base, issuer: 'https://idp.example.com', jwksUri: 'http://keys.example.com/jwks' }).success).toBe(false);
  });

  it('should reject unknown keys, unsafe algorithms and out-of-range skew', () => {
    const base = { name: 'github', issuer: 'https://token.actions.githubusercontent.com', audience: 'jit-broker' };

    expect(oidcIssuerSchema.safeParse({ ...base, audiences: ['x'] }).success).toBe(false);
    expect(oidcIssuerSchema.safeParse({ ...base, algorithms: ['HS256'] }).success).toBe(false);
    expect(oidcIssuerSchema.safeParse({ ...base, algorithms: ['none'] }).success).toBe(false);
    expect(oidcIssuerSchema.safeParse({ ...base, clockSkew: 'PT10M' }).success).toBe(false);
    expect(oidcIssuerSchema.safeParse({ ...base, clockSkew: '60' }).success).toBe(false);
    expect(oidcIssuerSchema.safeParse({ ...base, name: 'GitHub' }).success).toBe(false);
    expect(oidcIssuerSchema.safeParse({ ...base, audience: [] }).success).toBe(false);
  });

  it('should reject a list naming the same issuer twice', () => {
    const one = { name: 'github', issuer: 'https://token.actions.githubusercontent.com', audience: 'jit-broker' };

    expect(oidcIssuersSchema.safeParse([one, { ...one, name: 'github-2' }]).success).toBe(false);
    expect(oidcIssuersSchema.safeParse([one, { ...one, issuer: 'https://gitlab.com' }]).success).toBe(false);
  });
});
