import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, loadConfig } from '@jit/config';
import { PROVIDER_ENVS, createCloudProviders } from './cloud-providers.factory';

/**
 * In a fresh Node process (Jest's module registry does not show what Node loaded), from source:
 * the cloud SDK packages loaded after importing the factory and the kind registry, and after the
 * factory built the adapters of `clouds`.
 */
async function sdksLoaded(clouds: string): Promise<{ atImport: string[]; afterFactory: string[] }> {
  const script = `
    const sdks = () => [...new Set(Object.keys(require.cache)
      .map((f) => /node_modules\\/(@azure\\/[^/]+|@aws-sdk\\/[^/]+|@google-cloud\\/[^/]+|google-auth-library|google-gax)\\//.exec(f)?.[1])
      .filter(Boolean))].sort();
    const { PROVIDER_ENVS, createCloudProviders } = require('./apps/broker/src/cloud-providers.factory');
    require('./apps/broker/src/target-kinds');
    const atImport = sdks();
    const { loadConfig } = require('./libs/config/src');
    const { broker, providers } = loadConfig({
      JIT_PROVIDERS: ${JSON.stringify(clouds)},
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AZURE_TENANT_ID: '00000000-0000-0000-0000-000000000001',
      JIT_GCP_RESOURCE_MANAGER_ENDPOINT: 'http://127.0.0.1:8085',
      JIT_GCP_STATIC_ACCESS_TOKEN: 'sandbox',
    }, PROVIDER_ENVS);
    createCloudProviders(broker.providers, providers).then(() => process.stdout.write(JSON.stringify({ atImport, afterFactory: sdks() })));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', '-e', script], {
    cwd: resolve(__dirname, '../../..'),
  });
  return JSON.parse(stdout) as { atImport: string[]; afterFactory: string[] };
}

describe('createCloudProviders', () => {
  it('should build each configured cloud\'s adapter from the options loadConfig validated', async () => {
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
    expect((await createCloudProviders(broker.providers, providers)).map((p) => p.cloud)).toEqual(['aws', 'azure', 'gcp']);
  });

  it('should load only the configured clouds\' SDKs, and none before it builds their adapters (issue 13 point 1)', async () => {
    const gcp = await sdksLoaded('gcp');
    expect(gcp.atImport).toEqual([]);
    expect(gcp.afterFactory).toEqual(['@google-cloud/resource-manager', 'google-auth-library', 'google-gax']);
    const aws = await sdksLoaded('aws');
    expect(aws.atImport).toEqual([]);
    expect(aws.afterFactory).toContain('@aws-sdk/client-iam');
    expect(aws.afterFactory.filter((p) => !p.startsWith('@aws-sdk/'))).toEqual([]);
  });

  it('should refuse a cloud whose options were not loaded', async () => {
    await expect(createCloudProviders(['gcp'], {})).rejects.toThrow(ConfigError);
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
