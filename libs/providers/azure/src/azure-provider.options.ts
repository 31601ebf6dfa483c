import { readFileSync } from 'node:fs';
import { TokenCredential } from '@azure/identity';

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
   * workload identity federation if AZURE_FEDERATED_TOKEN_FILE is set, else DefaultAzureCredential.
   */
  credential?: TokenCredential;
  clientId?: string;
  clientSecret?: string;
  /** PEM file with the certificate and its private key. */
  clientCertificatePath?: string;
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

/**
 * Reads the adapter's settings from the environment. The standard `AZURE_*` names of
 * @azure/identity are used as they are; the `JIT_AZURE_*` ones are the broker's own.
 */
export function azureProviderOptionsFromEnv(env: NodeJS.ProcessEnv): AzureProviderOptions {
  const tenantId = env.AZURE_TENANT_ID;
  if (!tenantId) throw new Error('AZURE_TENANT_ID is required for the Azure provider');
  const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const caFile = env.JIT_AZURE_EXTRA_CA_FILE;
  const number = (name: string) => (env[name] ? Number(env[name]) : undefined);
  const retry: Partial<AzureRetryOptions> = {};
  const maxAttempts = number('JIT_AZURE_MAX_ATTEMPTS');
  if (maxAttempts !== undefined) retry.maxAttempts = maxAttempts;
  const replication = number('JIT_AZURE_REPLICATION_WAIT_MS');
  if (replication !== undefined) retry.replicationWaitMs = replication;
  return {
    tenantId,
    clientId: env.AZURE_CLIENT_ID,
    clientSecret: env.AZURE_CLIENT_SECRET,
    clientCertificatePath: env.AZURE_CLIENT_CERTIFICATE_PATH,
    authorityHost: env.AZURE_AUTHORITY_HOST,
    graphEndpoint: env.JIT_AZURE_GRAPH_ENDPOINT,
    armEndpoint: env.JIT_AZURE_ARM_ENDPOINT,
    extraCaCertsPem: caFile ? [readFileSync(caFile, 'utf8')] : undefined,
    reconcileScopes: list(env.JIT_AZURE_RECONCILE_SCOPES),
    retry,
  };
}
