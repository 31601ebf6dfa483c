import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/** Paths whose requests get no span: probes and scrapes, every few seconds, tell nothing about a grant. */
const UNTRACED = new Set(['/health', '/metrics']);

/**
 * The OpenTelemetry SDK (loaded only when tracing is on, by tracing.ts): spans batched and
 * exported as OTLP/HTTP JSON to OTEL_EXPORTER_OTLP_ENDPOINT (the exporter reads the standard
 * OTEL_EXPORTER_OTLP_* and OTEL_BSP_* variables itself), context carried by AsyncLocalStorage,
 * incoming and outgoing HTTP (so a cloud SDK's requests nest under the broker's `cloud.*` span)
 * and pg queries instrumented. Returns what flushes and stops it.
 */
export function startTracingSdk(): () => Promise<void> {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME || 'jit-broker' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => UNTRACED.has((req.url ?? '').split('?')[0]) }),
      // Queries outside any span (the sweeper's polling) would each be a trace of their own.
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  return () => provider.shutdown();
}
