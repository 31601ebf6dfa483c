import { readFileSync } from 'node:fs';
import { TokenCredential } from '@azure/identity';
import { z } from 'zod';
import { ProviderEnv, documented, intVar, listVar, optionalVar, urlVar } from '@jit/config';

/** Bounds on retrying one cloud call; each constant is a trade between latency and resilience. */
export interface AzureRetryOptions {
  /** Attempts per call for 429, 5xx and network errors (default 4: three retries). */
  maxAttempts: number;
  /** First backoff when the service sends no Retry-After (doubled per attempt, jittered; default 500 ms). */
  baseDelayMs: number;
  /** A Retry-After longer than this is not waited out: the call fails as transient with `retryAfterMs` (default 30 s). */
  maxRetryAfterMs: number;
  /** How long "principal not found" is retried for, covering Entra replication after creation (default 60 s). */
  replicationWaitMs: number;
  /** How long a PIM request in PendingProvisioning is polled before `pending` is returned (default 30 s). */
  settleWaitMs: number;
  /** Interval between those polls (default 1 s). */
  pollIntervalMs: number;
}

export interface AzureProviderOptions {
  tenantId: string;
  /**
   * The credential to use. When absent: client secret or certificate if given, else
   * workload identity federation if `federatedTokenFile` is given, else DefaultAzureCredential.
   */
  credential?: TokenCredential;
  clientId?: string;
  clientSecret?: string;
  /** PEM file with the certificate and its private key. */
  clientCertificatePath?: string;
  /** Workload identity federation's token file (AKS, GitHub OIDC), with `clientId`. */
  federatedTokenFile?: string;
  /** Entra authority, e.g. https://login.microsoftonline.com (default) or a simulator. */
  authorityHost?: string;
  /** Graph base URL without version (default https://graph.microsoft.com). */
  graphEndpoint?: string;
  /** ARM base URL (default https://management.azure.com). */
  armEndpoint?: string;
  /**
   * Extra PEM certificates to trust for the authority, Graph and ARM, in addition to the
   * system's CAs (a simulator's run-time certificate, a TLS-inspecting proxy). Applies only
   * to this adapter's connections; nothing is changed process-wide.
   */
  extraCaCertsPem?: string[];
  /** ARM scopes (subscriptions, management groups) that reconciliation lists. */
  reconcileScopes?: string[];
  /** ARM scopes discovery scans for standing access, one part each (default: `reconcileScopes`). */
  discoveryScopes?: string[];
  retry?: Partial<AzureRetryOptions>;
  /** The broker's clock (default: system time), for judging grants' times: which overlapping grants still hold access, when a retry is due. */
  now?: () => Date;
}

export const DEFAULT_RETRY: AzureRetryOptions = {
  maxAttempts: 4,
  baseDelayMs: 500,
  maxRetryAfterMs: 30_000,
  replicationWaitMs: 60_000,
  settleWaitMs: 30_000,
  pollIntervalMs: 1_000,
};

/** Attempts per call: above 20 a throttled tenant holds a sweeper slot for minutes instead of handing the grant back. */
const MAX_ATTEMPTS_BOUND = 20;
/** Entra replication is documented in minutes at worst; longer than 10 min is a principal that does not exist. */
const MAX_REPLICATION_WAIT_MS = 600_000;

/** A PEM file read at start, so a wrong path stops the broker there rather than at the first call. */
const pemFile = (name: string) =>
  optionalVar.transform((file, ctx): string | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: `${name}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
      return z.NEVER;
    }
  });

const TENANT_REQUIRED = 'AZURE_TENANT_ID is required for the Azure provider';

/**
 * The adapter's environment variables. The standard `AZURE_*` names of @azure/identity are
 * read as they are; the broker's own are `JIT_AZURE_*`.
 */
export const AZURE_ENV_SCHEMA = z.object({
  AZURE_TENANT_ID: documented(z.string({ error: TENANT_REQUIRED }).min(1, TENANT_REQUIRED), { group: 'azure', description: 'the Entra tenant the broker acts in; required when `azure` is in `JIT_PROVIDERS`', default: '(none)' }),
  AZURE_CLIENT_ID: documented(optionalVar, { group: 'azure', description: 'the broker\'s app registration or managed identity (read as @azure/identity reads it)', default: '(none)' }),
  AZURE_CLIENT_SECRET: documented(optionalVar, { group: 'azure', description: 'client secret of the app registration (prefer a certificate or workload identity)', default: '(none)', secret: true }),
  AZURE_CLIENT_CERTIFICATE_PATH: documented(optionalVar, { group: 'azure', description: 'PEM file with the app registration\'s certificate and private key', default: '(none)' }),
  AZURE_FEDERATED_TOKEN_FILE: documented(optionalVar, { group: 'azure', description: 'workload identity federation: the file holding the federated token (AKS sets it)', default: '(none)' }),
  AZURE_AUTHORITY_HOST: documented(urlVar('AZURE_AUTHORITY_HOST'), { group: 'azure', description: 'Entra sign-in endpoint (sovereign clouds, the simulator)', default: '`https://login.microsoftonline.com`' }),
  JIT_AZURE_GRAPH_ENDPOINT: documented(urlVar('JIT_AZURE_GRAPH_ENDPOINT'), { group: 'azure', description: 'Microsoft Graph base URL', default: '`https://graph.microsoft.com`' }),
  JIT_AZURE_ARM_ENDPOINT: documented(urlVar('JIT_AZURE_ARM_ENDPOINT'), { group: 'azure', description: 'Azure Resource Manager base URL', default: '`https://management.azure.com`' }),
  JIT_AZURE_EXTRA_CA_FILE: documented(pemFile('JIT_AZURE_EXTRA_CA_FILE'), { group: 'azure', description: 'a PEM CA certificate trusted besides the system\'s for Graph, ARM and sign-in (a TLS-inspecting proxy, the simulator)', default: '(none)' }),
  JIT_AZURE_RECONCILE_SCOPES: documented(
    listVar('JIT_AZURE_RECONCILE_SCOPES', (scope) => scope.startsWith('/'), 'an ARM scope starting with /'),
    { group: 'azure', description: 'ARM scopes (comma list) that reconciliation lists role assignments in besides those of recent grants', default: '(none)' },
  ),
  JIT_AZURE_DISCOVERY_SCOPES: documented(
    listVar('JIT_AZURE_DISCOVERY_SCOPES', (scope) => /^\/((subscriptions\/[^/]+|providers\/Microsoft\.Management\/managementGroups\/[^/]+))?$/i.test(scope), 'the tenant root (/), a subscription (/subscriptions/{id}) or a management group (/providers/Microsoft.Management/managementGroups/{id})'),
    { group: 'azure', description: 'ARM scopes (comma list of subscriptions and management groups) whose standing access discovery scans, one part each, besides the Entra tenant; see docs/providers/azure.md "Discovery"', default: '`JIT_AZURE_RECONCILE_SCOPES`' },
  ),
  JIT_AZURE_MAX_ATTEMPTS: documented(intVar('JIT_AZURE_MAX_ATTEMPTS', 1, MAX_ATTEMPTS_BOUND), { group: 'azure', description: 'attempts per Graph/ARM call, the first included (1-20; Retry-After honoured up to 30 s)', default: '`4`' }),
  JIT_AZURE_REPLICATION_WAIT_MS: documented(intVar('JIT_AZURE_REPLICATION_WAIT_MS', 0, MAX_REPLICATION_WAIT_MS), { group: 'azure', description: 'how long a call waits for a new principal to replicate through Entra, in milliseconds (0-600000)', default: '`60000`' }),
});

/** The validated variables as the adapter's options. */
export function azureProviderOptions(v: z.output<typeof AZURE_ENV_SCHEMA>): AzureProviderOptions {
  const retry: Partial<AzureRetryOptions> = {};
  if (v.JIT_AZURE_MAX_ATTEMPTS !== undefined) retry.maxAttempts = v.JIT_AZURE_MAX_ATTEMPTS;
  if (v.JIT_AZURE_REPLICATION_WAIT_MS !== undefined) retry.replicationWaitMs = v.JIT_AZURE_REPLICATION_WAIT_MS;
  return {
    tenantId: v.AZURE_TENANT_ID,
    clientId: v.AZURE_CLIENT_ID,
    clientSecret: v.AZURE_CLIENT_SECRET,
    clientCertificatePath: v.AZURE_CLIENT_CERTIFICATE_PATH,
    federatedTokenFile: v.AZURE_FEDERATED_TOKEN_FILE,
    authorityHost: v.AZURE_AUTHORITY_HOST,
    graphEndpoint: v.JIT_AZURE_GRAPH_ENDPOINT,
    armEndpoint: v.JIT_AZURE_ARM_ENDPOINT,
    extraCaCertsPem: v.JIT_AZURE_EXTRA_CA_FILE === undefined ? undefined : [v.JIT_AZURE_EXTRA_CA_FILE],
    reconcileScopes: v.JIT_AZURE_RECONCILE_SCOPES,
    // Unset: the reconcile scopes.
    discoveryScopes: v.JIT_AZURE_DISCOVERY_SCOPES.length ? v.JIT_AZURE_DISCOVERY_SCOPES : undefined,
    retry,
  };
}

/** The Azure section of the one config loader (`loadConfig` in libs/config); its names were `JIT_AZURE_*` already. */
export const AZURE_ENV: ProviderEnv<AzureProviderOptions> = {
  schema: AZURE_ENV_SCHEMA.transform(azureProviderOptions),
  aliases: {},
};
