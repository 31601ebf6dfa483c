import { PIM_MINIMUM_DURATION_MS, PimScheduleEngine, PimSubmission } from './pim-schedule.engine';
import { SimHttpError } from './sim-http';

const MINUTE = 60_000;

function submission(action: PimSubmission['action'], start: Date, end: Date | null): PimSubmission {
  return { surface: 'arm', targetKey: 'role|/subscriptions/s', principalId: 'p', action, start, end, policy: {}, wire: {}, requestorId: 'broker' };
}

function refusal(fn: () => unknown): SimHttpError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SimHttpError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe(PimScheduleEngine.name, () => {
  describe('five-minute rules', () => {
    it('should refuse an assignment shorter than five minutes with ActiveDurationTooShort and accept exactly five', () => {
      const engine = new PimScheduleEngine();
      const now = new Date();
      const e = refusal(() => engine.submit(submission('assign', now, new Date(now.getTime() + PIM_MINIMUM_DURATION_MS - 1_000))));
      expect([e.status, e.code]).toEqual([400, 'ActiveDurationTooShort']);
      expect(engine.submit(submission('assign', now, new Date(now.getTime() + PIM_MINIMUM_DURATION_MS))).status).toBe('Provisioned');
    });

    it('should refuse an update that shortens the schedule below five minutes', () => {
      const engine = new PimScheduleEngine();
      const now = new Date();
      engine.submit(submission('assign', now, new Date(now.getTime() + 30 * MINUTE)));
      expect(refusal(() => engine.submit(submission('update', now, new Date(now.getTime() + 4 * MINUTE)))).code).toBe('ActiveDurationTooShort');
    });

    it('should refuse a removal within the window and allow it once the window is over', () => {
      const now = new Date();
      const strict = new PimScheduleEngine();
      strict.submit(submission('assign', now, new Date(now.getTime() + 30 * MINUTE)));
      expect(refusal(() => strict.submit(submission('remove', now, null))).code).toBe('ActiveDurationTooShort');
      expect(strict.instances('arm')).toHaveLength(1);

      const open = new PimScheduleEngine({ removalWindowMs: 0 });
      open.submit(submission('assign', now, new Date(now.getTime() + 30 * MINUTE)));
      expect(open.submit(submission('remove', now, null)).status).toBe('Revoked');
      expect(open.instances('arm')).toHaveLength(0);
    });
  });
});
