import { DiscoveryScan, DiscoveryStore } from '@jit/domain';
import { DiscoverySchedule, DiscoveryScanner } from '@jit/discovery';
import { ManualClock } from '@jit/testing';
import { DiscoveryScheduler } from './discovery.scheduler';

/** The scheduler's own logic: ticks of the cron start one scan each, across replicas; the scanner and store are stand-ins that record. */
describe(DiscoveryScheduler.name, () => {
  const scan = (createdAt: Date): DiscoveryScan => ({ id: 'x', state: 'completed', trigger: 'schedule', requestedBy: 'scheduler', createdAt, finishedAt: createdAt, clouds: [], parts: [] });

  function setup(start: string) {
    const clock = new ManualClock(new Date(start));
    let latest: DiscoveryScan | null = null;
    const created: Date[] = [];
    const scanner = {
      create: async () => {
        created.push(clock.now());
        latest = scan(clock.now());
        return latest;
      },
      runPending: async () => ({ scan: null, ran: false }),
    } as unknown as DiscoveryScanner;
    const store = { latestScan: async () => latest } as unknown as DiscoveryStore;
    const scheduler = new DiscoveryScheduler(scanner, store, clock, new DiscoverySchedule('0 2 * * *'), 1_000_000);
    const tick = async () => {
      scheduler.kick();
      await new Promise((r) => setTimeout(r, 5));
    };
    return { clock, created, scheduler, tick, setLatest: (d: Date) => (latest = scan(d)) };
  }

  it('should start a scan at each tick of the schedule, and none between', async () => {
    const s = setup('2026-11-01T01:00:00Z');
    await s.tick();
    expect(s.created).toEqual([]);
    s.clock.set(new Date('2026-11-01T02:00:05Z'));
    await s.tick();
    await s.tick();
    expect(s.created).toEqual([new Date('2026-11-01T02:00:05Z')]);
    s.clock.set(new Date('2026-11-02T02:00:01Z'));
    await s.tick();
    expect(s.created).toHaveLength(2);
    await s.scheduler.stop();
  });

  it('should not start a second scan for a tick another replica already started', async () => {
    const s = setup('2026-11-01T01:00:00Z');
    s.setLatest(new Date('2026-11-01T02:00:01Z'));
    s.clock.set(new Date('2026-11-01T02:00:03Z'));
    await s.tick();
    expect(s.created).toEqual([]);
    await s.scheduler.stop();
  });

  it('should refuse a bad cron expression naming the variable', () => {
    expect(() => new DiscoverySchedule('every day')).toThrow(/JIT_DISCOVERY_SCHEDULE/);
  });
});
