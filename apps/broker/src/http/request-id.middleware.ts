import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Logger as Pino } from 'pino';
import { pinoHttp } from 'pino-http';
import { currentLogFields, runInLogScope } from '@jit/observability';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/**
 * A caller's `X-Request-Id` is kept when it is an id and nothing else: 1 to 128 characters of
 * letters, digits and `._:-` (a UUID, a trace id, a ULID). Anything else (too long, spaces,
 * control characters, a second header) is replaced by a fresh UUID, so no one can write
 * arbitrary text into the logs through it.
 */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdOf(header: string | string[] | undefined): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/** Probes and scrapes: answered, not logged (a line every few seconds per replica says nothing). */
const UNLOGGED = new Set(['/health', '/metrics']);

type Next = (error?: unknown) => void;

/**
 * The first middleware: gives each request its id (the caller's `X-Request-Id` when valid, else
 * a UUID), returns it in the `X-Request-Id` response header, logs one line when the response is
 * finished (method, path, status, time, and the `grantId` and `actor` assigned meanwhile), and
 * runs the rest of the request in a log scope whose lines all carry `reqId`. Logs no header and
 * no body: a request's `Authorization` and a response's credentials never reach the log.
 */
export function requestIdMiddleware(logger: Pino): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  const http = pinoHttp({
    logger,
    quietReqLogger: true,
    quietResLogger: true,
    genReqId: (req, res) => {
      const id = requestIdOf(req.headers['x-request-id']);
      res.setHeader(REQUEST_ID_HEADER, id);
      return id;
    },
    autoLogging: { ignore: (req) => UNLOGGED.has((req.url ?? '').split('?')[0]) },
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    customSuccessMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
    customSuccessObject: (req, res, value: Record<string, unknown>) => ({ ...summary(req, res), responseTime: value.responseTime }),
    customErrorObject: (req, res, _error, value: Record<string, unknown>) => ({ ...summary(req, res), responseTime: value.responseTime }),
    wrapSerializers: false,
  });
  return (req, res, next) => {
    http(req, res);
    const scoped = (req as IncomingMessage & { log: Pino }).log;
    runInLogScope(scoped, () => {
      // The fields the request's handlers assign, kept for the summary line written at 'finish'.
      (req as IncomingMessage & { logFields?: Record<string, unknown> }).logFields = currentLogFields();
      next();
    });
  };
}

/** The path without the query string (a cursor or filter says little and can be long). */
function pathOf(req: IncomingMessage): string {
  return (req.url ?? '').split('?')[0];
}

function summary(req: IncomingMessage, res: ServerResponse): Record<string, unknown> {
  const fields = (req as IncomingMessage & { logFields?: Record<string, unknown> }).logFields;
  return { method: req.method, path: pathOf(req), status: res.statusCode, ...fields };
}
