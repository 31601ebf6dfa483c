import { ConfigError, loadConfig } from '@jit/config';
import { AWS_ENV } from './aws-provider.options';

/** The AWS section through the one loader, as `npm start` reads it. */
const load = (env: NodeJS.ProcessEnv) => loadConfig({ JIT_PROVIDERS: 'aws', ...env }, { aws: AWS_ENV });
const options = (env: NodeJS.ProcessEnv) => load(env).providers.aws;

describe('AWS_ENV', () => {
  it('should default to us-east-1, the SDK endpoints, JitBrokerMember and the adapter\'s own retry settings', () => {
    expect(options({})).toEqual({
      region: 'us-east-1',
      iamEndpoint: undefined,
      stsEndpoint: undefined,
      reconcilePrincipals: [],
      memberAccounts: [],
      memberRoleName: 'JitBrokerMember',
      retry: undefined,
      requestTimeoutMs: undefined,
    });
  });

  it('should read the SDK\'s own names as the SDK defines them', () => {
    expect(options({ AWS_DEFAULT_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:4567' })).toMatchObject({
      region: 'eu-west-1',
      iamEndpoint: 'http://127.0.0.1:4566',
      stsEndpoint: 'http://127.0.0.1:4567',
    });
    expect(options({ AWS_REGION: 'eu-central-1', AWS_DEFAULT_REGION: 'eu-west-1' })?.region).toBe('eu-central-1');
  });

  it('should read the JIT_AWS_* settings', () => {
    expect(
      options({
        JIT_AWS_MEMBER_ACCOUNTS: '111111111111, 222222222222',
        JIT_AWS_MEMBER_ROLE: 'jit/Broker',
        JIT_AWS_RECONCILE_PRINCIPALS: 'arn:aws:iam::111111111111:role/dev arn:aws:iam::111111111111:user/alice',
        JIT_AWS_MAX_ATTEMPTS: '3',
        JIT_AWS_REQUEST_TIMEOUT_MS: '2500',
      }),
    ).toMatchObject({
      memberAccounts: ['111111111111', '222222222222'],
      memberRoleName: 'jit/Broker',
      reconcilePrincipals: ['arn:aws:iam::111111111111:role/dev', 'arn:aws:iam::111111111111:user/alice'],
      retry: { maxAttempts: 3 },
      requestTimeoutMs: 2500,
    });
  });

  it.each([
    [{ JIT_AWS_MAX_ATTEMPTS: 'five' }, 'JIT_AWS_MAX_ATTEMPTS: JIT_AWS_MAX_ATTEMPTS must be an integer from 1 to 20, got "five"'],
    [{ JIT_AWS_MAX_ATTEMPTS: '0' }, 'JIT_AWS_MAX_ATTEMPTS: JIT_AWS_MAX_ATTEMPTS must be an integer from 1 to 20'],
    [{ JIT_AWS_MAX_ATTEMPTS: '1e1' }, 'JIT_AWS_MAX_ATTEMPTS must be an integer from 1 to 20'],
    [{ JIT_AWS_REQUEST_TIMEOUT_MS: '2.5' }, 'JIT_AWS_REQUEST_TIMEOUT_MS: JIT_AWS_REQUEST_TIMEOUT_MS must be an integer from 100 to 300000'],
    [{ JIT_AWS_REQUEST_TIMEOUT_MS: '600000' }, 'JIT_AWS_REQUEST_TIMEOUT_MS must be an integer from 100 to 300000'],
    [{ JIT_AWS_MEMBER_ACCOUNTS: '11111111111' }, 'JIT_AWS_MEMBER_ACCOUNTS: JIT_AWS_MEMBER_ACCOUNTS holds what is not a 12-digit account id: 11111111111'],
    [{ JIT_AWS_MEMBER_ROLE: 'arn:aws:iam::1:role/x' }, 'JIT_AWS_MEMBER_ROLE: JIT_AWS_MEMBER_ROLE must be a role name'],
    [{ JIT_AWS_RECONCILE_PRINCIPALS: 'alice' }, 'JIT_AWS_RECONCILE_PRINCIPALS: JIT_AWS_RECONCILE_PRINCIPALS holds what is not an IAM role or user ARN: alice'],
    [{ AWS_ENDPOINT_URL_IAM: 'localhost:4566' }, 'AWS_ENDPOINT_URL_IAM: AWS_ENDPOINT_URL_IAM must be an http:// or https:// URL'],
  ])('should refuse %j at boot, naming the variable', (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });

  it('should report every bad variable at once', () => {
    expect(() => load({ JIT_AWS_MAX_ATTEMPTS: 'x', JIT_AWS_MEMBER_ACCOUNTS: '1', PORT: 'http' })).toThrow(
      /PORT: .*\n.*JIT_AWS_MEMBER_ACCOUNTS: .*\n.*JIT_AWS_MAX_ATTEMPTS: /,
    );
  });

  it('should not read its variables when AWS is not in JIT_PROVIDERS', () => {
    expect(loadConfig({ JIT_PROVIDERS: 'gcp', JIT_AWS_MAX_ATTEMPTS: 'x' }, { aws: AWS_ENV }).providers).toEqual({});
  });

  describe('deprecated AWS_JIT_* names', () => {
    it('should still read each one, with one warning naming the new variable', () => {
      const loaded = load({
        AWS_JIT_RECONCILE_PRINCIPALS: 'arn:aws:iam::111111111111:role/dev',
        AWS_JIT_MEMBER_ACCOUNTS: '111111111111',
        AWS_JIT_MEMBER_ROLE: 'Member',
        AWS_JIT_MAX_ATTEMPTS: '2',
        AWS_JIT_REQUEST_TIMEOUT_MS: '1000',
      });
      expect(loaded.providers.aws).toMatchObject({
        reconcilePrincipals: ['arn:aws:iam::111111111111:role/dev'],
        memberAccounts: ['111111111111'],
        memberRoleName: 'Member',
        retry: { maxAttempts: 2 },
        requestTimeoutMs: 1000,
      });
      expect(loaded.warnings).toEqual([
        'AWS_JIT_RECONCILE_PRINCIPALS is deprecated: use JIT_AWS_RECONCILE_PRINCIPALS',
        'AWS_JIT_MEMBER_ACCOUNTS is deprecated: use JIT_AWS_MEMBER_ACCOUNTS',
        'AWS_JIT_MEMBER_ROLE is deprecated: use JIT_AWS_MEMBER_ROLE',
        'AWS_JIT_MAX_ATTEMPTS is deprecated: use JIT_AWS_MAX_ATTEMPTS',
        'AWS_JIT_REQUEST_TIMEOUT_MS is deprecated: use JIT_AWS_REQUEST_TIMEOUT_MS',
      ]);
    });

    it('should name the deprecated variable the operator set when its value is bad', () => {
      expect(() => load({ AWS_JIT_MAX_ATTEMPTS: 'many' })).toThrow(
        'AWS_JIT_MAX_ATTEMPTS (deprecated name of JIT_AWS_MAX_ATTEMPTS): JIT_AWS_MAX_ATTEMPTS must be an integer from 1 to 20, got "many"',
      );
    });

    it('should refuse both names set to different values', () => {
      expect(() => load({ AWS_JIT_MAX_ATTEMPTS: '2', JIT_AWS_MAX_ATTEMPTS: '3' })).toThrow(
        'AWS_JIT_MAX_ATTEMPTS: deprecated name of JIT_AWS_MAX_ATTEMPTS, and both are set to different values: keep JIT_AWS_MAX_ATTEMPTS only',
      );
    });

    it('should accept both names set to the same value, still warning', () => {
      const loaded = load({ AWS_JIT_MAX_ATTEMPTS: '2', JIT_AWS_MAX_ATTEMPTS: '2' });
      expect(loaded.providers.aws?.retry).toEqual({ maxAttempts: 2 });
      expect(loaded.warnings).toEqual(['AWS_JIT_MAX_ATTEMPTS is deprecated: use JIT_AWS_MAX_ATTEMPTS']);
    });
  });
});
