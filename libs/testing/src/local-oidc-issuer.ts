import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

type SigningAlg = 'RS256' | 'ES256';

export interface LocalOidcSignOptions {
  audience?: string | string[];
  expiresInSeconds?: number;
  notBefore?: Date;
  issuedAt?: Date;
  issuer?: string;
  alg?: SigningAlg;
  /** 'foreign': a key that is not in the JWKS but carries the current kid, for forgery tests. */
  signWith?: 'issuer' | 'foreign';
  kid?: string;
}

export interface LocalOidcIssuer {
  /** http://127.0.0.1:PORT */
  readonly issuer: string;
  /**
   * Signs `claims` with defaults iss = issuer, aud 'jit-broker', iat now, exp in 5 minutes.
   * A claim set to undefined (e.g. `{ exp: undefined }`) is left out of the token.
   */
  sign(claims: Record<string, unknown>, opts?: LocalOidcSignOptions): Promise<string>;
  /** New current keys; the JWKS then publishes only them. */
  rotateKey(): Promise<void>;
  readonly requests: { discovery: number; jwks: number };
  close(): Promise<void>;
}

interface KeyPair {
  kid: string;
  alg: SigningAlg;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function newKey(alg: SigningAlg, generation: number): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${alg.toLowerCase()}-${generation}-${randomUUID().slice(0, 8)}`;
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A real OIDC issuer on 127.0.0.1 (discovery document and JWKS over HTTP), for verifying tokens end to end in tests. */
export async function startLocalOidcIssuer(): Promise<LocalOidcIssuer> {
  let generation = 0;
  const keysOf = async (): Promise<Record<SigningAlg, KeyPair>> => {
    generation += 1;
    return { RS256: await newKey('RS256', generation), ES256: await newKey('ES256', generation) };
  };
  let current = await keysOf();
  const foreign = { RS256: await newKey('RS256', 0), ES256: await newKey('ES256', 0) };
  const requests = { discovery: 0, jwks: 0 };

  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(405, { error: 'method not allowed' });
    if (path === '/.well-known/openid-configuration') {
      requests.discovery += 1;
      return send(200, {
        issuer,
        jwks_uri: `${issuer}/jwks`,
        subject_types_supported: ['public'],
        response_types_supported: ['id_token'],
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
        claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'nbf', 'jti'],
        scopes_supported: ['openid'],
      });
    }
    if (path === '/jwks') {
      requests.jwks += 1;
      return send(200, { keys: [current.RS256.publicJwk, current.ES256.publicJwk] });
    }
    send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    requests,
    async sign(claims, opts = {}) {
      const alg = opts.alg ?? 'RS256';
      const key = opts.signWith === 'foreign' ? foreign[alg] : current[alg];
      const nowSeconds = Math.floor(Date.now() / 1000);
      const payload: Record<string, unknown> = {
        iss: opts.issuer ?? issuer,
        aud: opts.audience ?? 'jit-broker',
        iat: opts.issuedAt ? Math.floor(opts.issuedAt.getTime() / 1000) : nowSeconds,
        exp: nowSeconds + (opts.expiresInSeconds ?? 300),
        ...(opts.notBefore && { nbf: Math.floor(opts.notBefore.getTime() / 1000) }),
        jti: randomUUID(),
        ...claims,
      };
      for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
      return new SignJWT(payload)
        .setProtectedHeader({ alg, typ: 'JWT', kid: opts.kid ?? current[alg].kid })
        .sign(key.privateKey);
    },
    async rotateKey() {
      current = await keysOf();
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
