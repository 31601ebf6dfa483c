import { Clock, Grant, WorkQueue } from '@jit/domain';
import { ProcessDueGrantUseCase } from '@jit/grants';
import { GrantExpirySweeper } from './grant-expiry.sweeper';

/** Reads Date.now(), which jest's fake timers move. */
class FakeTimersClock extends Clock {
  now(): Date {
    return new Date(Date.now());
  }
}

const POLL_MS = 60_000;

/**
 * The sweeper's scheduling, on fake timers: which instants it claims at and what it asks for
 * next. The store's SQL is tested on a real database (test/medium/sweeper-claims); here the
 * store is a script of answers, since the subject is the timer logic between the calls.
 */
describe('GrantExpirySweeper', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-11-26T12:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  function sweeperWith(store: Pick<WorkQueue, 'claimDue' | 'nextDueAt'>, processed: Grant[] = []) {
    const processDue = { execute: async (g: Grant) => (processed.push(g), g) } as unknown as ProcessDueGrantUseCase;
    return new GrantExpirySweeper(store as WorkQueue, processDue, new FakeTimersClock(), { owner: 'r1', intervalMs: POLL_MS, leaseMs: 30_000, concurrency: 4 });
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
});
