import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { LogRedactor, ScopedLogger, assignLogFields, createBrokerLogger } from '@jit/observability';
import { requestIdMiddleware, requestIdOf } from './request-id.middleware';

describe('requestIdOf', () => {
  it('should keep a caller id made of letters, digits and ._:- up to 128 characters', () => {
    for (const id of ['e2e-1', '4bf92f3577b34da6a3ce929d0e0e4736', '01J9ZQ.build:42_x', 'a'.repeat(128)]) expect(requestIdOf(id)).toBe(id);
  });

  it('should replace anything else by a fresh UUID', () => {
    for (const header of [undefined, '', 'a'.repeat(129), 'has space', 'line\nbreak', '{"json":1}', ['a', 'b']]) {
      const id = requestIdOf(header);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(id).not.toBe(header);
    }
    expect(requestIdOf(undefined)).not.toBe(requestIdOf(undefined));
  });
});

describe(requestIdMiddleware.name, () => {
  let server: Server;
  let url: string;
  const lines: Record<string, unknown>[] = [];
  const root = createBrokerLogger({
    level: 'info',
    format: 'json',
    redactor: new LogRedactor().add('s3cret-token-value'),
    destination: { write: (l: string) => lines.push(JSON.parse(l)) },
  });
  const nest = new ScopedLogger(root);
  const middleware = requestIdMiddleware(root);
  let hanging = 0;

  /** What the app behind the middleware does: assigns fields as the interceptor does, logs a line on /noisy, answers the status the path names. */
  function app(req: IncomingMessage, res: ServerResponse) {
    assignLogFields({ actor: 'dev' });
    if (req.url?.startsWith('/noisy')) nest.warn('something to say', 'Test');
    assignLogFields({ grantId: 'g-1' });
    if (req.url === '/hang') return void hanging++;
    res.statusCode = Number(/\/(\d{3})/.exec(req.url ?? '')?.[1] ?? 200);
    res.end('{}');
  }

  beforeAll(async () => {
    server = createServer((req, res) => middleware(req, res, () => app(req, res)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => (lines.length = 0));

  /** Waits until the summary line of `reqId` is written ('close' follows the response on the server's side). */
  async function lineOf(reqId: string) {
    for (let i = 0; i < 200 && !lines.some((l) => l.reqId === reqId && typeof l.status === 'number'); i++) await new Promise((r) => setTimeout(r, 5));
    return lines.filter((l) => l.reqId === reqId);
  }

  it('should answer with the request id and log one summary line carrying it and the fields assigned meanwhile', async () => {
    const res = await fetch(`${url}/v1/grants/201?cursor=abc`, { method: 'POST', headers: { 'X-Request-Id': 'req-1', authorization: 'Bearer s3cret-token-value' } });
    expect(res.headers.get('x-request-id')).toBe('req-1');
    const mine = await lineOf('req-1');
    expect(mine).toEqual([
      expect.objectContaining({ level: 'info', msg: 'POST /v1/grants/201 201', method: 'POST', path: '/v1/grants/201', status: 201, actor: 'dev', grantId: 'g-1', responseTime: expect.any(Number) }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('s3cret-token-value');
  });

  it('should give a fresh id to a request without a usable one, and the lines written during the request carry it', async () => {
    const res = await fetch(`${url}/noisy/404`, { headers: { 'X-Request-Id': 'not an id' } });
    const id = res.headers.get('x-request-id')!;
    expect(id).not.toBe('not an id');
    const mine = await lineOf(id);
    expect(mine).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'something to say', context: 'Test', actor: 'dev' }),
      expect.objectContaining({ level: 'warn', msg: 'GET /noisy/404 404', status: 404, grantId: 'g-1' }),
    ]);
    expect(mine[0].grantId).toBeUndefined();
  });

  it('should log 5xx at error, scrub the path, and not log probes', async () => {
    await fetch(`${url}/health`, { headers: { 'X-Request-Id': 'probe-1' } });
    await fetch(`${url}/500/token=s3cret-token-value`, { headers: { 'X-Request-Id': 'err-1' } });
    expect(await lineOf('err-1')).toEqual([expect.objectContaining({ level: 'error', status: 500, msg: 'GET /500/token=[REDACTED] 500' })]);
    expect(lines.filter((l) => l.reqId === 'probe-1')).toEqual([]);
  });

  it('should log a response the client cut short as aborted', async () => {
    const ac = new AbortController();
    const sent = fetch(`${url}/hang`, { headers: { 'X-Request-Id': 'cut-1' }, signal: ac.signal }).catch(() => undefined);
    for (let i = 0; i < 200 && hanging === 0; i++) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await sent;
    expect(await lineOf('cut-1')).toEqual([expect.objectContaining({ level: 'warn', path: '/hang', aborted: true })]);
  });

  it('should make no child logger for a request that writes nothing but its summary line', async () => {
    const child = jest.spyOn(root, 'child');
    try {
      await fetch(`${url}/200`, { headers: { 'X-Request-Id': 'quiet-1' } });
      await lineOf('quiet-1');
      expect(child).not.toHaveBeenCalled();
    } finally {
      child.mockRestore();
    }
  });
});
