import { AuditChainStore, AuditEvent, AuditEventInput, AuditHead, GENESIS_HASH, Transaction, UnitOfWork } from '@jit/domain';
import { ManualClock } from '@jit/testing';
import { AuditLog } from './audit-log';
import { ChainVerifier } from './chain-verifier';

const AT = new Date(Date.UTC(2026, 11, 5, 12));

const input = (n: number): AuditEventInput => ({ type: 'grant.requested', grantId: null, cloud: 'aws', principal: 'p', actor: 'alice', data: { n } });

/**
 * An in-memory chain whose head lock is a log line: what matters is the order in which
 * transactions lock the head, append and end. Transactions commit what they appended when they
 * end without an error.
 */
class MemoryChain extends UnitOfWork {
  head: AuditHead = { seq: 0, hash: GENESIS_HASH };
  events: AuditEvent[] = [];
  log: string[] = [];

  /** A transaction the test ends itself (`end()`), to hold the head's turn as long as it likes. */
  open(name: string): { tx: Transaction; end: (commit: boolean) => void } {
    const ended: (() => void)[] = [];
    let pending: AuditEvent[] = [];
    const tx: Transaction = {
      grants: { insert: async (g) => g, transition: async () => null },
      auditChain: {
        lockHead: async () => {
          this.log.push(`${name} locks`);
          const last = pending[pending.length - 1];
          return last ? { seq: last.seq, hash: last.hash } : this.head;
        },
        append: async (events) => {
          pending = [...pending, ...events];
        },
      },
      onEnd: (fn) => ended.push(fn),
    };
    return {
      tx,
      end: (commit) => {
        if (commit && pending.length) {
          this.events.push(...pending);
          const last = pending[pending.length - 1];
          this.head = { seq: last.seq, hash: last.hash };
        }
        this.log.push(`${name} ends`);
        for (const fn of ended) fn();
      },
    };
  }

  async run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const { tx, end } = this.open('run');
    try {
      const result = await work(tx);
      end(true);
      return result;
    } catch (e) {
      end(false);
      throw e;
    }
  }
}

const settle = () => new Promise((r) => setImmediate(r));

describe(AuditLog.name, () => {
  const setup = () => {
    const chain = new MemoryChain();
    return { chain, log: new AuditLog(chain, {} as AuditChainStore, new ManualClock(AT)) };
  };

  describe('append', () => {
    it('should number and hash events onto the locked head, so the chain verifies', async () => {
      const { chain, log } = setup();
      await log.record([input(1), input(2)]);
      await log.record([input(3)]);
      expect(chain.events.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(chain.events[0]).toMatchObject({ ...input(1), occurredAt: AT, prevHash: GENESIS_HASH });
      const verifier = new ChainVerifier();
      for (const e of chain.events) verifier.add(e);
      verifier.finish(chain.head);
      expect(verifier.breakCount).toBe(0);
    });

    it("should make a second transaction wait for the first one's end before it locks the head", async () => {
      const { chain, log } = setup();
      const a = chain.open('a');
      const b = chain.open('b');
      await log.append(a.tx, [input(1)]);
      const bAppended = log.append(b.tx, [input(2)]);
      await settle();
      expect(chain.log).toEqual(['a locks']);
      // Holding the turn, the first transaction appends again without waiting for itself.
      await log.append(a.tx, [input(3)]);
      a.end(true);
      await bAppended;
      b.end(true);
      expect(chain.log).toEqual(['a locks', 'a locks', 'a ends', 'b locks', 'b ends']);
      expect(chain.events.map((e) => [e.seq, e.data.n])).toEqual([[1, 1], [2, 3], [3, 2]]);
    });

    it('should pass the turn on when a transaction rolls back, and take none for no events', async () => {
      const { chain, log } = setup();
      await expect(
        chain.run(async (tx) => {
          await log.append(tx, [input(1)]);
          throw new Error('the grant row was refused');
        }),
      ).rejects.toThrow('refused');
      const empty = chain.open('empty');
      await log.append(empty.tx, []);
      await log.record([input(2)]);
      expect(chain.events.map((e) => [e.seq, e.data.n])).toEqual([[1, 2]]);
      expect(chain.log).toEqual(['run locks', 'run ends', 'run locks', 'run ends']);
    });
  });
});
