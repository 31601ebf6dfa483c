import { ConfigError, loadConfig } from '@jit/config';
import { PROVIDER_ENVS, createCloudProviders } from './cloud-providers.factory';

describe('createCloudProviders', () => {
  it('should build each configured cloud\'s adapter from the options loadConfig validated', () => {
    const { broker, providers } = loadConfig(
      {
        JIT_PROVIDERS: 'aws,azure,gcp',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
        AZURE_TENANT_ID: '00000000-0000-0000-0000-000000000001',
        AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000002',
        AZURE_CLIENT_SECRET: 'not-a-real-secret',
        JIT_GCP_RESOURCE_MANAGER_ENDPOINT: 'http://127.0.0.1:8085',
        JIT_GCP_STATIC_ACCESS_TOKEN: 'sandbox',
      },
      PROVIDER_ENVS,
    );
    expect(createCloudProviders(broker.providers, providers).map((p) => p.cloud)).toEqual(['aws', 'azure', 'gcp']);
  });

  it('should refuse a cloud whose options were not loaded', () => {
    expect(() => createCloudProviders(['gcp'], {})).toThrow(ConfigError);
  });
});

describe('PROVIDER_ENVS', () => {
  it('should have the three clouds\' variables checked with the broker\'s in one pass, every problem named', () => {
    const env = {
      JIT_PROVIDERS: 'aws,azure,gcp',
      JIT_LEASE: 'PT0S',
      AWS_JIT_MAX_ATTEMPTS: 'ten',
      JIT_AZURE_MAX_ATTEMPTS: 'abc',
      GCP_JIT_RETRY_ATTEMPTS: '3',
      JIT_GCP_MAX_ATTEMPTS: '4',
    };
    expect(() => loadConfig(env, PROVIDER_ENVS)).toThrow(
      new ConfigError(
        [
          'invalid configuration:',
          '  JIT_LEASE: JIT_LEASE must be a positive ISO-8601 duration such as PT1M',
          '  AWS_JIT_MAX_ATTEMPTS (deprecated name of JIT_AWS_MAX_ATTEMPTS): JIT_AWS_MAX_ATTEMPTS must be an integer from 1 to 20, got "ten"',
          '  AZURE_TENANT_ID: AZURE_TENANT_ID is required for the Azure provider',
          '  JIT_AZURE_MAX_ATTEMPTS: JIT_AZURE_MAX_ATTEMPTS must be an integer from 1 to 20, got "abc"',
          '  GCP_JIT_RETRY_ATTEMPTS: deprecated name of JIT_GCP_MAX_ATTEMPTS, and both are set to different values: keep JIT_GCP_MAX_ATTEMPTS only',
        ].join('\n'),
      ),
    );
  });
});
