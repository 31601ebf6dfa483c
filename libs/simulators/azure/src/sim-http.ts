import { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { readBody } from '@jit/sim-kit';

/** One parsed request, as the route handlers see it. */
export interface SimRequest {
  method: string;
  /** Path without the query string, percent-decoded. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
  rawBody: string;
}

export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Thrown by handlers; `render` turns it into the service's own error envelope. */
export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export async function readRequest(req: IncomingMessage): Promise<SimRequest> {
  const rawBody = await readBody(req);
  const url = new URL(req.url ?? '/', 'https://sim.invalid');
  let body: unknown = undefined;
  const type = String(req.headers['content-type'] ?? '');
  if (rawBody && type.includes('json')) {
    try {
      body = JSON.parse(rawBody);
    } catch {
      body = Symbol.for('invalid-json');
    }
  } else if (rawBody && type.includes('x-www-form-urlencoded')) {
    body = Object.fromEntries(new URLSearchParams(rawBody));
  }
  return { method: req.method ?? 'GET', path: decodeURIComponent(url.pathname), query: url.searchParams, headers: req.headers, body, rawBody };
}

export function writeResponse(res: ServerResponse, out: SimResponse): void {
  const headers: Record<string, string> = { 'x-ms-request-id': randomUUID(), ...out.headers };
  if (out.body === undefined || out.status === 204) {
    res.writeHead(out.status, headers);
    res.end();
    return;
  }
  headers['content-type'] ??= 'application/json; charset=utf-8';
  res.writeHead(out.status, headers);
  res.end(JSON.stringify(out.body));
}

/** Graph's envelope: `{error:{code,message,innerError:{date,request-id,client-request-id}}}`. */
export function graphError(e: SimHttpError, req: SimRequest): SimResponse {
  const requestId = randomUUID();
  return {
    status: e.status,
    headers: { ...e.headers, 'request-id': requestId },
    body: {
      error: {
        code: e.code,
        message: e.message,
        innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': requestId, 'client-request-id': String(req.headers['client-request-id'] ?? requestId) },
      },
    },
  };
}

/** ARM's CloudError envelope: `{error:{code,message}}`. */
export function armError(e: SimHttpError): SimResponse {
  return { status: e.status, headers: e.headers, body: { error: { code: e.code, message: e.message } } };
}

/** `a eq 'x' and b eq 'y'` into {a:'x', b:'y'}; function filters such as `asRequestor()` are returned as flags. */
export function parseEqFilter(filter: string | null): { eq: Record<string, string>; functions: string[] } {
  const eq: Record<string, string> = {};
  const functions: string[] = [];
  if (!filter) return { eq, functions };
  for (const clause of filter.split(/\s+and\s+/i)) {
    // Strings are quoted; Edm.Guid literals (appRoleAssignment.principalId) are not.
    const m = /^\s*(\w+)\s+eq\s+(?:'([^']*)'|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}))\s*$/i.exec(clause);
    if (m) eq[m[1]] = m[2] ?? m[3];
    else if (/^\s*\w+\(\)\s*$/.test(clause)) functions.push(clause.trim().replace('()', ''));
    else throw new SimHttpError(400, 'BadRequest', `Invalid filter clause: ${clause}`);
  }
  return { eq, functions };
}

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A JSON value as text for lookups and messages: strings as they are, objects as JSON (not "[object Object]"), absent as ''. */
export function asText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? '';
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
