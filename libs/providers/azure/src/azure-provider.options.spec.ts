import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '@jit/config';
import { AZURE_ENV } from './azure-provider.options';

/** The Azure section through the one loader, as `npm start` reads it. */
const load = (env: NodeJS.ProcessEnv) => loadConfig({ JIT_PROVIDERS: 'azure', AZURE_TENANT_ID: 'tenant', ...env }, { azure: AZURE_ENV });
const options = (env: NodeJS.ProcessEnv) => load(env).providers.azure;

describe('AZURE_ENV', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jit-azure-env-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should read the @azure/identity names as they are and default the rest', () => {
    expect(options({ AZURE_CLIENT_ID: 'client', AZURE_CLIENT_SECRET: 's3cret', AZURE_CLIENT_CERTIFICATE_PATH: '' })).toEqual({
      tenantId: 'tenant',
      clientId: 'client',
      clientSecret: 's3cret',
      clientCertificatePath: undefined,
      federatedTokenFile: undefined,
      authorityHost: undefined,
      graphEndpoint: undefined,
      armEndpoint: undefined,
      extraCaCertsPem: undefined,
      reconcileScopes: [],
      discoveryScopes: undefined,
      retry: {},
    });
  });

  it('should read the JIT_AZURE_* settings, the extra CA file at start', () => {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(
      options({
        AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token',
        AZURE_AUTHORITY_HOST: 'https://127.0.0.1:8443',
        JIT_AZURE_GRAPH_ENDPOINT: 'https://127.0.0.1:8443/graph',
        JIT_AZURE_ARM_ENDPOINT: 'https://127.0.0.1:8443/arm',
        JIT_AZURE_EXTRA_CA_FILE: ca,
        JIT_AZURE_RECONCILE_SCOPES: '/subscriptions/s1, /providers/Microsoft.Management/managementGroups/mg',
        JIT_AZURE_DISCOVERY_SCOPES: '/subscriptions/s1,/subscriptions/s2',
        JIT_AZURE_MAX_ATTEMPTS: '2',
        JIT_AZURE_REPLICATION_WAIT_MS: '0',
      }),
    ).toEqual({
      tenantId: 'tenant',
      clientId: undefined,
      clientSecret: undefined,
      clientCertificatePath: undefined,
      federatedTokenFile: '/var/run/secrets/azure/tokens/azure-identity-token',
      authorityHost: 'https://127.0.0.1:8443',
      graphEndpoint: 'https://127.0.0.1:8443/graph',
      armEndpoint: 'https://127.0.0.1:8443/arm',
      extraCaCertsPem: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'],
      reconcileScopes: ['/subscriptions/s1', '/providers/Microsoft.Management/managementGroups/mg'],
      discoveryScopes: ['/subscriptions/s1', '/subscriptions/s2'],
      retry: { maxAttempts: 2, replicationWaitMs: 0 },
    });
  });

  it.each([
    // Number('abc') used to reach the retry policy as NaN.
    [{ JIT_AZURE_MAX_ATTEMPTS: 'abc' }, 'JIT_AZURE_MAX_ATTEMPTS: JIT_AZURE_MAX_ATTEMPTS must be an integer from 1 to 20, got "abc"'],
    [{ JIT_AZURE_MAX_ATTEMPTS: '-1' }, 'JIT_AZURE_MAX_ATTEMPTS: JIT_AZURE_MAX_ATTEMPTS must be an integer from 1 to 20, got "-1"'],
    [{ JIT_AZURE_REPLICATION_WAIT_MS: '60s' }, 'JIT_AZURE_REPLICATION_WAIT_MS: JIT_AZURE_REPLICATION_WAIT_MS must be an integer from 0 to 600000, got "60s"'],
    [{ AZURE_TENANT_ID: '' }, 'AZURE_TENANT_ID: AZURE_TENANT_ID is required for the Azure provider'],
    [{ AZURE_TENANT_ID: undefined }, 'AZURE_TENANT_ID: AZURE_TENANT_ID is required for the Azure provider'],
    [{ JIT_AZURE_GRAPH_ENDPOINT: 'graph.microsoft.com' }, 'JIT_AZURE_GRAPH_ENDPOINT: JIT_AZURE_GRAPH_ENDPOINT must be an http:// or https:// URL'],
    [{ JIT_AZURE_EXTRA_CA_FILE: '/nonexistent/ca.pem' }, 'JIT_AZURE_EXTRA_CA_FILE: JIT_AZURE_EXTRA_CA_FILE: cannot read /nonexistent/ca.pem: ENOENT'],
    [{ JIT_AZURE_RECONCILE_SCOPES: 'subscriptions/s1' }, 'JIT_AZURE_RECONCILE_SCOPES: JIT_AZURE_RECONCILE_SCOPES holds what is not an ARM scope starting with /: subscriptions/s1'],
    // Discovery walks subscriptions and management groups, not resource groups.
    [
      { JIT_AZURE_DISCOVERY_SCOPES: '/subscriptions/s1/resourceGroups/rg' },
      'JIT_AZURE_DISCOVERY_SCOPES: JIT_AZURE_DISCOVERY_SCOPES holds what is not the tenant root (/), a subscription (/subscriptions/{id}) or a management group (/providers/Microsoft.Management/managementGroups/{id}): /subscriptions/s1/resourceGroups/rg',
    ],
  ])('should refuse %j at boot, naming the variable', (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });

  it('should warn about nothing: its names were JIT_AZURE_* already', () => {
    expect(load({ JIT_AZURE_MAX_ATTEMPTS: '3' }).warnings).toEqual([]);
  });
});
