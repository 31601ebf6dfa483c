import { Counter, Gauge, Registry } from 'prom-client';
import { ChainingStats } from '@jit/audit';
import { BATCH_SIZE_BUCKETS, WriteBatchStats } from '@jit/persistence';

/** `1`, `2`, `3-4`, `5-8`, …: the writes-per-statement buckets as label values. */
const SIZE_LABELS = BATCH_SIZE_BUCKETS.map((upper, k) => {
  const lower = k === 0 ? 1 : BATCH_SIZE_BUCKETS[k - 1] + 1;
  return lower === upper ? String(upper) : `${lower}-${upper}`;
});

/**
 * The write path's commits on /metrics, read from the group commit's and the chainer's counters
 * at scrape time (docs/audit.md, "How the chain is written"): how many grant writes each commit
 * carried, how many statements were in flight, and the chaining rounds that run beside them.
 * Commits per state change = (statements + chaining rounds) / writes.
 */
export function registerWritePathMetrics(registry: Registry, writes: () => WriteBatchStats, chaining: () => ChainingStats): void {
  new Counter({
    name: 'jit_write_batch_statements_total',
    help: 'Group-commit statements sent (each one commit), by how many grant writes it carried (label writes: 1, 2, 3-4, ... 33-64)',
    labelNames: ['writes'] as const,
    registers: [registry],
    collect() {
      const { sizes } = writes();
      this.reset();
      SIZE_LABELS.forEach((label, k) => this.inc({ writes: label }, sizes[k]));
    },
  });
  new Counter({
    name: 'jit_write_batch_writes_total',
    help: 'Grant writes (a state change and its staged audit events) sent through the group commit',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(writes().writes);
    },
  });
  new Gauge({
    name: 'jit_write_batch_in_flight',
    help: 'Group-commit statements in flight now (stat=now), the most at once since start (stat=max), and writes waiting for one (stat=queued)',
    labelNames: ['stat'] as const,
    registers: [registry],
    collect() {
      const s = writes();
      this.set({ stat: 'now' }, s.inFlight);
      this.set({ stat: 'max' }, s.maxInFlight);
      this.set({ stat: 'queued' }, s.queued);
    },
  });
  new Counter({
    name: 'jit_audit_chaining_rounds_total',
    help: 'Chaining transactions of this replica: outcome=chained moved staged events into the chain (one commit each), outcome=empty found none',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      const s = chaining();
      this.reset();
      this.inc({ outcome: 'chained' }, s.rounds);
      this.inc({ outcome: 'empty' }, s.emptyRounds);
    },
  });
  new Counter({
    name: 'jit_audit_chained_events_total',
    help: 'Audit events this replica chained (numbered and hashed onto the head)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(chaining().events);
    },
  });
}
