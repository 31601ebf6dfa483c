import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, IncomingHttpHeaders } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertSiemRecords } from '../../apps/broker/src/cli/siem-to-jsonl';
import { pollUntil } from '../setup/poll-until.util';
import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

const HEC_TOKEN = 'e2e-hec-token-0123456789abcdef';

/**
 * The broker as configured by a notifications file with a SIEM: every audit event of a grant's
 * life reaches a Splunk HEC-like collector, and the collector's copy is the broker's own export.
 */
describe('SIEM streaming (e2e)', () => {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  let failuresLeft = 2;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // The collector is busy for its first two requests: the events wait and are sent again.
      if (failuresLeft-- > 0) {
        res.writeHead(503).end();
        return;
      }
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"text":"Success","code":0}');
    });
  });
  let t: TestBroker;

  beforeAll(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const dir = mkdtempSync(join(tmpdir(), 'jit-siem-'));
    const file = join(dir, 'notifications.yaml');
    writeFileSync(
      file,
      [
        'siem:',
        '  - name: splunk',
        '    type: splunk-hec',
        `    url: http://127.0.0.1:${(server.address() as AddressInfo).port}/services/collector/event`,
        '    tokenEnv: JIT_E2E_HEC_TOKEN',
        '    maxBatch: 3',
      ].join('\n'),
    );
    process.env.JIT_E2E_HEC_TOKEN = HEC_TOKEN;
    t = await startTestBroker({ JIT_NOTIFICATIONS_FILE: file });
  });
  afterAll(async () => {
    await t?.close();
    delete process.env.JIT_E2E_HEC_TOKEN;
    server.closeAllConnections();
    server.close();
  });

  it("should deliver a grant's events to the collector, whose copy converts back to the broker's export, and count them in /metrics", async () => {
    const created = await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant());
    expect(created.status).toBe(201);
    const revoked = await t.http.post(`/v1/grants/${created.body.id}/revoke`).set(t.as('alice')).send({ reason: 'done' });
    expect(revoked.status).toBe(200);

    const exported = (await t.http.get('/v1/audit?format=jsonl').set(t.as('auditor'))).text.trimEnd().split('\n');
    const lastSeq = (JSON.parse(exported[exported.length - 1]) as { seq: number }).seq;
    const records = await pollUntil(async () => {
      const lines = received.flatMap((r) => r.body.split('\n'));
      const converted = await convertSiemRecords(lines);
      return converted.events.some((e) => e.seq === lastSeq) ? { lines, converted } : undefined;
    }, 30_000);

    expect(records.converted.conflicts).toEqual([]);
    expect(records.converted.events.map((e) => JSON.stringify(e))).toEqual(exported);
    expect(received.every((r) => r.headers.authorization === `Splunk ${HEC_TOKEN}`)).toBe(true);
    expect(Math.max(...received.map((r) => r.body.split('\n').length))).toBeLessThanOrEqual(3);
    const types = records.converted.events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['grant.requested', 'grant.activated', 'grant.revoked']));

    const metrics = (await t.http.get('/metrics').set(t.as('auditor'))).text;
    const delivered = Number(/jit_siem_events_total\{destination="splunk",outcome="delivered"\} (\d+)/.exec(metrics)?.[1]);
    expect(delivered).toBeGreaterThanOrEqual(exported.length);
    expect(metrics).toMatch(/jit_siem_events_total\{destination="splunk",outcome="retried"\} [1-9]/);
    expect(metrics).toMatch(/jit_siem_lag_seconds\{destination="splunk"\} /);
  });
});
