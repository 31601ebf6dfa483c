import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, IncomingHttpHeaders } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { createServer as createTlsServer, Server as TlsServer } from 'node:tls';
import { ChainVerifier } from '@jit/audit';
import { AUDIT_EVENT_TYPES, AuditEvent, AuditEventType, CursorOutcome, NotificationCursorStore, SystemClock } from '@jit/domain';
import {
  AuditRelay,
  AuditRelayOptions,
  ElasticBulkConfig,
  HttpCollectorDestination,
  JsonLinesConfig,
  OcsfRecord,
  RelayDestination,
  SplunkHecConfig,
  SyslogConfig,
  SyslogDestination,
  webhookDestinations,
} from '@jit/notifications';
import { PostgresNotificationCursorStore } from '@jit/persistence';
import { convertSiemRecords } from '../../apps/broker/src/cli/siem-to-jsonl';
import { pollUntil } from '../setup/poll-until.util';
import { openTestDatabase } from '../setup/test-database';
import { PostgresStores, postgresStores } from '../setup/postgres-stores';

/** Short delays so retries take milliseconds; the lease must still exceed a destination's timeout + cap. */
const FAST: Omit<AuditRelayOptions, 'owner'> = { pollIntervalMs: 50, retryBaseMs: 10, retryCapMs: 50, leaseMs: 20_000 };
const WAIT_MS = 20_000;
const TOKEN = 'hec-token-medium-0123456789';

interface Request {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** An HTTP collector on 127.0.0.1: Splunk HEC at `<prefix>/services/collector/event`, Elastic at `<prefix>/_bulk`, JSON lines elsewhere. */
async function startCollector() {
  const requests: Request[] = [];
  /** Statuses to answer per path prefix before answering normally. */
  const failures = new Map<string, number[]>();
  /** Elastic: ids created per index; per-prefix item statuses to answer once. */
  const created = new Map<string, Set<string>>();
  const itemFailures = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const prefix = `/${path.split('/')[1]}`;
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ path, headers: req.headers, body });
      const status = failures.get(prefix)?.shift();
      if (status !== undefined) {
        res.writeHead(status, { 'Content-Type': 'application/json' }).end('{"text":"Server is busy","code":9}');
        return;
      }
      if (path.endsWith('/_bulk')) {
        const lines = body.split('\n').filter(Boolean);
        const items: { create: { _index: string; _id: string; status: number; error?: { type: string } } }[] = [];
        let refuse = itemFailures.get(prefix) ?? 0;
        itemFailures.delete(prefix);
        for (let i = 0; i < lines.length; i += 2) {
          const { create } = JSON.parse(lines[i]) as { create: { _index: string; _id: string } };
          const ids = created.get(create._index) ?? new Set<string>();
          created.set(create._index, ids);
          if (refuse > 0) {
            refuse--;
            items.push({ create: { ...create, status: 429, error: { type: 'es_rejected_execution_exception' } } });
          } else if (ids.has(create._id)) {
            items.push({ create: { ...create, status: 409, error: { type: 'version_conflict_engine_exception' } } });
          } else {
            ids.add(create._id);
            items.push({ create: { ...create, status: 201 } });
          }
        }
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: items.some((i) => i.create.status !== 201), items }));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"text":"Success","code":0}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    requests: (prefix: string) => requests.filter((r) => r.path.startsWith(`${prefix}/`)),
    fail: (prefix: string, ...statuses: number[]) => failures.set(prefix, statuses),
    refuseItems: (prefix: string, n: number) => itemFailures.set(prefix, n),
    created: (index: string) => created.get(index) ?? new Set<string>(),
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** The HEC records of every request to `prefix`, in arrival order. */
function hecRecords(requests: Request[]): { time: number; host: string; source: string; sourcetype: string; event: OcsfRecord }[] {
  return requests.flatMap((r) => r.body.split('\n').map((line) => JSON.parse(line) as { time: number; host: string; source: string; sourcetype: string; event: OcsfRecord }));
}

describe('SIEM streaming through the audit relay', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let grants: PostgresStores;
  let cursors: PostgresNotificationCursorStore;
  let collector: Awaited<ReturnType<typeof startCollector>>;
  const relays: AuditRelay[] = [];

  beforeAll(async () => {
    db = await openTestDatabase();
    grants = postgresStores(db.dataSource, new SystemClock(), 'test-replica');
    cursors = new PostgresNotificationCursorStore(db.dataSource, new SystemClock());
    collector = await startCollector();
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
  });
  afterAll(async () => {
    await collector.close();
    await db.close();
  });

  async function append(n: number, type: AuditEventType = 'grant.requested'): Promise<void> {
    for (let i = 0; i < n; i++) {
      await grants.audit.record([
        { type, grantId: randomUUID(), cloud: 'aws', principal: 'arn:aws:iam::123456789012:role/ci-deployer', actor: 'pipeline', data: { i, kind: 'aws.iam-policy' } },
      ]);
    }
    // Chained, as the relays read them (a unit of work answers before its round).
    await grants.audit.chained();
  }
  /** Every event in the log, in seq order. */
  const stored = (): Promise<AuditEvent[]> => cursors.eventsAfter(0, AUDIT_EVENT_TYPES, 100_000);

  function hec(prefix: string, maxBatch = 10): HttpCollectorDestination {
    const config: SplunkHecConfig = {
      type: 'splunk-hec',
      name: prefix.slice(1),
      url: `${collector.base}${prefix}/services/collector/event`,
      token: TOKEN,
      source: 'jit-broker',
      sourcetype: 'ocsf:jit-broker',
      host: 'broker-1',
      maxBatch,
      startAt: 'start',
    };
    return new HttpCollectorDestination(config);
  }

  function relay(destinations: RelayDestination[], store: NotificationCursorStore = cursors, owner = 'replica-a') {
    const outcomes: { name: string; outcome: string; count: number }[] = [];
    const r = new AuditRelay(destinations, store, {
      owner,
      ...FAST,
      logger: { warn: () => undefined, error: () => undefined },
      onOutcome: (d, outcome, count) => outcomes.push({ name: d.name, outcome, count }),
    });
    relays.push(r);
    r.start();
    return { relay: r, outcomes };
  }

  async function cursorRow(name: string) {
    const [row] = await db.dataSource.query(`SELECT last_seq, delivered, failed FROM notification_cursors WHERE webhook = $1`, [name]);
    return row ? { lastSeq: Number(row.last_seq), delivered: Number(row.delivered) } : undefined;
  }
  const caughtUp = async (name: string) => {
    const events = await stored();
    const last = events[events.length - 1].seq;
    return pollUntil(async () => ((await cursorRow(name))?.lastSeq === last ? events : undefined), WAIT_MS);
  };

  it('should send every event to Splunk HEC in seq order, batched, with the chain fields, as OCSF records that convert back to a verifiable export', async () => {
    await append(23);
    const prefix = `/hec-${randomUUID().slice(0, 8)}`;
    relay([hec(prefix, 10)]);
    const events = await caughtUp(`siem:${prefix.slice(1)}`);
    const requests = collector.requests(prefix);
    const records = hecRecords(requests);
    expect(records.map((r) => r.event.metadata.sequence)).toEqual(events.map((e) => e.seq));
    expect(records.map((r) => r.event.unmapped.jit.hash)).toEqual(events.map((e) => e.hash));
    expect(records.map((r) => r.event.unmapped.jit.prevHash)).toEqual(events.map((e) => e.prevHash));
    expect(requests.every((r) => r.headers.authorization === `Splunk ${TOKEN}`)).toBe(true);
    expect(Math.max(...requests.map((r) => r.body.split('\n').length))).toBe(10);
    expect(requests.length).toBe(Math.ceil(events.length / 10));
    for (const [i, r] of records.entries()) {
      expect(r).toMatchObject({ host: 'broker-1', source: 'jit-broker', sourcetype: 'ocsf:jit-broker', time: events[i].occurredAt.getTime() / 1000 });
      expect(r.event).toMatchObject({ class_uid: 3004, category_uid: 3, activity_id: 1, type_uid: 300401, metadata: { version: '1.3.0', uid: events[i].id } });
    }
    // The SIEM copy, turned back into the export, verifies as a chain from genesis.
    const converted = await convertSiemRecords(records.map((r) => JSON.stringify(r)));
    expect(converted.conflicts).toEqual([]);
    const verifier = new ChainVerifier();
    for (const e of converted.events) verifier.add({ ...e, occurredAt: new Date(e.occurredAt) });
    verifier.finish({ seq: events[events.length - 1].seq, hash: events[events.length - 1].hash });
    expect(verifier.breakCount).toBe(0);
    expect(verifier.lastSeq).toBe(events[events.length - 1].seq);
  });

  it('should keep a failing collector\'s cursor, deliver the rest once it recovers, and not hold up the other destinations or the webhooks', async () => {
    await append(5);
    const flaky = `/flaky-${randomUUID().slice(0, 8)}`;
    const healthy = `/healthy-${randomUUID().slice(0, 8)}`;
    const down = `/down-${randomUUID().slice(0, 8)}`;
    collector.fail(flaky, 503, 503, 503, 500, 429);
    collector.fail(down, ...Array<number>(100_000).fill(503));
    const hookName = `hook-${randomUUID().slice(0, 8)}`;
    const [webhook] = webhookDestinations([{ name: hookName, url: `${collector.base}/${hookName}/hook`, format: 'json', secret: null, events: ['grant.granted'] }]);
    expect(await cursors.claim(webhook.cursor, 'replica-a', FAST.leaseMs!)).not.toBeNull();
    const { outcomes } = relay([hec(flaky, 4), hec(healthy, 4), hec(down, 4), webhook]);
    await append(3, 'grant.activated');
    await append(4);

    const events = await caughtUp(`siem:${healthy.slice(1)}`);
    await caughtUp(`siem:${flaky.slice(1)}`);
    await pollUntil(async () => (collector.requests(`/${hookName}`).length === 3 ? true : undefined), WAIT_MS);
    const flakyRecords = hecRecords(collector.requests(flaky).filter((r) => r.body));
    // Every request the collector refused is sent again, so the copy holds each event at least once, in order.
    const firstSeen = [...new Map(flakyRecords.map((r) => [r.event.metadata.sequence, r])).keys()];
    expect(firstSeen).toEqual(events.map((e) => e.seq));
    expect(hecRecords(collector.requests(healthy)).map((r) => r.event.metadata.sequence)).toEqual(events.map((e) => e.seq));
    expect(outcomes.filter((o) => o.name === flaky.slice(1) && o.outcome === 'retried')).toHaveLength(5);
    // The one that never answers keeps its cursor before its first event: nothing is skipped or lost.
    const dead = await cursorRow(`siem:${down.slice(1)}`);
    expect(dead).toEqual({ lastSeq: events[0].seq - 1, delivered: 0 });
    expect(collector.requests(down).length).toBeGreaterThan(1);
  });

  it('should send a batch again when the process dies between the send and the cursor update (at least once)', async () => {
    await append(6);
    const prefix = `/crash-${randomUUID().slice(0, 8)}`;
    const name = `siem:${prefix.slice(1)}`;
    // The first cursor update after a send never happens: the process "dies" there.
    let crashed = false;
    const dying = Object.create(cursors) as PostgresNotificationCursorStore;
    dying.advance = async (cursor: string, owner: string, seq: number, outcome: CursorOutcome, count?: number) => {
      if (cursor === name && outcome === 'delivered' && !crashed) {
        crashed = true;
        throw new Error('process killed');
      }
      return cursors.advance(cursor, owner, seq, outcome, count);
    };
    const first = relay([hec(prefix, 5)], dying, 'replica-a');
    await pollUntil(async () => (crashed ? true : undefined), WAIT_MS);
    await first.relay.stop();
    // A new process (another replica) takes the destination over from the cursor as stored.
    relay([hec(prefix, 5)], cursors, 'replica-b');
    const events = await caughtUp(name);
    const records = hecRecords(collector.requests(prefix));
    const seqs = records.map((r) => r.event.metadata.sequence);
    expect(seqs.slice(0, 5)).toEqual(seqs.slice(5, 10));
    expect([...new Set(seqs)]).toEqual(events.map((e) => e.seq));
    const converted = await convertSiemRecords(records.map((r) => JSON.stringify(r)));
    expect(converted).toMatchObject({ duplicates: 5, conflicts: [] });
    expect(converted.events.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
  });

  it("should index every event once in Elastic with create actions, sending a batch again when items are refused", async () => {
    await append(7);
    const prefix = `/es-${randomUUID().slice(0, 8)}`;
    const index = `logs-jit.audit-${prefix.slice(4)}`;
    collector.refuseItems(prefix, 2);
    const config: ElasticBulkConfig = { type: 'elastic-bulk', name: prefix.slice(1), url: `${collector.base}${prefix}`, apiKey: 'ZXM6a2V5', index, maxBatch: 50, startAt: 'start' };
    relay([new HttpCollectorDestination(config)]);
    const events = await caughtUp(`siem:${prefix.slice(1)}`);
    const requests = collector.requests(prefix);
    expect(requests.length).toBe(Math.ceil(events.length / 50) + 1);
    expect(requests.every((r) => r.path === `${prefix}/_bulk` && r.headers.authorization === 'ApiKey ZXM6a2V5' && r.headers['content-type'] === 'application/x-ndjson')).toBe(true);
    const lines = requests[requests.length - 1].body.split('\n');
    expect(lines[lines.length - 1]).toBe('');
    const last = events[events.length - 1];
    expect(JSON.parse(lines[lines.length - 3])).toEqual({ create: { _index: index, _id: last.id } });
    expect(JSON.parse(lines[lines.length - 2])).toMatchObject({ '@timestamp': last.occurredAt.toISOString(), metadata: { sequence: last.seq }, unmapped: { jit: { hash: last.hash } } });
    expect([...collector.created(index)].sort()).toEqual(events.map((e) => e.id).sort());
  });

  it('should post JSON lines to a generic collector with a bearer token', async () => {
    await append(2);
    const prefix = `/lines-${randomUUID().slice(0, 8)}`;
    const config: JsonLinesConfig = { type: 'json-lines', name: prefix.slice(1), url: `${collector.base}${prefix}/ingest`, token: 'bearer-0123456789', maxBatch: 1000, startAt: 'start' };
    relay([new HttpCollectorDestination(config)]);
    const events = await caughtUp(`siem:${prefix.slice(1)}`);
    const [request] = collector.requests(prefix);
    expect(request.headers.authorization).toBe('Bearer bearer-0123456789');
    const records = request.body.trimEnd().split('\n').map((l) => JSON.parse(l) as OcsfRecord);
    expect(records.map((r) => r.metadata.sequence)).toEqual(events.map((e) => e.seq));
  });

  describe('syslog over TLS', () => {
    let pems: { private: string; cert: string };
    let server: TlsServer | null = null;
    const sockets: Socket[] = [];
    let received: Buffer = Buffer.alloc(0);

    beforeAll(async () => {
      const { generate } = await import('selfsigned');
      pems = await generate([{ name: 'commonName', value: 'syslog test' }], {
        keyType: 'ec',
        curve: 'P-256',
        algorithm: 'sha256',
        extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
      });
    });
    afterAll(async () => {
      await stopServer();
    });

    async function startServer(port: number, clientCa?: string): Promise<number> {
      const mutual = clientCa ? { requestCert: true, rejectUnauthorized: true, ca: clientCa } : {};
      server = createTlsServer({ key: pems.private, cert: pems.cert, ...mutual }, (socket) => {
        sockets.push(socket);
        socket.on('data', (c: Buffer) => (received = Buffer.concat([received, c])));
        socket.on('error', () => undefined);
      });
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
      return (server.address() as AddressInfo).port;
    }
    async function stopServer(): Promise<void> {
      for (const s of sockets.splice(0)) s.destroy();
      if (!server) return;
      const closing = once(server, 'close');
      server.close();
      await closing;
      server = null;
    }

    /** RFC 5425 octet-counted frames: `LEN SP MSG`, LEN in bytes. */
    function frames(data: Buffer): string[] {
      const out: string[] = [];
      let at = 0;
      while (at < data.length) {
        const space = data.indexOf(0x20, at);
        const length = Number(data.subarray(at, space).toString('ascii'));
        expect(Number.isInteger(length) && length > 0).toBe(true);
        out.push(data.subarray(space + 1, space + 1 + length).toString('utf8'));
        at = space + 1 + length;
      }
      return out;
    }

    it('should wait for a collector that is down, then send every event as RFC 5424 with seq and hash in structured data', async () => {
      await append(4, 'grant.revoke_failed');
      // Take a free port, then close it: the collector is down when the relay starts.
      const port = await startServer(0);
      await stopServer();
      const config: SyslogConfig = {
        type: 'syslog',
        name: `syslog-${randomUUID().slice(0, 8)}`,
        host: '127.0.0.1',
        port,
        servername: 'localhost',
        ca: pems.cert,
        appName: 'jit-broker',
        hostname: 'broker-1',
        facility: 13,
        sdId: 'jit@32473',
        maxBatch: 7,
        startAt: 'start',
      };
      const { outcomes } = relay([new SyslogDestination(config)]);
      await pollUntil(async () => (outcomes.some((o) => o.outcome === 'retried') ? true : undefined), WAIT_MS);
      expect((await cursorRow(`siem:${config.name}`))?.delivered).toBe(0);
      await startServer(port);
      const events = await caughtUp(`siem:${config.name}`);
      const messages = await pollUntil(async () => {
        const all = frames(received);
        return all.length >= events.length ? all : undefined;
      }, WAIT_MS);
      expect(messages).toHaveLength(events.length);
      messages.forEach((m, i) => {
        const e = events[i];
        const match = /^<(\d+)>1 (\S+) broker-1 jit-broker - (\S+) \[jit@32473 seq="(\d+)" hash="([0-9a-f]{64})" prevHash="([0-9a-f]{64})" eventId="([^"]+)"\] (\{.*\})$/.exec(m);
        expect(match).not.toBeNull();
        const [, pri, timestamp, msgid, seq, hash, prevHash, id, json] = match!;
        expect({ timestamp, msgid, seq: Number(seq), hash, prevHash, id }).toEqual({
          timestamp: e.occurredAt.toISOString(),
          msgid: e.type,
          seq: e.seq,
          hash: e.hash,
          prevHash: e.prevHash,
          id: e.id,
        });
        expect(Number(pri) >> 3).toBe(13);
        expect((JSON.parse(json) as OcsfRecord).unmapped.jit.event.hash).toBe(e.hash);
      });
    });

    it('should present its client certificate to a collector that requires one (RFC 5425 mutual authentication)', async () => {
      await stopServer();
      received = Buffer.alloc(0);
      const { generate } = await import('selfsigned');
      const client = await generate([{ name: 'commonName', value: 'jit-broker' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
      const port = await startServer(0, client.cert);
      const base = { type: 'syslog' as const, host: '127.0.0.1', port, servername: 'localhost', ca: pems.cert, appName: 'jit-broker', hostname: 'b', facility: 13, sdId: 'jit@32473', maxBatch: 100, startAt: 'end' as const };
      // Without a certificate the collector hangs up: nothing is taken, the cursor waits.
      const anonymous: SyslogConfig = { ...base, name: `anon-${randomUUID().slice(0, 8)}` };
      const { outcomes } = relay([new SyslogDestination(anonymous)]);
      const signed: SyslogConfig = { ...base, name: `mtls-${randomUUID().slice(0, 8)}`, clientCert: { cert: client.cert, key: client.private } };
      relay([new SyslogDestination(signed)]);
      await pollUntil(async () => ((await cursorRow(`siem:${signed.name}`)) ? true : undefined), WAIT_MS);
      await pollUntil(async () => ((await cursorRow(`siem:${anonymous.name}`)) ? true : undefined), WAIT_MS);
      await append(2);
      const events = await caughtUp(`siem:${signed.name}`);
      const last = events[events.length - 1];
      const got = await pollUntil(async () => {
        const all = frames(received);
        return all.some((m) => m.includes(`seq="${last.seq}"`)) ? all : undefined;
      }, WAIT_MS);
      expect(got.filter((m) => m.includes(`seq="${last.seq}"`))).toHaveLength(1);
      await pollUntil(async () => (outcomes.some((o) => o.outcome === 'retried') ? true : undefined), WAIT_MS);
      expect((await cursorRow(`siem:${anonymous.name}`))?.lastSeq).toBe(last.seq - 2);
    });
  });
});
