import { request as httpRequest, IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AuditEvent } from '@jit/domain';
import { parseRetryAfter } from '@jit/resilience';
import { RelayAttempt } from '../audit-relay';
import { toOcsf } from './ocsf.mapper';
import { SiemDestination } from './siem-destination';
import { ElasticBulkConfig, JsonLinesConfig, SplunkHecConfig } from './siem.config';

/** Upper bound on one batch's request: large enough for a thousand events to a slow indexer. */
export const SIEM_TIMEOUT_MS = 15_000;
/** Bytes of a response body read (Elastic's per-item results); the rest is not needed to judge it. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** 408, 425 and 429 mean "later", as does every 5xx. */
const RETRYABLE_STATUSES = new Set([408, 425, 429]);

interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One POST with node's client (for a private CA); no redirect is followed. */
function post(url: string, headers: Record<string, string>, body: string, ca: string | undefined, signal: AbortSignal): Promise<HttpAnswer> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      { method: 'POST', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)), 'User-Agent': 'jit-broker' }, signal, ...(ca && { ca }) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < MAX_RESPONSE_BYTES) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The error's code only: messages can name the host (and a URL may carry a token). */
function networkReason(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; code?: unknown; cause?: { code?: unknown } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const code = typeof err?.code === 'string' ? err.code : typeof err?.cause?.code === 'string' ? err.cause.code : undefined;
  return code ? `network error (${code})` : 'network error';
}

function judge(answer: HttpAnswer): RelayAttempt {
  if (answer.status >= 200 && answer.status < 300) return { ok: true };
  const retryable = RETRYABLE_STATUSES.has(answer.status) || answer.status >= 500;
  const header = answer.headers['retry-after'];
  return {
    ok: false,
    retryable,
    reason: `HTTP ${answer.status}`,
    retryAfterMs: retryable ? parseRetryAfter(Array.isArray(header) ? header[0] : (header ?? null)) : undefined,
  };
}

type HttpCollectorConfig = SplunkHecConfig | ElasticBulkConfig | JsonLinesConfig;

/**
 * A SIEM's HTTP collector: Splunk HEC, Elastic's bulk API or any endpoint taking JSON lines.
 * Every audit event, as an OCSF record, batched; a batch is retried until it is taken (the cursor
 * waits), so the SIEM may hold an event twice after a crash (Elastic does not: each event is
 * created under its id, and a second create is answered 409, which counts as delivered).
 */
export class HttpCollectorDestination extends SiemDestination<HttpCollectorConfig> {
  readonly timeoutMs = SIEM_TIMEOUT_MS;

  async send(events: readonly AuditEvent[], _attempt: number, signal: AbortSignal): Promise<RelayAttempt> {
    const { url, headers, body } = this.request(events);
    let answer: HttpAnswer;
    try {
      answer = await post(url, headers, body, this.config.ca, signal);
    } catch (e) {
      return { ok: false, retryable: true, reason: networkReason(e, this.timeoutMs) };
    }
    const verdict = judge(answer);
    return verdict.ok && this.config.type === 'elastic-bulk' ? bulkItems(answer.text) : verdict;
  }

  /** The request for one batch, in the collector's own format. */
  request(events: readonly AuditEvent[]): { url: string; headers: Record<string, string>; body: string } {
    const c = this.config;
    switch (c.type) {
      case 'splunk-hec':
        return {
          url: c.url,
          headers: { Authorization: `Splunk ${c.token}`, 'Content-Type': 'application/json' },
          // HEC takes several event objects in one body, one after the other.
          body: events
            .map((e) =>
              JSON.stringify({
                time: e.occurredAt.getTime() / 1000,
                host: c.host,
                source: c.source,
                sourcetype: c.sourcetype,
                ...(c.index && { index: c.index }),
                event: toOcsf(e, this.ocsf),
              }),
            )
            .join('\n'),
        };
      case 'elastic-bulk':
        return {
          url: `${c.url.replace(/\/+$/, '')}/_bulk`,
          headers: { Authorization: `ApiKey ${c.apiKey}`, 'Content-Type': 'application/x-ndjson' },
          // `create` with the event's id: a batch sent twice is not indexed twice. `@timestamp` is what a data stream requires.
          body: events
            .map((e) => `${JSON.stringify({ create: { _index: c.index, _id: e.id } })}\n${JSON.stringify({ '@timestamp': e.occurredAt.toISOString(), ...toOcsf(e, this.ocsf) })}\n`)
            .join(''),
        };
      case 'json-lines':
        return {
          url: c.url,
          headers: { 'Content-Type': 'application/x-ndjson', ...(c.token && { Authorization: `Bearer ${c.token}` }) },
          body: events.map((e) => `${JSON.stringify(toOcsf(e, this.ocsf))}\n`).join(''),
        };
    }
  }
}

/**
 * Elastic answers a bulk request 200 even when items failed: each item has its own status. Created
 * (201) and already there (409, a batch sent again) count as delivered; any other makes the batch
 * be sent again (the items already created then answer 409).
 */
function bulkItems(text: string): RelayAttempt {
  let doc: { errors?: unknown; items?: { create?: { status?: number; error?: { type?: string } } }[] };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch {
    return { ok: false, retryable: true, reason: 'bulk answer is not JSON' };
  }
  if (doc.errors !== true) return { ok: true };
  const failed = (doc.items ?? []).map((i) => i.create).filter((c) => c && c.status !== undefined && !(c.status >= 200 && c.status < 300) && c.status !== 409);
  if (!failed.length) return { ok: true };
  const first = failed[0]!;
  const retryable = failed.every((c) => c!.status === 429 || c!.status! >= 500);
  return { ok: false, retryable, reason: `${failed.length} bulk item(s) refused, first HTTP ${first.status} ${first.error?.type ?? ''}`.trim() };
}
