import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createJitClient } from './jit-client';

/** A real HTTP server that records each request's method, path and headers, and answers an empty page or grant. */
describe('createJitClient authentication modes', () => {
  let server: Server;
  let baseUrl: string;
  const seen: { method: string; path: string; headers: IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ method: req.method!, path: req.url!, headers: req.headers });
      req.resume();
      req.on('end', () => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(req.method === 'GET' ? { items: [], nextCursor: null } : { id: 'g1', state: 'active' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen.length = 0;
  });

  it('should send a cookie session without Authorization, and its CSRF token on unsafe methods only, as it is at each request', async () => {
    let csrf = 'first-token';
    const client = createJitClient({ baseUrl, session: { csrfToken: () => csrf } });

    await client.listGrants({ awaiting: 'me' });
    await client.approveGrant('g1', { comment: 'ok' });
    csrf = 'second-token';
    await client.revokeGrant('g1');

    expect(seen.map((s) => [s.method, s.path.split('?')[0]])).toEqual([
      ['GET', '/v1/grants'],
      ['POST', '/v1/grants/g1/approve'],
      ['POST', '/v1/grants/g1/revoke'],
    ]);
    expect(seen.map((s) => s.headers.authorization)).toEqual([undefined, undefined, undefined]);
    expect(seen.map((s) => s.headers['x-csrf-token'])).toEqual([undefined, 'first-token', 'second-token']);
  });

  it('should keep the bearer token mode as it was: Authorization on every request, no CSRF header', async () => {
    const client = createJitClient({ baseUrl, token: 'tok_abc' });

    await client.listGrants();
    await client.approveGrant('g1');

    expect(seen.map((s) => s.headers.authorization)).toEqual(['Bearer tok_abc', 'Bearer tok_abc']);
    expect(seen.map((s) => s.headers['x-csrf-token'])).toEqual([undefined, undefined]);
  });

  it('should refuse none or more than one of token, getToken and session', () => {
    expect(() => createJitClient({ baseUrl })).toThrow('exactly one of token, getToken and session');
    expect(() => createJitClient({ baseUrl, token: 't', session: { csrfToken: () => 'c' } })).toThrow('exactly one of token, getToken and session');
  });
});
