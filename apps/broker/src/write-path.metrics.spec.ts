import { Registry } from 'prom-client';
import { ChainingStats } from '@jit/audit';
import { WriteBatchStats } from '@jit/persistence';
import { registerWritePathMetrics } from './write-path.metrics';

describe(registerWritePathMetrics.name, () => {
  it('should show the group commit and the chaining rounds as they are at scrape time', async () => {
    const registry = new Registry();
    const writes: WriteBatchStats = { statements: 5, writes: 12, sizes: [2, 1, 1, 1, 0, 0, 0], inFlight: 1, maxInFlight: 2, queued: 3 };
    const chaining: ChainingStats = { rounds: 4, emptyRounds: 7, events: 24 };
    registerWritePathMetrics(registry, () => writes, () => chaining);

    const first = await registry.metrics();
    expect(first).toContain('jit_write_batch_statements_total{writes="1"} 2');
    expect(first).toContain('jit_write_batch_statements_total{writes="3-4"} 1');
    expect(first).toContain('jit_write_batch_statements_total{writes="5-8"} 1');
    expect(first).toContain('jit_write_batch_statements_total{writes="33-64"} 0');
    expect(first).toContain('jit_write_batch_writes_total 12');
    expect(first).toContain('jit_write_batch_in_flight{stat="max"} 2');
    expect(first).toContain('jit_write_batch_in_flight{stat="queued"} 3');
    expect(first).toContain('jit_audit_chaining_rounds_total{outcome="chained"} 4');
    expect(first).toContain('jit_audit_chaining_rounds_total{outcome="empty"} 7');
    expect(first).toContain('jit_audit_chained_events_total 24');

    // Counters follow the sources, not add to what an earlier scrape showed.
    writes.writes = 20;
    chaining.rounds = 6;
    const second = await registry.metrics();
    expect(second).toContain('jit_write_batch_writes_total 20');
    expect(second).toContain('jit_audit_chaining_rounds_total{outcome="chained"} 6');
  });
});
