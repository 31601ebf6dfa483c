import {
  AuditChainStore,
  AuditEvent,
  AuditEventInput,
  AuditHead,
  GENESIS_HASH,
  LinkStagedEvents,
  StagedAuditEvent,
  Transaction,
  UnitOfWork,
} from '@jit/domain';
import { ManualClock } from '@jit/testing';
import { AuditLog } from './audit-log';
import { ChainVerifier } from './chain-verifier';

const AT = new Date(Date.UTC(2026, 11, 5, 12));

const input = (n: number): AuditEventInput => ({ type: 'grant.requested', grantId: null, cloud: 'aws', principal: 'p', actor: 'alice', data: { n } });

/**
 * An in-memory database with the staging table, the chain and its head: a transaction's staged
 * events become visible to the chainer when it commits, as on PostgreSQL; `failNext` makes the
 * next chaining round fail (the database went away).
 */
class MemoryChain extends UnitOfWork {
  head: AuditHead = { seq: 0, hash: GENESIS_HASH };
  events: AuditEvent[] = [];
  staged: StagedAuditEvent[] = [];
  rounds = 0;
  failNext = false;
  /** While set, a chaining round waits for it before taking anything (a slow chaining commit). */
  gate: Promise<void> | null = null;

  /** A transaction the test commits or rolls back itself, to interleave several. */
  open(): { tx: Transaction; end: (commit: boolean) => Promise<void> } {
    const committed: (() => Promise<void>)[] = [];
    let pending: StagedAuditEvent[] = [];
    const tx: Transaction = {
      grants: { insert: async (g) => g, transition: async () => null },
      auditChain: {
        stage: async (events) => {
          pending = [...pending, ...events];
        },
      },
      afterCommit: (fn) => committed.push(fn),
    };
    return {
      tx,
      end: async (commit) => {
        if (!commit) return;
        this.staged.push(...pending);
        for (const fn of committed) await fn();
      },
    };
  }

  async run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const { tx, end } = this.open();
    let result: T;
    try {
      result = await work(tx);
    } catch (e) {
      await end(false);
      throw e;
    }
    await end(true);
    return result;
  }

  store(): AuditChainStore {
    const store = {
      chainStaged: async (link: LinkStagedEvents, limit: number) => {
        this.rounds++;
        await new Promise((r) => setImmediate(r));
        if (this.gate) await this.gate;
        if (this.failNext) {
          this.failNext = false;
          throw new Error('connection terminated');
        }
        const taken = this.staged.splice(0, limit);
        if (taken.length === 0) return 0;
        const chained = link(this.head, taken);
        this.events.push(...chained);
        this.head = { seq: chained[chained.length - 1].seq, hash: chained[chained.length - 1].hash };
        return chained.length;
      },
      stagedCount: async () => this.staged.length,
      head: async () => this.head,
    };
    return store as unknown as AuditChainStore;
  }
}

const verifies = (chain: MemoryChain) => {
  const verifier = new ChainVerifier();
  for (const e of chain.events) verifier.add(e);
  verifier.finish(chain.head);
  return verifier.breakCount === 0;
};

describe(AuditLog.name, () => {
  const setup = () => {
    const chain = new MemoryChain();
    return { chain, log: new AuditLog(chain, chain.store(), new ManualClock(AT)) };
  };

  describe('append', () => {
    it('should have the events staged when the unit of work returns, and numbered and hashed onto the head once chained() resolves', async () => {
      const { chain, log } = setup();
      await log.record([input(1), input(2)]);
      await log.chained();
      expect(chain.events.map((e) => e.seq)).toEqual([1, 2]);
      await log.record([input(3)]);
      await log.chained();
      expect(chain.events.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(chain.events[0]).toMatchObject({ ...input(1), occurredAt: AT, prevHash: GENESIS_HASH });
      expect(chain.staged).toEqual([]);
      expect(verifies(chain)).toBe(true);
    });

    it('should chain transactions in the order they commit, each one\'s events together and in order', async () => {
      const { chain, log } = setup();
      const a = chain.open();
      const b = chain.open();
      await log.append(a.tx, [input(1)]);
      await log.append(b.tx, [input(2)]);
      await log.append(a.tx, [input(3)]);
      await b.end(true);
      await a.end(true);
      await log.chained();
      expect(chain.events.map((e) => e.data.n)).toEqual([2, 1, 3]);
      expect(verifies(chain)).toBe(true);
    });

    it('should never chain the events of a transaction that rolled back', async () => {
      const { chain, log } = setup();
      await expect(
        chain.run(async (tx) => {
          await log.append(tx, [input(1)]);
          throw new Error('the grant row was refused');
        }),
      ).rejects.toThrow('refused');
      await log.append(chain.open().tx, []);
      await log.record([input(2)]);
      await log.chained();
      expect(chain.events.map((e) => [e.seq, e.data.n])).toEqual([[1, 2]]);
    });

    it('should chain many concurrent commits in a few shared rounds', async () => {
      const { chain, log } = setup();
      await Promise.all(Array.from({ length: 50 }, (_, i) => log.record([input(i)])));
      await log.chained();
      expect(chain.events).toHaveLength(50);
      expect(chain.rounds).toBeLessThanOrEqual(4);
      expect(log.chainingStats()).toMatchObject({ events: 50 });
      expect(verifies(chain)).toBe(true);
    });

    it('should answer the writer without waiting for the chaining round: its events are staged, and chained() waits for them', async () => {
      const { chain, log } = setup();
      let open!: () => void;
      chain.gate = new Promise((r) => (open = r));
      await log.record([input(1)]);
      // The round is held at its start: the writer was answered anyway, with its event committed to staging.
      expect(chain.rounds).toBe(1);
      expect(chain.events).toEqual([]);
      expect(await log.staged()).toBe(1);
      let chained = false;
      const reading = log.chained().then(() => (chained = true));
      await new Promise((r) => setImmediate(r));
      expect(chained).toBe(false);
      open();
      await reading;
      expect(chain.events.map((e) => e.data.n)).toEqual([1]);
      expect(await log.staged()).toBe(0);
    });

    it('should return the committed change even when its chaining round fails, and chain its events in the next round', async () => {
      const { chain, log } = setup();
      chain.failNext = true;
      await log.record([input(1)]);
      expect(chain.events).toEqual([]);
      expect(await log.staged()).toBe(1);
      await log.chained();
      expect(chain.events.map((e) => e.data.n)).toEqual([1]);
      expect(await log.staged()).toBe(0);
    });
  });

  describe('rounds spaced for writers', () => {
    const spaced = (spacingMs: number) => {
      const chain = new MemoryChain();
      return { chain, log: new AuditLog(chain, chain.store(), new ManualClock(AT), spacingMs) };
    };
    /** Resolves once the chain holds `n` events, without asking for a round itself (5 s at most). */
    const chainedCount = async (chain: MemoryChain, n: number) => {
      const deadline = Date.now() + 5000;
      while (chain.events.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      return chain.events.length;
    };

    it('should begin a writer\'s first round at once, then hold the next back until the spacing has passed, for every commit meanwhile to share', async () => {
      const { chain, log } = spaced(1000);
      await log.record([input(1)]);
      expect(await chainedCount(chain, 1)).toBe(1);
      expect(chain.rounds).toBe(1);
      await Promise.all([log.record([input(2)]), log.record([input(3)]), log.record([input(4)])]);
      await new Promise((r) => setImmediate(r));
      // Held back: committed and staged, no round yet.
      expect(chain.rounds).toBe(1);
      expect(await log.staged()).toBe(3);
      // Nobody asks again, and the held-back round takes all three.
      expect(await chainedCount(chain, 4)).toBe(4);
      expect(chain.rounds).toBe(2);
      expect(chain.events.map((e) => e.data.n)).toEqual([1, 2, 3, 4]);
      expect(verifies(chain)).toBe(true);
    });

    it('should never make a reader wait for the spacing: chained() begins a round at once, and it serves the held-back writers', async () => {
      const { chain, log } = spaced(1000);
      await log.record([input(1)]);
      expect(await chainedCount(chain, 1)).toBe(1);
      await log.record([input(2)]);
      await new Promise((r) => setImmediate(r));
      expect(chain.rounds).toBe(1);
      await log.chained();
      expect(chain.rounds).toBe(2);
      expect(chain.events.map((e) => e.data.n)).toEqual([1, 2]);
      // The held-back round was dropped, not run empty once its time came.
      await new Promise((r) => setTimeout(r, 1200));
      expect(chain.rounds).toBe(2);
      // The spacing has passed: the next writer's round begins at once, and the one after is held back.
      await log.record([input(3)]);
      expect(await chainedCount(chain, 3)).toBe(3);
      expect(chain.rounds).toBe(3);
      await log.record([input(4)]);
      await new Promise((r) => setImmediate(r));
      expect(chain.rounds).toBe(3);
      // A clean stop chains it at once rather than after the spacing.
      await log.stopChaining();
      expect(chain.rounds).toBe(4);
      expect(chain.events.map((e) => e.data.n)).toEqual([1, 2, 3, 4]);
      expect(await log.staged()).toBe(0);
    });

    it('should hold nothing back once stopped: a write that commits after stopChaining() is chained at once', async () => {
      // A request cut at the drain deadline may commit after the stop; a timer held back for it
      // could fire after the database has closed.
      const { chain, log } = spaced(60_000);
      await log.record([input(1)]);
      expect(await chainedCount(chain, 1)).toBe(1);
      await log.stopChaining();
      await log.record([input(2)]);
      expect(await chainedCount(chain, 2)).toBe(2);
      expect(chain.events.map((e) => e.data.n)).toEqual([1, 2]);
    });

    it('should refuse a spacing that is not a non-negative number of milliseconds', () => {
      const chain = new MemoryChain();
      expect(() => new AuditLog(chain, chain.store(), new ManualClock(AT), -1)).toThrow(/spacing/);
      expect(() => new AuditLog(chain, chain.store(), new ManualClock(AT), Number.NaN)).toThrow(/spacing/);
    });
  });
});
