import { ConfigError, loadBrokerConfig } from './broker-config';

describe('loadBrokerConfig', () => {
  describe('rate limits', () => {
    it('should default to 300 writes and 300 dry runs per minute and subject', () => {
      expect(loadBrokerConfig({}).rateLimits).toEqual({
        writes: { setting: 'JIT_RATE_LIMIT_WRITES', points: 300, seconds: 60 },
        dryRuns: { setting: 'JIT_RATE_LIMIT_DRY_RUNS', points: 300, seconds: 60 },
      });
    });

    it('should read <requests>/<ISO-8601 duration>', () => {
      const { rateLimits } = loadBrokerConfig({ JIT_RATE_LIMIT_WRITES: '60/PT1M', JIT_RATE_LIMIT_DRY_RUNS: '1000/PT1H' });
      expect(rateLimits.writes).toEqual({ setting: 'JIT_RATE_LIMIT_WRITES', points: 60, seconds: 60 });
      expect(rateLimits.dryRuns).toEqual({ setting: 'JIT_RATE_LIMIT_DRY_RUNS', points: 1000, seconds: 3600 });
    });

    it.each(['60', '0/PT1M', '-1/PT1M', '60/PT0S', '60/P2D', '60/1m', 'PT1M/60', '1.5/PT1M', '60/PT1M extra', '99999999/PT1M'])(
      'should refuse %j, naming the variable',
      (value) => {
        expect(() => loadBrokerConfig({ JIT_RATE_LIMIT_WRITES: value })).toThrow(ConfigError);
        expect(() => loadBrokerConfig({ JIT_RATE_LIMIT_WRITES: value })).toThrow(/JIT_RATE_LIMIT_WRITES: JIT_RATE_LIMIT_WRITES must be <requests>\/<ISO-8601 duration/);
      },
    );
  });
});
