import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { BrokerProcess, spawnBroker } from '../setup/broker-process';

const SERVER_URL = process.env.TEST_DATABASE_URL;
const ADMIN = `adm_${randomBytes(16).toString('hex')}`;

/** A token the sandbox printed in its banner, e.g. `requester`. */
function bannerToken(output: string, label: string): string {
  const match = new RegExp(`^  ${label} +(\\S+)`, 'm').exec(output);
  if (!match) throw new Error(`no ${label} token in the sandbox's banner:\n${output}`);
  return match[1];
}

/**
 * Issue 12 point 8: `npm run sandbox` on a PostgreSQL server (DATABASE_URL) rather than the embedded
 * database, and a second replica on the same database attached to the first one's simulators.
 * Needs a server: runs when TEST_DATABASE_URL is set (as in .ci/run's PostgreSQL pass).
 */
(SERVER_URL ? describe : describe.skip)('the sandbox on a PostgreSQL server (DATABASE_URL)', () => {
  const dbName = `jit_sandbox_${randomBytes(6).toString('hex')}`;
  const dirs: string[] = [];
  const replicas: BrokerProcess[] = [];
  let admin: Client;
  let db: Client;
  let databaseUrl: string;

  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-sandbox-pg-'));
    dirs.push(dir);
    return dir;
  };
  const startReplica = async (env: Record<string, string>) => {
    const replica = await spawnBroker('apps/sandbox/src/main.ts', { DATABASE_URL: databaseUrl, JIT_ADMIN_TOKEN: ADMIN, JIT_SANDBOX_CLOUDS: '', ...env });
    replicas.push(replica);
    // /health can answer before the banner (printed once listening) has come through the pipe.
    for (let waited = 0; !replica.output().includes('Ctrl-C stops the broker'); waited += 50) {
      if (waited > 30_000) throw new Error(`no banner from the sandbox:\n${replica.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return replica;
  };
  const call = async (replica: BrokerProcess, method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${replica.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    const serverUrl = new URL(SERVER_URL!);
    serverUrl.pathname = '/postgres';
    admin = new Client({ connectionString: serverUrl.toString() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    serverUrl.pathname = `/${dbName}`;
    databaseUrl = serverUrl.toString();
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.stop();
    await db?.end();
    await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin?.end();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('should migrate and use the server, serve /health, and let a second replica share its database and simulators', async () => {
    const dirA = dataDir();
    const a = await startReplica({ JIT_DATA_DIR: dirA, JIT_REPLICA_ID: 'sandbox-a' });

    expect((await fetch(`${a.url}/health`)).status).toBe(200);
    expect(a.output()).toMatch(/^ {2}database +postgresql$/m);
    // Nothing embedded: the data folder holds the tokens, the signing key and the simulators' addresses only.
    expect(readdirSync(dirA).sort()).toEqual(expect.arrayContaining(['sandbox-simulators.json', 'sandbox-tokens.json']));
    expect(readdirSync(dirA).some((f) => /pg|pglite/i.test(f))).toBe(false);
    const migrations = await db.query(`SELECT count(*)::int AS n FROM migrations`);
    expect(migrations.rows[0].n).toBeGreaterThan(0);

    const requested = await call(a, 'POST', '/v1/grants', bannerToken(a.output(), 'requester'), {
      cloud: 'aws',
      principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/ci-deployer' },
      target: { kind: 'aws.iam-policy', actions: ['s3:PutObject'], resources: ['arn:aws:s3:::artifacts/*'] },
      duration: 'PT10M',
      justification: 'sandbox on a server',
      ticket: 'CHG-1',
    });
    expect(requested).toMatchObject({ status: 201, body: { state: 'active' } });
    const id = requested.body.id as string;
    const stored = await db.query(`SELECT state FROM grants WHERE id = $1`, [id]);
    expect(stored.rows).toEqual([{ state: 'active' }]);
    // The broker answers once the change and its staged events commit; reading the audit log through the API chains them first.
    expect(await call(a, 'GET', `/v1/audit?grantId=${id}`, bannerToken(a.output(), 'auditor'))).toMatchObject({ status: 200 });
    const events = await db.query(`SELECT type FROM audit_events WHERE grant_id = $1 ORDER BY seq`, [id]);
    expect(events.rows.map((r: { type: string }) => r.type)).toContain('grant.activated');

    const b = await startReplica({
      JIT_DATA_DIR: dataDir(),
      JIT_REPLICA_ID: 'sandbox-b',
      JIT_SANDBOX_SIMULATORS_FILE: join(dirA, 'sandbox-simulators.json'),
    });
    const awsLine = (output: string) => /aws {2}IAM\/STS simulator (\S+)/.exec(output)?.[1];
    expect(awsLine(b.output())).toBe(awsLine(a.output()));
    expect(b.output()).toContain(`attached through ${join(dirA, 'sandbox-simulators.json')}`);

    expect(await call(b, 'GET', `/v1/grants/${id}`, ADMIN)).toMatchObject({ status: 200, body: { id, state: 'active' } });
    const revoked = await call(b, 'POST', `/v1/grants/${id}/revoke`, ADMIN, { reason: 'done' });
    expect(revoked).toMatchObject({ status: 200, body: { state: 'revoked' } });
    expect((await db.query(`SELECT state FROM grants WHERE id = $1`, [id])).rows).toEqual([{ state: 'revoked' }]);
  });

  it('should refuse to start when the simulators file names nothing it can use', async () => {
    await expect(
      startReplica({ JIT_DATA_DIR: dataDir(), JIT_SANDBOX_SIMULATORS_FILE: join(tmpdir(), `missing-${randomBytes(4).toString('hex')}.json`) }),
    ).rejects.toThrow(/JIT_SANDBOX_SIMULATORS_FILE: cannot read .*start one sandbox with the simulators first/);
    expect(existsSync(join(dirs[dirs.length - 1], 'sandbox-simulators.json'))).toBe(false);
  });
});
