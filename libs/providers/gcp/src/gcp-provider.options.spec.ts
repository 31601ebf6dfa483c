import { OAuth2Client } from 'google-auth-library';
import { gcpProviderOptionsFromEnv } from './gcp-provider.options';

describe(gcpProviderOptionsFromEnv.name, () => {
  it('should use Application Default Credentials and Google\'s endpoint when nothing is set', () => {
    expect(gcpProviderOptionsFromEnv({})).toEqual({ endpoint: undefined, authClient: undefined, reconcileResources: [], retry: undefined });
  });

  it('should point at a simulator with a static token and parse the resources to reconcile', () => {
    const options = gcpProviderOptionsFromEnv({
      GCP_RESOURCE_MANAGER_ENDPOINT: 'http://127.0.0.1:8085',
      GCP_STATIC_ACCESS_TOKEN: 'sandbox',
      GCP_JIT_RECONCILE_RESOURCES: 'projects/my-project, folders/123,organizations/456',
      GCP_JIT_RETRY_ATTEMPTS: '3',
    });
    expect(options.endpoint).toEqual({ protocol: 'http', host: '127.0.0.1', port: 8085 });
    expect(options.authClient).toBeInstanceOf(OAuth2Client);
    expect(options.reconcileResources).toEqual(['projects/my-project', 'folders/123', 'organizations/456']);
    expect(options.retry).toEqual({ attempts: 3 });
  });

  it.each([
    [{ GCP_STATIC_ACCESS_TOKEN: 't' }, /only accepted with/],
    [{ GCP_RESOURCE_MANAGER_ENDPOINT: 'http://rm.example.com:80' }, /loopback/],
    [{ GCP_RESOURCE_MANAGER_ENDPOINT: 'not a url' }, /must be a URL/],
    [{ GCP_JIT_RECONCILE_RESOURCES: 'projects/UPPER' }, /not projects/],
    [{ GCP_JIT_RETRY_ATTEMPTS: '0' }, /1 to 20/],
  ])('should refuse %j at boot', (env, message) => {
    expect(() => gcpProviderOptionsFromEnv(env)).toThrow(message);
  });
});
