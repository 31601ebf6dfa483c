import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashEvent } from '@jit/audit';
import { ConfigError } from '@jit/config';
import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

const ROOT = join(__dirname, '..', '..');

/** `npm run audit-verify -- <args>`, as an auditor runs it: no broker, no database. */
function auditVerify(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-r', '@swc-node/register', 'apps/broker/src/cli/audit-verify.ts', ...args], { cwd: ROOT }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

/**
 * Issue 10 point 3: checkpoints signed with a key outside the database, published to a file
 * outside it, served by the API, and checked by verify and by the offline verifier after the
 * database's owner has rewritten and re-chained the log.
 */
describe('signed audit checkpoints', () => {
  let t: TestBroker;
  const work = mkdtempSync(join(tmpdir(), 'jit-checkpoints-'));
  const sql = (text: string, params: unknown[] = []) => t.broker.database.dataSource.query(text, params);

  beforeAll(async () => {
    t = await startTestBroker({ JIT_AUDIT_CHECKPOINT_EVERY: '1000000', JIT_AUDIT_CHECKPOINT_INTERVAL: 'PT1H' });
  });
  afterAll(async () => {
    await t?.close();
  });

  const grant = async (i: number) => {
    const res = await t.http
      .post('/v1/grants')
      .set(t.as('alice'))
      .send(awsPolicyGrant({ target: { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: [`arn:aws:s3:::cp-${i}/*`] } }));
    expect(res.status).toBe(201);
  };
  const exportTo = async (name: string) => {
    const res = await t.http.get('/v1/audit?format=jsonl').set(t.as('auditor'));
    expect(res.status).toBe(200);
    const file = join(work, name);
    writeFileSync(file, res.text);
    return file;
  };
  const sinkFile = () => join(t.dir, 'audit-checkpoints.jsonl');
  const publicKey = () => join(t.dir, 'audit-signing-key.pub.pem');

  /** The database owner rewrites event `from`'s data and re-chains every later event and the head, as an attacker with full rights would. */
  async function rewriteFrom(from: number, data: Record<string, unknown>): Promise<void> {
    const rows: Record<string, any>[] = await sql(`SELECT * FROM audit_events WHERE seq >= $1 ORDER BY seq`, [from - 1]);
    let prevHash = rows[0].hash as string;
    await sql(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change`);
    for (const e of rows.slice(1)) {
      const rewritten = {
        seq: Number(e.seq), id: e.id, occurredAt: new Date(e.occurred_at), type: e.type, grantId: e.grant_id, cloud: e.cloud,
        principal: e.principal, actor: e.actor, data: Number(e.seq) === from ? data : e.data, prevHash,
      };
      const hash = hashEvent(rewritten);
      await sql(`UPDATE audit_events SET data = $1::jsonb, prev_hash = $2, hash = $3 WHERE seq = $4`, [JSON.stringify(rewritten.data), prevHash, hash, rewritten.seq]);
      prevHash = hash;
    }
    await sql(`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change`);
    await sql(`UPDATE audit_chain_head SET hash = $1`, [prevHash]);
  }

  it('should sign the head, publish it to the file sink, and serve it with the public key', async () => {
    for (let i = 0; i < 3; i++) await grant(i);
    await t.broker.checkpoints!.runOnce(true);
    const head = (await t.http.get('/v1/audit/verify').set(t.as('auditor'))).body.head;

    const res = await t.http.get('/v1/audit/checkpoints').set(t.as('auditor'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ signed: true, nextAfter: null });
    expect(res.body.publicKey).toBe(readFileSync(publicKey(), 'utf8'));
    expect(res.body.items).toEqual([
      { seq: head.seq, hash: head.hash, signedAt: expect.any(String), keyId: res.body.keyIds[0], signature: expect.stringMatching(/^[\w-]{86}$/) },
    ]);
    const published = readFileSync(sinkFile(), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(published).toEqual(res.body.items);
    // Nothing new: nothing signed.
    await t.broker.checkpoints!.runOnce(true);
    expect((await t.http.get('/v1/audit/checkpoints').set(t.as('auditor'))).body.items).toHaveLength(1);
    expect((await t.http.get('/v1/audit/checkpoints').set(t.as('alice'))).status).toBe(403);
  });

  it('should page checkpoints and reject a bad page parameter by name', async () => {
    await grant(10);
    await t.broker.checkpoints!.runOnce(true);
    const first = await t.http.get('/v1/audit/checkpoints?limit=1').set(t.as('auditor'));
    expect(first.body.items).toHaveLength(1);
    const second = await t.http.get(`/v1/audit/checkpoints?limit=1&after=${first.body.nextAfter}`).set(t.as('auditor'));
    expect(second.body.items[0].seq).toBeGreaterThan(first.body.items[0].seq);
    const bad = await t.http.get('/v1/audit/checkpoints?after=-1').set(t.as('auditor'));
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe('after');
  });

  it('should pass the offline verifier on an untouched export', async () => {
    const file = await exportTo('intact.jsonl');
    const res = await auditVerify(file, '--checkpoints', sinkFile(), '--public-key', publicKey());
    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(/INTACT: every event links to the one before, and the chain has the signed hash at every checkpoint up to seq \d+/);
    expect(res.code).toBe(0);
    // The API's JSON of the checkpoints is accepted as well as the sink file.
    const api = join(work, 'checkpoints.json');
    writeFileSync(api, JSON.stringify((await t.http.get('/v1/audit/checkpoints').set(t.as('auditor'))).body));
    expect((await auditVerify(file, '--checkpoints', api, '--public-key', publicKey())).code).toBe(0);
  });

  it('should catch a tail rewritten and re-chained in the database, online and offline, even with the checkpoint rows deleted', async () => {
    await grant(20); // events past the last checkpoint are not yet protected; the rewrite reaches back before it
    // Read through the API, so its events are chained (a request answers before its round) and the attacker re-chains a settled tail.
    expect((await t.http.get('/v1/audit').set(t.as('auditor'))).status).toBe(200);
    const checkpoints = (await t.http.get('/v1/audit/checkpoints').set(t.as('auditor'))).body.items as { seq: number }[];
    await rewriteFrom(2, { forged: true });
    // The attacker also removes the checkpoint rows; the file sink outside the database keeps them.
    await sql(`DELETE FROM audit_checkpoints`);

    // From the latest checkpoint (the default): the first event after it no longer links to its signed hash.
    const latest = checkpoints[checkpoints.length - 1].seq;
    const incremental = await t.http.get('/v1/audit/verify').set(t.as('auditor'));
    expect(incremental.body).toMatchObject({ ok: false, walk: { mode: 'incremental', afterSeq: latest }, firstBroken: { seq: latest + 1, kind: 'link' } });
    // The full walk finds the rewrite at every checkpoint it crosses.
    const online = await t.http.get('/v1/audit/verify?full=true').set(t.as('auditor'));
    expect(online.body.ok).toBe(false);
    expect(online.body.breaks.map((b: { kind: string }) => b.kind)).toEqual(checkpoints.map(() => 'checkpoint'));
    expect(online.body.breaks[0]).toMatchObject({ seq: checkpoints[0].seq, reason: expect.stringMatching(/does not have the hash signed in the checkpoint of/) });
    expect(online.body.checkpoints).toMatchObject({ signed: true, valid: checkpoints.length, sources: [{ name: 'database', checkpoints: 0 }, { name: expect.stringMatching(/^file:/), checkpoints: checkpoints.length }] });

    const file = await exportTo('rewritten.jsonl');
    const offline = await auditVerify(file, '--checkpoints', sinkFile(), '--public-key', publicKey());
    expect(offline.code).toBe(1);
    expect(offline.stdout).toMatch(new RegExp(`BROKEN: ${checkpoints.length} breaks?`));
    expect(offline.stdout).toContain(`seq ${checkpoints[0].seq} [checkpoint] event ${checkpoints[0].seq} does not have the hash signed in the checkpoint of`);
  });

  it('should report a checkpoint forged in the database, whose signature fails', async () => {
    await sql(`INSERT INTO audit_checkpoints (seq, hash, signed_at, key_id, signature) SELECT 1, hash, now(), $1, $2 FROM audit_events WHERE seq = 1`, [
      'ab'.repeat(32),
      'A'.repeat(86),
    ]);
    const res = await t.http.get('/v1/audit/verify').set(t.as('auditor'));
    expect(res.body.breaks[0]).toMatchObject({ seq: 1, kind: 'checkpoint', reason: expect.stringMatching(/in database: signed by an unknown key/) });
  });

  it('should refuse the offline verifier misuse with exit 2', async () => {
    const res = await auditVerify(join(work, 'intact.jsonl'), '--public-key', publicKey());
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--checkpoints is required/);
    const missing = await auditVerify(join(work, 'nope.jsonl'), '--checkpoints', sinkFile(), '--public-key', publicKey());
    expect(missing.code).toBe(2);
  });
});

describe('starting without an audit signing key', () => {
  it('should refuse to start unless told to run unsigned, and then say it is unsigned', async () => {
    await expect(startTestBroker({ JIT_AUDIT_SIGNING_KEY: '' })).rejects.toThrow(ConfigError);
    await expect(startTestBroker({ JIT_AUDIT_SIGNING_KEY: '' })).rejects.toThrow(/JIT_AUDIT_SIGNING_KEY is not set.*JIT_AUDIT_UNSIGNED=true/);
    const t = await startTestBroker({ JIT_AUDIT_SIGNING_KEY: '', JIT_AUDIT_UNSIGNED: 'true' });
    try {
      expect(t.broker.checkpoints).toBeNull();
      const cps = await t.http.get('/v1/audit/checkpoints').set(t.as('auditor'));
      expect(cps.body).toEqual({ signed: false, publicKey: null, keyIds: [], items: [], nextAfter: null });
      const verify = await t.http.get('/v1/audit/verify').set(t.as('auditor'));
      expect(verify.body).toMatchObject({ ok: true, checkpoints: { signed: false, total: 0 } });
    } finally {
      await t.close();
    }
  });

  it('should refuse a key that is not Ed25519, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-badkey-'));
    const { generateKeyPairSync } = await import('node:crypto');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(join(dir, 'rsa.pem'), rsa, { mode: 0o600 });
    await expect(startTestBroker({ JIT_AUDIT_SIGNING_KEY: join(dir, 'rsa.pem') })).rejects.toThrow(/rsa\.pem: the audit signing key must be Ed25519, not rsa/);
  });
});
