import { CloudName, Grant, SystemClock, WorkQueue } from '@jit/domain';
import { CallGate, ProcessDueGrantUseCase } from '@jit/grants';
import { CloudFairShare } from './cloud-fair-share';
import { GrantExpirySweeper } from './grant-expiry.sweeper';


const POLL_MS = 60_000;

/**
 * The sweeper's scheduling, on fake timers: which instants it claims at and what it asks for
 * next. The store's SQL is tested on a real database (test/medium/sweeper-claims); here the
 * store is a script of answers, since the subject is the timer logic between the calls.
 */
type ScriptedQueue = Pick<WorkQueue, 'claimDue' | 'nextDueAt'>;

/** A script of per-cloud claims as the queue the sweeper uses: one claim for all clouds, each cloud's part claimed as claimDue would. */
function queueOf(store: ScriptedQueue): WorkQueue {
  return {
    nextDueAt: (after: Date, horizonMs: number) => store.nextDueAt(after, horizonMs),
    claimDueByCloud: async (owner: string, leaseMs: number, limits: ReadonlyMap<CloudName, number>) => {
      const out: Grant[] = [];
      for (const [cloud, limit] of limits) if (limit > 0) out.push(...(await store.claimDue(owner, leaseMs, limit, cloud)));
      return out;
    },
  } as unknown as WorkQueue;
}

/** Work whose cloud call holds a slot for `ms` (fake timers), then counts itself in `done.n`. */
function callsTaking(ms: number, done = { n: 0 }): ProcessDueGrantUseCase {
  return {
    execute: async (g: Grant, gate: CallGate) => {
      await gate.enter();
      await new Promise((r) => setTimeout(r, ms));
      gate.leave();
      done.n++;
      return g;
    },
  } as unknown as ProcessDueGrantUseCase;
}

describe('GrantExpirySweeper', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-11-26T12:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  function sweeperWith(store: ScriptedQueue, processed: Grant[] = []) {
    const processDue = { execute: async (g: Grant) => (processed.push(g), g) } as unknown as ProcessDueGrantUseCase;
    return new GrantExpirySweeper(queueOf(store), processDue, new SystemClock(), { owner: 'r1', intervalMs: POLL_MS, leaseMs: 30_000, concurrency: 4, clouds: ['aws'] });
  }

  it('should claim again at the time nextDueAt names, long before the next poll', async () => {
    const start = Date.now();
    const claims: number[] = [];
    const store = {
      claimDue: async () => (claims.push(Date.now()), []),
      nextDueAt: async (after: Date) => (after.getTime() === start ? new Date(start + 1_500) : null),
    };
    const sweeper = sweeperWith(store);
    sweeper.start();
    await jest.advanceTimersByTimeAsync(1_499);
    expect(claims).toEqual([start]);
    await jest.advanceTimersByTimeAsync(1);
    expect(claims).toEqual([start, start + 1_500]);
    await sweeper.stop();
  });

  it('should ask for the next work after the instant it claimed at, so work falling due during the claim is not skipped', async () => {
    const start = Date.now();
    const asked: number[] = [];
    const claims: number[] = [];
    const store = {
      // The claim takes 200 ms; a grant falls due 100 ms into it, after the claim looked.
      claimDue: async () => {
        claims.push(Date.now());
        if (claims.length === 1) await new Promise((r) => setTimeout(r, 200));
        return [];
      },
      nextDueAt: async (after: Date) => {
        asked.push(after.getTime());
        return asked.length === 1 ? new Date(start + 100) : null;
      },
    };
    const sweeper = sweeperWith(store);
    sweeper.start();
    await jest.advanceTimersByTimeAsync(200);
    expect(asked[0]).toBe(start);
    // Already due when the answer came: claimed again at once, not at the next poll.
    await jest.advanceTimersByTimeAsync(1);
    expect(claims).toHaveLength(2);
    expect(claims[1] - start).toBeLessThanOrEqual(201);
    await sweeper.stop();
  });

  it('should note work due soon from its own writes, and ignore what lies beyond two polls', async () => {
    const claims: number[] = [];
    const store = { claimDue: async () => (claims.push(Date.now()), []), nextDueAt: async () => null };
    const sweeper = sweeperWith(store);
    sweeper.start();
    await jest.advanceTimersByTimeAsync(0);
    const start = Date.now();
    sweeper.noteDue(new Date(start + 3 * POLL_MS));
    sweeper.noteDue(new Date(start + 700));
    await jest.advanceTimersByTimeAsync(700);
    expect(claims).toEqual([start, start + 700]);
    await sweeper.stop();
  });

  it('should let stop() wait for a running cycle and leave no timer behind, even one that cycle armed', async () => {
    let release!: () => void;
    const store = {
      claimDue: async () => [],
      nextDueAt: async () => {
        await new Promise<void>((r) => (release = r));
        return new Date(Date.now() + 5_000);
      },
    };
    const sweeper = sweeperWith(store);
    sweeper.start();
    await jest.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = sweeper.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(jest.getTimerCount()).toBe(0);
  });

  it("should expire another cloud's grants while one cloud's calls hang, without waiting for a slot", async () => {
    const due = (cloud: CloudName, n: number) => Array.from({ length: n }, (_, i) => ({ id: `${cloud}-${i}`, cloud }) as Grant);
    // Ten AWS grants fell due first; one GCP grant after them. AWS never answers.
    const waiting = new Map<CloudName, Grant[]>([['aws', due('aws', 10)], ['gcp', due('gcp', 1)]]);
    const claimed: string[] = [];
    const store = {
      claimDue: async (_owner: string, _lease: number, limit: number, cloud?: CloudName) => {
        // Most urgent first, as the SQL orders them: without a cloud, AWS's earlier expiries come first.
        const taken = cloud ? (waiting.get(cloud) ?? []).splice(0, limit) : [...waiting.values()].flatMap((q) => q).slice(0, limit);
        for (const g of cloud ? [] : taken) waiting.get(g.cloud)!.splice(waiting.get(g.cloud)!.indexOf(g), 1);
        claimed.push(...taken.map((g) => g.id));
        return taken;
      },
      nextDueAt: async () => null,
    };
    const done: string[] = [];
    const hung: string[] = [];
    const processDue = {
      execute: (g: Grant) => (g.cloud === 'aws' ? new Promise(() => hung.push(g.id)) : Promise.resolve(done.push(g.id))),
    } as unknown as ProcessDueGrantUseCase;
    const sweeper = new GrantExpirySweeper(queueOf(store), processDue, new SystemClock(), {
      owner: 'r1',
      intervalMs: POLL_MS,
      leaseMs: 30_000,
      concurrency: 4,
      claimAhead: 0,
      clouds: ['aws', 'gcp'],
    });
    sweeper.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(done).toEqual(['gcp-0']);
    // AWS holds 3 of the 4 slots (its share of 2 plus 1 borrowed); GCP's reserve stayed free.
    expect(hung).toHaveLength(3);
    expect(claimed.filter((id) => id.startsWith('aws'))).toHaveLength(3);
    // Without the fair share, one claim of 4 would have taken AWS grants only, and the GCP
    // expiry would have waited for a hung call to time out.
  });

  it('should claim a backlog again once a few slots are free, not after every call that ends', async () => {
    let waiting = 40;
    const claims: number[] = [];
    const store = {
      claimDue: async (_owner: string, _lease: number, limit: number) => {
        const n = Math.min(limit, waiting);
        waiting -= n;
        claims.push(limit);
        return Array.from({ length: n }, (_, i) => ({ id: `g-${waiting + i}`, cloud: 'aws' }) as Grant);
      },
      nextDueAt: async () => null,
    };
    // Calls end one at a time, 10 ms apart.
    const processDue = { execute: (g: Grant) => new Promise((r) => setTimeout(() => r(g), 10 * (1 + Number(g.id.slice(2)) % 16))) } as unknown as ProcessDueGrantUseCase;
    const sweeper = new GrantExpirySweeper(queueOf(store), processDue, new SystemClock(), {
      owner: 'r1',
      intervalMs: POLL_MS,
      leaseMs: 30_000,
      concurrency: 16,
      claimAhead: 0,
      clouds: ['aws'],
    });
    sweeper.start();
    await jest.advanceTimersByTimeAsync(2_000);
    expect(waiting).toBe(0);
    // The first claim fills the 16 slots; every later one waited for at least 2 (16 / 8) to be free.
    expect(claims[0]).toBe(16);
    expect(claims.slice(1).every((room) => room >= 2)).toBe(true);
    expect(claims.length).toBeLessThan(1 + (40 - 16));
    await sweeper.stop();
  });

  it("should hold a slot for an expiry's cloud call only, claiming on while writes are pending, up to maxOutstanding", async () => {
    let waiting = 100;
    const claims: number[] = [];
    const store = {
      claimDue: async (_owner: string, _lease: number, limit: number) => {
        const n = Math.min(limit, waiting);
        waiting -= n;
        claims.push(limit);
        return Array.from({ length: n }, (_, i) => ({ id: `g-${waiting + i}`, cloud: 'aws', state: 'active', expiresAt: new Date() }) as Grant);
      },
      nextDueAt: async () => null,
    };
    // Every cloud call returns at once; every write waits until the test lets the writes land.
    let landWrites: () => void = () => undefined;
    const landed = new Promise<void>((r) => (landWrites = r));
    const called: string[] = [];
    let calling = 0;
    let mostCalling = 0;
    const processDue = {
      execute: async (g: Grant, gate: CallGate) => {
        await gate.enter();
        mostCalling = Math.max(mostCalling, ++calling);
        called.push(g.id);
        await Promise.resolve();
        calling--;
        gate.leave();
        await landed;
        return g;
      },
    } as unknown as ProcessDueGrantUseCase;
    const sweeper = new GrantExpirySweeper(queueOf(store), processDue, new SystemClock(), {
      owner: 'r1',
      intervalMs: POLL_MS,
      leaseMs: 30_000,
      concurrency: 4,
      maxOutstanding: 12,
      claimAhead: 0,
      clouds: ['aws'],
    });
    sweeper.start();
    await jest.advanceTimersByTimeAsync(100);
    // Four slots, but 12 grants under way: the slots were free again while the first writes waited.
    expect(called).toHaveLength(12);
    expect(claims.every((limit) => limit <= 4)).toBe(true);
    landWrites();
    await jest.advanceTimersByTimeAsync(100);
    expect(waiting).toBe(0);
    expect(called).toHaveLength(100);
    expect(mostCalling).toBeLessThanOrEqual(4);
    await sweeper.stop();
  });

  it('should claim ahead of its free slots, keep the calls within the slots, and hand back what waited a quarter of the lease', async () => {
    let waiting = 30;
    const claims: number[] = [];
    const store = {
      claimDue: async (_owner: string, _lease: number, limit: number) => {
        const n = Math.min(limit, waiting);
        waiting -= n;
        claims.push(limit);
        return Array.from({ length: n }, (_, i) => ({ id: `g-${waiting + i}`, cloud: 'aws', state: 'active', expiresAt: new Date() }) as Grant);
      },
      nextDueAt: async () => null,
      releaseClaims: async (ids: readonly string[]) => (handedBack.push(...ids), ids.length),
    };
    const handedBack: string[] = [];
    // The cloud never answers: four calls hold the four slots.
    const called: string[] = [];
    const processDue = {
      execute: async (g: Grant, gate: CallGate) => {
        await gate.enter();
        called.push(g.id);
        return new Promise(() => undefined);
      },
    } as unknown as ProcessDueGrantUseCase;
    const queue = Object.assign(queueOf(store), { releaseClaims: store.releaseClaims });
    const sweeper = new GrantExpirySweeper(queue, processDue, new SystemClock(), {
      owner: 'r1',
      intervalMs: POLL_MS,
      leaseMs: 40_000,
      concurrency: 4,
      claimAhead: 8,
      clouds: ['aws'],
    });
    sweeper.start();
    await jest.advanceTimersByTimeAsync(100);
    // One claim of the four free slots and eight ahead; no more while no slot frees up.
    expect(claims).toEqual([12]);
    expect(called).toHaveLength(4);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(handedBack).toHaveLength(8);
    expect(called).toHaveLength(4);
    // The next poll finds every slot still held and no call ended since: nothing is claimed ahead.
    await jest.advanceTimersByTimeAsync(POLL_MS);
    expect(claims).toEqual([12]);
  });

  it('should claim ahead while the slots are full and the calls end, so the slots never wait for a claim', async () => {
    let waiting = 60;
    const store = {
      // Each claim takes 5 ms to answer.
      claimDue: async (_owner: string, _lease: number, limit: number) => {
        await new Promise((r) => setTimeout(r, 5));
        const n = Math.min(limit, waiting);
        waiting -= n;
        return Array.from({ length: n }, (_, i) => ({ id: `g-${waiting + i}`, cloud: 'aws', state: 'active', expiresAt: new Date() }) as Grant);
      },
      nextDueAt: async () => null,
    };
    // Every call takes 10 ms; four slots.
    const done = { n: 0 };
    const processDue = callsTaking(10, done);
    const sweeper = new GrantExpirySweeper(queueOf(store), processDue, new SystemClock(), {
      owner: 'r1',
      intervalMs: POLL_MS,
      leaseMs: 30_000,
      concurrency: 4,
      claimAhead: 8,
      clouds: ['aws'],
    });
    sweeper.start();
    // The first claim's 5 ms, then 60 calls of 10 ms on four slots that never stand idle: 155 ms.
    // Claiming only once a slot is free, every later claim would leave the slots waiting 5 ms.
    await jest.advanceTimersByTimeAsync(156);
    expect(waiting).toBe(0);
    expect(done.n).toBe(60);
    await sweeper.stop();
  });

  it('should share the claim ahead between the clouds that are behind, and give a cloud with nothing due its free slots only', async () => {
    const limitsAsked: Map<CloudName, number>[] = [];
    let awsDue = 600;
    let azureDue = 0;
    const queue = {
      claimDueByCloud: async (_owner: string, _lease: number, limits: ReadonlyMap<CloudName, number>) => {
        limitsAsked.push(new Map(limits));
        const n = Math.min(limits.get('aws') ?? 0, awsDue);
        awsDue -= n;
        const m = Math.min(limits.get('azure') ?? 0, azureDue);
        azureDue -= m;
        return [
          ...Array.from({ length: n }, (_, i) => ({ id: `g-${awsDue + i}`, cloud: 'aws', state: 'active', expiresAt: new Date() }) as Grant),
          ...Array.from({ length: m }, (_, i) => ({ id: `a-${azureDue + i}`, cloud: 'azure', state: 'active', expiresAt: new Date() }) as Grant),
        ];
      },
      nextDueAt: async () => null,
    } as unknown as WorkQueue;
    const sweeper = new GrantExpirySweeper(queue, callsTaking(10), new SystemClock(), { owner: 'r1', intervalMs: POLL_MS, leaseMs: 30_000, concurrency: 32, clouds: ['aws', 'azure', 'gcp'] });
    sweeper.start();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(awsDue).toBe(0);
    // The first claim knows nothing yet: every cloud shares the claim ahead (see the spec above).
    expect(limitsAsked.length).toBeGreaterThan(2);
    for (const cloud of ['azure', 'gcp'] as const) expect(limitsAsked[0].get(cloud)).toBeGreaterThan(32);
    // Azure and GCP took nothing: from then on each is asked for its free slots (its reserve of
    // 6 or 5 while AWS fills the rest), and AWS alone claims ahead.
    for (const limits of limitsAsked.slice(1)) {
      expect(limits.get('azure')).toBeLessThanOrEqual(6);
      expect(limits.get('gcp')).toBeLessThanOrEqual(5);
    }
    expect(Math.max(...limitsAsked.slice(1).map((l) => l.get('aws')!))).toBeGreaterThan(32);
    // Then Azure has a backlog: the next poll's claim fills its free slots, so it is behind
    // again, and the claims after that ask it for more than all the slots.
    const before = limitsAsked.length;
    azureDue = 600;
    await jest.advanceTimersByTimeAsync(POLL_MS + 1_000);
    expect(azureDue).toBe(0);
    expect(Math.max(...limitsAsked.slice(before + 1).map((l) => l.get('azure')!))).toBeGreaterThan(32);
    await sweeper.stop();
  });

  it('should give a cloud back the slots another borrowed, though the other always has work waiting, claiming ahead', async () => {
    const due: Record<string, number> = { aws: 1500, azure: 1500 };
    const calling: Record<string, number> = { aws: 0, azure: 0 };
    const azureSamples: number[] = [];
    const queue = {
      claimDueByCloud: async (_owner: string, _lease: number, limits: ReadonlyMap<CloudName, number>) => {
        const out: Grant[] = [];
        for (const cloud of ['aws', 'azure'] as const) {
          const n = Math.min(limits.get(cloud) ?? 0, due[cloud]);
          due[cloud] -= n;
          for (let i = 0; i < n; i++) out.push({ id: `${cloud}-${due[cloud] + i}`, cloud, state: 'active', expiresAt: new Date() } as Grant);
        }
        return out;
      },
      nextDueAt: async () => null,
    } as unknown as WorkQueue;
    const processDue = {
      execute: async (g: Grant, gate: CallGate) => {
        await gate.enter();
        calling[g.cloud]++;
        if (g.cloud === 'azure' && Date.now() - started >= 100 && Date.now() - started < 300) azureSamples.push(calling.azure);
        await new Promise((r) => setTimeout(r, 10));
        calling[g.cloud]--;
        gate.leave();
        return g;
      },
    } as unknown as ProcessDueGrantUseCase;
    // Shares of 32: 11 (AWS), 11 (Azure), 10 (GCP, nothing due; its reserve of 5 stays free).
    const sweeper = new GrantExpirySweeper(queue, processDue, new SystemClock(), { owner: 'r1', intervalMs: POLL_MS, leaseMs: 30_000, concurrency: 32, clouds: ['aws', 'azure', 'gcp'] });
    const started = Date.now();
    sweeper.start();
    await jest.advanceTimersByTimeAsync(300);
    // AWS comes first in the claims and took the spare slots at the start; Azure has its share
    // again once AWS's first calls end, and keeps it.
    expect(azureSamples.length).toBeGreaterThan(100);
    expect(Math.min(...azureSamples)).toBeGreaterThanOrEqual(11);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(due).toEqual({ aws: 0, azure: 0 });
    await sweeper.stop();
  });

  it('should not claim again on every call that ends while the slots are full and the last claim took less than it asked', async () => {
    let cycles = 0;
    let served = false;
    let wakeUps = 0;
    const queue = {
      claimDueByCloud: async (_owner: string, _lease: number, limits: ReadonlyMap<CloudName, number>) => {
        cycles++;
        if (served || !limits.get('aws')) return [];
        served = true;
        // Ten of the twelve asked for (4 slots and 8 ahead): not behind.
        return Array.from({ length: 10 }, (_, i) => ({ id: `g-${i}`, cloud: 'aws', state: 'active', expiresAt: new Date() }) as Grant);
      },
      // One wake-up 5 ms later, while the four slots are busy.
      nextDueAt: async () => (wakeUps++ === 0 ? new Date(Date.now() + 5) : null),
    } as unknown as WorkQueue;
    const done = { n: 0 };
    const processDue = callsTaking(20, done);
    const sweeper = new GrantExpirySweeper(queue, processDue, new SystemClock(), {
      owner: 'r1',
      intervalMs: POLL_MS,
      leaseMs: 30_000,
      concurrency: 4,
      claimAhead: 8,
      clouds: ['aws'],
    });
    sweeper.start();
    await jest.advanceTimersByTimeAsync(200);
    expect(done.n).toBe(10);
    // The first claim, the wake-up's (nothing for AWS: no free slot, not behind), and one once a
    // slot is free with nothing waiting; not one per call that ends.
    expect(cycles).toBeLessThanOrEqual(3);
    await sweeper.stop();
  });

  it('should measure the wait for a slot from the claim, so work before the gate does not stretch it past the lease', async () => {
    let served = false;
    const store = {
      claimDue: async (_owner: string, _lease: number, limit: number) =>
        served ? [] : ((served = true), Array.from({ length: limit }, (_, i) => ({ id: `g-${i}`, cloud: 'aws', state: 'active', expiresAt: new Date() }) as Grant)),
      nextDueAt: async () => null,
      releaseClaims: async (ids: readonly string[]) => (handedBack.push(...ids), ids.length),
    };
    const handedBack: string[] = [];
    const called: string[] = [];
    const processDue = {
      execute: async (g: Grant, gate: CallGate) => {
        // Six seconds of work before the gate (a recorded revoke's transition on a slow database).
        await new Promise((r) => setTimeout(r, 6_000));
        await gate.enter();
        called.push(g.id);
        // The cloud never answers: four calls hold the four slots.
        return new Promise(() => undefined);
      },
    } as unknown as ProcessDueGrantUseCase;
    const queue = Object.assign(queueOf(store), { releaseClaims: store.releaseClaims });
    const sweeper = new GrantExpirySweeper(queue, processDue, new SystemClock(), {
      owner: 'r1',
      intervalMs: POLL_MS,
      leaseMs: 40_000,
      concurrency: 4,
      claimAhead: 8,
      clouds: ['aws'],
    });
    sweeper.start();
    await jest.advanceTimersByTimeAsync(9_900);
    expect(called).toHaveLength(4);
    expect(handedBack).toEqual([]);
    // A quarter of the 40 s lease after the claim, not after the gate was reached (16 s).
    await jest.advanceTimersByTimeAsync(200);
    expect(handedBack).toHaveLength(8);
    expect(called).toHaveLength(4);
  });

  it('should give the slots to the most overdue grants of a claim first, whatever order the rows came back in', async () => {
    const now = Date.now();
    // The claim's rows come back in no particular order (UPDATE ... RETURNING).
    const rows = [5, 1, 4, 2, 3].map((k) => ({ id: `g-${k}`, cloud: 'aws', state: 'active', expiresAt: new Date(now - 60_000 + k * 1_000) }) as Grant);
    let served = false;
    const store = {
      claimDue: async () => (served ? [] : ((served = true), rows)),
      nextDueAt: async () => null,
    };
    const called: string[] = [];
    const processDue = {
      execute: async (g: Grant, gate: CallGate) => {
        await Promise.resolve(); // the overlap read
        await gate.enter();
        called.push(g.id);
        await new Promise((r) => setTimeout(r, 10));
        gate.leave();
        return g;
      },
    } as unknown as ProcessDueGrantUseCase;
    const sweeper = new GrantExpirySweeper(queueOf(store), processDue, new SystemClock(), {
      owner: 'r1',
      intervalMs: POLL_MS,
      leaseMs: 30_000,
      concurrency: 1,
      clouds: ['aws'],
    });
    sweeper.start();
    await jest.advanceTimersByTimeAsync(100);
    expect(called).toEqual(['g-1', 'g-2', 'g-3', 'g-4', 'g-5']);
    await sweeper.stop();
  });

  it("should leave every cloud with a free slot its share of a claim, however much the others claim ahead", async () => {
    const limitsAsked: [CloudName, number][][] = [];
    const queue = {
      claimDueByCloud: async (_owner: string, _lease: number, limits: ReadonlyMap<CloudName, number>) => (limitsAsked.push([...limits]), []),
      nextDueAt: async () => null,
    } as unknown as WorkQueue;
    const processDue = { execute: async (g: Grant) => g } as unknown as ProcessDueGrantUseCase;
    const sweeper = new GrantExpirySweeper(queue, processDue, new SystemClock(), { owner: 'r1', intervalMs: POLL_MS, leaseMs: 30_000, concurrency: 32, clouds: ['aws', 'azure', 'gcp'] });
    sweeper.start();
    await jest.advanceTimersByTimeAsync(0);
    const limits = new Map(limitsAsked[0]);
    // 21 + 6 + 5 free slots, and the rest of the 256 outstanding shared: every cloud is asked for some, none for more than its slots and 128 ahead.
    for (const cloud of ['aws', 'azure', 'gcp'] as const) expect(limits.get(cloud)).toBeGreaterThan(32);
    expect([...limits.values()].reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(256);
    await sweeper.stop();
  });

  it('should hold the slot until the work ends when the call never says it returned (recovery, approval deadlines)', async () => {
    let waiting = 20;
    const store = {
      claimDue: async (_owner: string, _lease: number, limit: number) => {
        const n = Math.min(limit, waiting);
        waiting -= n;
        return Array.from({ length: n }, (_, i) => ({ id: `g-${waiting + i}`, cloud: 'aws' }) as Grant);
      },
      nextDueAt: async () => null,
    };
    const calling: string[] = [];
    const processDue = { execute: (g: Grant) => new Promise(() => calling.push(g.id)) } as unknown as ProcessDueGrantUseCase;
    const sweeper = new GrantExpirySweeper(queueOf(store), processDue, new SystemClock(), {
      owner: 'r1',
      intervalMs: POLL_MS,
      leaseMs: 30_000,
      concurrency: 4,
      clouds: ['aws'],
    });
    sweeper.start();
    await jest.advanceTimersByTimeAsync(3 * POLL_MS);
    expect(calling).toHaveLength(4);
  });

  it('should report the time since its last cycle ended: within a poll while cycles end, growing while one hangs (/health)', async () => {
    let hang = false;
    let release: () => void = () => undefined;
    const store = {
      claimDue: async () => {
        if (hang) await new Promise<void>((r) => (release = r));
        return [];
      },
      nextDueAt: async () => null,
    };
    const sweeper = sweeperWith(store);
    sweeper.start();
    await jest.advanceTimersByTimeAsync(10 * POLL_MS + 1);
    expect(sweeper.msSinceCycleEnded()).toBeLessThan(POLL_MS);
    // A claim that never answers: the polls only ask for another cycle, none ends.
    hang = true;
    await jest.advanceTimersByTimeAsync(POLL_MS);
    await jest.advanceTimersByTimeAsync(10 * POLL_MS);
    expect(sweeper.msSinceCycleEnded()).toBeGreaterThanOrEqual(10 * POLL_MS);
    hang = false;
    release();
    await jest.advanceTimersByTimeAsync(1);
    expect(sweeper.msSinceCycleEnded()).toBeLessThan(POLL_MS);
    await sweeper.stop();
  });

  it('should give a lone cloud every slot, and keep each other cloud\'s reserve free', () => {
    const slots = new CloudFairShare(4, ['aws']);
    expect(slots.room('aws')).toBe(4);
    const shared = new CloudFairShare(32, ['aws', 'azure', 'gcp']);
    // Shares 11, 11, 10; reserves 6, 6, 5: one cloud may hold up to 32 - 11 = 21 slots.
    expect(shared.room('aws')).toBe(21);
    for (let i = 0; i < 21; i++) shared.take('aws');
    expect([shared.room('aws'), shared.room('azure'), shared.room('gcp')]).toEqual([0, 6, 5]);
  });
});
