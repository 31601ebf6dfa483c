import { once } from 'node:events';
import { Socket, connect } from 'node:net';
import { pollUntil } from '../setup/poll-until.util';
import { openTestDatabase } from '../setup/test-database';
import { TOKENS, TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

/** Longest the test waits for a final checkpoint signed while its request is still open (the fault under test). */
const EARLY_CHECKPOINT_WAIT_MS = 3_000;

/** Collects what `socket` receives; `until(pattern)` resolves once it matches (leaving the socket open). */
function reader(socket: Socket) {
  let text = '';
  let wake = () => {};
  let ended = false;
  socket.on('data', (chunk) => {
    text += String(chunk);
    wake();
  });
  socket.on('close', () => {
    ended = true;
    wake();
  });
  return {
    async until(pattern: RegExp): Promise<string> {
      while (!pattern.test(text)) {
        if (ended) throw new Error(`connection closed before ${pattern}: ${text}`);
        await new Promise<void>((resolve) => (wake = resolve));
      }
      return text;
    },
  };
}

/**
 * docs/audit.md: "a clean stop chains what is left before its last checkpoint". A request still
 * open when close() begins commits its events afterwards; the broker must wait for it (within the
 * deadline) before its last chaining round and the final checkpoint, so nothing it committed is
 * left staged or signed over by no checkpoint (before the fix: the final checkpoint was signed,
 * then the request committed, and its events were chained, if at all, by a round racing the close).
 */
describe('shutdown with a request in flight', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let t: TestBroker;
  const sql = async <T>(text: string) => (await db.dataSource.query(text)) as T;

  beforeAll(async () => {
    db = await openTestDatabase();
    // Only the final checkpoint is signed: none by count or time during the test.
    t = await startTestBroker({ JIT_AUDIT_CHECKPOINT_EVERY: '1000000', JIT_AUDIT_CHECKPOINT_INTERVAL: 'PT1H', JIT_SHUTDOWN_DEADLINE: 'PT60S' }, { database: db });
  });
  afterAll(async () => {
    await t?.broker.close();
    await db?.close();
  });

  it('should chain the events of a request that commits during close() and cover them with the final checkpoint', async () => {
    const created = await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant());
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    // The revoke is in flight: its headers are read (the server answered 100 Continue), its body not yet sent.
    const body = JSON.stringify({ reason: 'revoked while the broker stops' });
    const url = new URL(t.broker.url!);
    const socket = connect(Number(url.port), url.hostname);
    await once(socket, 'connect');
    const received = reader(socket);
    socket.write(
      `POST /v1/grants/${id}/revoke HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${TOKENS.alice}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
    );
    await received.until(/^HTTP\/1\.1 100 Continue\r\n\r\n/);

    const closing = t.broker.close();
    // Give a broker that signs its final checkpoint before draining (the fault) the chance to do so; a correct one signs nothing until the request ends.
    await pollUntil(async () => ((await sql<{ n: number }[]>(`SELECT count(*)::int AS n FROM audit_checkpoints`))[0].n > 0 ? true : undefined), EARLY_CHECKPOINT_WAIT_MS).catch(() => undefined);
    socket.write(body);
    const answer = (await received.until(/\r\n\r\n[\s\S]*\r\n\r\n[\s\S]*\}$/)).replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '');
    socket.destroy();
    // The revoke was recorded before its cloud call, which the stop cancelled: the requester is told to retry.
    expect(answer).toMatch(/^HTTP\/1\.1 503 /);
    await closing;

    const [{ staged }] = await sql<{ staged: number }[]>(`SELECT count(*)::int AS staged FROM audit_staged`);
    const [{ max }] = await sql<{ max: number }[]>(`SELECT max(seq)::int AS max FROM audit_events`);
    const [final] = await sql<{ seq: number }[]>(`SELECT seq::int AS seq FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`);
    const revokeEvents = await sql<{ seq: number }[]>(`SELECT seq::int AS seq FROM audit_events WHERE grant_id = '${id}' AND type = 'grant.revoke_requested'`);
    expect({ staged, finalCheckpoint: final?.seq, revokeChained: revokeEvents.length > 0 }).toEqual({ staged: 0, finalCheckpoint: max, revokeChained: true });
  }, 120_000);
});
