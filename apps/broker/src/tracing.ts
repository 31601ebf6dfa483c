import { loadObservabilityConfig } from '@jit/config';

/**
 * Imported first by main.ts: when tracing is on (JIT_TRACING=true, or OTEL_EXPORTER_OTLP_ENDPOINT
 * set), starts the OpenTelemetry SDK before anything else is loaded, so the http and pg
 * instrumentations can patch those modules when Nest and TypeORM require them. When it is off
 * the SDK is not even loaded; the libs' spans (`@opentelemetry/api`) are then no-ops.
 */
let stop: () => Promise<void> = async () => {};

function enabled(): boolean {
  try {
    return loadObservabilityConfig(process.env).tracing;
  } catch {
    // An invalid variable: loadConfig names it a moment later and the broker does not start.
    return false;
  }
}

if (enabled()) {
  // Loaded here and only here: required lazily so that a broker without tracing never loads the SDK.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('./tracing-sdk') as typeof import('./tracing-sdk');
  stop = sdk.startTracingSdk();
}

/** Exports the spans still buffered and stops the SDK (at shutdown; nothing when tracing is off). */
export function stopTracing(): Promise<void> {
  return stop();
}
