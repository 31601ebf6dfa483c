import type { IAMClientConfig } from '@aws-sdk/client-iam';
import type { AwsInventoryOptions } from './aws-standing.inventory';
import { z } from 'zod';
import { ProviderEnv, documented, intVar, listVar, optionalVar, urlVar } from '@jit/config';
import { Clock } from '@jit/domain';
import { AWS_ROLE_ARN, AWS_USER_ARN } from './aws-kinds';
import { isoDurationSeconds } from './permission-set.plan';

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
  /** Discovery's inventory (aws-standing.inventory.ts): principals per page, access-advisor polling. */
  inventory?: Omit<AwsInventoryOptions, 'memberRoleName'>;
  /**
   * Role and user ARNs whose broker policy `listOwned()` always scans, besides those its scope
   * names (from the database: the principals and roles of grants not ended or ended lately).
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
  /** `aws.permission-set`: the Identity Center instance (else the only one ListInstances answers). */
  ssoInstanceArn?: string;
  /** Region of Identity Center (its sso-admin and identitystore endpoints); default `region`. */
  ssoRegion?: string;
  ssoAdminEndpoint?: string;
  identityStoreEndpoint?: string;
  organizationsEndpoint?: string;
  /** The longest permission-set `SessionDuration` accepted, in seconds; unset: the grant's duration, at least one hour. */
  ssoMaxSessionSeconds?: number;
  /** Identity Center's quota of permission sets provisioned per account (default 50). */
  ssoPermissionSetsPerAccount?: number;
  /** How long one assignment creation or deletion is followed (default 20 s). */
  ssoAssignmentWaitMs?: number;
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
const SSO_INSTANCE_ARN = /^arn:(aws|aws-us-gov|aws-cn):sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/;
const MEMBER_ROLE = /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;

/** Attempts per call: above 20 a persistent throttle holds a sweeper slot for minutes instead of handing the grant back. */
const MAX_ATTEMPTS_BOUND = 20;
/** Per-call timeout bounds: under 100 ms nothing answers; over 5 min a hung call outlives any lease. */
const REQUEST_TIMEOUT_BOUNDS_MS = [100, 300_000] as const;

/**
 * The adapter's environment variables. AWS's own names are read as the SDK defines them
 * (`AWS_REGION`, `AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL_IAM`, `AWS_ENDPOINT_URL_STS`,
 * `AWS_ENDPOINT_URL`; credentials are left to the SDK's default chain); the broker's own are
 * `JIT_AWS_*`.
 */
export const AWS_ENV_SCHEMA = z.object({
  AWS_REGION: documented(optionalVar, { group: 'aws', description: 'region of the IAM and STS clients', default: '`AWS_DEFAULT_REGION`, else `us-east-1`' }),
  AWS_DEFAULT_REGION: documented(optionalVar, { group: 'aws', description: 'region when `AWS_REGION` is unset (the AWS CLI\'s name)', default: '(none)' }),
  AWS_ENDPOINT_URL: documented(urlVar('AWS_ENDPOINT_URL'), { group: 'aws', description: 'endpoint for both IAM and STS (a simulator, a VPC endpoint)', default: '(the SDK\'s)' }),
  AWS_ENDPOINT_URL_IAM: documented(urlVar('AWS_ENDPOINT_URL_IAM'), { group: 'aws', description: 'IAM endpoint, over `AWS_ENDPOINT_URL`', default: '(the SDK\'s)' }),
  AWS_ENDPOINT_URL_STS: documented(urlVar('AWS_ENDPOINT_URL_STS'), { group: 'aws', description: 'STS endpoint, over `AWS_ENDPOINT_URL`', default: '(the SDK\'s)' }),
  JIT_AWS_RECONCILE_PRINCIPALS: documented(
    listVar('JIT_AWS_RECONCILE_PRINCIPALS', (arn) => AWS_ROLE_ARN.test(arn) || AWS_USER_ARN.test(arn), 'an IAM role or user ARN', /[\s,]+/),
    { group: 'aws', description: 'IAM role or user ARNs (comma or space list) that reconciliation scans besides the principals of recent grants', default: '(none)' },
  ),
  JIT_AWS_MEMBER_ACCOUNTS: documented(
    listVar('JIT_AWS_MEMBER_ACCOUNTS', (a) => /^\d{12}$/.test(a), 'a 12-digit account id', /[\s,]+/),
    { group: 'aws', description: '12-digit ids of the member accounts the broker acts in, through `JIT_AWS_MEMBER_ROLE` ([providers/aws.md](providers/aws.md))', default: '(none: the broker\'s own account only)' },
  ),
  JIT_AWS_MEMBER_ROLE: documented(optionalVar, { group: 'aws', description: 'the role (name or path/name) the broker assumes in each member account', default: '`JitBrokerMember`' }).refine((v) => v === undefined || MEMBER_ROLE.test(v), {
    message: 'JIT_AWS_MEMBER_ROLE must be a role name or path/name of [\\w+=,.@-]',
  }),
  JIT_AWS_MAX_ATTEMPTS: documented(intVar('JIT_AWS_MAX_ATTEMPTS', 1, MAX_ATTEMPTS_BOUND), { group: 'aws', description: 'attempts per IAM/STS call, the first included (1-20; 200 ms doubling to 5 s, full jitter)', default: '`5`' }),
  JIT_AWS_REQUEST_TIMEOUT_MS: documented(intVar('JIT_AWS_REQUEST_TIMEOUT_MS', ...REQUEST_TIMEOUT_BOUNDS_MS), { group: 'aws', description: 'timeout of one IAM/STS request in milliseconds (100-300000)', default: '`10000`' }),
  JIT_AWS_SSO_INSTANCE_ARN: documented(optionalVar, {
    group: 'aws',
    description: 'the IAM Identity Center instance `aws.permission-set` assigns in (`arn:aws:sso:::instance/ssoins-...`)',
    default: '(the only instance ListInstances answers)',
  }).refine((v) => v === undefined || SSO_INSTANCE_ARN.test(v), { message: 'JIT_AWS_SSO_INSTANCE_ARN must be an Identity Center instance ARN (arn:aws:sso:::instance/ssoins-<16>)' }),
  JIT_AWS_SSO_REGION: documented(optionalVar, { group: 'aws', description: 'region of IAM Identity Center (sso-admin, identitystore)', default: 'the IAM/STS region' }),
  AWS_ENDPOINT_URL_SSO_ADMIN: documented(urlVar('AWS_ENDPOINT_URL_SSO_ADMIN'), { group: 'aws', description: 'Identity Center (sso-admin) endpoint, over `AWS_ENDPOINT_URL`', default: "(the SDK's)" }),
  AWS_ENDPOINT_URL_IDENTITYSTORE: documented(urlVar('AWS_ENDPOINT_URL_IDENTITYSTORE'), { group: 'aws', description: 'Identity Store endpoint, over `AWS_ENDPOINT_URL`', default: "(the SDK's)" }),
  AWS_ENDPOINT_URL_ORGANIZATIONS: documented(urlVar('AWS_ENDPOINT_URL_ORGANIZATIONS'), { group: 'aws', description: 'Organizations endpoint, over `AWS_ENDPOINT_URL`', default: "(the SDK's)" }),
  JIT_AWS_SSO_MAX_SESSION_DURATION: documented(
    optionalVar.transform((v, ctx): number | undefined => {
      if (v === undefined) return undefined;
      const s = isoDurationSeconds(v);
      if (s === undefined || s < 3_600 || s > 43_200) {
        ctx.addIssue({ code: 'custom', message: `JIT_AWS_SSO_MAX_SESSION_DURATION must be an ISO-8601 duration from PT1H to PT12H, got ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return s;
    }),
    {
      group: 'aws',
      description: 'the longest permission-set `SessionDuration` an `aws.permission-set` grant accepts (ISO 8601, `PT1H`..`PT12H`): sign-in sessions outlive the assignment by up to that',
      default: "the grant's duration, at least `PT1H`",
    },
  ),
  JIT_AWS_SSO_PERMISSION_SETS_PER_ACCOUNT: documented(intVar('JIT_AWS_SSO_PERMISSION_SETS_PER_ACCOUNT', 1, 10_000), {
    group: 'aws',
    description: "Identity Center's quota of permission sets provisioned per account, checked before an assignment would provision one more (1-10000)",
    default: '`50`',
  }),
  JIT_AWS_SSO_ASSIGNMENT_WAIT_MS: documented(intVar('JIT_AWS_SSO_ASSIGNMENT_WAIT_MS', 1_000, 300_000), {
    group: 'aws',
    description: 'how long one account assignment creation or deletion is followed before it counts as failed in that account (1000-300000)',
    default: '`20000`',
  }),
});

/** The names before `JIT_AWS_*`, still read, with a warning at start. */
export const AWS_ENV_ALIASES: Readonly<Record<string, string>> = {
  AWS_JIT_RECONCILE_PRINCIPALS: 'JIT_AWS_RECONCILE_PRINCIPALS',
  AWS_JIT_MEMBER_ACCOUNTS: 'JIT_AWS_MEMBER_ACCOUNTS',
  AWS_JIT_MEMBER_ROLE: 'JIT_AWS_MEMBER_ROLE',
  AWS_JIT_MAX_ATTEMPTS: 'JIT_AWS_MAX_ATTEMPTS',
  AWS_JIT_REQUEST_TIMEOUT_MS: 'JIT_AWS_REQUEST_TIMEOUT_MS',
};

/** The validated variables as the adapter's options. */
export function awsProviderOptions(v: z.output<typeof AWS_ENV_SCHEMA>): AwsProviderOptions {
  return {
    region: v.AWS_REGION ?? v.AWS_DEFAULT_REGION ?? 'us-east-1',
    iamEndpoint: v.AWS_ENDPOINT_URL_IAM ?? v.AWS_ENDPOINT_URL,
    stsEndpoint: v.AWS_ENDPOINT_URL_STS ?? v.AWS_ENDPOINT_URL,
    reconcilePrincipals: v.JIT_AWS_RECONCILE_PRINCIPALS,
    memberAccounts: v.JIT_AWS_MEMBER_ACCOUNTS,
    memberRoleName: v.JIT_AWS_MEMBER_ROLE ?? DEFAULT_MEMBER_ROLE_NAME,
    retry: v.JIT_AWS_MAX_ATTEMPTS === undefined ? undefined : { maxAttempts: v.JIT_AWS_MAX_ATTEMPTS },
    requestTimeoutMs: v.JIT_AWS_REQUEST_TIMEOUT_MS,
    ssoInstanceArn: v.JIT_AWS_SSO_INSTANCE_ARN,
    ssoRegion: v.JIT_AWS_SSO_REGION,
    ssoAdminEndpoint: v.AWS_ENDPOINT_URL_SSO_ADMIN ?? v.AWS_ENDPOINT_URL,
    identityStoreEndpoint: v.AWS_ENDPOINT_URL_IDENTITYSTORE ?? v.AWS_ENDPOINT_URL,
    organizationsEndpoint: v.AWS_ENDPOINT_URL_ORGANIZATIONS ?? v.AWS_ENDPOINT_URL,
    ssoMaxSessionSeconds: v.JIT_AWS_SSO_MAX_SESSION_DURATION,
    ssoPermissionSetsPerAccount: v.JIT_AWS_SSO_PERMISSION_SETS_PER_ACCOUNT,
    ssoAssignmentWaitMs: v.JIT_AWS_SSO_ASSIGNMENT_WAIT_MS,
  };
}

/** The AWS section of the one config loader (`loadConfig` in libs/config). */
export const AWS_ENV: ProviderEnv<AwsProviderOptions> = {
  schema: AWS_ENV_SCHEMA.transform(awsProviderOptions),
  aliases: AWS_ENV_ALIASES,
};
