import { AddressInfo, Server, createServer } from 'node:net';
import { DatabaseError, Pool } from 'pg';
import { QueryFailedError } from 'typeorm';
import { isStoreUnavailable } from './store-unavailable';

/** A loopback server doing `onConnection` with every connection pg makes to it. */
async function fakeServer(onConnection: (socket: import('node:net').Socket) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `postgres://postgres@127.0.0.1:${(server.address() as AddressInfo).port}/postgres` };
}

/** The error node-postgres itself raises for one query through a pool at `url`. */
async function pgErrorFrom(url: string, extra: Record<string, unknown> = {}): Promise<unknown> {
  const pool = new Pool({ connectionString: url, ...extra });
  try {
    await pool.query('SELECT 1');
    throw new Error('the query should have failed');
  } catch (e) {
    return e;
  } finally {
    await pool.end();
  }
}

const serverError = (code: string) => {
  const e = new DatabaseError('server says no', 0, 'error');
  e.code = code;
  return e;
};

describe(isStoreUnavailable.name, () => {
  it('should classify a refused connection (nothing listens on the port)', async () => {
    const { server, url } = await fakeServer(() => undefined);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await pgErrorFrom(url);
    expect((error as { code?: string }).code).toBe('ECONNREFUSED');
    expect(isStoreUnavailable(error)).toBe(true);
  });

  it('should classify a connection the server closes (PostgreSQL stopping)', async () => {
    const { server, url } = await fakeServer((socket) => socket.destroy());
    try {
      const error = await pgErrorFrom(url);
      expect(isStoreUnavailable(error)).toBe(true);
    } finally {
      server.close();
    }
  });

  it("should classify the pool's connection timeout (a server that never answers)", async () => {
    const held: import('node:net').Socket[] = [];
    const { server, url } = await fakeServer((socket) => held.push(socket));
    try {
      const error = await pgErrorFrom(url, { connectionTimeoutMillis: 100 });
      expect((error as Error).message).toMatch(/timeout/);
      expect(isStoreUnavailable(error)).toBe(true);
    } finally {
      for (const s of held) s.destroy();
      server.close();
    }
  });

  it.each(['57P01', '57P02', '57P03', '08006', '08001', '08000', '53300'])('should classify SQLSTATE %s, also inside TypeORM\'s QueryFailedError', (code) => {
    expect(isStoreUnavailable(serverError(code))).toBe(true);
    expect(isStoreUnavailable(new QueryFailedError('SELECT 1', [], serverError(code)))).toBe(true);
  });

  it('should classify a missing Unix socket (the embedded database stopped) and an error that wraps one as its cause', () => {
    const enoent = Object.assign(new Error('connect ENOENT /tmp/x/.s.PGSQL.5432'), { code: 'ENOENT', syscall: 'connect' });
    expect(isStoreUnavailable(enoent)).toBe(true);
    expect(isStoreUnavailable(new Error('query failed', { cause: enoent }))).toBe(true);
    expect(isStoreUnavailable(new AggregateError([enoent], 'all addresses failed'))).toBe(true);
  });

  it('should not classify failed statements, a missing file or anything else', () => {
    for (const code of ['23505', '40001', '42P01', '22P02', '57014']) {
      expect(isStoreUnavailable(new QueryFailedError('INSERT', [], serverError(code)))).toBe(false);
    }
    expect(isStoreUnavailable(Object.assign(new Error('no such file'), { code: 'ENOENT', syscall: 'open' }))).toBe(false);
    expect(isStoreUnavailable(new Error('boom'))).toBe(false);
    expect(isStoreUnavailable('ECONNREFUSED')).toBe(false);
    expect(isStoreUnavailable(null)).toBe(false);
  });
});
