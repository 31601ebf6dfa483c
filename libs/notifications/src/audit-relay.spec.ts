import { AUDIT_EVENT_TYPES, AuditEvent, CursorOutcome, NotificationCursorStore } from '@jit/domain';
import { AuditRelay, RelayAttempt, RelayDestination } from './audit-relay';

/**
 * The cursor store's contract in memory (the PostgreSQL one is exercised by the medium specs).
 * `until` waits for the store's state, re-checked after each claim and advance: event-driven, with
 * no real-time bound (a relay that never gets there fails by the test's timeout).
 */
class MemoryCursorStore extends NotificationCursorStore {
  readonly rows = new Map<string, { lastSeq: number; owner: string | null; delivered: number; failed: number }>();
  /** Claims refused because another owner held the lease. */
  refusedClaims = 0;
  private waiters: { check: () => boolean; resolve: () => void }[] = [];
  constructor(private readonly events: AuditEvent[]) {
    super();
  }
  until(check: () => boolean): Promise<void> {
    return check() ? Promise.resolve() : new Promise((resolve) => this.waiters.push({ check, resolve }));
  }
  private changed(): void {
    const ready = this.waiters.filter((w) => w.check());
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
  async claim(name: string, owner: string, _leaseMs: number, startAt: 'end' | 'start' = 'end'): Promise<number | null> {
    try {
      const row = this.rows.get(name);
      if (!row) {
        const lastSeq = startAt === 'start' ? 0 : (this.events[this.events.length - 1]?.seq ?? 0);
        this.rows.set(name, { lastSeq, owner, delivered: 0, failed: 0 });
        return lastSeq;
      }
      if (row.owner !== null && row.owner !== owner) {
        this.refusedClaims++;
        return null;
      }
      row.owner = owner;
      return row.lastSeq;
    } finally {
      this.changed();
    }
  }
  async advance(name: string, owner: string, seq: number, outcome: CursorOutcome, count = 1): Promise<void> {
    const row = this.rows.get(name);
    if (!row || row.owner !== owner || row.lastSeq >= seq) return;
    row.lastSeq = seq;
    if (outcome === 'delivered') row.delivered += count;
    if (outcome === 'failed') row.failed += count;
    this.changed();
  }
  async release(name: string, owner: string): Promise<void> {
    const row = this.rows.get(name);
    if (row?.owner === owner) row.owner = null;
  }
  async eventsAfter(seq: number, types: readonly string[], limit: number): Promise<AuditEvent[]> {
    return this.events.filter((e) => e.seq > seq && types.includes(e.type)).slice(0, limit);
  }
}

function events(n: number): AuditEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    seq: i + 1,
    id: `e${i + 1}`,
    occurredAt: new Date(0),
    type: 'grant.requested',
    grantId: null,
    cloud: null,
    principal: null,
    actor: 'a',
    data: {},
    prevHash: '0'.repeat(64),
    hash: '1'.repeat(64),
  }));
}

class Recorder implements RelayDestination {
  readonly kind = 'test';
  readonly types = AUDIT_EVENT_TYPES;
  readonly timeoutMs = 100;
  readonly cursor: string;
  readonly batches: number[][] = [];
  constructor(
    readonly name: string,
    readonly maxBatch: number,
    readonly startAt: 'start' | 'end',
    private readonly wanted: (e: AuditEvent) => boolean = () => true,
    private readonly answers: RelayAttempt[] = [],
    readonly maxAttempts?: number,
  ) {
    this.cursor = `test:${name}`;
  }
  wants(e: AuditEvent): boolean {
    return this.wanted(e);
  }
  async send(batch: readonly AuditEvent[]): Promise<RelayAttempt> {
    this.batches.push(batch.map((e) => e.seq));
    return this.answers.shift() ?? { ok: true };
  }
}

const FAST = { owner: 'r1', pollIntervalMs: 10, retryBaseMs: 1, retryCapMs: 5, leaseMs: 1_000, logger: { warn: () => undefined, error: () => undefined } };

describe(AuditRelay.name, () => {
  it('should send batches of at most maxBatch wanted events, in order, never across an unwanted one, and move the cursor past trailing unwanted events', async () => {
    const log = events(20);
    const store = new MemoryCursorStore(log);
    // Seqs 5, 6 and 19, 20 are not wanted.
    const d = new Recorder('mixed', 3, 'start', (e) => ![5, 6, 19, 20].includes(e.seq));
    const relay = new AuditRelay([d], store, FAST);
    relay.start();
    await store.until(() => store.rows.get(d.cursor)?.lastSeq === 20);
    await relay.stop();
    expect(d.batches).toEqual([[1, 2, 3], [4], [7, 8, 9], [10, 11, 12], [13, 14, 15], [16, 17, 18]]);
    expect(store.rows.get(d.cursor)).toMatchObject({ delivered: 16, failed: 0 });
  });

  it('should retry a destination that never gives up, even on a refusal, without moving its cursor until it is taken', async () => {
    const store = new MemoryCursorStore(events(4));
    const refused = { ok: false as const, retryable: false, reason: 'HTTP 400' };
    const d = new Recorder('siem', 10, 'start', undefined, [refused, refused, refused]);
    const outcomes: string[] = [];
    const relay = new AuditRelay([d], store, { ...FAST, onOutcome: (_d, o, n) => outcomes.push(`${o}:${n}`) });
    relay.start();
    await store.until(() => store.rows.get(d.cursor)?.lastSeq === 4);
    await relay.stop();
    expect(d.batches).toEqual([[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]]);
    expect(outcomes).toEqual(['retried:4', 'retried:4', 'retried:4', 'delivered:4']);
  });

  it('should give up a batch after maxAttempts where the destination allows it, and go on', async () => {
    const store = new MemoryCursorStore(events(2));
    const busy = { ok: false as const, retryable: true, reason: 'HTTP 503' };
    const d = new Recorder('hook', 1, 'start', undefined, [busy, busy], 2);
    const relay = new AuditRelay([d], store, FAST);
    relay.start();
    await store.until(() => store.rows.get(d.cursor)?.lastSeq === 2);
    await relay.stop();
    expect(d.batches).toEqual([[1], [1], [2]]);
    expect(store.rows.get(d.cursor)).toMatchObject({ delivered: 1, failed: 1 });
  });

  it("should send nothing while another replica holds the destination's lease", async () => {
    const store = new MemoryCursorStore(events(3));
    const d = new Recorder('held', 10, 'start');
    await store.claim(d.cursor, 'other-replica', 1_000, 'start');
    const relay = new AuditRelay([d], store, FAST);
    relay.start();
    // Three polls, each refused the lease: the relay has had three chances to send, and took none.
    await store.until(() => store.refusedClaims >= 3);
    await relay.stop();
    expect(d.batches).toEqual([]);
    expect(store.rows.get(d.cursor)?.lastSeq).toBe(0);
  });

  it('should refuse a lease shorter than a send and its longest wait, and two destinations on one cursor', () => {
    const store = new MemoryCursorStore([]);
    expect(() => new AuditRelay([new Recorder('a', 1, 'end')], store, { ...FAST, leaseMs: 100 })).toThrow(/leaseMs must exceed/);
    expect(() => new AuditRelay([new Recorder('a', 1, 'end'), new Recorder('a', 5, 'start')], store, FAST)).toThrow(/share the cursor/);
  });
});
