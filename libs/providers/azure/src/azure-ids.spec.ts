import { isoDuration, nameBasedGuid, scheduleWindow } from './azure-ids';
import { classifyPimStatus } from './pim-status';

describe('azure ids and PIM status', () => {
  it('should derive a stable version-5 GUID per name and different ones for different names', () => {
    const a = nameBasedGuid('grant-1/assign');
    expect(a).toBe(nameBasedGuid('grant-1/assign'));
    expect(a).not.toBe(nameBasedGuid('grant-2/assign'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('should format durations the way PIM documents them', () => {
    expect(isoDuration(7200)).toBe('PT2H');
    expect(isoDuration(3661)).toBe('PT1H1M1S');
    expect(isoDuration(0.2)).toBe('PT1S');
  });

  it('should end a schedule window within one second before the requested end, never after', () => {
    const now = new Date('2026-05-01T10:00:00.700Z');
    const end = new Date('2026-05-01T12:00:00.999Z');
    const w = scheduleWindow(now, end, now);
    expect(w.start.toISOString()).toBe('2026-05-01T10:00:00.000Z');
    expect(w.duration).toBe('PT2H');
    expect(scheduleWindow(now, new Date('2026-05-01T12:00:00.000Z'), now).duration).toBe('PT2H');
  });

  it('should keep a five-minute window whole when the call comes in the second after the grant started', () => {
    const startsAt = new Date('2026-05-01T10:00:00.999Z');
    const end = new Date(startsAt.getTime() + 5 * 60_000);
    const now = new Date('2026-05-01T10:00:01.004Z');
    const w = scheduleWindow(startsAt, end, now, 5 * 60_000);
    expect(w.start.toISOString()).toBe('2026-05-01T10:00:00.000Z');
    expect(w.duration).toBe('PT5M');
    // Never after the end, and never before the grant's own second.
    expect(w.start.getTime() + 300_000).toBeLessThanOrEqual(end.getTime());
    // A grant that really has less than the minimum left is not stretched back to it.
    expect(scheduleWindow(startsAt, end, new Date(startsAt.getTime() + 60_000), 5 * 60_000).duration).toBe('PT4M');
    // Without a minimum, the window starts at the call's second.
    expect(scheduleWindow(startsAt, end, now).duration).toBe('PT4M59S');
  });

  it('should map Graph and ARM statuses onto grant outcomes', () => {
    expect(['Provisioned', 'Granted', 'ScheduleCreated'].map(classifyPimStatus)).toEqual(['active', 'active', 'active']);
    expect(['PendingApproval', 'PendingProvisioning', 'Accepted', 'PendingEvaluation'].map(classifyPimStatus)).toEqual(['pending', 'pending', 'pending', 'pending']);
    expect(['Denied', 'Failed', 'AdminDenied', 'TimedOut', 'Canceled'].map(classifyPimStatus)).toEqual(['failed', 'failed', 'failed', 'failed', 'failed']);
    expect(classifyPimStatus('Revoked')).toBe('revoked');
  });
});
