import { ConfigError, loadConfig } from '@jit/config';
import { GCP_ENV } from './gcp-provider.options';

/** The GCP section through the one loader, as `npm start` reads it. */
const load = (env: NodeJS.ProcessEnv) => loadConfig({ JIT_PROVIDERS: 'gcp', ...env }, { gcp: GCP_ENV });
const options = (env: NodeJS.ProcessEnv) => load(env).providers.gcp;

describe('GCP_ENV', () => {
  it('should use Application Default Credentials and Google\'s endpoint when nothing is set', () => {
    expect(options({})).toEqual({ endpoint: undefined, accessToken: undefined, reconcileResources: [], retry: undefined });
  });

  it('should point at a simulator with a static token and parse the resources to reconcile', () => {
    const gcp = options({
      JIT_GCP_RESOURCE_MANAGER_ENDPOINT: 'http://127.0.0.1:8085',
      JIT_GCP_STATIC_ACCESS_TOKEN: 'sandbox',
      JIT_GCP_RECONCILE_RESOURCES: 'projects/my-project, folders/123,organizations/456',
      JIT_GCP_MAX_ATTEMPTS: '3',
    });
    expect(gcp?.endpoint).toEqual({ protocol: 'http', host: '127.0.0.1', port: 8085 });
    expect(gcp?.accessToken).toBe('sandbox');
    expect(gcp?.reconcileResources).toEqual(['projects/my-project', 'folders/123', 'organizations/456']);
    expect(gcp?.retry).toEqual({ attempts: 3 });
    expect(options({ JIT_GCP_RESOURCE_MANAGER_ENDPOINT: 'https://rm.example.com' })?.endpoint).toEqual({ protocol: 'https', host: 'rm.example.com', port: 443 });
  });

  it.each([
    [{ JIT_GCP_STATIC_ACCESS_TOKEN: 't' }, 'JIT_GCP_STATIC_ACCESS_TOKEN: JIT_GCP_STATIC_ACCESS_TOKEN is only accepted with JIT_GCP_RESOURCE_MANAGER_ENDPOINT'],
    [{ JIT_GCP_RESOURCE_MANAGER_ENDPOINT: 'http://rm.example.com:80' }, 'JIT_GCP_RESOURCE_MANAGER_ENDPOINT: JIT_GCP_RESOURCE_MANAGER_ENDPOINT may use plain http only for a loopback host'],
    [{ JIT_GCP_RESOURCE_MANAGER_ENDPOINT: 'not a url' }, 'JIT_GCP_RESOURCE_MANAGER_ENDPOINT: JIT_GCP_RESOURCE_MANAGER_ENDPOINT must be a URL'],
    [{ JIT_GCP_RESOURCE_MANAGER_ENDPOINT: 'ftp://127.0.0.1' }, 'JIT_GCP_RESOURCE_MANAGER_ENDPOINT must be http:// or https://'],
    [{ JIT_GCP_RECONCILE_RESOURCES: 'projects/UPPER' }, 'JIT_GCP_RECONCILE_RESOURCES: JIT_GCP_RECONCILE_RESOURCES holds what is not projects/<id>'],
    [{ JIT_GCP_MAX_ATTEMPTS: '0' }, 'JIT_GCP_MAX_ATTEMPTS: JIT_GCP_MAX_ATTEMPTS must be an integer from 1 to 20, got "0"'],
    [{ JIT_GCP_MAX_ATTEMPTS: 'lots' }, 'JIT_GCP_MAX_ATTEMPTS: JIT_GCP_MAX_ATTEMPTS must be an integer from 1 to 20, got "lots"'],
  ])('should refuse %j at boot, naming the variable', (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });

  describe('deprecated names', () => {
    it('should still read GCP_JIT_*, GCP_RESOURCE_MANAGER_ENDPOINT and GCP_STATIC_ACCESS_TOKEN, with one warning each naming the new variable', () => {
      const loaded = load({
        GCP_RESOURCE_MANAGER_ENDPOINT: 'http://127.0.0.1:8085',
        GCP_STATIC_ACCESS_TOKEN: 'sandbox',
        GCP_JIT_RECONCILE_RESOURCES: 'projects/my-project',
        GCP_JIT_RETRY_ATTEMPTS: '4',
      });
      expect(loaded.providers.gcp).toMatchObject({
        endpoint: { protocol: 'http', host: '127.0.0.1', port: 8085 },
        reconcileResources: ['projects/my-project'],
        retry: { attempts: 4 },
      });
      expect(loaded.providers.gcp?.accessToken).toBe('sandbox');
      expect(loaded.warnings).toEqual([
        'GCP_RESOURCE_MANAGER_ENDPOINT is deprecated: use JIT_GCP_RESOURCE_MANAGER_ENDPOINT',
        'GCP_STATIC_ACCESS_TOKEN is deprecated: use JIT_GCP_STATIC_ACCESS_TOKEN',
        'GCP_JIT_RECONCILE_RESOURCES is deprecated: use JIT_GCP_RECONCILE_RESOURCES',
        'GCP_JIT_RETRY_ATTEMPTS is deprecated: use JIT_GCP_MAX_ATTEMPTS',
      ]);
    });

    it('should name the deprecated variable the operator set when its value is bad', () => {
      expect(() => load({ GCP_JIT_RETRY_ATTEMPTS: '99' })).toThrow(
        'GCP_JIT_RETRY_ATTEMPTS (deprecated name of JIT_GCP_MAX_ATTEMPTS): JIT_GCP_MAX_ATTEMPTS must be an integer from 1 to 20, got "99"',
      );
    });

    it('should refuse both names set to different values', () => {
      expect(() => load({ GCP_JIT_RECONCILE_RESOURCES: 'projects/a', JIT_GCP_RECONCILE_RESOURCES: 'projects/b' })).toThrow(
        'GCP_JIT_RECONCILE_RESOURCES: deprecated name of JIT_GCP_RECONCILE_RESOURCES, and both are set to different values: keep JIT_GCP_RECONCILE_RESOURCES only',
      );
    });
  });
});
