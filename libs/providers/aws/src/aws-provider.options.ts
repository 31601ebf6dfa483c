import type { IAMClientConfig } from '@aws-sdk/client-iam';
import { AWS_ROLE_ARN, AWS_USER_ARN, Clock } from '@jit/domain';

export interface AwsRetryOptions {
  /** Attempts per cloud call, the first included. */
  maxAttempts: number;
  /** Full-jitter exponential backoff: attempt n waits random(0, min(maxDelayMs, baseDelayMs * 2^(n-1))). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface AwsProviderOptions {
  region: string;
  /** Static keys or a provider; left out, the SDK's default chain (env, profile, web identity, IMDS) applies. */
  credentials?: IAMClientConfig['credentials'];
  iamEndpoint?: string;
  stsEndpoint?: string;
  /**
   * Role and user ARNs whose broker policy `listOwned()` scans. Principals seen by this instance's
   * `grant()`/`revoke()` are added, but only this list survives a restart.
   */
  reconcilePrincipals?: string[];
  /**
   * Member accounts the broker also serves (12-digit ids), each reached by assuming
   * `memberRoleName` there with the broker's own credentials. The broker's own account (from
   * `GetCallerIdentity`) is always served.
   */
  memberAccounts?: string[];
  /** The broker's role in each member account, name or `path/name` (default `JitBrokerMember`). */
  memberRoleName?: string;
  retry?: Partial<AwsRetryOptions>;
  /** Per-call timeout; a call that times out is retried like a 5xx. */
  requestTimeoutMs?: number;
  clock?: Clock;
}

/**
 * Five attempts with 200 ms base and 5 s cap: IAM's control plane throttles per account, and a
 * grant should ride out a brief burst but hand persistent throttling back to the sweeper's own backoff.
 */
export const DEFAULT_RETRY: AwsRetryOptions = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5_000 };
/** IAM calls normally answer within a second; 10 s leaves room for a slow region without hanging a sweeper slot. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** The usual name of the broker's role in member accounts (AWS Organizations pattern). */
export const DEFAULT_MEMBER_ROLE_NAME = 'JitBrokerMember';
const MEMBER_ROLE = /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

function list(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter(Boolean);
}

function positiveInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  return n;
}

/**
 * Reads `AWS_REGION` (or `AWS_DEFAULT_REGION`, else us-east-1), `AWS_ENDPOINT_URL_IAM` /
 * `AWS_ENDPOINT_URL_STS` (falling back to `AWS_ENDPOINT_URL`), `AWS_JIT_RECONCILE_PRINCIPALS`
 * (comma- or space-separated ARNs), `AWS_JIT_MEMBER_ACCOUNTS` (account ids) and `AWS_JIT_MEMBER_ROLE`,
 * `AWS_JIT_MAX_ATTEMPTS` and `AWS_JIT_REQUEST_TIMEOUT_MS`.
 * Credentials are left to the SDK's default chain.
 */
export function awsProviderOptionsFromEnv(env: NodeJS.ProcessEnv): AwsProviderOptions {
  const reconcilePrincipals = list(env.AWS_JIT_RECONCILE_PRINCIPALS);
  const bad = reconcilePrincipals.filter((arn) => !AWS_ROLE_ARN.test(arn) && !AWS_USER_ARN.test(arn));
  if (bad.length) throw new Error(`AWS_JIT_RECONCILE_PRINCIPALS: not an IAM role or user ARN: ${bad.join(', ')}`);
  const maxAttempts = positiveInt(env, 'AWS_JIT_MAX_ATTEMPTS');
  const memberAccounts = list(env.AWS_JIT_MEMBER_ACCOUNTS);
  const badAccounts = memberAccounts.filter((a) => !/^\d{12}$/.test(a));
  if (badAccounts.length) throw new Error(`AWS_JIT_MEMBER_ACCOUNTS: not a 12-digit account id: ${badAccounts.join(', ')}`);
  const memberRoleName = env.AWS_JIT_MEMBER_ROLE || DEFAULT_MEMBER_ROLE_NAME;
  if (!MEMBER_ROLE.test(memberRoleName)) throw new Error('AWS_JIT_MEMBER_ROLE: a role name or path/name of [\\w+=,.@-]');
  return {
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    iamEndpoint: env.AWS_ENDPOINT_URL_IAM || env.AWS_ENDPOINT_URL || undefined,
    stsEndpoint: env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL || undefined,
    reconcilePrincipals,
    memberAccounts,
    memberRoleName,
    retry: maxAttempts ? { maxAttempts } : undefined,
    requestTimeoutMs: positiveInt(env, 'AWS_JIT_REQUEST_TIMEOUT_MS'),
  };
}
