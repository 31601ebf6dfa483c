import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, IncomingHttpHeaders, ServerResponse } from 'node:http';
import { AuditEventInput, AuditEventType, SystemClock } from '@jit/domain';
import {
  DeliveryOutcome,
  NotificationRelay,
  NotificationRelayOptions,
  NOTIFICATION_TYPES,
  verifyWebhookSignature,
  WebhookConfig,
} from '@jit/notifications';
import { PostgresNotificationCursorStore } from '@jit/persistence';
import { ManualClock } from '@jit/testing';
import { pollUntil } from '../setup/poll-until.util';
import { openTestDatabase } from '../setup/test-database';
import { PostgresStores, postgresStores } from '../setup/postgres-stores';

const SECRET = 'whsec-medium-test-0123456789';
/** Short delays so retries take milliseconds; the lease must still exceed timeout + cap. */
const FAST = { pollIntervalMs: 50, retryBaseMs: 10, retryCapMs: 50, timeoutMs: 1_000, leaseMs: 5_000 };
const WAIT_MS = 10_000;
const SLOW_MS = 300;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}
/** A status, a status with headers, no answer at all, or 200 after `slowMs`. */
type Answer = number | { status: number; headers: Record<string, string> } | 'hang' | 'slow';

/** A webhook receiver on 127.0.0.1: answers each path from its script, then 200. */
async function startReceiver() {
  const received: Received[] = [];
  const scripts = new Map<string, Answer[]>();
  const hanging: ServerResponse[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = scripts.get(path)?.shift() ?? 200;
      if (answer === 'hang') {
        hanging.push(res);
        return;
      }
      if (answer === 'slow') {
        setTimeout(() => res.writeHead(200).end(), SLOW_MS);
        return;
      }
      const { status, headers } = typeof answer === 'number' ? { status: answer, headers: {} } : answer;
      res.writeHead(status, headers).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    base,
    url: (path: string) => `${base}${path}`,
    script: (path: string, ...answers: Answer[]) => scripts.set(path, answers),
    at: (path: string) => received.filter((r) => r.path === path),
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

describe(NotificationRelay.name, () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let grants: PostgresStores;
  let cursors: PostgresNotificationCursorStore;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const relays: NotificationRelay[] = [];

  beforeAll(async () => {
    db = await openTestDatabase();
    grants = postgresStores(db.dataSource, new SystemClock(), 'test-replica');
    cursors = new PostgresNotificationCursorStore(db.dataSource, new SystemClock());
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
  });
  afterAll(async () => {
    await receiver.close();
    await db.close();
  });

  /** A webhook with a fresh name, so each test has a cursor of its own. */
  function webhook(overrides: Partial<WebhookConfig> = {}): WebhookConfig {
    const name = `hook-${randomUUID().slice(0, 8)}`;
    return { name, url: receiver.url(`/${name}`), format: 'json', secret: null, events: [...NOTIFICATION_TYPES], ...overrides };
  }
  const path = (w: WebhookConfig) => new URL(w.url).pathname;

  function relay(hooks: WebhookConfig[], owner: string, options: Partial<NotificationRelayOptions> = {}) {
    const outcomes: DeliveryOutcome[] = [];
    const warnings: string[] = [];
    const errors: string[] = [];
    const r = new NotificationRelay(hooks, cursors, {
      owner,
      ...FAST,
      logger: { warn: (m) => warnings.push(m), error: (m) => errors.push(m) },
      onOutcome: (_w, o) => outcomes.push(o),
      ...options,
    });
    relays.push(r);
    return { relay: r, outcomes, warnings, errors };
  }

  /** Creates the cursor at the current end of the log for `owner`, as the relay's first claim would. */
  async function register(w: WebhookConfig, owner: string): Promise<void> {
    expect(await cursors.claim(w.name, owner, FAST.leaseMs)).not.toBeNull();
  }

  async function append(type: AuditEventType, data: Record<string, unknown> = {}, actor = 'broker'): Promise<{ id: string; seq: number }> {
    const input: AuditEventInput = {
      type,
      grantId: randomUUID(),
      cloud: 'aws',
      principal: 'arn:aws:iam::123456789012:role/ci-deployer',
      actor,
      data,
    };
    await grants.audit.record([input]);
    await grants.audit.chained();
    const [row] = await db.dataSource.query(`SELECT id, seq FROM audit_events ORDER BY seq DESC LIMIT 1`);
    return { id: row.id, seq: Number(row.seq) };
  }

  async function cursor(w: WebhookConfig) {
    const [row] = await db.dataSource.query(`SELECT last_seq, delivered, failed FROM notification_cursors WHERE webhook = $1`, [w.name]);
    return row ? { lastSeq: Number(row.last_seq), delivered: Number(row.delivered), failed: Number(row.failed) } : undefined;
  }
  const cursorAt = (w: WebhookConfig, seq: number) => pollUntil(async () => ((await cursor(w))?.lastSeq === seq ? cursor(w) : undefined), WAIT_MS);
  const receivedAtLeast = (w: WebhookConfig, n: number) =>
    pollUntil(async () => (receiver.at(path(w)).length >= n ? receiver.at(path(w)) : undefined), WAIT_MS);
  const ids = (w: WebhookConfig) => receiver.at(path(w)).map((r) => r.headers['x-jit-event-id']);

  it('should retry 503 twice, then deliver once on attempt 3 with a signature the receiver verifies', async () => {
    const w = webhook({ secret: SECRET });
    receiver.script(path(w), 503, 503, 200);
    await register(w, 'replica-a');
    const { relay: r, outcomes } = relay([w], 'replica-a');
    r.start();
    const event = await append('grant.activated', { expiresAt: '2030-01-01T11:00:00.000Z' });
    r.kick();

    const requests = await receivedAtLeast(w, 3);
    expect(requests.map((q) => q.headers['x-jit-delivery-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(requests.map((q) => q.headers['x-jit-event-id']))).toEqual(new Set([event.id]));
    const last = requests[2];
    expect(last.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'jit-broker',
      'x-jit-notification': 'grant.granted',
    });
    expect(verifyWebhookSignature(SECRET, last.headers['x-jit-signature'] as string, last.body, Date.now() / 1000, 60)).toBe(true);
    expect(verifyWebhookSignature('whsec-some-other-secret-00', last.headers['x-jit-signature'] as string, last.body, Date.now() / 1000, 60)).toBe(false);
    expect(JSON.parse(last.body)).toMatchObject({ id: event.id, type: 'grant.granted', severity: 'info', event: { seq: event.seq, type: 'grant.activated' } });
    expect(await cursorAt(w, event.seq)).toEqual({ lastSeq: event.seq, delivered: 1, failed: 0 });
    expect(outcomes).toEqual(['retried', 'retried', 'delivered']);
    expect(receiver.at(path(w))).toHaveLength(3);
  });

  it("should sign at the relay's injected clock, not the host's", async () => {
    const w = webhook({ secret: SECRET });
    await register(w, 'replica-a');
    const signedAt = new Date('2031-02-03T04:05:06.000Z');
    const { relay: r } = relay([w], 'replica-a', { clock: new ManualClock(signedAt) });
    r.start();
    await append('grant.activated', { expiresAt: '2031-02-03T05:00:00.000Z' });
    r.kick();

    const [request] = await receivedAtLeast(w, 1);
    const header = request.headers['x-jit-signature'] as string;
    expect(header).toMatch(new RegExp(`^t=${signedAt.getTime() / 1000},`));
    expect(verifyWebhookSignature(SECRET, header, request.body, signedAt.getTime() / 1000, 60)).toBe(true);
  });

  it('should give up an event answered 400 without retrying, move the cursor on and deliver the next one', async () => {
    const w = webhook();
    receiver.script(path(w), 400);
    await register(w, 'replica-a');
    const { relay: r, outcomes, warnings } = relay([w], 'replica-a');
    r.start();
    const rejected = await append('grant.activated');
    const next = await append('grant.activated');
    r.kick();

    await receivedAtLeast(w, 2);
    expect(await cursorAt(w, next.seq)).toEqual({ lastSeq: next.seq, delivered: 1, failed: 1 });
    expect(ids(w)).toEqual([rejected.id, next.id]);
    expect(receiver.at(path(w)).map((q) => q.headers['x-jit-delivery-attempt'])).toEqual(['1', '1']);
    expect(outcomes).toEqual(['failed', 'delivered']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`webhook ${w.name}`);
    expect(warnings[0]).toContain('HTTP 400');
    expect(warnings[0]).not.toContain(receiver.base);
  });

  it('should give up after maxAttempts of 5xx', async () => {
    const w = webhook();
    receiver.script(path(w), 500, 502, 503);
    await register(w, 'replica-a');
    const { relay: r, outcomes } = relay([w], 'replica-a', { maxAttempts: 3 });
    r.start();
    const event = await append('grant.activated');
    r.kick();

    expect(await cursorAt(w, event.seq)).toMatchObject({ delivered: 0, failed: 1 });
    expect(receiver.at(path(w))).toHaveLength(3);
    expect(outcomes).toEqual(['retried', 'retried', 'failed']);
  });

  it('should cap a long Retry-After and retry a receiver that does not answer in time', async () => {
    const w = webhook();
    receiver.script(path(w), { status: 429, headers: { 'Retry-After': '3600' } }, 'hang', 200);
    await register(w, 'replica-a');
    const { relay: r } = relay([w], 'replica-a', { timeoutMs: 300 });
    r.start();
    const event = await append('grant.activated');
    r.kick();

    expect(await cursorAt(w, event.seq)).toMatchObject({ delivered: 1, failed: 0 });
    expect(receiver.at(path(w)).map((q) => q.headers['x-jit-delivery-attempt'])).toEqual(['1', '2', '3']);
  });

  it('should send only events a human needs, and only the types the webhook asked for', async () => {
    const all = webhook();
    const breakGlassOnly = webhook({ events: ['break_glass.used'] });
    await register(all, 'replica-a');
    await register(breakGlassOnly, 'replica-a');
    const { relay: r } = relay([all, breakGlassOnly], 'replica-a');
    r.start();
    await append('grant.requested', { approval: { mode: 'auto', rule: 'r', required: 0, groups: [], deadline: null } }, 'alice');
    await append('grant.approved', { rule: 'r', mode: 'approvals', by: 'dave', comment: null, received: 1, required: 2, final: false }, 'dave');
    await append('grant.provisioned', { artifactName: 'jit-x' });
    await append('grant.revoke_retried', { attempt: 1, error: 'throttled' });
    const needed = await append('grant.requested', { approval: { mode: 'approvals', rule: 'r', required: 2, groups: ['sre'], deadline: null } }, 'alice');
    const activated = await append('grant.activated');
    const breakGlass = await append('policy.break_glass', { severity: 'high' }, 'mallory');
    r.kick();

    await cursorAt(all, breakGlass.seq);
    await cursorAt(breakGlassOnly, breakGlass.seq);
    expect(receiver.at(path(all)).map((q) => [q.headers['x-jit-event-id'], q.headers['x-jit-notification']])).toEqual([
      [needed.id, 'approval.needed'],
      [activated.id, 'grant.granted'],
      [breakGlass.id, 'break_glass.used'],
    ]);
    expect(ids(breakGlassOnly)).toEqual([breakGlass.id]);
    expect(JSON.parse(receiver.at(path(breakGlassOnly))[0].body)).toMatchObject({ severity: 'high', actor: 'mallory' });
  });

  it('should post a Slack message: a fallback text and Block Kit blocks, the actor in plain text', async () => {
    const w = webhook({ format: 'slack' });
    await register(w, 'replica-a');
    const { relay: r } = relay([w], 'replica-a', { publicUrl: 'https://jit.example.com' });
    r.start();
    const event = await append('policy.break_glass', { severity: 'high' }, 'mallory');
    r.kick();

    const [request] = await receivedAtLeast(w, 1);
    const body = JSON.parse(request.body);
    expect(Object.keys(body)).toEqual(['text', 'blocks']);
    expect(body.text).toMatch(/^:rotating_light: \*Break-glass access used\* · grant /);
    expect(body.text).toContain('<https://jit.example.com/v1/grants/');
    expect(body.blocks).toContainEqual({ type: 'context', elements: expect.arrayContaining([{ type: 'plain_text', text: 'By: mallory', emoji: false }]) });
    expect(request.headers['x-jit-event-id']).toBe(event.id);
  });

  it('should not deliver from a second replica while the first holds the lease, and take over once it is released', async () => {
    const w = webhook();
    await register(w, 'replica-a');
    const a = relay([w], 'replica-a');
    const b = relay([w], 'replica-b');
    a.relay.start();
    b.relay.start();
    const first = await append('grant.activated');
    const second = await append('grant.activated');
    a.relay.kick();
    b.relay.kick();

    await cursorAt(w, second.seq);
    expect(ids(w)).toEqual([first.id, second.id]);
    expect(a.outcomes).toEqual(['delivered', 'delivered']);
    expect(b.outcomes).toEqual([]);

    await a.relay.stop();
    const third = await append('grant.activated');
    b.relay.kick();
    await cursorAt(w, third.seq);
    expect(ids(w)).toEqual([first.id, second.id, third.id]);
    expect(b.outcomes).toEqual(['delivered']);
  });

  it('should not resend delivered events after a restart', async () => {
    const w = webhook();
    await register(w, 'replica-a');
    const before = relay([w], 'replica-a');
    before.relay.start();
    const first = await append('grant.activated');
    before.relay.kick();
    await cursorAt(w, first.seq);
    await before.relay.stop();

    const after = relay([w], 'replica-c');
    after.relay.start();
    const second = await append('grant.activated');
    after.relay.kick();
    await cursorAt(w, second.seq);
    expect(ids(w)).toEqual([first.id, second.id]);
  });

  it('should start a webhook seen for the first time at the end of the log', async () => {
    const old = await append('grant.activated');
    const w = webhook();
    const { relay: r } = relay([w], 'replica-a');
    r.start();
    await pollUntil(() => cursor(w), WAIT_MS);
    const fresh = await append('grant.activated');
    r.kick();

    await cursorAt(w, fresh.seq);
    expect(ids(w)).toEqual([fresh.id]);
    expect(ids(w)).not.toContain(old.id);
  });

  it('should let stop() wait for the delivery in flight and move the cursor past it', async () => {
    const w = webhook();
    receiver.script(path(w), 'slow');
    await register(w, 'replica-a');
    const { relay: r, outcomes } = relay([w], 'replica-a');
    r.start();
    const event = await append('grant.activated');
    r.kick();
    await receivedAtLeast(w, 1);

    await r.stop();
    expect(outcomes).toEqual(['delivered']);
    expect(await cursor(w)).toEqual({ lastSeq: event.seq, delivered: 1, failed: 0 });
    const [row] = await db.dataSource.query(`SELECT lease_owner FROM notification_cursors WHERE webhook = $1`, [w.name]);
    expect(row.lease_owner).toBeNull();
  });
});

