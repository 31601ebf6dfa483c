import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';

/** Events per request (or per syslog write) unless the destination says otherwise. */
export const SIEM_DEFAULT_MAX_BATCH = 100;
/** A bulk request of more events than this is better split: collectors cap request sizes (Splunk: 1 MB by default). */
export const SIEM_MAX_BATCH = 1000;

interface SiemCommon {
  name: string;
  /** Events per request. */
  maxBatch: number;
  /** A destination seen for the first time starts before the oldest stored event (`start`) or after the newest (`end`). */
  startAt: 'start' | 'end';
  /** PEM of the CA certificates to trust instead of the system's (a private CA). */
  ca?: string;
}

export interface SplunkHecConfig extends SiemCommon {
  type: 'splunk-hec';
  /** `https://host:8088/services/collector/event`. Sensitive (may carry a token): never logged. */
  url: string;
  /** HEC token. Sensitive. */
  token: string;
  index?: string;
  source: string;
  sourcetype: string;
  host: string;
}

export interface ElasticBulkConfig extends SiemCommon {
  type: 'elastic-bulk';
  /** The cluster's URL, `https://host:9200`; `/_bulk` is appended. Sensitive. */
  url: string;
  /** The base64 API key as Elastic returns it (`encoded`). Sensitive. */
  apiKey: string;
  /** Index or data stream written to (data streams take `create` only, which is what is sent). */
  index: string;
}

export interface JsonLinesConfig extends SiemCommon {
  type: 'json-lines';
  /** Any collector taking a POST of newline-delimited JSON. Sensitive. */
  url: string;
  /** Sent as `Authorization: Bearer <token>` when set. Sensitive. */
  token: string | null;
}

export interface SyslogConfig extends SiemCommon {
  type: 'syslog';
  host: string;
  port: number;
  /** The name the server's certificate must carry (default: `host`). */
  servername: string;
  /** RFC 5424 APP-NAME. */
  appName: string;
  /** RFC 5424 HOSTNAME. */
  hostname: string;
  /** RFC 5424 facility (13, log audit, by default). */
  facility: number;
  /** The structured-data element's id: `name@<private enterprise number>`. */
  sdId: string;
  /** Client certificate and key (PEM) for collectors that authenticate the sender (RFC 5425 section 5). The key is sensitive. */
  clientCert?: { cert: string; key: string };
}

export type SiemConfig = SplunkHecConfig | ElasticBulkConfig | JsonLinesConfig | SyslogConfig;

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

const common = {
  name: z.string().regex(/^[a-z0-9-]{1,40}$/, 'must be 1-40 lowercase letters, digits or "-"'),
  maxBatch: z.number().int().min(1).max(SIEM_MAX_BATCH).default(SIEM_DEFAULT_MAX_BATCH),
  startAt: z.enum(['start', 'end']).default('start'),
  caFile: z.string().min(1).optional(),
};
const http = { url: z.string().optional(), urlEnv: envName.optional() };

function readPem(file: string | undefined, field: string, ctx: z.RefinementCtx): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    ctx.addIssue({ code: 'custom', path: [field], message: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
    return undefined;
  }
}
const readCa = (file: string | undefined, ctx: z.RefinementCtx) => readPem(file, 'caFile', ctx);

/** `url` or `urlEnv` (exactly one), https (http for a loopback host only); never repeats the value. */
function resolveUrl(d: { url?: string; urlEnv?: string }, env: NodeJS.ProcessEnv, ctx: z.RefinementCtx): string {
  if ((d.url === undefined) === (d.urlEnv === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'set exactly one of url and urlEnv' });
    return '';
  }
  const value = d.url ?? env[d.urlEnv ?? ''] ?? '';
  const path = d.url !== undefined ? ['url'] : ['urlEnv'];
  const what = d.url !== undefined ? '' : `environment variable ${d.urlEnv} `;
  if (!value) {
    ctx.addIssue({ code: 'custom', path, message: `${what}is not set` });
    return '';
  }
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url) ctx.addIssue({ code: 'custom', path, message: `${what}is not a valid URL` });
  else if (!(url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.test(url.hostname)))) {
    ctx.addIssue({ code: 'custom', path, message: `${what}must use https (http is accepted only for a loopback host)` });
  }
  return value;
}

function secret(name: string | undefined, env: NodeJS.ProcessEnv, ctx: z.RefinementCtx, field: string): string {
  const value = name === undefined ? undefined : env[name];
  if (!value) ctx.addIssue({ code: 'custom', path: [field], message: `environment variable ${name} is not set` });
  return value ?? '';
}

/** `certFile` and `keyFile` together, both read at start. */
function clientCert(certFile: string | undefined, keyFile: string | undefined, ctx: z.RefinementCtx): { clientCert?: { cert: string; key: string } } {
  if (certFile === undefined && keyFile === undefined) return {};
  if (certFile === undefined || keyFile === undefined) {
    ctx.addIssue({ code: 'custom', path: [certFile === undefined ? 'certFile' : 'keyFile'], message: 'set both certFile and keyFile, or neither' });
    return {};
  }
  const cert = readPem(certFile, 'certFile', ctx);
  const key = readPem(keyFile, 'keyFile', ctx);
  return cert && key ? { clientCert: { cert, key } } : {};
}

/** One entry of the notifications file's `siem` list, resolving `urlEnv`, `tokenEnv` and `caFile`. */
export function siemDestinationSchema(env: NodeJS.ProcessEnv) {
  return z.discriminatedUnion('type', [
    z
      .strictObject({
        type: z.literal('splunk-hec'),
        ...common,
        ...http,
        tokenEnv: envName,
        index: z.string().min(1).optional(),
        source: z.string().min(1).default('jit-broker'),
        sourcetype: z.string().min(1).default('ocsf:jit-broker'),
        host: z.string().min(1).default(hostname()),
      })
      .transform((d, ctx): SplunkHecConfig => ({
        type: d.type,
        name: d.name,
        maxBatch: d.maxBatch,
        startAt: d.startAt,
        ca: readCa(d.caFile, ctx),
        url: resolveUrl(d, env, ctx),
        token: secret(d.tokenEnv, env, ctx, 'tokenEnv'),
        ...(d.index && { index: d.index }),
        source: d.source,
        sourcetype: d.sourcetype,
        host: d.host,
      })),
    z
      .strictObject({
        type: z.literal('elastic-bulk'),
        ...common,
        ...http,
        apiKeyEnv: envName,
        index: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,254}$/, 'must be an index or data stream name (lowercase)'),
      })
      .transform((d, ctx): ElasticBulkConfig => ({
        type: d.type,
        name: d.name,
        maxBatch: d.maxBatch,
        startAt: d.startAt,
        ca: readCa(d.caFile, ctx),
        url: resolveUrl(d, env, ctx),
        apiKey: secret(d.apiKeyEnv, env, ctx, 'apiKeyEnv'),
        index: d.index,
      })),
    z
      .strictObject({ type: z.literal('json-lines'), ...common, ...http, tokenEnv: envName.optional() })
      .transform((d, ctx): JsonLinesConfig => ({
        type: d.type,
        name: d.name,
        maxBatch: d.maxBatch,
        startAt: d.startAt,
        ca: readCa(d.caFile, ctx),
        url: resolveUrl(d, env, ctx),
        token: d.tokenEnv === undefined ? null : secret(d.tokenEnv, env, ctx, 'tokenEnv'),
      })),
    z
      .strictObject({
        type: z.literal('syslog'),
        ...common,
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535).default(6514),
        servername: z.string().min(1).optional(),
        appName: z.string().regex(/^[!-~]{1,48}$/, 'must be 1-48 printable ASCII characters (RFC 5424 APP-NAME)').default('jit-broker'),
        hostname: z.string().regex(/^[!-~]{1,255}$/, 'must be 1-255 printable ASCII characters (RFC 5424 HOSTNAME)').default(hostname()),
        facility: z.number().int().min(0).max(23).default(13),
        sdId: z.string().regex(/^[!#-<>-Z^-~]{1,32}@\d+(\.\d+)*$/, 'must be name@<private enterprise number> (RFC 5424 SD-ID)').default('jit@32473'),
        certFile: z.string().min(1).optional(),
        keyFile: z.string().min(1).optional(),
      })
      .transform((d, ctx): SyslogConfig => ({
        type: d.type,
        name: d.name,
        maxBatch: d.maxBatch,
        startAt: d.startAt,
        ca: readCa(d.caFile, ctx),
        host: d.host,
        port: d.port,
        servername: d.servername ?? d.host,
        appName: d.appName,
        hostname: d.hostname,
        facility: d.facility,
        sdId: d.sdId,
        ...clientCert(d.certFile, d.keyFile, ctx),
      })),
  ]);
}

/** What must never appear in a log: the SIEMs' tokens and keys, and their URLs (a URL may carry a token). */
export function siemSecrets(configs: readonly SiemConfig[]): string[] {
  return configs.flatMap((c) => {
    switch (c.type) {
      case 'splunk-hec':
        return [c.token, c.url];
      case 'elastic-bulk':
        return [c.apiKey, c.url];
      case 'json-lines':
        return [c.url, ...(c.token ? [c.token] : [])];
      case 'syslog':
        return c.clientCert ? [c.clientCert.key] : [];
    }
  });
}
