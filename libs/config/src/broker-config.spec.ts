import { z } from 'zod';
import { ConfigError, loadBrokerConfig, loadConfig } from './broker-config';
import { ProviderEnv, intVar, optionalVar } from './provider-env';

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

  describe('JIT_SWEEP_STALL_AFTER (/health where the sweeper runs)', () => {
    it('should default to two minutes, or three polls when those are longer', () => {
      expect(loadBrokerConfig({}).sweepStallAfterMs).toBe(120_000);
      expect(loadBrokerConfig({ JIT_SWEEP_INTERVAL: 'PT120S' }).sweepStallAfterMs).toBe(360_000);
      expect(loadBrokerConfig({ JIT_SWEEP_STALL_AFTER: 'PT30S' }).sweepStallAfterMs).toBe(30_000);
    });

    it.each([
      ['PT5S', {}, /JIT_SWEEP_STALL_AFTER must be at least 10 seconds and at least three JIT_SWEEP_INTERVALs/],
      ['PT20S', { JIT_SWEEP_INTERVAL: 'PT10S' }, /JIT_SWEEP_STALL_AFTER must be at least 10 seconds and at least three JIT_SWEEP_INTERVALs/],
      ['2m', {}, /JIT_SWEEP_STALL_AFTER must be a positive ISO-8601 duration/],
      ['PT0S', {}, /JIT_SWEEP_STALL_AFTER must be a positive ISO-8601 duration/],
    ])('should refuse %j (with %j), naming the variable', (value, env, message) => {
      expect(() => loadBrokerConfig({ ...env, JIT_SWEEP_STALL_AFTER: value })).toThrow(ConfigError);
      expect(() => loadBrokerConfig({ ...env, JIT_SWEEP_STALL_AFTER: value })).toThrow(message);
    });
  });

  describe('whole numbers', () => {
    it.each(['abc', '1.5', '-3', '0x20', '1e2', '2000'])('should refuse JIT_SWEEP_CONCURRENCY=%j, naming the variable', (value) => {
      expect(() => loadBrokerConfig({ JIT_SWEEP_CONCURRENCY: value })).toThrow(
        `JIT_SWEEP_CONCURRENCY: JIT_SWEEP_CONCURRENCY must be an integer from 1 to 1024, got ${JSON.stringify(value)}`,
      );
    });

    it('should read digits and default an unset or empty variable', () => {
      expect(loadBrokerConfig({ JIT_SWEEP_CONCURRENCY: ' 8 ', PORT: '' })).toMatchObject({ sweepConcurrency: 8, port: 8080 });
    });
  });

  describe('reconciliation look-back', () => {
    it('should default to twice the interval, and read an ISO-8601 duration', () => {
      expect(loadBrokerConfig({})).toMatchObject({ reconcileIntervalMs: 600_000, reconcileLookbackMs: 1_200_000 });
      expect(loadBrokerConfig({ JIT_RECONCILE_INTERVAL: 'PT1H', JIT_RECONCILE_LOOKBACK: '' })).toMatchObject({ reconcileLookbackMs: 7_200_000 });
      expect(loadBrokerConfig({ JIT_RECONCILE_LOOKBACK: 'P1D' })).toMatchObject({ reconcileLookbackMs: 86_400_000 });
    });

    it('should refuse a look-back that is not a positive duration or is shorter than the interval, naming the variable', () => {
      expect(() => loadBrokerConfig({ JIT_RECONCILE_LOOKBACK: '1h' })).toThrow('JIT_RECONCILE_LOOKBACK: JIT_RECONCILE_LOOKBACK must be a positive ISO-8601 duration');
      expect(() => loadBrokerConfig({ JIT_RECONCILE_LOOKBACK: 'PT5M' })).toThrow('JIT_RECONCILE_LOOKBACK must be at least JIT_RECONCILE_INTERVAL');
    });
  });
});

/** Two provider sections as a provider lib declares them (libs/config imports no real provider). */
const sections = {
  aws: {
    schema: z.object({ JIT_AWS_ATTEMPTS: intVar('JIT_AWS_ATTEMPTS', 1, 20) }).transform((v) => ({ attempts: v.JIT_AWS_ATTEMPTS ?? 5 })),
    aliases: { AWS_JIT_ATTEMPTS: 'JIT_AWS_ATTEMPTS' },
  },
  azure: {
    schema: z
      .object({ AZURE_TENANT_ID: optionalVar, JIT_AZURE_SCOPE: optionalVar })
      .superRefine((v, ctx) => {
        if (!v.AZURE_TENANT_ID) ctx.addIssue({ code: 'custom', path: ['AZURE_TENANT_ID'], message: 'AZURE_TENANT_ID is required' });
      })
      .transform((v) => ({ tenantId: v.AZURE_TENANT_ID ?? '' })),
    aliases: {},
  },
} satisfies Record<string, ProviderEnv<unknown>>;

describe('loadConfig', () => {
  it('should validate the broker and each enabled cloud in one pass, reporting every problem by variable name', () => {
    const load = () => loadConfig({ JIT_PROVIDERS: 'aws,azure', PORT: 'http', JIT_LEASE: 'soon', JIT_AWS_ATTEMPTS: '0' }, sections);
    expect(load).toThrow(ConfigError);
    let message = '';
    try {
      load();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'invalid configuration:',
      '  PORT: PORT must be an integer from 0 to 65535, got "http"',
      '  JIT_LEASE: JIT_LEASE must be a positive ISO-8601 duration such as PT1M',
      '  JIT_AWS_ATTEMPTS: JIT_AWS_ATTEMPTS must be an integer from 1 to 20, got "0"',
      '  AZURE_TENANT_ID: AZURE_TENANT_ID is required',
    ]);
  });

  it('should report the broker\'s cross-variable problems with the providers\'', () => {
    expect(() => loadConfig({ JIT_PROVIDERS: 'aws', JIT_PROVIDER_TIMEOUT: 'PT2M', AWS_JIT_ATTEMPTS: 'x' }, sections)).toThrow(
      'invalid configuration:\n  AWS_JIT_ATTEMPTS (deprecated name of JIT_AWS_ATTEMPTS): JIT_AWS_ATTEMPTS must be an integer from 1 to 20, got "x"\n  JIT_PROVIDER_TIMEOUT (120 s) must be at most half of JIT_LEASE (60 s)',
    );
  });

  it('should refuse a provider timeout that, after the wait for a sweeper slot, could outlive the lease', () => {
    // 50 s of call after up to 15 s (a quarter of the lease) of waiting for a slot: past the 60 s lease.
    expect(() => loadBrokerConfig({ JIT_PROVIDER_TIMEOUT: 'PT50S', JIT_LEASE: 'PT60S' })).toThrow(
      /JIT_PROVIDER_TIMEOUT \(50 s\) must be at most half of JIT_LEASE \(60 s\): a claimed grant may wait a quarter of the lease for a sweeper slot/,
    );
    expect(() => loadBrokerConfig({ JIT_PROVIDER_TIMEOUT: 'PT31S', JIT_LEASE: 'PT60S' })).toThrow(/JIT_PROVIDER_TIMEOUT/);
    expect(loadBrokerConfig({ JIT_PROVIDER_TIMEOUT: 'PT30S', JIT_LEASE: 'PT60S' })).toMatchObject({ providerTimeoutMs: 30_000, leaseMs: 60_000 });
    expect(loadBrokerConfig({})).toMatchObject({ providerTimeoutMs: 30_000, leaseMs: 60_000 });
  });

  it('should give each enabled cloud its options and read nothing of the others', () => {
    const loaded = loadConfig({ JIT_PROVIDERS: 'aws', JIT_AWS_ATTEMPTS: '7', JIT_AZURE_SCOPE: 'x' }, sections);
    expect(loaded.providers).toEqual({ aws: { attempts: 7 } });
    expect(loaded.broker.providers).toEqual(['aws']);
    expect(loaded.warnings).toEqual([]);
  });

  it('should read a deprecated name with one warning naming the new one, and refuse both set to different values', () => {
    const loaded = loadConfig({ JIT_PROVIDERS: 'aws', AWS_JIT_ATTEMPTS: '3' }, sections);
    expect(loaded.providers.aws).toEqual({ attempts: 3 });
    expect(loaded.warnings).toEqual(['AWS_JIT_ATTEMPTS is deprecated: use JIT_AWS_ATTEMPTS']);
    expect(() => loadConfig({ JIT_PROVIDERS: 'aws', AWS_JIT_ATTEMPTS: '3', JIT_AWS_ATTEMPTS: '4' }, sections)).toThrow(
      'AWS_JIT_ATTEMPTS: deprecated name of JIT_AWS_ATTEMPTS, and both are set to different values: keep JIT_AWS_ATTEMPTS only',
    );
  });

  it('should name an unknown cloud in JIT_PROVIDERS, and leave the clouds\' sections until it is fixed', () => {
    expect(() => loadConfig({ JIT_PROVIDERS: 'aws,oracle', JIT_AWS_ATTEMPTS: '0' }, sections)).toThrow(
      new ConfigError('invalid configuration:\n  JIT_PROVIDERS: JIT_PROVIDERS: unknown cloud "oracle" (use aws, azure, gcp)'),
    );
  });
});
