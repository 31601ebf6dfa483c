import type { AuthClient } from 'google-auth-library';
import { z } from 'zod';
import { ProviderEnv, documented, intVar, listVar, optionalVar } from '@jit/config';
import { GCP_RESOURCE } from './gcp-kinds';

export interface RetrySettings {
  /** Calls per operation before throttling/5xx or etag conflicts are reported as `transient`. */
  attempts: number;
  /** First backoff delay; doubled per attempt, with full jitter. */
  baseDelayMs: number;
  /** Cap on a single backoff delay. */
  maxDelayMs: number;
}

/** How much discovery asks for per call, and hands back per inventory page. */
export interface InventoryPageSizes {
  /** Resources per search page (projects/folders/organizations.search). */
  searchPageSize: number;
  /** Insights per Recommender page. */
  insightsPageSize: number;
  /** Assignments per inventory page: a policy holds up to 1,500 principals, so a large one takes several pages. */
  assignmentsPerPage: number;
}

export interface GcpProviderOptions {
  /**
   * A Resource Manager endpoint other than Google's, e.g. the local simulator. Plain `http` is
   * accepted for loopback hosts only, so a bearer token never crosses a network in clear text.
   */
  endpoint?: { protocol: 'http' | 'https'; host: string; port: number };
  /**
   * A Cloud Identity endpoint other than Google's (gcp.group-membership), same rules as `endpoint`.
   * Unset: `endpoint` when that is set (the simulator serves both APIs on one port), else Google's.
   */
  cloudIdentityEndpoint?: { protocol: 'http' | 'https'; host: string; port: number };
  /** Credentials. Unset: `accessToken` if given, else Application Default Credentials (cloud-platform scope). */
  authClient?: AuthClient;
  /**
   * One bearer token presented on every call (`JIT_GCP_STATIC_ACCESS_TOKEN`: the simulator, a
   * test), used when `authClient` is unset. Kept as a string here so that the variables' schema
   * loads no Google library; the adapter builds the client (`staticTokenClient`).
   */
  accessToken?: string;
  /** Resources whose policies reconciliation scans (`projects/…`, `folders/…`, `organizations/…`). */
  reconcileResources: string[];
  retry?: Partial<RetrySettings>;
  /** Discovery's page sizes (gcp-standing.inventory.ts), 500 each by default. */
  inventory?: Partial<InventoryPageSizes>;
  /** Per-call deadline for one HTTP request. */
  callTimeoutMs?: number;
  /**
   * The broker's longest grant (JIT_MAX_DURATION), in seconds: discovery takes a binding with the
   * broker's title for the broker's only if it ends within this from now (default 8 hours, the
   * broker's default). A look-alike with a far-future expiry is reported as standing access.
   */
  maxGrantSeconds?: number;
  now?: () => Date;
}

export const DEFAULT_RETRY: RetrySettings = {
  /** Five calls ride out a throttling burst of a few seconds; the sweeper retries after that. */
  attempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const ENDPOINT = 'JIT_GCP_RESOURCE_MANAGER_ENDPOINT';
const CI_ENDPOINT = 'JIT_GCP_CLOUD_IDENTITY_ENDPOINT';
const TOKEN = 'JIT_GCP_STATIC_ACCESS_TOKEN';
/** Calls per operation: above 20 a throttled project holds a sweeper slot for minutes instead of handing the grant back. */
const MAX_ATTEMPTS_BOUND = 20;

const endpointVar = (name: string) => optionalVar.transform((value, ctx): GcpProviderOptions['endpoint'] => {
  if (value === undefined) return undefined;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  const problem = !url
    ? `${name} must be a URL such as http://127.0.0.1:8085, got ${JSON.stringify(value)}`
    : url.protocol !== 'http:' && url.protocol !== 'https:'
      ? `${name} must be http:// or https://`
      : url.protocol === 'http:' && !LOOPBACK.has(url.hostname)
        ? `${name} may use plain http only for a loopback host`
        : undefined;
  if (problem || !url) {
    ctx.addIssue({ code: 'custom', message: problem ?? name });
    return z.NEVER;
  }
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  // URL leaves `port` empty for the scheme's default and has checked it is 0-65535 otherwise.
  return { protocol, host: url.hostname, port: url.port ? Number.parseInt(url.port, 10) : protocol === 'https' ? 443 : 80 };
});

/**
 * The adapter's environment variables, all the broker's own (`JIT_GCP_*`); Google's credentials
 * come from Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`, ...) as the
 * library defines them.
 */
export const GCP_ENV_SCHEMA = z
  .object({
    /** e.g. `http://127.0.0.1:8085` for the simulator. */
    [ENDPOINT]: documented(endpointVar(ENDPOINT), { group: 'gcp', description: 'Resource Manager endpoint such as `http://127.0.0.1:8085` (the simulator; plain http for loopback only); discovery\'s Recommender calls go there too', default: '(Google\'s)' }),
    [CI_ENDPOINT]: documented(endpointVar(CI_ENDPOINT), {
      group: 'gcp',
      description: 'Cloud Identity endpoint for `gcp.group-membership` (plain http for loopback only)',
      default: '(`JIT_GCP_RESOURCE_MANAGER_ENDPOINT` when set, else Google\'s)',
    }),
    /** A fixed bearer token, only together with the endpoint. */
    [TOKEN]: documented(optionalVar, { group: 'gcp', description: 'a fixed bearer token, accepted only together with `JIT_GCP_RESOURCE_MANAGER_ENDPOINT`', default: '(none: Application Default Credentials)', secret: true }),
    JIT_GCP_RECONCILE_RESOURCES: documented(
      listVar('JIT_GCP_RECONCILE_RESOURCES', (r) => GCP_RESOURCE.test(r), 'projects/<id>, folders/<number> or organizations/<number>'),
      { group: 'gcp', description: 'resources (comma list of `projects/…`, `folders/…`, `organizations/…`) that reconciliation reads besides those of recent grants', default: '(none)' },
    ),
    JIT_GCP_MAX_ATTEMPTS: documented(intVar('JIT_GCP_MAX_ATTEMPTS', 1, MAX_ATTEMPTS_BOUND), { group: 'gcp', description: 'attempts per Resource Manager or Cloud Identity call, the first included (200 ms doubling to 5 s)', default: '`5`' }),
  })
  .superRefine((v, ctx) => {
    if (v[TOKEN] !== undefined && v[ENDPOINT] === undefined) {
      ctx.addIssue({ code: 'custom', path: [TOKEN], message: `${TOKEN} is only accepted with ${ENDPOINT} (Google itself needs real credentials)` });
    }
  });

/** The names before `JIT_GCP_*`, still read, with a warning at start. */
export const GCP_ENV_ALIASES: Readonly<Record<string, string>> = {
  GCP_RESOURCE_MANAGER_ENDPOINT: ENDPOINT,
  GCP_STATIC_ACCESS_TOKEN: TOKEN,
  GCP_JIT_RECONCILE_RESOURCES: 'JIT_GCP_RECONCILE_RESOURCES',
  GCP_JIT_RETRY_ATTEMPTS: 'JIT_GCP_MAX_ATTEMPTS',
};

/** The validated variables as the adapter's options. Without an endpoint, credentials come from Application Default Credentials. */
export function gcpProviderOptions(v: z.output<typeof GCP_ENV_SCHEMA>): GcpProviderOptions {
  const token = v[TOKEN];
  return {
    endpoint: v[ENDPOINT],
    cloudIdentityEndpoint: v[CI_ENDPOINT],
    accessToken: token,
    reconcileResources: v.JIT_GCP_RECONCILE_RESOURCES,
    retry: v.JIT_GCP_MAX_ATTEMPTS === undefined ? undefined : { attempts: v.JIT_GCP_MAX_ATTEMPTS },
  };
}

/** The GCP section of the one config loader (`loadConfig` in libs/config). */
export const GCP_ENV: ProviderEnv<GcpProviderOptions> = {
  schema: GCP_ENV_SCHEMA.transform(gcpProviderOptions),
  aliases: GCP_ENV_ALIASES,
};
