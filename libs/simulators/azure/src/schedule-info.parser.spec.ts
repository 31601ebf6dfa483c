import { parseScheduleInfo } from './schedule-info.parser';

describe('parseScheduleInfo', () => {
  const start = '2026-05-01T10:00:00Z';

  it('should accept both casings of the expiration type on Graph, only PascalCase on ARM', () => {
    for (const type of ['afterDuration', 'AfterDuration']) {
      expect(parseScheduleInfo({ startDateTime: start, expiration: { type, duration: 'PT2H' } }, 'graph').end?.toISOString()).toBe('2026-05-01T12:00:00.000Z');
    }
    expect(parseScheduleInfo({ startDateTime: start, expiration: { type: 'AfterDuration', duration: 'PT2H' } }, 'arm').end?.toISOString()).toBe('2026-05-01T12:00:00.000Z');
    expect(() => parseScheduleInfo({ startDateTime: start, expiration: { type: 'afterDuration', duration: 'PT2H' } }, 'arm')).toThrow(/AfterDuration/);
  });

  it('should require the field that matches the expiration type', () => {
    expect(() => parseScheduleInfo({ startDateTime: start, expiration: { type: 'AfterDateTime' } }, 'arm')).toThrow(/endDateTime/);
    expect(() => parseScheduleInfo({ startDateTime: start, expiration: { type: 'afterDuration', duration: 'two hours' } }, 'graph')).toThrow(/duration/);
    expect(parseScheduleInfo({ startDateTime: start, expiration: { type: 'NoExpiration' } }, 'arm').end).toBeNull();
  });
});
