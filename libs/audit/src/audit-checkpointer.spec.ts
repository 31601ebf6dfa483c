import { generateKeyPairSync } from 'node:crypto';
import { AuditCheckpoint, AuditCheckpointStore } from '@jit/domain';
import { CheckpointSigner } from './audit-checkpoint';
import { AuditCheckpointer } from './audit-checkpointer';
import { CheckpointSink } from './checkpoint.sink';

/** The store's contract in memory: one checkpoint per seq, delivery remembered per sink. */
class MemoryCheckpointStore extends AuditCheckpointStore {
  readonly rows = new Map<number, AuditCheckpoint & { published: Set<string> }>();
  async add(c: AuditCheckpoint) {
    if (this.rows.has(c.seq)) return false;
    this.rows.set(c.seq, { ...c, published: new Set() });
    return true;
  }
  async latest() {
    const seqs = [...this.rows.keys()];
    return seqs.length ? this.rows.get(Math.max(...seqs))! : null;
  }
  async list(after: number, limit: number) {
    return [...this.rows.values()].filter((r) => r.seq > after).sort((a, b) => a.seq - b.seq).slice(0, limit);
  }
  async unpublished(sink: string, limit: number) {
    return [...this.rows.values()].filter((r) => !r.published.has(sink)).sort((a, b) => a.seq - b.seq).slice(0, limit);
  }
  async markPublished(seq: number, sink: string) {
    this.rows.get(seq)?.published.add(sink);
  }
}

class ListSink implements CheckpointSink {
  readonly received: number[] = [];
  failing = false;
  constructor(readonly name: string) {}
  async publish(c: AuditCheckpoint) {
    if (this.failing) throw new Error('receiver down');
    this.received.push(c.seq);
  }
}

describe(AuditCheckpointer.name, () => {
  const signer = CheckpointSigner.fromPem(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'k.pem');
  let head: { seq: number; hash: string };
  let now: number;
  let store: MemoryCheckpointStore;
  let sink: ListSink;
  let checkpointer: AuditCheckpointer;
  const outcomes: string[] = [];

  beforeEach(() => {
    head = { seq: 0, hash: '0'.repeat(64) };
    now = Date.parse('2026-12-05T00:00:00Z');
    store = new MemoryCheckpointStore();
    sink = new ListSink('list');
    outcomes.length = 0;
    checkpointer = new AuditCheckpointer(store, async () => head, signer, [sink], { everyEvents: 100, maxDelayMs: 60_000 }, () => new Date(now), (o) =>
      outcomes.push(o),
    );
  });
  const advance = (events: number, ms = 0) => {
    head = { seq: head.seq + events, hash: String(head.seq + events).padStart(64, 'f') };
    now += ms;
  };

  it('should sign nothing for an empty log or a head already covered', async () => {
    expect(await checkpointer.tick()).toBeNull();
    advance(100);
    await checkpointer.tick();
    expect(await checkpointer.tick(true)).toBeNull();
    expect([...store.rows.keys()]).toEqual([100]);
  });

  it('should sign once N events are uncovered, not before', async () => {
    advance(99);
    expect(await checkpointer.tick()).toBeNull();
    advance(1);
    expect(await checkpointer.tick()).toMatchObject({ seq: 100, hash: head.hash, keyId: signer.keyId });
  });

  it('should sign a few events once T has passed since the first uncovered one was seen', async () => {
    advance(3);
    expect(await checkpointer.tick()).toBeNull();
    now += 59_999;
    expect(await checkpointer.tick()).toBeNull();
    now += 1;
    expect(await checkpointer.tick()).toMatchObject({ seq: 3 });
  });

  it('should sign whatever is uncovered when forced (shutdown)', async () => {
    advance(1);
    expect(await checkpointer.tick(true)).toMatchObject({ seq: 1 });
  });

  it('should keep a checkpoint pending for a failing sink and deliver it, in order, once the sink is back', async () => {
    sink.failing = true;
    advance(100);
    await checkpointer.tick();
    advance(100);
    await checkpointer.tick();
    expect(sink.received).toEqual([]);
    expect(outcomes).toEqual(['signed', 'publish_failed', 'signed', 'publish_failed']);
    sink.failing = false;
    await checkpointer.tick();
    expect(sink.received).toEqual([100, 200]);
  });

  it('should not sign twice when another replica already signed that head', async () => {
    advance(100);
    await store.add(signer.sign(100, head.hash, new Date(now)));
    expect(await checkpointer.tick()).toBeNull();
    expect(outcomes).toEqual(['published']);
  });
});
