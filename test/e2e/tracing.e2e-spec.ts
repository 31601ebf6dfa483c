import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GcpSimulator } from '@jit/sim-gcp';
import { ensureAuditSigningKey } from '../../apps/broker/src/audit/audit-signing-key.file';
import { BrokerProcess, spawnBroker } from '../setup/broker-process';
import { pollUntil } from '../setup/poll-until.util';
import { SpawnedBrokerDatabase, createSpawnedBrokerDatabase } from '../setup/spawned-broker-database';
import { ALLOW_ALL_POLICY } from '../setup/test-broker';

const ROOT = join(__dirname, '..', '..');
/** Compiling and starting the broker process on a loaded two-core machine. */
const BOOT_MS = 120_000;
const ADMIN = `adm_${randomBytes(16).toString('hex')}`;
const TOKEN = 'tracing-test-token';
const PROJECT = 'tracing-project';

/** One span as OTLP/HTTP JSON carries it (ids in hex). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}
interface OtlpExport {
  resourceSpans: { resource?: { attributes?: OtlpSpan['attributes'] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}
const SERVER = 2;
const CLIENT = 3;

const attr = (span: OtlpSpan, key: string) => {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  return value?.stringValue ?? value?.intValue;
};

/**
 * Issue 13 point 4: "OpenTelemetry tracing (off by default; OTLP exporter when configured) spans
 * the HTTP request, the database transaction and each cloud call". The real broker (main.ts,
 * the GCP adapter against the simulator) exports to an OTLP/HTTP receiver in this test; one grant
 * gives one trace in which the HTTP server span is the root, the database transactions and the
 * cloud call are its descendants (the pg queries under a transaction), with the grant's id.
 * And with tracing off, loading tracing.ts loads no SDK.
 */
describe('OpenTelemetry tracing', () => {
  let dir: string;
  let gcp: GcpSimulator;
  let collector: Server;
  const spans: OtlpSpan[] = [];
  const serviceNames = new Set<string>();
  let database: SpawnedBrokerDatabase | undefined;
  let broker: BrokerProcess | null = null;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jit-tracing-'));
    gcp = await GcpSimulator.start({ token: TOKEN });
    gcp.createProject(PROJECT);
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces' && String(req.headers['content-type']).startsWith('application/json')) {
          const batch = JSON.parse(body) as OtlpExport;
          for (const rs of batch.resourceSpans) {
            const name = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue;
            if (name) serviceNames.add(name);
            for (const ss of rs.scopeSpans) spans.push(...ss.spans);
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
    database = await createSpawnedBrokerDatabase(dir, 'jit_tracing');
  }, BOOT_MS);

  afterAll(async () => {
    if (broker?.child.exitCode === null) await broker.kill9();
    await gcp?.close();
    await new Promise((r) => collector?.close(r));
    rmSync(dir, { recursive: true, force: true });
    await database?.drop();
  });

  it('should trace a grant: HTTP server span, database transactions with their queries, and the cloud call, in one trace', async () => {
    broker = await spawnBroker(
      'apps/broker/src/main.ts',
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
        // Export each batch at once rather than every 5 s.
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_SERVICE_NAME: 'jit-broker-e2e',
        JIT_LOG_LEVEL: 'warn',
        JIT_PROVIDERS: 'gcp',
        JIT_GCP_RESOURCE_MANAGER_ENDPOINT: `http://${gcp.host}:${gcp.port}`,
        JIT_GCP_STATIC_ACCESS_TOKEN: TOKEN,
        JIT_ADMIN_TOKEN: ADMIN,
        JIT_POLICY_FILE: ALLOW_ALL_POLICY,
        JIT_MIN_DURATION: 'PT1S',
        JIT_SWEEP_INTERVAL: 'PT1S',
        JIT_AUDIT_SIGNING_KEY: ensureAuditSigningKey(dir).keyFile,
        ...database!.env(),
      },
      BOOT_MS,
    );
    const res = await fetch(`${broker.url}/v1/grants`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json', 'X-Request-Id': 'trace-e2e-1' },
      body: JSON.stringify({
        cloud: 'gcp',
        principal: { type: 'workload', id: `serviceAccount:ci@${PROJECT}.iam.gserviceaccount.com` },
        target: { kind: 'gcp.iam-binding', resource: `projects/${PROJECT}`, role: 'roles/storage.objectViewer' },
        duration: 'PT10M',
        justification: 'tracing test',
      }),
    });
    expect(res.status).toBe(201);
    const grantId = ((await res.json()) as { id: string }).id;

    // The request's server span ends after its children, so once it is exported the whole trace is.
    const server = await pollUntil(async () => spans.find((s) => s.kind === SERVER && s.name === 'POST /v1/grants'), 60_000);
    expect(attr(server, 'http.route')).toBe('/v1/grants');
    expect(attr(server, 'grant.id')).toBe(grantId);
    expect(server.parentSpanId ?? '').toBe('');
    const trace = spans.filter((s) => s.traceId === server.traceId);
    const byId = new Map(trace.map((s) => [s.spanId, s]));
    const underServer = (s: OtlpSpan): boolean => {
      for (let p = s.parentSpanId; p; p = byId.get(p)?.parentSpanId) if (p === server.spanId) return true;
      return false;
    };

    const cloud = trace.find((s) => s.name === 'cloud.grant');
    expect(cloud).toBeDefined();
    expect(cloud!.kind).toBe(CLIENT);
    expect({ grant: attr(cloud!, 'grant.id'), cloud: attr(cloud!, 'cloud'), kind: attr(cloud!, 'kind'), operation: attr(cloud!, 'operation'), outcome: attr(cloud!, 'outcome') }).toEqual({
      grant: grantId,
      cloud: 'gcp',
      kind: 'gcp.iam-binding',
      operation: 'grant',
      outcome: 'active',
    });
    expect(underServer(cloud!)).toBe(true);
    // The adapter's own HTTP calls to the cloud nest under the cloud span.
    expect(trace.some((s) => s.kind === CLIENT && s.parentSpanId === cloud!.spanId)).toBe(true);

    const transactions = trace.filter((s) => s.name === 'db.transaction');
    expect(transactions.length).toBeGreaterThanOrEqual(2);
    for (const t of transactions) expect(underServer(t)).toBe(true);
    expect(transactions.some((t) => attr(t, 'grant.id') === grantId)).toBe(true);
    // pg's instrumentation puts the queries under the transaction that ran them.
    expect(trace.some((s) => s.parentSpanId !== undefined && transactions.some((t) => t.spanId === s.parentSpanId) && attr(s, 'db.system.name') === 'postgresql')).toBe(true);
    expect(serviceNames).toEqual(new Set(['jit-broker-e2e']));

    // At expiry, the sweeper's work on the grant is one trace too: its transactions and the revocation under one span.
    const short = await fetch(`${broker.url}/v1/grants`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        cloud: 'gcp',
        principal: { type: 'workload', id: `serviceAccount:short@${PROJECT}.iam.gserviceaccount.com` },
        target: { kind: 'gcp.iam-binding', resource: `projects/${PROJECT}`, role: 'roles/storage.objectViewer' },
        duration: 'PT2S',
        justification: 'tracing test, expiring',
      }),
    });
    expect(short.status).toBe(201);
    const shortId = ((await short.json()) as { id: string }).id;
    const sweep = await pollUntil(async () => spans.find((s) => s.name === 'sweeper.process_due' && attr(s, 'grant.id') === shortId && attr(s, 'outcome') === 'expired'), 60_000);
    const sweepTrace = spans.filter((s) => s.traceId === sweep.traceId);
    expect(sweepTrace.find((s) => s.name === 'cloud.revoke')?.parentSpanId).toBe(sweep.spanId);
    expect(sweepTrace.some((s) => s.name === 'db.transaction' && s.parentSpanId === sweep.spanId)).toBe(true);
    expect(await broker.stop()).toBe(0);
  });

  it('should not load the SDK when tracing is off, and load it when it is on', () => {
    const loaded = (over: Record<string, string>) => {
      const env = { ...process.env };
      delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
      delete env.JIT_TRACING;
      return execFileSync(
        process.execPath,
        [
          '-r',
          '@swc-node/register',
          '-e',
          "require('./apps/broker/src/tracing'); process.stdout.write(String(Object.keys(require.cache).filter((k) => /@opentelemetry[\\/\\\\](sdk-|instrumentation|exporter)/.test(k)).length))",
        ],
        { cwd: ROOT, env: { ...env, ...over }, encoding: 'utf8' },
      );
    };
    expect(Number(loaded({}))).toBe(0);
    expect(Number(loaded({ JIT_TRACING: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }))).toBe(0);
    expect(Number(loaded({ JIT_TRACING: 'true' }))).toBeGreaterThan(0);
  });
});
