import { z } from 'zod';
import { ENV_DOCS } from './env-docs';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** How the broker logs and traces (docs/observability.md). */
export interface ObservabilityConfig {
  logLevel: (typeof LOG_LEVELS)[number];
  logFormat: 'json' | 'pretty';
  /** OpenTelemetry tracing on (the SDK is loaded only then). */
  tracing: boolean;
}

/**
 * The logging and tracing variables, part of the broker's schema (`BROKER_ENV_SCHEMA`); also read
 * alone by apps/broker/src/tracing.ts, which must start the SDK before anything else is loaded.
 */
export const OBSERVABILITY_ENV_SHAPE = {
  JIT_LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `JIT_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
    .default('info')
    .register(ENV_DOCS, { group: 'logging', description: 'lowest level logged: `fatal`, `error`, `warn`, `info` (one line per request), `debug`, `trace`, or `silent`', default: '`info`' }),
  JIT_LOG_FORMAT: z
    .enum(['json', 'pretty'], { error: 'JIT_LOG_FORMAT must be json or pretty' })
    .default('json')
    .register(ENV_DOCS, {
      group: 'logging',
      description:
        '`json`: one JSON object per line on standard output (`level`, `time`, `context`, `msg`, the request\'s `reqId`, `grantId` and `actor`; secrets scrubbed, see docs/observability.md); `pretty`: short human-readable lines (the sandbox\'s default)',
      default: '`json`',
    }),
  JIT_TRACING: z
    .enum(['true', 'false', ''], { error: 'JIT_TRACING must be true or false' })
    .optional()
    .register(ENV_DOCS, {
      group: 'logging',
      description:
        'OpenTelemetry tracing (spans for each HTTP request, database transaction and query, and cloud call), exported over OTLP/HTTP; off unless this is `true` or `OTEL_EXPORTER_OTLP_ENDPOINT` is set (`false` keeps it off even then). Off, the SDK is not loaded',
      default: '`false`',
    }),
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .string()
    .url()
    .optional()
    .or(z.literal('').transform(() => undefined))
    .register(ENV_DOCS, {
      group: 'logging',
      description:
        'the OpenTelemetry collector\'s OTLP/HTTP base URL (traces go to `<url>/v1/traces`, as JSON); setting it turns tracing on. The exporter also reads the other standard `OTEL_EXPORTER_OTLP_*` and `OTEL_BSP_*` variables, and `OTEL_SERVICE_NAME`',
      default: '`http://localhost:4318` when `JIT_TRACING=true`',
    }),
  OTEL_EXPORTER_OTLP_HEADERS: z
    .string()
    .optional()
    .register(ENV_DOCS, { group: 'logging', description: 'headers sent to the collector, `key=value` comma list (an API key, say): never logged', default: '(none)', secret: true }),
  OTEL_SERVICE_NAME: z
    .string()
    .min(1)
    .optional()
    .register(ENV_DOCS, { group: 'logging', description: 'the `service.name` of the broker\'s spans', default: '`jit-broker`' }),
};

const observabilityEnvSchema = z.object(OBSERVABILITY_ENV_SHAPE);

export function toObservabilityConfig(e: z.output<typeof observabilityEnvSchema>): ObservabilityConfig {
  return {
    logLevel: e.JIT_LOG_LEVEL,
    logFormat: e.JIT_LOG_FORMAT,
    // Unset (or empty, as `${JIT_TRACING:-}` in a compose file gives it): on when a collector is named.
    tracing: e.JIT_TRACING === undefined || e.JIT_TRACING === '' ? e.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined : e.JIT_TRACING === 'true',
  };
}

/** The logging and tracing settings alone (apps/broker/src/tracing.ts, before the rest of the configuration is read). */
export function loadObservabilityConfig(env: NodeJS.ProcessEnv): ObservabilityConfig {
  const parsed = observabilityEnvSchema.safeParse(env);
  if (!parsed.success) throw new Error('invalid configuration:\n' + parsed.error.issues.map((i) => `  ${String(i.path[0] ?? '')}: ${i.message}`).join('\n'));
  return toObservabilityConfig(parsed.data);
}
