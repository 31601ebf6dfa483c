import { hostname } from 'node:os';
import { z } from 'zod';
import { CLOUDS, CloudName, parseIsoDurationSeconds } from '@jit/domain';
import { ENV_DOCS, EnvDoc, EnvGroup } from './env-docs';
import { CONSOLE_ENV_SHAPE, ConsoleConfig, toConsoleConfig } from './console-env';
import { OBSERVABILITY_ENV_SHAPE, ObservabilityConfig, toObservabilityConfig } from './logging-env';
import { ProviderEnv, intVar, resolveAliases } from './provider-env';
import { DISCOVERY_ENV_SHAPE, DiscoveryConfig, toDiscoveryConfig } from './discovery-env';
import { REVIEWS_ENV_SHAPE, ReviewsConfig, toReviewsConfig } from './reviews-env';

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
  /** /health answers 503 where the sweeper runs and no sweep cycle has ended for this long (a wedged loop). */
  sweepStallAfterMs: number;
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
  /** Log level and format, tracing on or off (docs/observability.md). */
  observability: ObservabilityConfig;
  /** The web console: its files, sign-in and sessions (docs/console.md). */
  console: ConsoleConfig;
  /** Discovery of standing access: schedule, unused threshold, criteria, removal approvals (docs/discovery.md). */
  discovery: DiscoveryConfig;
  /** Access reviews: the campaign definitions file (docs/reviews.md). */
  reviews: ReviewsConfig;
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

/** An ISO-8601 duration in seconds, or undefined when unset or empty (the caller derives a default). */
const optionalIsoSeconds = (name: string, example: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return undefined;
      const s = parseIsoDurationSeconds(v);
      if (s === undefined || s <= 0) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a positive ISO-8601 duration such as ${example}` });
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

const doc = (group: EnvGroup, description: string, fallback?: string, secret?: boolean): EnvDoc => ({
  group,
  description,
  ...(fallback !== undefined && { default: fallback }),
  ...(secret && { secret }),
});

/** The broker's own variables; each documented for docs/configuration.md (`npm run docs:config`). */
export const BROKER_ENV_SCHEMA = z.object({
  JIT_ROLE: z
    .enum(['api', 'sweeper', 'all'])
    .default('all')
    .register(
      ENV_DOCS,
      doc(
        'core',
        '`api` (HTTP only), `sweeper` (sweeper, reconciliation, webhooks and SIEM streaming, checkpoints; on `PORT` it serves only `/health` and `/metrics`, no API route), or `all`',
        '`all`',
      ),
    ),
  PORT: int('PORT', 8080, 0, 65535).register(
    ENV_DOCS,
    doc('core', 'TCP port the API listens on; with `JIT_ROLE=sweeper`, the port of `/health` and `/metrics` only', '`8080`'),
  ),
  HOST: z.string().default('0.0.0.0').register(ENV_DOCS, doc('core', 'address the API listens on', '`0.0.0.0`')),
  DATABASE_URL: z
    .string()
    .url()
    .optional()
    .or(z.literal('').transform(() => undefined))
    .register(ENV_DOCS, doc('database', 'PostgreSQL URL; without it, the embedded PostgreSQL (PGlite) in `JIT_DATA_DIR`. Migrated at start', '(embedded)', true)),
  JIT_DATA_DIR: z
    .string()
    .default('./data')
    .register(
      ENV_DOCS,
      doc(
        'database',
        "embedded database folder (and the sandbox's tokens file); created `0700`, tightened to `0700` with no group or other bits on its files, and the broker refuses to start on one another user owns or group or others can write (`chmod 700 <dir>`); with it the process runs with umask `077`, and the database is reached on a Unix socket in a private temporary folder (PGlite asks for no password, so no TCP port is opened)",
        '`./data`',
      ),
    ),
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
    })
    .register(ENV_DOCS, doc('core', '`npm start`: comma list of `aws`, `azure`, `gcp`; the broker refuses to start with none. Each named cloud reads its own variables (below)', '(none)')),
  JIT_MIN_DURATION: isoSeconds('JIT_MIN_DURATION', 'PT1M').register(
    ENV_DOCS,
    doc('core', "shortest ISO-8601 `duration` a grant may ask for (PIM-backed Azure kinds need at least `PT5M` whatever the bound: a 400 on `duration`)", '`PT1M`'),
  ),
  JIT_MAX_DURATION: isoSeconds('JIT_MAX_DURATION', 'PT8H').register(ENV_DOCS, doc('core', "longest ISO-8601 `duration` a grant may ask for", '`PT8H`')),
  JIT_TOKENS_FILE: z
    .string()
    .min(1)
    .optional()
    .register(
      ENV_DOCS,
      doc('core', 'JSON `{"tokens":[{"subject","roles":["requester"|"approver"|"auditor"|"admin"],"groups":[...],"sha256"}]}`: the SHA-256 (hex) of each token, never the token; `groups` optional', '(none)'),
    ),
  JIT_ADMIN_TOKEN: z
    .string()
    .min(16, 'JIT_ADMIN_TOKEN must be at least 16 characters')
    .optional()
    .register(ENV_DOCS, doc('core', 'adds an admin token (first start, sandbox); at least 16 characters', '(none)', true)),
  JIT_SWEEP_INTERVAL: isoSeconds('JIT_SWEEP_INTERVAL', 'PT5S').register(
    ENV_DOCS,
    doc('sweeper', 'how often each replica polls for due work (timers cover the time between polls)', '`PT5S`'),
  ),
  /** Unset: two minutes, or three polls when JIT_SWEEP_INTERVAL is longer than 40 s. */
  JIT_SWEEP_STALL_AFTER: optionalIsoSeconds('JIT_SWEEP_STALL_AFTER', 'PT2M').register(
    ENV_DOCS,
    doc(
      'sweeper',
      'where the sweeper runs (`sweeper`, `all`): `/health` answers 503 once no sweep cycle has ended for this long, so a liveness probe restarts a wedged sweeper (at least 10 s and three `JIT_SWEEP_INTERVAL`s)',
      '`PT2M`, or three `JIT_SWEEP_INTERVAL`s if longer',
    ),
  ),
  JIT_LEASE: isoSeconds('JIT_LEASE', 'PT60S').register(
    ENV_DOCS,
    doc('sweeper', 'how long a claimed row stays with its replica before another may take it over', '`PT60S`'),
  ),
  JIT_SWEEP_CONCURRENCY: int('JIT_SWEEP_CONCURRENCY', 32, 1, 1024).register(
    ENV_DOCS,
    doc('sweeper', "concurrent cloud calls of one replica's sweeper, shared fairly between the clouds in `JIT_PROVIDERS` (1-1024)", '`32`'),
  ),
  JIT_REVOKE_MAX_ATTEMPTS: int('JIT_REVOKE_MAX_ATTEMPTS', 6, 1, 100).register(
    ENV_DOCS,
    doc('sweeper', 'fast retries (jittered exponential backoff) before `revoke_failed` (1-100)', '`6`'),
  ),
  JIT_REVOKE_FAILED_RETRY: isoSeconds('JIT_REVOKE_FAILED_RETRY', 'PT15M').register(
    ENV_DOCS,
    doc('sweeper', 'retry period of `revoke_failed` grants', '`PT15M`'),
  ),
  JIT_PROVIDER_TIMEOUT: isoSeconds('JIT_PROVIDER_TIMEOUT', 'PT30S').register(
    ENV_DOCS,
    doc(
      'sweeper',
      "bound on one cloud call, the adapter's own retries included; at the deadline the call is cancelled (its SDK request aborted), not abandoned (at most half of `JIT_LEASE`: a claimed grant may wait a quarter of the lease for a sweeper slot)",
      '`PT30S`',
    ),
  ),
  JIT_RECONCILE_INTERVAL: isoSeconds('JIT_RECONCILE_INTERVAL', 'PT10M').register(
    ENV_DOCS,
    doc('sweeper', 'how often one replica lists what the broker owns in each cloud and removes orphans (at least 10 s)', '`PT10M`'),
  ),
  /** Unset: twice the interval, so a grant that ended just after one pass is in the next one's scope. */
  JIT_RECONCILE_LOOKBACK: optionalIsoSeconds('JIT_RECONCILE_LOOKBACK', 'PT1H').register(
    ENV_DOCS,
    doc('sweeper', "how long an ended grant keeps its principal in reconciliation's scope (at least `JIT_RECONCILE_INTERVAL`)", 'twice `JIT_RECONCILE_INTERVAL`'),
  ),
  JIT_BODY_LIMIT: int('JIT_BODY_LIMIT', 65536, 1024, 10 * 1024 * 1024).register(
    ENV_DOCS,
    doc('core', 'request body limit in bytes (1 KiB to 10 MiB)', '`65536`'),
  ),
  /** Unique per replica; two live replicas with one id would release each other's claims on restart. */
  JIT_REPLICA_ID: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .register(
      ENV_DOCS,
      doc('core', 'this replica\'s name, unique per replica and stable across its restarts (a restarted replica takes back its predecessor\'s claims at once)', '`<hostname>/<role>/<port>`'),
    ),
  JIT_POLICY_FILE: z
    .string()
    .min(1)
    .optional()
    .register(
      ENV_DOCS,
      doc('core', 'the access rules, YAML ([access-rules.md](access-rules.md)); also holds the trusted OIDC issuers, groups, deny-list and break-glass accounts', '(none: every request denied)'),
    ),
  JIT_POLICY_RELOAD_INTERVAL: isoSeconds('JIT_POLICY_RELOAD_INTERVAL', 'PT30S').register(
    ENV_DOCS,
    doc('core', 'how often each replica re-reads the rules file (also `SIGHUP`, `POST /v1/policy/reload`)', '`PT30S`'),
  ),
  JIT_NOTIFICATIONS_FILE: z
    .string()
    .min(1)
    .optional()
    .register(
      ENV_DOCS,
      doc(
        'notifications',
        'YAML: `webhooks` (`name`, `url` or `urlEnv`, `format` `json` or `slack`, `secretEnv`, `events`) and `siem` destinations that get every audit event as OCSF (Splunk HEC, Elastic bulk, JSON lines, syslog over TLS; [siem.md](siem.md)); secrets only by the name of the environment variable that holds them',
        '(none)',
      ),
    ),
  JIT_PUBLIC_URL: z
    .string()
    .url()
    .optional()
    .register(ENV_DOCS, doc('notifications', "the broker's URL as people reach it, for links in notifications", '(none)')),
  JIT_AUDIT_SIGNING_KEY: z
    .string()
    .optional()
    .transform((v) => v || undefined)
    .register(
      ENV_DOCS,
      doc('audit', "Ed25519 private key (PKCS#8 PEM file) that signs audit checkpoints; keep it out of the database's reach ([audit.md](audit.md))", '(none: the broker refuses to start)'),
    ),
  JIT_AUDIT_UNSIGNED: z
    .enum(['true', 'false'], { error: 'JIT_AUDIT_UNSIGNED must be true or false' })
    .default('false')
    .register(ENV_DOCS, doc('audit', '`true` runs without checkpoints, with a warning at start', '`false`')),
  JIT_AUDIT_TRUSTED_KEYS: z
    .string()
    .default('')
    .register(ENV_DOCS, doc('audit', 'public keys (PEM files, comma list) of retired signing keys, whose checkpoints still verify', '(none)')),
  JIT_AUDIT_CHECKPOINT_EVERY: int('JIT_AUDIT_CHECKPOINT_EVERY', 1000, 1, 10_000_000).register(
    ENV_DOCS,
    doc('audit', 'sign the head once this many events are not yet covered by a checkpoint', '`1000`'),
  ),
  JIT_AUDIT_CHECKPOINT_INTERVAL: isoSeconds('JIT_AUDIT_CHECKPOINT_INTERVAL', 'PT60S').register(
    ENV_DOCS,
    doc('audit', 'sign at most this long after the first event not yet covered', '`PT60S`'),
  ),
  JIT_AUDIT_CHECKPOINT_FILE: z
    .string()
    .min(1)
    .optional()
    .register(ENV_DOCS, doc('audit', 'append-only JSON Lines file each checkpoint is written to (a sink outside the database)', '(none)')),
  JIT_AUDIT_CHECKPOINT_WEBHOOK_URL: z
    .string()
    .url()
    .optional()
    .register(ENV_DOCS, doc('audit', 'URL each checkpoint is POSTed to (a sink outside the database; only its origin is logged)', '(none)', true)),
  /** 5 a second for a minute, per subject and replica: above any honest pipeline, far below a flood. */
  JIT_RATE_LIMIT_WRITES: rateLimit('JIT_RATE_LIMIT_WRITES', '300/PT1M').register(
    ENV_DOCS,
    doc(
      'core',
      'per token subject and replica: requests that change something (POST, PUT, PATCH, DELETE), as `<requests>/<ISO-8601 period>` (period PT1S to P1D); past it a 429',
      '`300/PT1M`',
    ),
  ),
  /** Dry runs store nothing but cost cloud lookups: a bucket of their own, so they never eat into real requests. */
  JIT_RATE_LIMIT_DRY_RUNS: rateLimit('JIT_RATE_LIMIT_DRY_RUNS', '300/PT1M').register(
    ENV_DOCS,
    doc('core', 'the same for `POST /v1/policy/evaluate`, counted apart', '`300/PT1M`'),
  ),
  /** Short enough that a replacement can bind the port soon; long enough for a database write to finish. */
  JIT_SHUTDOWN_DEADLINE: isoSeconds('JIT_SHUTDOWN_DEADLINE', 'PT10S').register(
    ENV_DOCS,
    doc(
      'core',
      'longest a `SIGTERM`/`SIGINT` shutdown may take: the port is freed at once and cloud calls in flight are cancelled; past the deadline the process exits (status 1) whatever is pending, having handed its claims back',
      '`PT10S`',
    ),
  ),
  ...OBSERVABILITY_ENV_SHAPE,
  ...CONSOLE_ENV_SHAPE,
  ...DISCOVERY_ENV_SHAPE,
  ...REVIEWS_ENV_SHAPE,
});
const envSchema = BROKER_ENV_SCHEMA;

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
  // A sweeper's claim must outlast its work, or another replica claims the row and revokes the grant
  // a second time while the first call runs (no double revoke): a claimed grant may wait up to a
  // quarter of the lease for a slot, then reads its overlaps and makes one call of at most the
  // timeout; the last quarter is left for the claim, that read and the write.
  if (2 * providerTimeoutMs > leaseMs) {
    problems.push(
      `JIT_PROVIDER_TIMEOUT (${e.JIT_PROVIDER_TIMEOUT} s) must be at most half of JIT_LEASE (${e.JIT_LEASE} s): a claimed grant may wait a quarter of the lease for a sweeper slot before its cloud call, and another quarter covers the claim, the reads and the write; a longer call could outlive the lease, and another replica would revoke the same grant at the same time`,
    );
  }
  const reconcileIntervalMs = Math.max(10_000, e.JIT_RECONCILE_INTERVAL * 1000);
  if (e.JIT_RECONCILE_LOOKBACK !== undefined && e.JIT_RECONCILE_LOOKBACK * 1000 < reconcileIntervalMs) {
    problems.push('JIT_RECONCILE_LOOKBACK must be at least JIT_RECONCILE_INTERVAL (a grant ended between two passes would be missed)');
  }
  if (e.JIT_SWEEP_STALL_AFTER !== undefined && e.JIT_SWEEP_STALL_AFTER < Math.max(10, 3 * e.JIT_SWEEP_INTERVAL)) {
    problems.push('JIT_SWEEP_STALL_AFTER must be at least 10 seconds and at least three JIT_SWEEP_INTERVALs (a sweeper between two polls is not stalled)');
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
    sweepStallAfterMs: (e.JIT_SWEEP_STALL_AFTER ?? Math.max(120, 3 * e.JIT_SWEEP_INTERVAL)) * 1000,
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
    observability: toObservabilityConfig(e),
    console: toConsoleConfig(e),
    discovery: toDiscoveryConfig(e),
    reviews: toReviewsConfig(e),
  };
}

/** Injection token for the config object. */
export const BROKER_CONFIG = Symbol('BROKER_CONFIG');
