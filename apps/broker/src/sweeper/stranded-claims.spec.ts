import { CloudName, Grant, WorkQueue } from '@jit/domain';
import { StrandedClaims } from './stranded-claims';

/** A queue whose database is up or down, recording what it was asked to release. */
class SwitchableQueue extends WorkQueue {
  up = true;
  released: (readonly string[])[] = [];

  async claimDue(_owner: string, _leaseMs: number, _limit: number, _cloud?: CloudName): Promise<Grant[]> {
    return [];
  }
  async claimDueByCloud(): Promise<Grant[]> {
    return [];
  }
  async releaseOwnLeases(): Promise<number> {
    return 0;
  }
  async releaseClaims(ids: readonly string[]): Promise<number> {
    if (!this.up) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', syscall: 'connect' });
    this.released.push(ids);
    return ids.length;
  }
  async nextDueAt(): Promise<Date | null> {
    return null;
  }
  async claimJob(): Promise<boolean> {
    return false;
  }
}

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe(StrandedClaims.name, () => {
  let queue: SwitchableQueue;
  let woken: number[];
  let stranded: StrandedClaims;
  beforeEach(() => {
    queue = new SwitchableQueue();
    woken = [];
    // A retry period longer than any test: each try below is made by hand.
    stranded = new StrandedClaims(queue, (n) => woken.push(n), 3_600_000);
  });
  afterEach(async () => {
    await stranded.stop();
  });

  describe('note', () => {
    it('should keep a grant whose work failed for want of the database, and nothing for other failures', () => {
      stranded.note('g-1', refused);
      stranded.note('g-2', new Error('duplicate key value violates unique constraint'));
      expect(stranded.pending).toEqual(['g-1']);
    });
  });

  describe('handBack', () => {
    it('should keep the claims while the database is away and release them, waking the sweeper, once it answers', async () => {
      stranded.note('g-1', refused);
      stranded.note('g-2', refused);
      queue.up = false;
      await stranded.handBack();
      expect({ pending: stranded.pending, released: queue.released, woken }).toEqual({ pending: ['g-1', 'g-2'], released: [], woken: [] });
      queue.up = true;
      await stranded.handBack();
      expect({ pending: stranded.pending, released: queue.released, woken }).toEqual({ pending: [], released: [['g-1', 'g-2']], woken: [2] });
    });

    it('should ask the queue to release lost claims when a claim (no grant) failed', async () => {
      stranded.note(null, refused);
      await stranded.handBack();
      expect({ released: queue.released, woken }).toEqual({ released: [[]], woken: [0] });
      await stranded.handBack();
      expect(queue.released).toEqual([[]]);
    });

    it('should note nothing once stopped', async () => {
      await stranded.stop();
      stranded.note('g-1', refused);
      expect(stranded.pending).toEqual([]);
    });
  });
});
