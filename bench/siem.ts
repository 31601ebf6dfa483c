/**
 * `npm run bench:siem`: how fast the audit relay streams a backlog to a SIEM, per destination kind
 * and batch size, against collectors on loopback (so the figures are the broker's side: reading
 * the log, building OCSF records, one request per batch, the cursor update). Prints, asserts nothing.
 *
 * BENCH_SIEM_EVENTS (default 20,000) events in the log; batch size 1 streams the first
 * BENCH_SIEM_SINGLE (default 2,000) only. BENCH_DATABASE_URL: the PostgreSQL server.
 */
import 'reflect-metadata';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createServer as createTlsServer } from 'node:tls';
import { generate } from 'selfsigned';
import { AuditLog } from '@jit/audit';
import { AuditEventInput, SystemClock } from '@jit/domain';
import { AuditRelay, HttpCollectorDestination, RelayDestination, SyslogDestination } from '@jit/notifications';
import { PostgresAuditChainStore, PostgresNotificationCursorStore, PostgresUnitOfWork } from '@jit/persistence';
import { intEnv } from './env';
import { openScratchDatabase } from './scratch-database';

const EVENTS = intEnv('BENCH_SIEM_EVENTS', 20_000);
const SINGLE = Math.min(EVENTS, intEnv('BENCH_SIEM_SINGLE', 2_000));
const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const n = (x: number) => Math.round(x).toLocaleString('en-US');

function sample(i: number): AuditEventInput {
  return {
    type: i % 3 === 0 ? 'grant.requested' : i % 3 === 1 ? 'grant.activated' : 'grant.expired',
    grantId: '3b2f0a4e-6c1d-4e8f-9a7b-5c4d3e2f1a0b',
    cloud: 'aws',
    principal: `arn:aws:iam::123456789012:role/bench-${i % 1000}`,
    actor: 'bench-pipeline',
    data: { kind: 'aws.iam-policy', target: { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: [`arn:aws:s3:::b-${i}/*`] }, durationSeconds: 900 },
  };
}

async function main(): Promise<void> {
  const scratch = await openScratchDatabase(SERVER, 'jit_bench_siem');
  const { db } = scratch;
  const http = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"text":"Success","code":0}'));
  });
  const pems = await generate([{ name: 'commonName', value: 'bench' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256', extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }] });
  const tls = createTlsServer({ key: pems.private, cert: pems.cert }, (socket) => {
    socket.resume();
    socket.on('error', () => undefined);
  });
  try {
    const clock = new SystemClock();
    const log = new AuditLog(new PostgresUnitOfWork(db.dataSource, clock, 'bench'), new PostgresAuditChainStore(db.dataSource), clock);
    for (let i = 0; i < EVENTS; i += 500) await log.record(Array.from({ length: Math.min(500, EVENTS - i) }, (_, j) => sample(i + j)));
    http.listen(0, '127.0.0.1');
    tls.listen(0, '127.0.0.1');
    await Promise.all([once(http, 'listening'), once(tls, 'listening')]);
    const hecUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/services/collector/event`;
    const syslogPort = (tls.address() as AddressInfo).port;
    const cursors = new PostgresNotificationCursorStore(db.dataSource, clock);

    console.log(`JIT broker SIEM streaming benchmark: a backlog of ${n(EVENTS)} audit events on PostgreSQL, collectors on loopback`);
    const runs: { label: string; events: number; make: (name: string) => RelayDestination }[] = [
      { label: 'Splunk HEC, 1 event a request', events: SINGLE, make: (name) => hec(name, 1) },
      { label: 'Splunk HEC, 100 events a request', events: EVENTS, make: (name) => hec(name, 100) },
      { label: 'Splunk HEC, 1000 events a request', events: EVENTS, make: (name) => hec(name, 1000) },
      { label: 'syslog over TLS, 100 events a write', events: EVENTS, make: (name) => syslog(name, 100) },
    ];
    function hec(name: string, maxBatch: number): RelayDestination {
      return new HttpCollectorDestination({ type: 'splunk-hec', name, url: hecUrl, token: 'bench', source: 'jit-broker', sourcetype: 'ocsf:jit-broker', host: 'bench', maxBatch, startAt: 'start' });
    }
    function syslog(name: string, maxBatch: number): RelayDestination {
      return new SyslogDestination({ type: 'syslog', name, host: '127.0.0.1', port: syslogPort, servername: '127.0.0.1', ca: pems.cert, appName: 'jit-broker', hostname: 'bench', facility: 13, sdId: 'jit@32473', maxBatch, startAt: 'start' });
    }
    for (const [i, run] of runs.entries()) {
      const destination = run.make(`bench-${i}`);
      let delivered = 0;
      let done: () => void = () => undefined;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const relay = new AuditRelay([destination], cursors, {
        owner: 'bench',
        onOutcome: (_d, outcome, count) => {
          if (outcome !== 'delivered') return;
          delivered += count;
          if (delivered >= run.events) done();
        },
      });
      const t0 = performance.now();
      relay.start();
      await finished;
      const ms = performance.now() - t0;
      await relay.stop();
      console.log(`  ${run.label.padEnd(40)} ${n(run.events)} events in ${(ms / 1000).toFixed(2)} s: ${n((run.events / ms) * 1000)} events/s`);
    }
  } finally {
    http.close();
    tls.close();
    await scratch.drop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
