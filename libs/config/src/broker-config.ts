import { hostname } from 'node:os';
import { z } from 'zod';
import { CLOUDS, CloudName, parseIsoDurationSeconds } from '@jit/domain';
import { ProviderEnv, intVar, resolveAliases } from './provider-env';

export type BrokerRole = 'api' | 'sweeper' | 'all';

/** At most `points` requests per `seconds` from one token subject, counted per replica. */
export interface RateLimit {
  /** The variable that sets it, named in the 429 problem. */
  setting: string;
  points: number;
  seconds: number;
}

export interface BrokerConfig {
  role: BrokerRole;
  port: number;
  host: string;
  /** PostgreSQL URL; undefined means the embedded PGlite database in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  providers: CloudName[];
  minDurationSeconds: number;
  maxDurationSeconds: number;
  tokensFile: string | undefined;
  /** Sensitive: never logged. */
  adminToken: string | undefined;
  /** How often each replica polls for due work even without armed timers. */
  sweepIntervalMs: number;
  /** How long a claimed row stays with its replica before another may take it over. */
  leaseMs: number;
  /** Concurrent cloud calls per replica for sweeper work. */
  sweepConcurrency: number;
  /** Fast retries (jittered exponential backoff) before a grant becomes `revoke_failed`. */
  revokeMaxAttempts: number;
  /** Retry period for `revoke_failed` grants. */
  revokeFailedRetryMs: number;
  /** Upper bound on one cloud call, below the lease so a slow call never outlives its claim. */
  providerTimeoutMs: number;
  /** How often one replica lists what the broker owns in each cloud and removes orphans. */
  reconcileIntervalMs: number;
  /** How long an ended grant stays in reconciliation's scope (its principal's artifacts are still looked for). */
  reconcileLookbackMs: number;
  /** Request body size limit in bytes. */
  bodyLimitBytes: number;
  replicaId: string;
  /** The access rules (YAML). Unset: no rule, so every request is denied. */
  policyFile: string | undefined;
  /** How often each replica re-reads the rules file; a changed, valid file replaces the rules in force. */
  policyReloadIntervalMs: number;
  /** Webhooks for events that need a human (YAML). */
  notificationsFile: string | undefined;
  /** The broker's address as humans reach it, for links in notifications. */
  publicUrl: string | undefined;
  audit: AuditSigningConfig;
  /** Per-subject limits: writes (POST/PUT/PATCH/DELETE but dry runs) and dry runs (POST /v1/policy/evaluate). */
  rateLimits: { writes: RateLimit; dryRuns: RateLimit };
  /** Longest a SIGTERM/SIGINT shutdown may take: past it the process hands back its claims and exits anyway. */
  shutdownDeadlineMs: number;
}

/** Signed checkpoints of the audit chain (docs/audit.md). */
export interface AuditSigningConfig {
  /** Ed25519 private key (PKCS#8 PEM file) kept outside the database. Sensitive: never logged. */
  signingKeyFile: string | undefined;
  /** Explicit consent to run without checkpoints; without a key the broker refuses to start otherwise. */
  unsigned: boolean;
  /** Public keys (PEM files) of retired signing keys, whose checkpoints still verify. */
  trustedKeyFiles: string[];
  /** Sign once this many events are not yet covered by a checkpoint. */
  checkpointEvery: number;
  /** Sign at most this long after the first event not yet covered. */
  checkpointIntervalMs: number;
  /** Append-only JSON Lines file each checkpoint is written to. */
  checkpointFile: string | undefined;
  /** URL each checkpoint is POSTed to. Sensitive (may carry a token): only its origin is logged. */
  checkpointWebhookUrl: string | undefined;
}

const isoSeconds = (name: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const s = parseIsoDurationSeconds(v);
      if (s === undefined || s <= 0) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a positive ISO-8601 duration such as PT1M` });
        return z.NEVER;
      }
      return s;
    });

/** Longest rate-limit window: the counters live in memory. */
const MAX_RATE_WINDOW_SECONDS = 86_400;

/** `<requests>/<ISO-8601 duration>`, such as `300/PT1M`. */
const rateLimit = (name: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx): RateLimit => {
      const m = /^(\d{1,7})\/(P\S+)$/.exec(v.trim());
      const points = m ? Number(m[1]) : 0;
      const seconds = m ? parseIsoDurationSeconds(m[2]) : undefined;
      if (!m || points < 1 || seconds === undefined || seconds < 1 || seconds > MAX_RATE_WINDOW_SECONDS) {
        ctx.addIssue({ code: 'custom', message: `${name} must be <requests>/<ISO-8601 duration from PT1S to P1D>, such as 300/PT1M` });
        return z.NEVER;
      }
      return { setting: name, points, seconds };
    });

const int = (name: string, fallback: number, min: number, max: number) => intVar(name, min, max).transform((n) => n ?? fallback);

const envSchema = z.object({
  JIT_ROLE: z.enum(['api', 'sweeper', 'all']).default('all'),
  PORT: int('PORT', 8080, 0, 65535),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().url().optional().or(z.literal('').transform(() => undefined)),
  JIT_DATA_DIR: z.string().default('./data'),
  JIT_PROVIDERS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const names = v.split(',').map((s) => s.trim()).filter(Boolean);
      for (const n of names) {
        if (!(CLOUDS as readonly string[]).includes(n)) {
          ctx.addIssue({ code: 'custom', message: `JIT_PROVIDERS: unknown cloud "${n}" (use ${CLOUDS.join(', ')})` });
        }
      }
      return [...new Set(names)] as CloudName[];
    }),
  JIT_MIN_DURATION: isoSeconds('JIT_MIN_DURATION', 'PT1M'),
  JIT_MAX_DURATION: isoSeconds('JIT_MAX_DURATION', 'PT8H'),
  JIT_TOKENS_FILE: z.string().min(1).optional(),
  JIT_ADMIN_TOKEN: z.string().min(16, 'JIT_ADMIN_TOKEN must be at least 16 characters').optional(),
  JIT_SWEEP_INTERVAL: isoSeconds('JIT_SWEEP_INTERVAL', 'PT5S'),
  JIT_LEASE: isoSeconds('JIT_LEASE', 'PT60S'),
  JIT_SWEEP_CONCURRENCY: int('JIT_SWEEP_CONCURRENCY', 32, 1, 1024),
  JIT_REVOKE_MAX_ATTEMPTS: int('JIT_REVOKE_MAX_ATTEMPTS', 6, 1, 100),
  JIT_REVOKE_FAILED_RETRY: isoSeconds('JIT_REVOKE_FAILED_RETRY', 'PT15M'),
  JIT_PROVIDER_TIMEOUT: isoSeconds('JIT_PROVIDER_TIMEOUT', 'PT30S'),
  JIT_RECONCILE_INTERVAL: isoSeconds('JIT_RECONCILE_INTERVAL', 'PT10M'),
  /** Unset: twice the interval, so a grant that ended just after one pass is in the next one's scope. */
  JIT_RECONCILE_LOOKBACK: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      const s = parseIsoDurationSeconds(v);
      if (s === undefined || s <= 0) {
        ctx.addIssue({ code: 'custom', message: 'JIT_RECONCILE_LOOKBACK must be a positive ISO-8601 duration such as PT1H' });
        return z.NEVER;
      }
      return s;
    }),
  JIT_BODY_LIMIT: int('JIT_BODY_LIMIT', 65536, 1024, 10 * 1024 * 1024),
  /** Unique per replica; two live replicas with one id would release each other's claims on restart. */
  JIT_REPLICA_ID: z.string().min(1).max(128).optional(),
  JIT_POLICY_FILE: z.string().min(1).optional(),
  JIT_POLICY_RELOAD_INTERVAL: isoSeconds('JIT_POLICY_RELOAD_INTERVAL', 'PT30S'),
  JIT_NOTIFICATIONS_FILE: z.string().min(1).optional(),
  JIT_PUBLIC_URL: z.string().url().optional(),
  JIT_AUDIT_SIGNING_KEY: z
    .string()
    .optional()
    .transform((v) => v || undefined),
  JIT_AUDIT_UNSIGNED: z.enum(['true', 'false'], { error: 'JIT_AUDIT_UNSIGNED must be true or false' }).default('false'),
  JIT_AUDIT_TRUSTED_KEYS: z.string().default(''),
  JIT_AUDIT_CHECKPOINT_EVERY: int('JIT_AUDIT_CHECKPOINT_EVERY', 1000, 1, 10_000_000),
  JIT_AUDIT_CHECKPOINT_INTERVAL: isoSeconds('JIT_AUDIT_CHECKPOINT_INTERVAL', 'PT60S'),
  JIT_AUDIT_CHECKPOINT_FILE: z.string().min(1).optional(),
  JIT_AUDIT_CHECKPOINT_WEBHOOK_URL: z.string().url().optional(),
  /** 5 a second for a minute, per subject and replica: above any honest pipeline, far below a flood. */
  JIT_RATE_LIMIT_WRITES: rateLimit('JIT_RATE_LIMIT_WRITES', '300/PT1M'),
  /** Dry runs store nothing but cost cloud lookups: a bucket of their own, so they never eat into real requests. */
  JIT_RATE_LIMIT_DRY_RUNS: rateLimit('JIT_RATE_LIMIT_DRY_RUNS', '300/PT1M'),
  /** Short enough that a replacement can bind the port soon; long enough for a database write to finish. */
  JIT_SHUTDOWN_DEADLINE: isoSeconds('JIT_SHUTDOWN_DEADLINE', 'PT10S'),
});

export class ConfigError extends Error {}

/** The provider sections the composition root hands in, by cloud. */
export type ProviderEnvs = { readonly [C in CloudName]?: ProviderEnv<unknown> };

/** The options of each enabled cloud that has a section (absent for the others). */
export type ProviderOptionsOf<S extends ProviderEnvs> = { -readonly [C in keyof S]?: S[C] extends ProviderEnv<infer T> ? T : never };

export interface LoadedConfig<S extends ProviderEnvs> {
  broker: BrokerConfig;
  providers: ProviderOptionsOf<S>;
  /** One line per deprecated variable name in use, for the caller to log once at start. */
  warnings: string[];
}

/**
 * Reads and validates the environment once: the broker's own variables and those of every
 * cloud in `JIT_PROVIDERS` that has a section in `sections` (its provider lib's schema, given by
 * the composition root). Every problem is reported together, by variable name.
 */
export function loadConfig<S extends ProviderEnvs>(env: NodeJS.ProcessEnv, sections: S): LoadedConfig<S> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${String(i.path[0] ?? '')}: ${i.message}`));
  const clouds = envSchema.shape.JIT_PROVIDERS.safeParse(env.JIT_PROVIDERS);
  const providers: Partial<Record<CloudName, unknown>> = {};
  for (const cloud of clouds.success ? clouds.data : []) {
    const section = sections[cloud];
    if (!section) continue;
    const resolved = resolveAliases(env, section.aliases);
    warnings.push(...resolved.warnings);
    problems.push(...resolved.problems);
    const result = section.schema.safeParse(resolved.env);
    if (result.success) {
      providers[cloud] = result.data;
      continue;
    }
    for (const issue of result.error.issues) {
      const variable = issue.path.length ? String(issue.path[0]) : undefined;
      const deprecated = variable && resolved.readFrom.get(variable);
      const label = deprecated ? `${deprecated} (deprecated name of ${variable})` : variable;
      problems.push(label ? `${label}: ${issue.message}` : issue.message);
    }
  }
  const broker = parsed.success ? toBrokerConfig(parsed.data, problems) : undefined;
  if (problems.length || !broker) throw new ConfigError('invalid configuration:\n' + problems.map((p) => `  ${p}`).join('\n'));
  return { broker, providers: providers as ProviderOptionsOf<S>, warnings };
}

/** The broker's own variables only (tools, tests and the sandbox, which build their providers themselves). */
export function loadBrokerConfig(env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  return loadConfig(env, {}).broker;
}

function toBrokerConfig(e: z.output<typeof envSchema>, problems: string[]): BrokerConfig | undefined {
  const before = problems.length;
  if (e.JIT_MIN_DURATION > e.JIT_MAX_DURATION) problems.push('JIT_MIN_DURATION is longer than JIT_MAX_DURATION');
  const leaseMs = e.JIT_LEASE * 1000;
  const providerTimeoutMs = e.JIT_PROVIDER_TIMEOUT * 1000;
  if (providerTimeoutMs >= leaseMs) problems.push('JIT_PROVIDER_TIMEOUT must be shorter than JIT_LEASE');
  const reconcileIntervalMs = Math.max(10_000, e.JIT_RECONCILE_INTERVAL * 1000);
  if (e.JIT_RECONCILE_LOOKBACK !== undefined && e.JIT_RECONCILE_LOOKBACK * 1000 < reconcileIntervalMs) {
    problems.push('JIT_RECONCILE_LOOKBACK must be at least JIT_RECONCILE_INTERVAL (a grant ended between two passes would be missed)');
  }
  if (problems.length > before) return undefined;
  return {
    role: e.JIT_ROLE,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.JIT_DATA_DIR,
    providers: e.JIT_PROVIDERS,
    minDurationSeconds: e.JIT_MIN_DURATION,
    maxDurationSeconds: e.JIT_MAX_DURATION,
    tokensFile: e.JIT_TOKENS_FILE,
    adminToken: e.JIT_ADMIN_TOKEN,
    sweepIntervalMs: e.JIT_SWEEP_INTERVAL * 1000,
    leaseMs,
    sweepConcurrency: e.JIT_SWEEP_CONCURRENCY,
    revokeMaxAttempts: e.JIT_REVOKE_MAX_ATTEMPTS,
    revokeFailedRetryMs: e.JIT_REVOKE_FAILED_RETRY * 1000,
    providerTimeoutMs,
    reconcileIntervalMs,
    reconcileLookbackMs: e.JIT_RECONCILE_LOOKBACK !== undefined ? e.JIT_RECONCILE_LOOKBACK * 1000 : 2 * reconcileIntervalMs,
    bodyLimitBytes: e.JIT_BODY_LIMIT,
    // Stable across restarts of the same replica, so a restarted process can take back at once
    // the rows its predecessor had claimed instead of waiting for their leases to lapse.
    replicaId: e.JIT_REPLICA_ID ?? `${hostname()}/${e.JIT_ROLE}/${e.PORT}`,
    policyFile: e.JIT_POLICY_FILE,
    policyReloadIntervalMs: e.JIT_POLICY_RELOAD_INTERVAL * 1000,
    notificationsFile: e.JIT_NOTIFICATIONS_FILE,
    publicUrl: e.JIT_PUBLIC_URL?.replace(/\/+$/, ''),
    audit: {
      signingKeyFile: e.JIT_AUDIT_SIGNING_KEY,
      unsigned: e.JIT_AUDIT_UNSIGNED === 'true',
      trustedKeyFiles: e.JIT_AUDIT_TRUSTED_KEYS.split(',').map((f) => f.trim()).filter(Boolean),
      checkpointEvery: e.JIT_AUDIT_CHECKPOINT_EVERY,
      checkpointIntervalMs: e.JIT_AUDIT_CHECKPOINT_INTERVAL * 1000,
      checkpointFile: e.JIT_AUDIT_CHECKPOINT_FILE,
      checkpointWebhookUrl: e.JIT_AUDIT_CHECKPOINT_WEBHOOK_URL,
    },
    rateLimits: { writes: e.JIT_RATE_LIMIT_WRITES, dryRuns: e.JIT_RATE_LIMIT_DRY_RUNS },
    shutdownDeadlineMs: e.JIT_SHUTDOWN_DEADLINE * 1000,
  };
}

/** Injection token for the config object. */
export const BROKER_CONFIG = Symbol('BROKER_CONFIG');
