import type { AuthClient } from 'google-auth-library';
import { GCP_RESOURCE } from '@jit/domain';
import { staticTokenClient } from './static-token.auth';

export interface RetrySettings {
  /** Calls per operation before throttling/5xx or etag conflicts are reported as `transient`. */
  attempts: number;
  /** First backoff delay; doubled per attempt, with full jitter. */
  baseDelayMs: number;
  /** Cap on a single backoff delay. */
  maxDelayMs: number;
}

export interface GcpProviderOptions {
  /**
   * A Resource Manager endpoint other than Google's, e.g. the local simulator. Plain `http` is
   * accepted for loopback hosts only, so a bearer token never crosses a network in clear text.
   */
  endpoint?: { protocol: 'http' | 'https'; host: string; port: number };
  /** Credentials. Unset: Application Default Credentials (cloud-platform scope). */
  authClient?: AuthClient;
  /** Resources whose policies reconciliation scans (`projects/…`, `folders/…`, `organizations/…`). */
  reconcileResources: string[];
  retry?: Partial<RetrySettings>;
  /** Per-call deadline for one HTTP request. */
  callTimeoutMs?: number;
  now?: () => Date;
}

export const DEFAULT_RETRY: RetrySettings = {
  /** Five calls ride out a throttling burst of a few seconds; the sweeper retries after that. */
  attempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function parseEndpoint(value: string): GcpProviderOptions['endpoint'] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`GCP_RESOURCE_MANAGER_ENDPOINT must be a URL such as http://127.0.0.1:8085, got ${JSON.stringify(value)}`);
  }
  const protocol = url.protocol.replace(':', '');
  if (protocol !== 'http' && protocol !== 'https') throw new Error('GCP_RESOURCE_MANAGER_ENDPOINT must be http:// or https://');
  if (protocol === 'http' && !LOOPBACK.has(url.hostname)) {
    throw new Error('GCP_RESOURCE_MANAGER_ENDPOINT may use plain http only for a loopback host');
  }
  return { protocol, host: url.hostname, port: Number(url.port) || (protocol === 'https' ? 443 : 80) };
}

/**
 * Reads the provider's settings:
 * - `GCP_RESOURCE_MANAGER_ENDPOINT` (optional): e.g. `http://127.0.0.1:8085` for the simulator.
 * - `GCP_STATIC_ACCESS_TOKEN` (optional, only together with the endpoint): a fixed bearer token.
 * - `GCP_JIT_RECONCILE_RESOURCES`: comma-separated resources reconciliation scans.
 * - `GCP_JIT_RETRY_ATTEMPTS` (optional, default 5).
 * Without an endpoint, credentials come from Application Default Credentials.
 */
export function gcpProviderOptionsFromEnv(env: NodeJS.ProcessEnv): GcpProviderOptions {
  const endpoint = env.GCP_RESOURCE_MANAGER_ENDPOINT ? parseEndpoint(env.GCP_RESOURCE_MANAGER_ENDPOINT) : undefined;
  const token = env.GCP_STATIC_ACCESS_TOKEN;
  if (token && !endpoint) throw new Error('GCP_STATIC_ACCESS_TOKEN is only accepted with GCP_RESOURCE_MANAGER_ENDPOINT (Google itself needs real credentials)');
  const reconcileResources = (env.GCP_JIT_RECONCILE_RESOURCES ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const bad = reconcileResources.find((r) => !GCP_RESOURCE.test(r));
  if (bad) throw new Error(`GCP_JIT_RECONCILE_RESOURCES: ${JSON.stringify(bad)} is not projects/<id>, folders/<number> or organizations/<number>`);
  const attempts = env.GCP_JIT_RETRY_ATTEMPTS === undefined ? undefined : Number(env.GCP_JIT_RETRY_ATTEMPTS);
  if (attempts !== undefined && (!Number.isInteger(attempts) || attempts < 1 || attempts > 20)) {
    throw new Error('GCP_JIT_RETRY_ATTEMPTS must be an integer from 1 to 20');
  }
  return {
    endpoint,
    authClient: token ? staticTokenClient(token) : undefined,
    reconcileResources,
    retry: attempts === undefined ? undefined : { attempts },
  };
}
