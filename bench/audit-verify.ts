import 'reflect-metadata';
import { generateKeyPairSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { AuditLog, ChainVerifier, CheckpointKeyring, CheckpointSigner, hashEvent } from '@jit/audit';
import { AuditEvent, AuditEventInput, GENESIS_HASH, SystemClock } from '@jit/domain';
import { AuditLogUseCase } from '@jit/grants';
import { PostgresAuditChainStore, PostgresAuditCheckpointStore, PostgresUnitOfWork } from '@jit/persistence';
import { intEnv } from './env';
import { openScratchDatabase } from './scratch-database';

/**
 * `npm run bench:audit`: what verifying the audit log costs. Writes BENCH_AUDIT_EVENTS events
 * (default 200,000) through the real store on PostgreSQL (BENCH_DATABASE_URL, default the local
 * server), signs a checkpoint every 1,000, then times GET /v1/audit/verify's use case over all of
 * them, and the hashing alone in memory. Prints figures; asserts nothing.
 */
const EVENTS = intEnv('BENCH_AUDIT_EVENTS', 200_000);
const BATCH = 500;
const CHECKPOINT_EVERY = 1000;
const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const line = (k: string, v: string) => console.log(`  ${k.padEnd(44)} ${v}`);
const n = (x: number) => Math.round(x).toLocaleString('en-US');

function sample(i: number): AuditEventInput {
  return {
    type: 'grant.requested',
    grantId: '3b2f0a4e-6c1d-4e8f-9a7b-5c4d3e2f1a0b',
    cloud: 'aws',
    principal: `arn:aws:iam::123456789012:role/bench-${i % 1000}`,
    actor: 'bench-pipeline',
    data: { kind: 'aws.iam-policy', target: { actions: ['s3:GetObject'], resources: [`arn:aws:s3:::b-${i}/*`] }, durationSeconds: 900, justification: 'bench' },
  };
}

async function main(): Promise<void> {
  const scratch = await openScratchDatabase(SERVER, 'jit_bench_audit');
  const { db } = scratch;
  try {
    const clock = new SystemClock();
    const store = new AuditLog(new PostgresUnitOfWork(db.dataSource, clock, 'bench'), new PostgresAuditChainStore(db.dataSource), clock);
    const checkpoints = new PostgresAuditCheckpointStore(db.dataSource);
    const signer = CheckpointSigner.fromPem(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'bench');

    console.log(`JIT broker audit verify benchmark: ${n(EVENTS)} events on PostgreSQL, a checkpoint every ${n(CHECKPOINT_EVERY)}`);
    const t0 = performance.now();
    for (let i = 0; i < EVENTS; i += BATCH) {
      await store.record(Array.from({ length: Math.min(BATCH, EVENTS - i) }, (_, j) => sample(i + j)));
      const head = await store.head();
      if (head.seq % CHECKPOINT_EVERY === 0) await checkpoints.add(signer.sign(head.seq, head.hash, new Date()));
    }
    const writeS = (performance.now() - t0) / 1000;
    line('write (batches of 500, one transaction each)', `${writeS.toFixed(1)} s, ${n(EVENTS / writeS)} events/s`);

    const audit = new AuditLogUseCase(store, { keyring: new CheckpointKeyring([signer.publicKeyPem]), publicKeyPem: signer.publicKeyPem, store: checkpoints, sinks: [] });
    let peakHeap = 0;
    const watch = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 20);
    const baseHeap = process.memoryUsage().heapUsed;
    const t1 = performance.now();
    const result = await audit.verify({ subject: 'bench-auditor', roles: ['auditor'] }, { full: true }); // every event, not from the latest checkpoint
    const verifyS = (performance.now() - t1) / 1000;
    clearInterval(watch);
    line('verify: result', `ok=${result.ok}, checked=${n(result.checked)}, checkpoints valid=${n(result.checkpoints.valid)}`);
    line('verify: time', `${verifyS.toFixed(2)} s, ${((verifyS * 1e6) / EVENTS).toFixed(1)} µs/event`);
    line('verify: projected for 1,000,000 events', `${((verifyS / EVENTS) * 1e6).toFixed(1)} s`);
    line('verify: heap growth at peak (streaming)', `${((peakHeap - baseHeap) / 1e6).toFixed(1)} MB`);

    // The hashing alone: the floor of any verifier, without the database.
    const events: AuditEvent[] = [];
    let prev = GENESIS_HASH;
    const m = Math.min(EVENTS, 100_000);
    for (let i = 1; i <= m; i++) {
      const e = { ...sample(i), seq: i, id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, occurredAt: new Date(), prevHash: prev };
      const hash = hashEvent(e);
      events.push({ ...e, hash });
      prev = hash;
    }
    const v = new ChainVerifier();
    const t2 = performance.now();
    for (const e of events) v.add(e);
    const hashS = (performance.now() - t2) / 1000;
    line('in memory (canonical JSON + SHA-256 only)', `${((hashS * 1e6) / m).toFixed(1)} µs/event, ${((hashS / m) * 1e6).toFixed(1)} s per 1,000,000`);
  } finally {
    await scratch.drop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
