import { AuditCheckpointer } from '@jit/audit';
import { AuditCheckpointScheduler } from './audit-checkpoint.scheduler';

describe(AuditCheckpointScheduler.name, () => {
  /** A checkpointer whose ticks finish only when the test lets them. */
  function slowCheckpointer() {
    const calls: boolean[] = [];
    const pending: (() => void)[] = [];
    const checkpointer = {
      tick: (force: boolean) => {
        calls.push(force);
        return new Promise<null>((resolve) => pending.push(() => resolve(null)));
      },
    } as unknown as AuditCheckpointer;
    return { checkpointer, calls, finishNext: () => pending.shift()?.() };
  }

  describe('runOnce', () => {
    it('should skip a timer tick while one is in flight, but run a forced one after it', async () => {
      const { checkpointer, calls, finishNext } = slowCheckpointer();
      const scheduler = new AuditCheckpointScheduler(checkpointer, 60_000);
      const first = scheduler.runOnce();
      const skipped = scheduler.runOnce();
      const forced = scheduler.runOnce(true);
      expect(calls).toEqual([false]);
      finishNext();
      await first;
      await skipped;
      await new Promise((r) => setImmediate(r));
      expect(calls).toEqual([false, true]);
      finishNext();
      await forced;
    });
  });
});
