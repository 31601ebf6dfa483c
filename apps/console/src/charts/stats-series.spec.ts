/// <reference types="jest" />
import type { GrantStats } from '@jit/client';
import { daysOf, denialsByRule, grantsPerDay, NO_RULE, openNow, revocationLag, total } from './stats-series';

const stats = (over: Partial<GrantStats> = {}): GrantStats => ({
  from: '2026-03-01T12:00:00.000Z',
  to: '2026-03-04T06:00:00.000Z',
  cloud: null,
  perDay: [],
  openNow: [],
  revocationLag: { count: 0, p50Seconds: null, p95Seconds: null, maxSeconds: null, buckets: [1, 5, 15, 60, 300, 900, 3600, null].map((upToSeconds) => ({ upToSeconds, count: 0 })) },
  breakGlass: { total: 0, perDay: [], latest: [] },
  denials: [],
  ...over,
});

describe('stats-series', () => {
  describe('daysOf', () => {
    it('should list every UTC day the range touches, the first partial one included', () => {
      expect(daysOf('2026-03-01T12:00:00.000Z', '2026-03-04T06:00:00.000Z')).toEqual(['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04']);
      expect(daysOf('2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z')).toEqual(['2026-03-01']);
    });
  });

  describe('grantsPerDay', () => {
    it('should give one series per cloud or kind with 0 on days without grants', () => {
      const s = stats({
        perDay: [
          { day: '2026-03-01', cloud: 'aws', kind: 'aws.iam-policy', count: 2 },
          { day: '2026-03-03', cloud: 'aws', kind: 'aws.assume-role', count: 1 },
          { day: '2026-03-03', cloud: 'gcp', kind: 'gcp.iam-binding', count: 4 },
        ],
      });
      expect(grantsPerDay(s, 'cloud').series).toEqual([
        { label: 'aws', values: [2, 0, 1, 0] },
        { label: 'gcp', values: [0, 0, 4, 0] },
      ]);
      expect(grantsPerDay(s, 'kind').series.map((x) => x.label)).toEqual(['aws.assume-role', 'aws.iam-policy', 'gcp.iam-binding']);
      expect(total(grantsPerDay(s, 'kind'))).toBe(7);
    });
  });

  describe('openNow', () => {
    it('should stack states per cloud, leaving out states with none', () => {
      const data = openNow(stats({ openNow: [{ cloud: 'gcp', state: 'pending_approval', count: 3 }, { cloud: 'aws', state: 'active', count: 5 }] }));
      expect(data).toEqual({ labels: ['aws', 'gcp'], series: [{ label: 'active', values: [5, 0] }, { label: 'pending_approval', values: [0, 3] }] });
    });
  });

  describe('revocationLag', () => {
    it('should label each bucket by its bounds, the last open-ended', () => {
      expect(revocationLag(stats()).labels).toEqual(['≤ 1 s', '1 s – 5 s', '5 s – 15 s', '15 s – 1 min', '1 min – 5 min', '5 min – 15 min', '15 min – 1 h', '> 1 h']);
    });
  });

  describe('denialsByRule', () => {
    it('should order rules by their denials and name "no rule matched"', () => {
      const data = denialsByRule(
        stats({
          denials: [
            { rule: 'humans', reason: 'denied', count: 1 },
            { rule: null, reason: 'policy', count: 2 },
            { rule: 'humans', reason: 'timeout', count: 2 },
          ],
        }),
      );
      expect(data.labels).toEqual(['humans', NO_RULE]);
      expect(data.series).toEqual([
        { label: 'refused by the rules', values: [0, 2] },
        { label: 'denied while pending', values: [1, 0] },
        { label: 'approval timed out', values: [2, 0] },
      ]);
    });
  });
});
